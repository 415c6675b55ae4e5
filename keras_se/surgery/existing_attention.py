"""The existing attentions of a model graph: where SE would be added twice.

The family rule of `skip_existing_se`: a call is an attention if its layer
is a keras_se attention of any kind, or it multiplies a map by a gate
computed from that map's global pooling (the SE blocks of EfficientNet and
MobileNetV3 written out in operations). A residual unit holds one if one
sits on its residual branch or its shortcut, or right after its merge; a
conv's output holds one if it feeds one through the normalization,
activation and other shape-keeping operations after it. The questions are
asked of the model graph (`keras_se.surgery.graph.ModelGraph`); nothing
here touches the model.
"""

from __future__ import annotations

from keras_se.surgery.graph import Call, ModelGraph
from keras_se.surgery.keras_layers import CONV_CLASSES, MERGE_CLASSES
from keras_se.surgery.model_config import TensorRef


def is_attention_call(graph: ModelGraph, call: Call) -> bool:
    """An existing attention: a keras_se layer, or a map times a pooled gate."""
    if call.attention is not None:
        return True
    if call.class_name != "Multiply" or len(call.inputs) != 2:
        return False
    pooled = [tensor in graph.pooled for tensor in call.inputs]
    return pooled[0] != pooled[1]


def branch_has_attention(graph: ModelGraph, start: TensorRef, end: TensorRef) -> bool:
    """Whether an attention computes a tensor from `start` (excluded) to `end`."""
    floor = graph.depth.get(start, 0)
    for tensor in graph.ancestors(end, min_depth=floor + 1) - {start}:
        producer = graph.producers.get(tensor)
        if producer is not None and is_attention_call(graph, producer):
            return True
    return False


def next_to_attention(graph: ModelGraph, tensor: TensorRef) -> bool:
    """Whether an attention makes `tensor` or is called on it directly."""
    producer = graph.producers.get(tensor)
    if producer is not None and is_attention_call(graph, producer):
        return True
    return any(is_attention_call(graph, call) for call, _ in graph.consumers(tensor))


def unit_holds_attention(
    graph: ModelGraph, merge: Call, residual_at: int, shortcut_at: int
) -> bool:
    """Whether a residual unit has an attention, wherever `position` put it.

    On its residual branch (`"standard"`, `"pre"`, or the unit's own SE
    as in EfficientNet), on its shortcut (`"identity"`), or right after
    its merge (`"post"`).
    """
    residual, shortcut = merge.inputs[residual_at], merge.inputs[shortcut_at]
    start = graph.block_input(residual, shortcut)
    return (
        branch_has_attention(graph, start, residual)
        or branch_has_attention(graph, start, shortcut)
        or next_to_attention(graph, merge.output)
    )


def feeds_attention(graph: ModelGraph, tensor: TensorRef, steps: int = 6) -> bool:
    """Whether an attention follows `tensor`, through shape-keeping ops only.

    MobileNetV3 puts its hard-swish (raw ops) between a conv's batch norm
    and its SE block, so the gate can be a few operations away.
    """
    shape, frontier = graph.shape(tensor), [tensor]
    for _ in range(steps):
        following = []
        for current in frontier:
            for consumer, _ in graph.consumers(current):
                if is_attention_call(graph, consumer):
                    return True
                if consumer.class_name in CONV_CLASSES | MERGE_CLASSES:
                    continue
                if graph.shape(consumer.output) in (shape, None):
                    following.append(consumer.output)
        frontier = following
    producer = graph.producers.get(tensor)
    return producer is not None and is_attention_call(graph, producer)
