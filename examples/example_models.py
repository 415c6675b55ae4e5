"""Models for the training example: SE built in, or added by `wrap_with_se`.

- `cnn`: Conv-BN-ReLU stages, each followed by a `SqueezeExcite2D` block.
- `resnet`: a small ResNet of basic blocks with SE on each residual branch
  before the addition, as in SE-ResNet.
- any `keras.applications` model name (`ResNet50`, `MobileNetV2`, ...):
  built with `weights=None` and a new classifier head; SE comes from
  `keras_se.wrap_with_se`.

Every classifier ends in a float32 softmax, so under `mixed_float16` the
probabilities and the loss stay in float32.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

import keras_se

OWN_MODELS = ("cnn", "resnet")
SE_MODES = ("layers", "wrap", "none")


def application_names() -> list[str]:
    """The model constructors in `keras.applications` (`ResNet50`, ...)."""
    return sorted(
        name
        for name in dir(keras.applications)
        if name[:1].isupper() and callable(getattr(keras.applications, name))
    )


def _head(x, num_classes: int, dropout: float = 0.2):
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    return keras.layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="classes"
    )(x)


def _conv_bn_relu(x, filters: int, strides: int, name: str, relu: bool = True):
    x = keras.layers.Conv2D(
        filters, 3, strides=strides, padding="same", use_bias=False, name=name
    )(x)
    # Faster moving statistics than 0.99: small datasets give few steps.
    x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x) if relu else x


def build_cnn(
    input_shape: Sequence[int],
    num_classes: int,
    se: bool = True,
    ratio: int = 8,
    filters: Sequence[int] = (32, 64, 128),
) -> keras.Model:
    """A CNN whose stages are Conv-BN-ReLU, then `SqueezeExcite2D` if `se`."""
    inputs = keras.Input(tuple(input_shape), name="image")
    x = inputs
    for stage, width in enumerate(filters, start=1):
        if stage > 1:
            x = keras.layers.MaxPooling2D(padding="same", name=f"stage{stage}_pool")(x)
        x = _conv_bn_relu(x, width, 1, f"stage{stage}_conv")
        if se:
            x = keras_se.SqueezeExcite2D(ratio=ratio, name=f"stage{stage}_se")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    name = "se_cnn" if se else "cnn"
    return keras.Model(inputs, _head(x, num_classes), name=name)


def build_resnet(
    input_shape: Sequence[int],
    num_classes: int,
    se: bool = True,
    ratio: int = 8,
    filters: Sequence[int] = (32, 64, 128),
) -> keras.Model:
    """A small ResNet: one basic block per stage, SE before each addition."""
    inputs = keras.Input(tuple(input_shape), name="image")
    x = _conv_bn_relu(inputs, filters[0], 1, "stem")
    for stage, width in enumerate(filters, start=1):
        strides = 1 if stage == 1 else 2
        name = f"stage{stage}"
        shortcut = x
        if strides != 1 or x.shape[-1] != width:
            shortcut = keras.layers.Conv2D(
                width, 1, strides=strides, use_bias=False, name=f"{name}_proj"
            )(x)
            shortcut = keras.layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
        y = _conv_bn_relu(x, width, strides, f"{name}_conv1")
        y = _conv_bn_relu(y, width, 1, f"{name}_conv2", relu=False)
        if se:
            y = keras_se.SqueezeExcite2D(ratio=ratio, name=f"{name}_se")(y)
        x = keras.layers.Add(name=f"{name}_add")([shortcut, y])
        x = keras.layers.ReLU(name=f"{name}_out")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    name = "se_resnet" if se else "resnet"
    return keras.Model(inputs, _head(x, num_classes), name=name)


def build_application(
    name: str, input_shape: Sequence[int], num_classes: int
) -> keras.Model:
    """A `keras.applications` model, random weights, with a new head."""
    base = getattr(keras.applications, name)(
        weights=None, include_top=False, input_shape=tuple(input_shape), pooling="avg"
    )
    return keras.Model(base.inputs, _head(base.output, num_classes), name=base.name)


def build_model(
    model: str,
    se: str,
    input_shape: Sequence[int],
    num_classes: int,
    ratio: int = 8,
) -> keras.Model:
    """Builds `model` with SE `"layers"`, SE by `"wrap"`ping, or `"none"`.

    Raises:
        ValueError: for an unknown model, or `se="layers"` with a
            `keras.applications` model (those get SE by wrapping).
    """
    if model not in OWN_MODELS and model not in application_names():
        raise ValueError(
            f"`model` must be one of {OWN_MODELS} or a keras.applications model "
            f"name such as 'ResNet50'. Received: model={model!r}"
        )
    if se == "layers" and model not in OWN_MODELS:
        raise ValueError(
            f"{model} comes from keras.applications: add SE with `se='wrap'`."
        )
    if model in OWN_MODELS:
        builder = build_cnn if model == "cnn" else build_resnet
        built = builder(input_shape, num_classes, se=se == "layers", ratio=ratio)
    else:
        built = build_application(model, input_shape, num_classes)
    if se == "wrap":
        built = keras_se.wrap_with_se(built, ratio=ratio)
    return built
