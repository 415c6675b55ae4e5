"""The data format of a model's feature maps: which axis holds the channels.

A block inserted after a feature map must gate that map's channels: axis 1
of a `channels_first` map, the last axis of a `channels_last` one. Keras
layers that care about the layout say so themselves, in their `data_format`
(convolutions, poolings, paddings, resizings, the keras_se attentions);
the others (normalizations, activations, merges) keep the layout of what
they are given. `ModelGraph` follows that through a model's graph with the
rule below; this module holds the parts that ask the layers.

The rule, for the tensor a block would gate:

1. the `data_format` of the layer that produced it, if it declares one;
2. else the format of the first input of that layer whose layout it keeps
   (same rank, same sizes except on the input's channel axis: an
   activation, a normalization, an `Add`, a `Concatenate` of channels),
   and so on up the graph;
3. else the model's: the one its layers (nested models' included) declare,
   if they all agree, else `keras.config.image_data_format()`.
"""

from __future__ import annotations

from collections.abc import Iterable

import keras

from keras_se._validation import DATA_FORMATS


def declared_format(layer) -> str | None:
    """The data format `layer` declares: its `data_format`, or `None`.

    A nested model declares the format its own layers agree on.
    """
    data_format = getattr(layer, "data_format", None)
    if data_format in DATA_FORMATS:
        return data_format
    if isinstance(layer, keras.Model):
        return agreed_format(layer.layers)
    return None


def agreed_format(layers: Iterable) -> str | None:
    """The format every one of `layers` that declares one declares, or `None`."""
    formats = {declared_format(layer) for layer in layers} - {None}
    return formats.pop() if len(formats) == 1 else None


def model_format(model: keras.Model) -> str:
    """The format of `model`'s maps where no layer on their way declares one."""
    return agreed_format(model.layers) or keras.config.image_data_format()


def keeps_layout(before: tuple | None, after: tuple | None, data_format: str) -> bool:
    """Whether a layer that maps shape `before` to `after` keeps the layout.

    It does when the ranks agree and only the channel axis (of a map in
    `data_format`) may change size; a `Permute` or a `Dense` on the
    spatial axis of a `channels_first` map does not.
    """
    if before is None or after is None or len(before) != len(after):
        return False
    channels = channel_axis(before, data_format)
    return all(
        size == other
        for axis, (size, other) in enumerate(zip(before, after, strict=True))
        if axis != channels
    )


def tensor_formats(calls, shapes: dict) -> dict[tuple, tuple[str, str]]:
    """`(data format, the layer that declares it)` of the tensors that have one.

    `calls` are a graph's `Call`s in topological order, `shapes` its
    tensors' shapes. A call's output has the format its layer declares,
    else that of its first input whose layout the call keeps; the tensors
    left out take the model's (rule 3).
    """
    formats: dict[tuple, tuple[str, str]] = {}
    for call in calls:
        if call.data_format is not None:
            formats[call.output] = (call.data_format, call.layer)
            continue
        for tensor in call.inputs:
            known = formats.get(tensor)
            if known and keeps_layout(
                shapes.get(tensor), shapes.get(call.output), known[0]
            ):
                formats[call.output] = known
                break
    return formats


def channel_axis(shape: tuple, data_format: str) -> int:
    """The (non-negative) channel axis of a tensor of `shape` in `data_format`."""
    return 1 if data_format == "channels_first" else len(shape) - 1
