"""The small CNN of the main job, with or without attention blocks."""

from __future__ import annotations

import keras

from keras_se.layers import get_attention
from keras_se.layers.attention import attention_takes


def build_digits_cnn(
    input_shape: tuple[int, ...] = (8, 8, 1),
    num_classes: int = 10,
    se: bool = True,
    ratio: int = 8,
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
            ECA or eSE).
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
    """
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
            shape = {"ratio": ratio} if attention_takes(attention, "ratio") else {}
            x = get_attention(attention, **shape, name=f"stage{stage}_{attention}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="classes")(x)
    default_name = f"digits_{attention}_cnn" if se else "digits_cnn"
    return keras.Model(inputs, outputs, name=name or default_name)
