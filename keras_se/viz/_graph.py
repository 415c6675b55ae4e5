"""One flat graph for a model with nested models: what the viz tools run on.

A Keras model nested in another (a `keras.applications` base inside a
classifier) is one node of the outer graph; the tensors inside it, an SE
block's input or the last conv's output, live in the nested model's own graph
and cannot be outputs of a model built on the outer model's inputs. Both the
excitation model and tf-keras-vis (which builds
`Model(model.inputs, model.outputs + [layer.output])`) need exactly that.

`inline` re-runs the model's graph on new inputs with the *same* layer objects
(no copies, no new weights), and runs each nested Functional or Sequential
model's own graph in place of calling it as one layer, so every tensor ends up
in one graph. It is `keras.models.clone_model` with a `clone_function` that
returns the layer itself and a `call_function` that recurses. `training=`
given to a nested model's call is not passed to its layers: the viz tools only
run inference, where it makes no difference.
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from keras_se.layers.attention import is_attention

# (layer, its call's args, its outputs) -> the outputs the graph should go on with.
AfterCall = Callable[[object, tuple, object], object]


def check_graph_model(model: keras.Model, what: str) -> None:
    """Raises a `TypeError` for models that have no graph to inspect."""
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"{what} needs a `keras.Model`. Received: model of type "
            f"{type(model).__name__}"
        )
    if _is_functional(model) or isinstance(model, keras.Sequential):
        if not model.inputs:
            raise ValueError(
                f"{what} needs a built model with known inputs: build "
                f"{model.name!r} first, e.g. start a Sequential model with "
                "`keras.Input(shape)`."
            )
        return
    raise TypeError(
        f"{what} needs a Functional or Sequential model: a subclassed model's "
        f"`call()` is Python code, not a graph whose tensors can be read. "
        f"Received: {type(model).__name__} {model.name!r}"
    )


def inline(model: keras.Model, after_call: AfterCall | None = None) -> keras.Model:
    """Returns a flat Functional model that computes what `model` computes.

    Args:
        model: a Functional or Sequential model, possibly with nested models.
        after_call: called after every layer or operation call, in graph
            order, as `after_call(layer, args, outputs)`; what it returns is
            used as that call's outputs downstream.

    Returns:
        A `keras.Model` on new inputs of the same shapes, built from the same
        layer objects, with no nested models.
    """
    after_call = after_call or (lambda layer, args, outputs: outputs)

    def call(layer, *args, **kwargs):
        if isinstance(layer, keras.Sequential):
            outputs = args[0]
            for inner in layer.layers:
                outputs = call(inner, outputs)
            return outputs
        if _is_functional(layer):
            inputs = args[0]
            # A model made with `inputs=[x]` is called on `x` as often.
            if isinstance(layer.input, list) and not isinstance(inputs, list):
                inputs = [inputs]
            flat = keras.models.clone_model(
                layer,
                input_tensors=inputs,
                clone_function=_same_layer,
                call_function=call,
            )
            return flat.outputs[0] if len(flat.outputs) == 1 else flat.outputs
        return after_call(layer, args, layer(*args, **kwargs))

    if isinstance(model, keras.Sequential):
        spec = model.inputs[0]
        inputs = keras.Input(batch_shape=spec.shape, dtype=spec.dtype, name=spec.name)
        return keras.Model(inputs, call(model, inputs), name=model.name)
    flat = keras.models.clone_model(
        model, clone_function=_same_layer, call_function=call
    )
    # A new Functional: clone_model would also copy the compile config.
    return keras.Model(flat.inputs, flat.outputs, name=model.name)


def layer_calls(model: keras.Model) -> list[tuple[object, tuple, object]]:
    """Every layer and operation call of `model`, nested models inlined.

    Returns:
        `(layer, args, outputs)` per call, in graph order; the tensors are
        symbolic and belong to a model that is thrown away, so only their
        shapes are of use.
    """
    calls: list[tuple[object, tuple, object]] = []

    def record(layer, args, outputs):
        calls.append((layer, args, outputs))
        return outputs

    inline(model, record)
    return calls


def is_se_layer(layer) -> bool:
    """Whether `layer` is an attention block with per-channel gates to read.

    SE (`SqueezeExcite1D/2D/3D`, `SqueezeExciteConv2D`), ECA, eSE, CBAM (its
    channel gate) and Gather-Excite with the global gather (`extent=0`) have
    one gate per sample and channel, and so has GlobalContext2D with a
    `"scale"` fusion: the layer says so (`has_channel_gate`). A strided
    Gather-Excite has one per region and channel, and an add-only
    GlobalContext2D none: they are attention blocks (`keras_se.layers.is_attention`)
    without gates here.
    """
    return is_attention(layer) and layer.has_channel_gate


def channel_gates(layer, inputs, mask=None):
    """Computes `layer`'s gates, `(batch, channels)`, from the block's input.

    `layer` is one for which `is_se_layer` holds; it computes them
    (`channel_gate`).
    """
    return layer.channel_gate(inputs, mask=mask)


def _same_layer(layer):
    return layer


def _is_functional(model) -> bool:
    # `keras.Model(inputs, outputs)` returns an instance of Keras's
    # `Functional`, which is not exported: the class name is the public trace.
    return isinstance(model, keras.Model) and any(
        cls.__name__ == "Functional" for cls in type(model).__mro__
    )
