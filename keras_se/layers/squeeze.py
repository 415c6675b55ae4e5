"""The squeeze of the channel-attention layers: one statistic per channel.

Spatial mean and maximum over every axis but the batch and the channels,
with or without a padding mask over those axes. The SE, ECA and eSE layers
share them, so a masked position means the same to each.
"""

from __future__ import annotations

import keras
from keras import ops


def spatial_axes(rank: int, data_format: str) -> tuple[int, ...]:
    """The `rank` spatial axes of an input in `data_format`."""
    first = 1 if data_format == "channels_last" else 2
    return tuple(range(first, first + rank))


def channel_axis(data_format: str) -> int:
    """The channel axis of an input in `data_format`."""
    return -1 if data_format == "channels_last" else 1


def accumulation_dtype(dtype) -> str:
    """The dtype a reduction over `dtype` values sums in: float32 at least.

    In float16 a sum of a few thousand moderate values, or a few of 1e4,
    overflows 65,504; `ops.mean` and `ops.sum` of Keras already accumulate
    wider, pooling and einsum do not on every backend.
    """
    return keras.backend.result_type(dtype, "float32")


# The docstring of `spatial_mean` and `spatial_max`, filled with the statistic.
REDUCTION_DOC = (
    "Returns the {statistic} of each channel over the spatial axes, "
    "`(batch, channels)`."
    """

    Args:
        inputs: a tensor of rank `rank + 2`.
        rank: the number of spatial axes.
        data_format: `"channels_last"` or `"channels_first"`.
        mask: optional boolean mask over the spatial axes; masked positions
            are left out, and a fully masked sample gives 0.
    """
)


def spatial_mean(inputs, rank: int, data_format: str, mask=None):
    axes = spatial_axes(rank, data_format)
    if mask is not None:
        # A padding mask covers the spatial axes only (e.g. the steps of a
        # sequence): padded positions must not enter the channel statistic.
        mask = ops.expand_dims(ops.cast(mask, "bool"), channel_axis(data_format))
        dtype = accumulation_dtype(inputs.dtype)
        weights = ops.cast(mask, dtype)
        total = ops.sum(ops.cast(inputs, dtype) * weights, axis=axes)
        count = ops.sum(weights, axis=axes)
        return ops.cast(total / ops.maximum(count, 1.0), inputs.dtype)
    # The squeeze is the spatial mean, 1/(H*W) * sum (eq. 2 of the SE paper).
    spatial_shape = tuple(inputs.shape[axis] for axis in axes)
    if rank < 3 and _pooling_is_faster(inputs.dtype) and None not in spatial_shape:
        # On TensorFlow's CPU kernels a window the size of the whole map
        # averages in about half the time of `reduce_mean`, the difference
        # between SE costing 1.4x and 1.9x an elementwise multiply
        # (benchmarks/layer_overhead.py). Same numbers, to float32 rounding.
        # Not in 3D: TFLite has no built-in AvgPool3D, so such a model
        # would not export.
        pooled = ops.average_pool(
            inputs, spatial_shape, 1, "valid", data_format=data_format
        )
        return ops.reshape(pooled, (-1, inputs.shape[channel_axis(data_format)]))
    return ops.mean(inputs, axis=axes)


spatial_mean.__doc__ = REDUCTION_DOC.format(statistic="mean")


def spatial_max(inputs, rank: int, data_format: str, mask=None):
    axes = spatial_axes(rank, data_format)
    if mask is None:
        return ops.max(inputs, axis=axes)
    mask = ops.expand_dims(ops.cast(mask, "bool"), channel_axis(data_format))
    lowest = ops.convert_to_tensor(float("-inf"), inputs.dtype)
    maximum = ops.max(ops.where(mask, inputs, lowest), axis=axes)
    # A fully masked sample has no maximum: its squeeze is 0, as the
    # average's is, rather than -inf, which would make the gate NaN.
    seen = ops.any(mask, axis=axes)
    return ops.where(seen, maximum, ops.zeros_like(maximum))


spatial_max.__doc__ = REDUCTION_DOC.format(statistic="maximum")


def _pooling_is_faster(dtype) -> bool:
    # Other backends' pooling is no faster than their mean (JAX) or transposes
    # channels-last inputs (PyTorch); TensorFlow's float16 pooling accumulates
    # in float16 and loses accuracy, while `ops.mean` accumulates in float32.
    return (
        keras.backend.backend() == "tensorflow"
        and keras.backend.standardize_dtype(dtype) == "float32"
    )
