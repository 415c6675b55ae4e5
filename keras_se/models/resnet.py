"""One builder for timm's ResNet family, from a `ResNetConfig`."""

from __future__ import annotations

import dataclasses

import keras

from keras_se._validation import check_positive_int
from keras_se.models import blocks

STEM_TYPES = ("", "deep", "tiered")
ATTENTIONS = (None, "se", "eca", "gca")
LAYOUTS = ("resnet", "byobnet")


def check_stage_sizes(**stages) -> None:
    """Checks per-stage sizes: sequences of positive ints, one entry per stage.

    Args:
        **stages: the sequences by argument name, e.g. `layers=(3, 4, 6, 3)`.

    Raises:
        ValueError: naming the argument and its value.
    """
    for name, sizes in stages.items():
        valid = isinstance(sizes, (tuple, list)) and len(sizes) > 0
        if valid:
            valid = all(
                isinstance(size, int) and not isinstance(size, bool) and size > 0
                for size in sizes
            )
        if not valid:
            raise ValueError(
                f"`{name}` must be a non-empty sequence of positive integers, one "
                f"per stage. Received: {name}={sizes!r}"
            )
    if len({len(sizes) for sizes in stages.values()}) > 1:
        names = " and ".join(f"`{name}`" for name in stages)
        received = ", ".join(f"{name}={sizes!r}" for name, sizes in stages.items())
        raise ValueError(f"{names} must have one entry per stage. Received: {received}")


@dataclasses.dataclass(frozen=True)
class ResNetConfig:
    """The architecture of one timm ResNet, as timm's `ResNet` arguments say it.

    Args:
        layers: blocks per stage, e.g. `(3, 4, 6, 3)`.
        channels: the `planes` of each stage; a block puts out 4 times as many.
        stem_width: the stem's width (a deep stem ends at twice it).
        stem_type: `""` (7x7), `"deep"` (3x3 x3) or `"tiered"`.
        avg_down: an average pool, then a 1x1 conv on the shortcut (the "d").
        cardinality: the groups of the 3x3 convolution (ResNeXt).
        base_width: the 3x3 width per group at `planes=64`.
        attention: `None`, `"se"`, `"eca"` or `"gca"`, in each block.
        layout: `"resnet"` (timm's resnet.py) or `"byobnet"` (timm's
            byobnet.py: its stem, its block, its key names).
        timm_name: the timm architecture, e.g. `"seresnet50"`.
    """

    layers: tuple[int, ...]
    channels: tuple[int, ...] = (64, 128, 256, 512)
    stem_width: int = 64
    stem_type: str = ""
    avg_down: bool = False
    cardinality: int = 1
    base_width: int = 64
    attention: str | None = None
    layout: str = "resnet"
    timm_name: str = ""

    def __post_init__(self):
        if self.stem_type not in STEM_TYPES:
            raise ValueError(
                f"`stem_type` must be one of {STEM_TYPES}. "
                f"Received: stem_type={self.stem_type!r}"
            )
        if self.attention not in ATTENTIONS:
            raise ValueError(
                f"`attention` must be one of {ATTENTIONS}. "
                f"Received: attention={self.attention!r}"
            )
        if self.layout not in LAYOUTS:
            raise ValueError(
                f"`layout` must be one of {LAYOUTS}. Received: layout={self.layout!r}"
            )
        check_stage_sizes(layers=self.layers, channels=self.channels)
        for name in ("stem_width", "cardinality", "base_width"):
            check_positive_int(name, getattr(self, name))

    @property
    def head_name(self) -> str:
        """The name of the classifier layer (and its timm module)."""
        return "fc" if self.layout == "resnet" else "head.fc"


def resnet_features(inputs, config: ResNetConfig, data_format: str, dtype=None) -> list:
    """The stem and the stages of `config` on `inputs`, timm's layer names.

    What `build_resnet` and `SEResNetBackbone` share: the network without
    its head.

    Args:
        inputs: the image tensor (a Keras tensor).
        config: the architecture.
        data_format: `"channels_last"` or `"channels_first"`.
        dtype: the dtype policy of every layer; `None` is Keras's global one.

    Returns:
        The output of each stage, in order; the last is the feature map.
    """
    if config.layout == "resnet":
        stem, block, prefix = blocks.resnet_stem, blocks.resnet_bottleneck, "layer"
    else:
        stem, block, prefix = blocks.byob_stem, blocks.byob_bottleneck, "stages."
    x = stem(inputs, config, data_format, dtype)
    stages = []
    for stage, (depth, planes) in enumerate(
        zip(config.layers, config.channels, strict=True)
    ):
        stage_name = f"layer{stage + 1}" if prefix == "layer" else f"stages.{stage}"
        for index in range(depth):
            stride = 2 if stage > 0 and index == 0 else 1
            name = f"{stage_name}.{index}"
            x = block(x, config, planes, stride, name, data_format, dtype)
        stages.append(x)
    return stages


def build_resnet(
    config: ResNetConfig,
    include_top: bool = True,
    input_tensor=None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> keras.Model:
    """Builds the Keras functional model of `config`, random weights.

    The arguments after `config` are those of `keras.applications`; the
    data format is `keras.config.image_data_format()`.

    Returns:
        A `keras.Model`.

    Raises:
        ValueError: for a bad `pooling`, `input_shape` or `classes`.
    """
    data_format = keras.config.image_data_format()
    if pooling not in (None, "avg", "max"):
        raise ValueError(
            f"`pooling` must be None, 'avg' or 'max'. Received: pooling={pooling!r}"
        )
    if not isinstance(classes, int) or classes < 1:
        raise ValueError(
            f"`classes` must be a positive integer. Received: classes={classes!r}"
        )
    if input_shape is None:
        input_shape = (
            (None, None, 3) if data_format == "channels_last" else (3, None, None)
        )
    if input_tensor is None:
        inputs = keras.Input(shape=input_shape, name="image")
    elif keras.utils.is_keras_tensor(input_tensor):
        inputs = input_tensor
    else:
        inputs = keras.Input(tensor=input_tensor, shape=input_shape, name="image")
    x = resnet_features(inputs, config, data_format)[-1]
    if include_top:
        x = keras.layers.GlobalAveragePooling2D(
            data_format=data_format, name="avg_pool"
        )(x)
        x = keras.layers.Dense(
            classes,
            activation=classifier_activation,
            name=blocks.keras_name(config.head_name),
        )(x)
    elif pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(
            data_format=data_format, name="avg_pool"
        )(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(data_format=data_format, name="max_pool")(x)
    if input_tensor is not None:
        inputs = keras.utils.get_source_inputs(input_tensor)
    return keras.Model(inputs, x, name=name or config.timm_name)
