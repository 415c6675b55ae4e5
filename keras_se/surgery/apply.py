"""`apply_plan`: the copy of a model with the blocks of a `WrapPlan`, weights kept."""

from __future__ import annotations

import keras

from keras_se.layers.attention import get_attention
from keras_se.surgery.checks import check_model, raise_if_unclonable
from keras_se.surgery.keras_hub_models import rebuild_task, split_task
from keras_se.surgery.model_config import functional_config, input_names
from keras_se.surgery.plan import PlannedBlock, WrapPlan


def apply_plan(model: keras.Model, plan: WrapPlan) -> keras.Model:
    """Returns a copy of `model` with the blocks of `plan` inserted.

    Every original layer of the copy has the original's weights under its
    name; with `plan.identity_init` the blocks start as the identity. A
    KerasHub image classifier comes back as its class around the copy of
    its backbone; a compiled model, compiled from the same config.

    Args:
        model: the model `plan` was made for (`keras_se.plan_se(model)`).
        plan: a `WrapPlan`.

    Returns:
        The new `keras.Model`.

    Raises:
        ValueError: if `plan` was made for another model.
        TypeError: for a layer that does not rebuild from its own config.
    """
    check_model(model)
    task, backbone = split_task(model)
    if backbone.name != plan.model:
        raise ValueError(
            f"`plan` is a plan for model '{plan.model}', not for "
            f"'{backbone.name}'. Make it with `keras_se.plan_se(model, ...)`."
        )
    blocks: dict[str, list[PlannedBlock]] = {}
    for block in plan.blocks:
        blocks.setdefault(block.model, []).append(block)
    rewriter = _Rewriter(plan, blocks)
    wrapped = rewriter.wrap(backbone)
    rewriter.finish()
    if task is not None:
        wrapped = rebuild_task(task, wrapped)
    # A task is compiled by `rebuild_task`: tasks override compile().
    if getattr(backbone, "compiled", False) and backbone.get_compile_config():
        wrapped.compile_from_config(backbone.get_compile_config())
    return wrapped


class _Rewriter:
    """The `clone_function` and `call_function` that clone_model runs."""

    def __init__(self, plan: WrapPlan, blocks: dict[str, list[PlannedBlock]]):
        self.plan = plan
        self.planned = blocks
        self.made: dict[str, keras.layers.Layer] = {}
        self.copies: list[tuple[keras.layers.Layer, keras.layers.Layer]] = []

    def wrap(self, model: keras.Model) -> keras.Model:
        """The copy of `model` (or of a model nested in it), weights and all."""
        at_layer: dict[str, list[PlannedBlock]] = {}
        for block in self.planned.get(model.name, ()):
            at_layer.setdefault(block.layer, []).append(block)
        if isinstance(model, keras.Sequential):
            wrapped = self._sequential(model, at_layer)
        else:
            try:
                wrapped = keras.models.clone_model(
                    model,
                    input_tensors=_named_inputs(model),
                    clone_function=self.clone_layer,
                    call_function=lambda layer, *args, **kwargs: self.call_layer(
                        at_layer, layer, *args, **kwargs
                    ),
                )
            except Exception as error:
                raise_if_unclonable(model, error)
                raise
        return wrapped

    def clone_layer(self, layer):
        if isinstance(layer, keras.Model):
            # A nested model is rewritten with its own blocks, weights included.
            return self.wrap(layer)
        clone = layer.__class__.from_config(layer.get_config())
        if isinstance(layer, keras.layers.Layer):  # not a raw op
            self.copies.append((layer, clone))
        return clone

    def call_layer(self, at_layer, layer, *args, **kwargs):
        planned = at_layer.get(layer.name, ())
        inputs = {block.input: block for block in planned if block.site == "input"}
        if inputs:
            args, kwargs = self._gate_inputs(layer, inputs, args, kwargs)
        outputs = layer(*args, **kwargs)
        for block in planned:
            if block.site == "output":
                outputs = self._block(block, layer)(outputs)
        return outputs

    def _gate_inputs(self, layer, blocks_at, args, kwargs):
        position = -1

        def gate(value):
            nonlocal position
            if not isinstance(value, keras.KerasTensor):
                return value
            position += 1
            block = blocks_at.get(position)
            return value if block is None else self._block(block, layer)(value)

        return keras.tree.map_structure(gate, (args, kwargs))

    def _block(self, block: PlannedBlock, layer) -> keras.layers.Layer:
        if block.name not in self.made:
            self.made[block.name] = get_attention(
                block.attention,
                **block.arguments,
                dtype=getattr(layer, "dtype_policy", None),  # None: a raw op
                name=block.name,
            )
        return self.made[block.name]

    def _sequential(self, model: keras.Sequential, at_layer) -> keras.Sequential:
        spec = model.inputs[0]
        layers = [keras.Input(batch_shape=spec.shape, dtype=spec.dtype)]
        for layer in model.layers:
            layers.append(self.clone_layer(layer))
            for block in at_layer.get(layer.name, ()):
                layers.append(self._block(block, layer))
        return keras.Sequential(layers, name=model.name)

    def finish(self) -> None:
        """Copies the original weights; starts the blocks as the identity."""
        for original, clone in self.copies:
            clone.set_weights(original.get_weights())
        if self.plan.identity_init:
            for block in self.made.values():
                block.initialize_as_identity()


def _named_inputs(model: keras.Model):
    """New inputs named like the originals: callers may feed dicts by name."""
    names = input_names(functional_config(model))
    inputs = [
        keras.Input(batch_shape=tensor.shape, dtype=tensor.dtype, name=name)
        for tensor, name in zip(model.inputs, names, strict=True)
    ]
    return keras.tree.pack_sequence_as(model.input, inputs)
