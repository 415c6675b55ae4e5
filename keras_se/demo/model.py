"""The small CNN of the main job, with or without attention blocks."""

from __future__ import annotations

import keras

from keras_se._validation import check_positive_int
from keras_se.layers import get_attention
from keras_se.layers.attention import attention_entry

# The reduction ratio of the small CNN's blocks where neither the caller nor
# the attention's preset sets one (the layers' own default, 16, leaves 2 and
# 4 units on 32 and 64 channels).
DIGITS_RATIO = 8


def digits_ratio(attention: str, ratio: int | None = None) -> int | None:
    """The reduction ratio the digits CNN gives the blocks of `attention`.

    Args:
        attention: a name or alias in `keras_se.layers.ATTENTION_REGISTRY`.
        ratio: positive int, or `None` for the attention's own: a preset's
            ratio (`"se_r16"`: 16), else `DIGITS_RATIO` (8).

    Returns:
        `ratio` when given, else the attention's own; `None` for an
        attention without a ratio (ECA, eSE), whatever `ratio` is.

    Raises:
        ValueError: for an unknown attention or a `ratio` that is not a
            positive integer or `None`.

    Example:

    >>> from keras_se.demo.model import digits_ratio
    >>> digits_ratio("se"), digits_ratio("se_r16"), digits_ratio("se_r16", 4)
    (8, 16, 4)
    >>> digits_ratio("eca", 4) is None
    True
    """
    check_positive_int("ratio", ratio, allow_none=True)
    entry = attention_entry(attention)
    if not entry.takes("ratio"):
        return None
    if ratio is not None:
        return ratio
    return entry.arguments.get("ratio", DIGITS_RATIO)


def build_digits_cnn(
    input_shape: tuple[int, ...] = (8, 8, 1),
    num_classes: int = 10,
    se: bool = True,
    ratio: int | None = None,
    filters: tuple[int, ...] = (32, 64),
    name: str | None = None,
    attention: str = "se",
) -> keras.Model:
    """Builds a small CNN, each conv stage optionally followed by an attention block.

    Each stage is Conv2D 3x3 -> BatchNormalization -> ReLU, then an
    attention block (`SqueezeExcite2D` by default) when `se=True`; stages
    after the first halve the resolution first. Global average pooling and a
    softmax classifier end it. The plain model and the others differ only by
    their attention blocks.

    Args:
        input_shape: the image shape, channels last.
        num_classes: the number of classes.
        se: whether to put an attention block after each stage.
        ratio: the reduction ratio of the attentions that have one (not
            ECA or eSE); it replaces a preset's. `None`: the attention's
            own, a preset's ratio (`"se_r16"`: 16) or else 8 (see
            `digits_ratio`).
        filters: the channels of each stage.
        name: the model's name; defaults to `"digits_<attention>_cnn"`
            (`"digits_se_cnn"`) or `"digits_cnn"`.
        attention: the block, a name in `keras_se.layers.ATTENTIONS`; the
            blocks are named `stage<n>_<attention>`.

    Returns:
        An uncompiled functional `keras.Model`.

    Example:

    >>> model = keras_se.demo.model.build_digits_cnn(se=True, ratio=8)
    >>> se = [l.name for l in model.layers if isinstance(l, keras_se.SqueezeExcite2D)]
    >>> se
    ['stage1_se', 'stage2_se']
    >>> model = keras_se.demo.model.build_digits_cnn(attention="se_r16")
    >>> model.get_layer("stage1_se_r16").ratio
    16
    """
    block_ratio = digits_ratio(attention, ratio) if se else None
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    for stage, stage_filters in enumerate(filters, start=1):
        if stage > 1:
            x = keras.layers.MaxPooling2D(name=f"stage{stage}_pool")(x)
        x = keras.layers.Conv2D(
            stage_filters, 3, padding="same", use_bias=False, name=f"stage{stage}_conv"
        )(x)
        # A small dataset gives few steps: faster moving statistics than 0.99.
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"stage{stage}_bn")(x)
        x = keras.layers.ReLU(name=f"stage{stage}_relu")(x)
        if se:
            shape = {} if block_ratio is None else {"ratio": block_ratio}
            x = get_attention(attention, **shape, name=f"stage{stage}_{attention}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="classes")(x)
    default_name = f"digits_{attention}_cnn" if se else "digits_cnn"
    return keras.Model(inputs, outputs, name=name or default_name)
