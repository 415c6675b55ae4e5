"""The model graph: a read-only view of a model's calls, for deciding where SE goes.

This module owns the model graph of the surgery. It answers the questions
Keras has no API for: which input of an `Add` is the residual branch, where
a resolution stage ends, which tensors come from a global pooling alone. It
reads the model's serialized graph (`keras_se.surgery.model_config`), the
data format of every feature map (`keras_se.surgery.formats`), and asks
each layer whether it is an attention, and of which kind
(`keras_se.layers.is_attention`, `attention_kind`). Nothing here touches
the model. Which maps a block of attention already gates is asked of this
graph in `keras_se.surgery.existing_attention`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import keras

from keras_se.layers.attention import is_attention
from keras_se.surgery.checks import check_model
from keras_se.surgery.formats import (
    channel_axis,
    declared_format,
    model_format,
    tensor_formats,
)
from keras_se.surgery.keras_layers import (
    FOLLOWER_CLASSES,
    GLOBAL_POOLING_CLASSES,
    MERGE_CLASSES,
)
from keras_se.surgery.model_config import (
    TensorRef,
    functional_config,
    input_names,
    layer_calls,
    output_refs,
)


@dataclass
class Call:
    """One call of a layer or operation: a node of the graph.

    `data_format` is the one the layer declares, `None` if it declares
    none; `attention` the kind of a keras_se attention layer
    (`attention_kind`), `None` for any other layer or operation.
    """

    layer: str
    index: int
    class_name: str
    inputs: list[TensorRef]
    data_format: str | None = None
    attention: str | None = None
    consumers: list[tuple[Call, int]] = field(default_factory=list)

    @property
    def output(self) -> TensorRef:
        return (self.layer, self.index, 0)


class ModelGraph:
    """The calls of a Functional or Sequential model, in topological order.

    `default_format` is the format of the maps no layer on whose way
    declares one (`model_format`).
    """

    def __init__(
        self,
        calls: list[Call],
        shapes: dict,
        outputs: list[TensorRef],
        input_names: list[str] | None = None,
        default_format: str | None = None,
    ):
        self.calls = calls
        self.input_names = input_names or []
        self.shapes = shapes
        self.outputs = outputs
        self.default_format = default_format or keras.config.image_data_format()
        self.producers = {call.output: call for call in calls}
        for call in calls:
            for position, tensor in enumerate(call.inputs):
                producer = self.producers.get((*tensor[:2], 0))
                if producer is not None:
                    producer.consumers.append((call, position))
        self.depth = self._depths()
        self.pooled = self._pooled()
        self.formats = tensor_formats(calls, shapes)

    @classmethod
    def from_model(cls, model: keras.Model) -> ModelGraph:
        if isinstance(model, keras.Sequential):
            return cls._from_sequential(model)
        return cls._from_functional(model)

    @classmethod
    def _from_functional(cls, model: keras.Model) -> ModelGraph:
        config = functional_config(model)
        layers = {layer.name: layer for layer in model.layers}
        calls, shapes = [], {}
        for layer, index, inputs, input_shapes in layer_calls(config):
            shapes.update(input_shapes)
            calls.append(_call(layers.get(layer["name"]), layer, index, inputs))
        outputs = output_refs(config)
        for ref, tensor in zip(outputs, model.outputs, strict=True):
            shapes[ref] = tuple(tensor.shape)
        return cls(calls, shapes, outputs, input_names(config), model_format(model))

    @classmethod
    def _from_sequential(cls, model: keras.Sequential) -> ModelGraph:
        calls, shapes = [], {}
        previous: TensorRef = ("__input__", 0, 0)
        shapes[previous] = tuple(model.inputs[0].shape)
        for layer in model.layers:
            config = {"name": layer.name, "class_name": type(layer).__name__}
            call = _call(layer, config, 0, [previous])
            calls.append(call)
            previous = call.output
            shapes[previous] = tuple(layer.output.shape)
        return cls(calls, shapes, [previous], default_format=model_format(model))

    def has_residual_merges(self) -> bool:
        return any(True for _ in self.residual_merges())

    def shape(self, tensor: TensorRef) -> tuple | None:
        return self.shapes.get(tensor)

    def consumers(self, tensor: TensorRef) -> list[tuple[Call, int]]:
        producer = self.producers.get(tensor)
        return producer.consumers if producer is not None else []

    def _depths(self) -> dict[TensorRef, int]:
        depth: dict[TensorRef, int] = {}
        for call in self.calls:  # get_config lists layers in topological order
            depth[call.output] = 1 + max(
                (depth.get(tensor, 0) for tensor in call.inputs), default=0
            )
        return depth

    def _pooled(self) -> set[TensorRef]:
        """Tensors computed from a global pooling alone: SE gate paths, heads.

        A tensor is pooled when its producer is a global pooling or all of its
        producer's inputs are pooled. The rescale `x * gate` of an SE block has
        one pooled input and one not, so the main path is never pooled, even
        where a small input makes its maps 1x1.
        """
        pooled: set[TensorRef] = set()
        for call in self.calls:
            if call.class_name in GLOBAL_POOLING_CLASSES or (
                call.inputs and all(tensor in pooled for tensor in call.inputs)
            ):
                pooled.add(call.output)
        return pooled

    def ancestors(self, tensor: TensorRef, min_depth: int = 0) -> set[TensorRef]:
        """Tensors `tensor` is computed from (itself included), down to `min_depth`."""
        seen, stack = {tensor}, [tensor]
        while stack:
            producer = self.producers.get(stack.pop())
            if producer is None:
                continue
            for parent in producer.inputs:
                if parent not in seen and self.depth.get(parent, 0) >= min_depth:
                    seen.add(parent)
                    stack.append(parent)
        return seen

    def data_format(self, tensor: TensorRef) -> tuple[str, str | None]:
        """`(format, the layer that declares it)` of `tensor`; `None`: the model's."""
        return self.formats.get(tensor, (self.default_format, None))

    def is_feature_map(self, tensor: TensorRef) -> bool:
        shape = self.shape(tensor)
        if shape is None or len(shape) != 4:
            return False
        return shape[channel_axis(shape, self.data_format(tensor)[0])] is not None

    def spatial(self, tensor: TensorRef) -> tuple:
        """The spatial sizes of a feature map, whatever its data format."""
        shape = self.shape(tensor)
        channels = channel_axis(shape, self.data_format(tensor)[0])
        return tuple(size for axis, size in enumerate(shape[1:], 1) if axis != channels)

    def residual_merges(self) -> Iterator[tuple[Call, int, int]]:
        """Yields `(merge, residual_position, shortcut_position)`.

        The residual branch is the deeper input: it went through the block's
        convolutions, the shortcut through at most a projection.
        """
        for call in self.calls:
            if call.class_name not in MERGE_CLASSES or len(call.inputs) < 2:
                continue
            if not all(self.is_feature_map(tensor) for tensor in call.inputs):
                continue
            by_depth = sorted(
                range(len(call.inputs)), key=lambda i: self.depth.get(call.inputs[i], 0)
            )
            yield call, by_depth[-1], by_depth[0]

    def block_input(self, residual: TensorRef, shortcut: TensorRef) -> TensorRef:
        """The tensor both branches of a residual block start from."""
        shared = self.ancestors(residual) & self.ancestors(shortcut)
        return max(shared, key=lambda tensor: self.depth.get(tensor, 0))

    def unit_end(self, tensor: TensorRef) -> TensorRef:
        """Follows `tensor` through the normalization and activation after it."""
        while True:
            consumers = self.consumers(tensor)
            if len(consumers) != 1:
                return tensor
            follower, _ = consumers[0]
            if follower.class_name not in FOLLOWER_CLASSES:
                return tensor
            tensor = follower.output


def _call(layer, config: dict, index: int, inputs: list[TensorRef]) -> Call:
    """The graph node of one call of `layer` (`None` for a raw operation)."""
    return Call(
        config["name"],
        index,
        config["class_name"],
        inputs,
        declared_format(layer) if layer is not None else None,
        layer.attention_kind if is_attention(layer) else None,
    )


def graphs_of(model: keras.Model) -> list[tuple[keras.Model, ModelGraph]]:
    """`model` and every model nested in it, each once, with its graph.

    In the order the surgery plans them: `model` first, then each nested
    model where its layer comes, depth first.
    """
    found: dict[int, tuple[keras.Model, ModelGraph]] = {}

    def visit(current):
        check_model(current)
        found[id(current)] = (current, ModelGraph.from_model(current))
        for layer in current.layers:
            if isinstance(layer, keras.Model) and id(layer) not in found:
                visit(layer)

    visit(model)
    return list(found.values())


def has_residual_merges(model: keras.Model) -> bool:
    """Whether `model`, or a model nested in it, has residual merges."""
    return any(graph.has_residual_merges() for _, graph in graphs_of(model))


def all_layers(model: keras.Model):
    """Every layer of `model`, nested models' layers included."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)
