"""The pieces of timm's ResNets in Keras: PyTorch-padded convolutions, stems, blocks.

Every layer with weights is named after the module of timm's state dict it
takes its weights from, dots as dashes (`"layer1-0-conv1"` for
`layer1.0.conv1`, `"stages-0-0-attn"`), so the converter reads the key of
each weight off the layer's name.
"""

from __future__ import annotations

import keras

from keras_se.layers import (
    EfficientChannelAttention2D,
    GlobalContext2D,
    SqueezeExcite2D,
    make_divisible,
)

# PyTorch's BatchNorm2d: epsilon 1e-5 (Keras's default is 1e-3), momentum 0.1.
from keras_se.layers._attention_parts import BATCH_NORM_EPSILON, BATCH_NORM_MOMENTUM


def keras_name(module: str) -> str:
    """The Keras name of the layer of timm module `module`: dots become dashes.

    Keras layer names may not hold dots on the PyTorch backend; timm's module
    names never hold dashes, so the map goes both ways.
    """
    return module.replace(".", "-")


def timm_module(layer_name: str) -> str:
    """The timm module of the layer named `layer_name`."""
    return layer_name.replace("-", ".")


def channel_axis(data_format: str) -> int:
    return -1 if data_format == "channels_last" else 1


def conv(x, filters, kernel_size, stride, name, data_format, groups=1, dtype=None):
    """A bias-free convolution, padded `(kernel_size - 1) // 2` a side as PyTorch does.

    Keras's "same" pads a stride-2 convolution of an even map after only;
    PyTorch pads both sides. Explicit zero padding and "valid" match it for
    every stride; a stride-1 convolution takes "same", which is the same.
    """
    padding = (kernel_size - 1) // 2
    if stride > 1 and padding:
        x = keras.layers.ZeroPadding2D(
            padding,
            data_format=data_format,
            dtype=dtype,
            name=keras_name(f"{name}.pad"),
        )(x)
    return keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=stride,
        padding="same" if stride == 1 else "valid",
        groups=groups,
        use_bias=False,
        data_format=data_format,
        dtype=dtype,
        name=keras_name(name),
    )(x)


def batch_norm(x, name, data_format, dtype=None):
    return keras.layers.BatchNormalization(
        axis=channel_axis(data_format),
        epsilon=BATCH_NORM_EPSILON,
        momentum=BATCH_NORM_MOMENTUM,
        dtype=dtype,
        name=keras_name(name),
    )(x)


def relu(x, name, dtype=None):
    return keras.layers.ReLU(dtype=dtype, name=keras_name(name))(x)


def attention(x, kind, name, data_format, dtype=None):
    """timm's `create_attn(kind, channels)` from keras_se's layers.

    `"se"`: timm's `SEModule`, a bottleneck of `make_divisible(channels / 16,
    8, round_limit=0)` units; `"eca"`: `EcaModule` with its adaptive kernel;
    `"gca"`: `GlobalContext(fuse_add=True, fuse_scale=False)`.
    """
    if kind == "se":
        layer = SqueezeExcite2D(
            ratio=16,
            divisor=8,
            round_limit=0.0,
            data_format=data_format,
            dtype=dtype,
            name=keras_name(name),
        )
    elif kind == "eca":
        layer = EfficientChannelAttention2D(
            data_format=data_format, dtype=dtype, name=keras_name(name)
        )
    elif kind == "gca":
        layer = GlobalContext2D(
            ratio=8,
            fusion="add",
            data_format=data_format,
            dtype=dtype,
            name=keras_name(name),
        )
    else:
        raise ValueError(
            "`attention` must be one of 'se', 'eca', 'gca' or None. "
            f"Received: attention={kind!r}"
        )
    return layer(x)


def resnet_stem(x, config, data_format, dtype=None):
    """timm's `ResNet` stem: 7x7, or three 3x3 ("deep", "tiered"); then a max pool."""
    if config.stem_type:
        first = config.stem_width
        if config.stem_type == "tiered":
            first = 3 * (config.stem_width // 4)
        widths = (first, config.stem_width, config.stem_width * 2)
        for index, width in enumerate(widths):
            stride = 2 if index == 0 else 1
            x = conv(
                x, width, 3, stride, f"conv1.{3 * index}", data_format, dtype=dtype
            )
            if index < 2:
                x = batch_norm(x, f"conv1.{3 * index + 1}", data_format, dtype)
                x = relu(x, f"conv1.{3 * index + 2}", dtype)
    else:
        x = conv(x, 64, 7, 2, "conv1", data_format, dtype=dtype)
    x = batch_norm(x, "bn1", data_format, dtype)
    x = relu(x, "act1", dtype)
    # Zeros stand in for PyTorch's -inf padding: the map is a ReLU's, >= 0.
    x = keras.layers.ZeroPadding2D(
        1, data_format=data_format, dtype=dtype, name=keras_name("maxpool.pad")
    )(x)
    return keras.layers.MaxPooling2D(
        3, 2, data_format=data_format, dtype=dtype, name=keras_name("maxpool")
    )(x)


def resnet_bottleneck(x, config, planes, stride, name, data_format, dtype=None):
    """timm's `Bottleneck`: 1x1, grouped 3x3 (strided), 1x1, attention; a shortcut."""
    axis = channel_axis(data_format)
    in_channels = x.shape[axis]
    width = int(planes * config.base_width // 64) * config.cardinality
    out_channels = planes * 4
    shortcut = x
    x = conv(x, width, 1, 1, f"{name}.conv1", data_format, dtype=dtype)
    x = relu(batch_norm(x, f"{name}.bn1", data_format, dtype), f"{name}.act1", dtype)
    x = conv(
        x, width, 3, stride, f"{name}.conv2", data_format, config.cardinality, dtype
    )
    x = relu(batch_norm(x, f"{name}.bn2", data_format, dtype), f"{name}.act2", dtype)
    x = conv(x, out_channels, 1, 1, f"{name}.conv3", data_format, dtype=dtype)
    x = batch_norm(x, f"{name}.bn3", data_format, dtype)
    if config.attention:
        x = attention(x, config.attention, f"{name}.se", data_format, dtype)
    if stride != 1 or in_channels != out_channels:
        down = f"{name}.downsample"
        if config.avg_down:
            if stride != 1:
                shortcut = keras.layers.AveragePooling2D(
                    2,
                    stride,
                    padding="same",
                    data_format=data_format,
                    dtype=dtype,
                    name=keras_name(f"{down}.0"),
                )(shortcut)
            shortcut = conv(
                shortcut, out_channels, 1, 1, f"{down}.1", data_format, dtype=dtype
            )
            shortcut = batch_norm(shortcut, f"{down}.2", data_format, dtype)
        else:
            shortcut = conv(
                shortcut, out_channels, 1, stride, f"{down}.0", data_format, dtype=dtype
            )
            shortcut = batch_norm(shortcut, f"{down}.1", data_format, dtype)
    x = keras.layers.Add(dtype=dtype, name=keras_name(f"{name}.add"))([x, shortcut])
    return relu(x, f"{name}.act3", dtype)


def _conv_norm_act(x, filters, kernel_size, stride, name, data_format, act, dtype):
    x = conv(x, filters, kernel_size, stride, f"{name}.conv", data_format, dtype=dtype)
    x = batch_norm(x, f"{name}.bn", data_format, dtype)
    return relu(x, f"{name}.act", dtype) if act else x


def byob_stem(x, config, data_format, dtype=None):
    """timm's `ByobNet` tiered stem (gcresnet50t): 3x3 three times, strides 2, 1, 2."""
    first = 3 * (config.stem_width // 4)
    widths = (first, config.stem_width, config.stem_width * 2)
    for index, (width, stride) in enumerate(zip(widths, (2, 1, 2), strict=True)):
        name = f"stem.conv{index + 1}"
        x = _conv_norm_act(x, width, 3, stride, name, data_format, True, dtype)
    return x


def byob_bottleneck(x, config, planes, stride, name, data_format, dtype=None):
    """timm's `BottleneckBlock`: 1x1, 3x3 (strided), attention, 1x1; a 1x1 shortcut."""
    in_channels = x.shape[channel_axis(data_format)]
    out_channels = planes * 4
    # timm's `make_divisible(out_chs * bottle_ratio)`, divisor 8.
    planes = make_divisible(planes, 8)
    shortcut = x
    x = _conv_norm_act(x, planes, 1, 1, f"{name}.conv1_1x1", data_format, True, dtype)
    x = _conv_norm_act(
        x, planes, 3, stride, f"{name}.conv2_kxk", data_format, True, dtype
    )
    if config.attention:
        x = attention(x, config.attention, f"{name}.attn", data_format, dtype)
    x = _conv_norm_act(
        x, out_channels, 1, 1, f"{name}.conv3_1x1", data_format, False, dtype
    )
    if stride != 1 or in_channels != out_channels:
        shortcut = _conv_norm_act(
            shortcut,
            out_channels,
            1,
            stride,
            f"{name}.shortcut",
            data_format,
            False,
            dtype,
        )
    x = keras.layers.Add(dtype=dtype, name=keras_name(f"{name}.add"))([x, shortcut])
    return relu(x, f"{name}.act", dtype)
