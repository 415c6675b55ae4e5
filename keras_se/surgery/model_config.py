"""A model's serialized graph: the one place the surgery reads `get_config()`.

Keras rewrites graphs (`keras.models.clone_model`) but does not say which
layer calls which; a Functional model's `get_config()` does: every call of
every layer and operation, its input tensors and their shapes. KerasHub
backbones and tasks are Functional models whose `get_config()` holds their
constructor arguments instead; a plain view on the same tensors gives the
graph. `ModelGraph` is built from what this module reads.
"""

from __future__ import annotations

from collections.abc import Iterator

import keras

from keras_se.surgery.checks import raise_if_unclonable

# (layer or operation name, call index, output index): Keras's `keras_history`.
TensorRef = tuple[str, int, int]


def functional_config(model: keras.Model) -> dict:
    """The layer graph config of a Functional model, or of its subclass.

    KerasHub backbones and tasks are Functional models whose `get_config()`
    holds their constructor arguments instead of the graph. A plain
    `keras.Model` on the same input and output tensors runs through the same
    layers (shared, not copied) and serializes the graph.
    """
    config = model.get_config()
    if isinstance(config, dict) and "layers" in config:
        return config
    view = keras.Model(model.input, model.output, name=model.name)
    try:
        return view.get_config()
    except Exception as error:  # a layer's get_config(): any error it raises
        raise_if_unclonable(model, error)
        raise


def layer_calls(config: dict) -> Iterator[tuple[dict, int, list[TensorRef], dict]]:
    """`(layer config, call index, input tensors, their shapes)` per call.

    In the config's order, which is topological.
    """
    for layer in config["layers"]:
        for index, node in enumerate(layer.get("inbound_nodes") or []):
            inputs, shapes = [], {}
            for tensor in _keras_tensors(node):
                ref = tuple(tensor["config"]["keras_history"])
                shapes[ref] = tuple(tensor["config"]["shape"])
                inputs.append(ref)
            yield layer, index, inputs, shapes


def output_refs(config: dict) -> list[TensorRef]:
    return [tuple(ref) for ref in _refs(config["output_layers"])]


def input_names(config: dict) -> list[str]:
    return [ref[0] for ref in _refs(config["input_layers"])]


def _keras_tensors(structure) -> Iterator[dict]:
    if isinstance(structure, dict):
        if structure.get("class_name") == "__keras_tensor__":
            yield structure
            return
        for value in structure.values():
            yield from _keras_tensors(value)
    elif isinstance(structure, (list, tuple)):
        for value in structure:
            yield from _keras_tensors(value)


def _refs(structure) -> Iterator[list]:
    """The `[name, node, index]` triples of a config's `output_layers`."""
    if (
        isinstance(structure, (list, tuple))
        and len(structure) == 3
        and isinstance(structure[0], str)
    ):
        yield structure
    elif isinstance(structure, (list, tuple, dict)):
        values = structure.values() if isinstance(structure, dict) else structure
        for value in values:
            yield from _refs(value)
