"""The model graph: a read-only view of a model's calls, for deciding where SE goes.

This module owns the model graph of the surgery. It answers the questions
Keras has no API for: which input of an `Add` is the residual branch, where
a resolution stage ends, which maps a block of attention already gates. It
reads the model's serialized graph (`keras_se.surgery.model_config`), the
data format of every feature map (`keras_se.surgery.formats`), and asks
each layer whether it is an attention, and of which kind
(`keras_se.layers.is_attention`, `attention_kind`). Nothing here touches
the model.

The existing attentions (the family rule of `skip_existing_se`): a call is
an attention if its layer is a keras_se attention of any kind, or it
multiplies a map by a gate computed from that map's global pooling (the SE
blocks of EfficientNet and MobileNetV3 written out in operations). A
residual unit holds one if one sits on its residual branch or its shortcut,
or right after its merge; a conv's output holds one if it feeds one through
the normalization, activation and other shape-keeping operations after it.
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
    CONV_CLASSES,
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

    def is_attention_call(self, call: Call) -> bool:
        """An existing attention: a keras_se layer, or a map times a pooled gate."""
        if call.attention is not None:
            return True
        if call.class_name != "Multiply" or len(call.inputs) != 2:
            return False
        pooled = [tensor in self.pooled for tensor in call.inputs]
        return pooled[0] != pooled[1]

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

    def branch_has_attention(self, start: TensorRef, end: TensorRef) -> bool:
        """Whether an attention computes a tensor from `start` (excluded) to `end`."""
        floor = self.depth.get(start, 0)
        for tensor in self.ancestors(end, min_depth=floor + 1) - {start}:
            producer = self.producers.get(tensor)
            if producer is not None and self.is_attention_call(producer):
                return True
        return False

    def next_to_attention(self, tensor: TensorRef) -> bool:
        """Whether an attention makes `tensor` or is called on it directly."""
        producer = self.producers.get(tensor)
        if producer is not None and self.is_attention_call(producer):
            return True
        return any(self.is_attention_call(call) for call, _ in self.consumers(tensor))

    def unit_holds_attention(
        self, merge: Call, residual_at: int, shortcut_at: int
    ) -> bool:
        """Whether a residual unit has an attention, wherever `position` put it.

        On its residual branch (`"standard"`, `"pre"`, or the unit's own SE
        as in EfficientNet), on its shortcut (`"identity"`), or right after
        its merge (`"post"`).
        """
        residual, shortcut = merge.inputs[residual_at], merge.inputs[shortcut_at]
        start = self.block_input(residual, shortcut)
        return (
            self.branch_has_attention(start, residual)
            or self.branch_has_attention(start, shortcut)
            or self.next_to_attention(merge.output)
        )

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

    def feeds_attention(self, tensor: TensorRef, steps: int = 6) -> bool:
        """Whether an attention follows `tensor`, through shape-keeping ops only.

        MobileNetV3 puts its hard-swish (raw ops) between a conv's batch norm
        and its SE block, so the gate can be a few operations away.
        """
        shape, frontier = self.shape(tensor), [tensor]
        for _ in range(steps):
            following = []
            for current in frontier:
                for consumer, _ in self.consumers(current):
                    if self.is_attention_call(consumer):
                        return True
                    if consumer.class_name in CONV_CLASSES | MERGE_CLASSES:
                        continue
                    if self.shape(consumer.output) in (shape, None):
                        following.append(consumer.output)
            frontier = following
        producer = self.producers.get(tensor)
        return producer is not None and self.is_attention_call(producer)


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
