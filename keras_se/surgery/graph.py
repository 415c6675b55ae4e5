"""A read-only view of a model's layer graph, for deciding where SE goes.

Keras rewrites graphs (`keras.models.clone_model`) but has no API that says
which input of an `Add` is the residual branch, where a resolution stage ends,
or whether a block already has an SE gate. This module answers those
questions from the model's own serialized graph, `model.get_config()`: every
call of every layer and operation, its input tensors, and their shapes (for
a Functional subclass whose config holds its constructor arguments, such as
a KerasHub backbone, the config of a plain view on the same tensors), and
the data format of every feature map (see `keras_se.surgery.formats`).
Nothing here touches the model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import keras

from keras_se.surgery.checks import raise_if_unclonable
from keras_se.surgery.formats import (
    channel_axis,
    declared_format,
    model_format,
    tensor_formats,
)

# (layer or operation name, call index, output index): Keras's `keras_history`.
TensorRef = tuple[str, int, int]

# Every Keras convolution layer: Grad-CAM may look at any of them.
CONV_LAYERS = (
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
    keras.layers.DepthwiseConv1D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv1D,
    keras.layers.SeparableConv2D,
)
# The surgery puts SE blocks after the 2D ones, by config class name.
CONV_CLASSES = frozenset(
    layer.__name__ for layer in CONV_LAYERS if "2D" in layer.__name__
)
# Layers that finish a conv "unit": SE goes after them when they follow a conv.
FOLLOWER_CLASSES = frozenset(
    {
        "BatchNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "Activation",
        "ReLU",
        "LeakyReLU",
        "PReLU",
        "ELU",
    }
)
GLOBAL_POOLING_CLASSES = frozenset(
    {"GlobalAveragePooling2D", "GlobalMaxPooling2D", "Mean", "Max"}
)
MERGE_CLASSES = frozenset({"Add"})
SE_LAYER_PREFIX = "SqueezeExcite"


@dataclass
class Call:
    """One call of a layer or operation: a node of the graph.

    `data_format` is the one the layer declares, `None` if it declares none.
    """

    layer: str
    index: int
    class_name: str
    inputs: list[TensorRef]
    data_format: str | None = None
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
        formats = {layer.name: declared_format(layer) for layer in model.layers}
        calls, shapes = [], {}
        for layer in config["layers"]:
            for index, node in enumerate(layer.get("inbound_nodes") or []):
                inputs = []
                for tensor in _keras_tensors(node):
                    ref = tuple(tensor["config"]["keras_history"])
                    shapes[ref] = tuple(tensor["config"]["shape"])
                    inputs.append(ref)
                name = layer["name"]
                calls.append(
                    Call(name, index, layer["class_name"], inputs, formats.get(name))
                )
        outputs = [tuple(ref) for ref in _refs(config["output_layers"])]
        for ref, tensor in zip(outputs, model.outputs, strict=True):
            shapes[ref] = tuple(tensor.shape)
        input_names = [ref[0] for ref in _refs(config["input_layers"])]
        return cls(calls, shapes, outputs, input_names, model_format(model))

    @classmethod
    def _from_sequential(cls, model: keras.Sequential) -> ModelGraph:
        calls, shapes = [], {}
        previous: TensorRef = ("__input__", 0, 0)
        shapes[previous] = tuple(model.inputs[0].shape)
        for layer in model.layers:
            call = Call(
                layer.name, 0, type(layer).__name__, [previous], declared_format(layer)
            )
            calls.append(call)
            previous = call.output
            shapes[previous] = tuple(layer.output.shape)
        return cls(calls, shapes, [previous], default_format=model_format(model))

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

    def is_se_gate_call(self, call: Call) -> bool:
        """An existing SE: a keras_se layer, or a map times a globally pooled gate."""
        if call.class_name.startswith(SE_LAYER_PREFIX):
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

    def branch_has_se(self, start: TensorRef, end: TensorRef) -> bool:
        floor = self.depth.get(start, 0)
        for tensor in self.ancestors(end, min_depth=floor + 1):
            producer = self.producers.get(tensor)
            if producer is not None and self.is_se_gate_call(producer):
                return True
        return False

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

    def feeds_existing_se(self, tensor: TensorRef, steps: int = 6) -> bool:
        """Whether an SE gate follows `tensor`, through shape-keeping ops only.

        MobileNetV3 puts its hard-swish (raw ops) between a conv's batch norm
        and its SE block, so the gate can be a few operations away.
        """
        shape, frontier = self.shape(tensor), [tensor]
        for _ in range(steps):
            following = []
            for current in frontier:
                for consumer, _ in self.consumers(current):
                    if self.is_se_gate_call(consumer):
                        return True
                    if consumer.class_name in CONV_CLASSES | MERGE_CLASSES:
                        continue
                    if self.shape(consumer.output) in (shape, None):
                        following.append(consumer.output)
            frontier = following
        producer = self.producers.get(tensor)
        return producer is not None and self.is_se_gate_call(producer)


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
