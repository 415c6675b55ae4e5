"""Pieces shared by `GlobalContext2D`, `GatherExcite2D` and `CBAM2D`.

The width rule of their timm counterparts, PyTorch-style symmetric padding
and pooling, and the nearest-neighbour resize with which Gather-Excite
spreads a coarse gate back over the whole map. Their base class is
`keras_se.layers.base_attention.BaseAttention`.
"""

from __future__ import annotations

from keras import ops

from keras_se.layers.bottleneck import check_ratio, check_width, make_divisible
from keras_se.layers.squeeze import accumulation_dtype

# PyTorch's BatchNorm2d defaults: its momentum 0.1 is Keras's 0.9.
BATCH_NORM_MOMENTUM = 0.9
BATCH_NORM_EPSILON = 1e-5


def timm_units(channels: int, ratio: float, units: int | None, divisor: int) -> int:
    """The hidden width of timm's `GlobalContext`, `GatherExcite` and `CbamModule`.

    `units` when given, else `make_divisible(channels / ratio, divisor,
    round_limit=0.0)`: the multiple of `divisor` nearest to `channels / ratio`
    (halves round up), at least `divisor`. Unlike `SqueezeExcite2D`'s floor,
    24 channels with `ratio=16` give 2 units, not 1. Like
    `bottleneck_units`, refuses a width over `MAX_EXPANSION` (64) times the
    channels.
    """
    if units is None:
        width = make_divisible(channels / check_ratio(ratio), divisor, round_limit=0.0)
    else:
        width = units
    return check_width(width, channels, units, divisor)


def pad_spatial(x, padding: int, data_format: str, value: float = 0.0):
    """Pads both spatial axes of the 4D `x` by `padding` on each side."""
    widths = [[0, 0], [padding, padding], [padding, padding], [0, 0]]
    if data_format == "channels_first":
        widths = [[0, 0], [0, 0], [padding, padding], [padding, padding]]
    return ops.pad(x, widths, constant_values=value)


def torch_average_pool(x, size: int, stride: int, padding: int, data_format: str):
    """PyTorch's `avg_pool2d(..., count_include_pad=False)` on the 4D `x`.

    `padding` positions on each side, as PyTorch pads (Keras's "same" puts
    an odd one after), and left out of each window's average. The windows
    sum in float32 at least (`accumulation_dtype`): TensorFlow's and JAX's
    float16 pooling sums in float16, and a 7x7 window of values near 1e4
    overflows.
    """
    pool = {"strides": stride, "padding": "valid", "data_format": data_format}
    wide = ops.cast(x, accumulation_dtype(x.dtype))
    # Window sums over the zero-padded map, divided by the count of real
    # positions in each window.
    sums = ops.average_pool(pad_spatial(wide, padding, data_format), size, **pool)
    one = wide[:1, :, :, :1] if data_format == "channels_last" else wide[:1, :1]
    ones = pad_spatial(ops.ones_like(one), padding, data_format)
    return ops.cast(sums / ops.average_pool(ones, size, **pool), x.dtype)


def torch_max_pool(x, size: int, stride: int, padding: int, data_format: str):
    """PyTorch's `max_pool2d` on the 4D `x`: `padding` of -inf on each side."""
    pool = {"strides": stride, "padding": "valid", "data_format": data_format}
    lowest = pad_spatial(x, padding, data_format, float("-inf"))
    return ops.max_pool(lowest, size, **pool)


def nearest_indices(out_size, in_size):
    """The source rows of a nearest resize from `in_size` to `out_size` rows.

    PyTorch's `F.interpolate(mode="nearest")` rule, in its float32 arithmetic:
    `min(floor(i * (in_size / out_size)), in_size - 1)`. Computing the scale
    in float32 as it does keeps the rows equal where the exact quotient
    would land on the other side of an integer.
    """
    scale = ops.divide(ops.cast(in_size, "float32"), ops.cast(out_size, "float32"))
    rows = ops.floor(ops.multiply(ops.cast(ops.arange(out_size), "float32"), scale))
    return ops.minimum(ops.cast(rows, "int32"), ops.cast(in_size, "int32") - 1)


def resize_nearest(x, height, width, data_format: str):
    """Resizes the spatial axes of the 4D `x` to `(height, width)`, nearest."""
    row_axis = 1 if data_format == "channels_last" else 2
    shape = ops.shape(x)
    x = ops.take(x, nearest_indices(height, shape[row_axis]), axis=row_axis)
    return ops.take(x, nearest_indices(width, shape[row_axis + 1]), axis=row_axis + 1)
