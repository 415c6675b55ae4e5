"""The named networks: `SEResNet50(...)` and family, keras.applications-style."""

from __future__ import annotations

import os

import keras
import numpy as np

from keras_se.errors import CheckpointError
from keras_se.models.blocks import keras_name
from keras_se.models.checkpoints import resolve_weights
from keras_se.models.convert import load_timm_state_dict
from keras_se.models.resnet import ResNetConfig, build_resnet

_D = {"stem_width": 32, "stem_type": "deep", "avg_down": True}
_SE_NEXT = {"cardinality": 32, "base_width": 4, "attention": "se"}
CONFIGS = {
    config.timm_name: config
    for config in (
        ResNetConfig((3, 4, 6, 3), attention="se", timm_name="seresnet50"),
        ResNetConfig((3, 4, 23, 3), attention="se", timm_name="seresnet101"),
        ResNetConfig((3, 8, 36, 3), attention="se", timm_name="seresnet152"),
        ResNetConfig((3, 4, 6, 3), **_SE_NEXT, timm_name="seresnext50_32x4d"),
        ResNetConfig((3, 4, 23, 3), **_SE_NEXT, timm_name="seresnext101_32x4d"),
        ResNetConfig((3, 4, 6, 3), **_D, attention="eca", timm_name="ecaresnet50d"),
        ResNetConfig((3, 4, 23, 3), **_D, attention="eca", timm_name="ecaresnet101d"),
        ResNetConfig(
            (3, 4, 6, 3),
            stem_width=32,
            stem_type="tiered",
            attention="gca",
            layout="byobnet",
            timm_name="gcresnet50t",
        ),
        ResNetConfig((3, 4, 6, 3), **_D, timm_name="resnet50d"),
    )
}


def load_timm_weights(
    model: keras.Model, weights: str | os.PathLike, config: ResNetConfig
) -> int:
    """Loads a timm checkpoint (hub name, file or folder) into `model` of `config`.

    The classifier is loaded when the model has one with the checkpoint's
    class count; otherwise (`include_top=False`, or `classes != 1000`)
    every weight but the classifier's is.

    Returns:
        The number of tensors loaded.

    Raises:
        CheckpointError: for a checkpoint of another architecture (named by
            its hub name or `config.json`, or found by its keys and shapes).
    """
    state, _, architecture = resolve_weights(weights, config.timm_name)
    return _load(model, state, architecture, config, weights)


def _load(model, state, architecture, config, source) -> int:
    weights = source
    if architecture is not None and architecture != config.timm_name:
        raise CheckpointError(
            f"The checkpoint {str(weights)!r} is a timm {architecture!r}; this "
            f"network is a {config.timm_name!r}."
        )
    head = config.head_name
    names = {layer.name for layer in model.layers}
    head_shape = tuple(np.shape(state.get(f"{head}.weight", ())))
    new_head = keras_name(head) not in names or (
        head_shape and head_shape[0] != model.get_layer(keras_name(head)).units
    )
    skip = (head,) if new_head else ()
    return load_timm_state_dict(model, state, skip)


def from_timm(
    source: str | os.PathLike,
    architecture: str | None = None,
    classifier_activation: str | None = "softmax",
) -> keras.Model:
    """The network of a timm checkpoint, its classifier sized by the checkpoint.

    What `keras-se convert` runs: the architecture comes from the hub name
    or the folder's `config.json`, or `architecture` for a bare file.

    Args:
        source: a timm hub name, a `.safetensors`/`.pth`/`.bin` file, or a
            folder with `model.safetensors` and `config.json`.
        architecture: the timm architecture (a key of `CONFIGS`), needed
            for a bare file; checked against the checkpoint's otherwise.
        classifier_activation: the classifier's activation.

    Returns:
        A `keras.Model` with every weight of the checkpoint.

    Raises:
        CheckpointError: for an unknown or contradicting architecture, or a
            checkpoint that does not fit it.
    """
    state, config, _ = resolve_timm_checkpoint(source, architecture)
    head = state.get(f"{config.head_name}.weight")
    model = build_resnet(
        config,
        include_top=head is not None,
        classes=int(head.shape[0]) if head is not None else 1000,
        classifier_activation=classifier_activation,
    )
    _load(model, state, config.timm_name, config, source)
    return model


def resolve_timm_checkpoint(
    source: str | os.PathLike, architecture: str | ResNetConfig | None = None
) -> tuple[dict[str, np.ndarray], ResNetConfig, dict]:
    """A timm checkpoint's state dict, its architecture and its `config.json`.

    Args:
        source: what `from_timm` takes.
        architecture: a key of `CONFIGS`, or a `ResNetConfig` (a network of
            other sizes); needed for a bare file, checked against the
            checkpoint's architecture otherwise.

    Returns:
        The state dict as NumPy arrays, the `ResNetConfig`, and timm's
        `config.json` (with its `pretrained_cfg`), `{}` for a bare file.

    Raises:
        CheckpointError: for an unknown or contradicting architecture.
    """
    config = architecture if isinstance(architecture, ResNetConfig) else None
    expected = config.timm_name if config is not None else architecture
    state, timm_config, found = resolve_weights(source)
    if expected and found and expected != found:
        raise CheckpointError(
            f"The checkpoint {str(source)!r} is a timm {found!r}, not {expected!r}."
        )
    if config is not None:
        return state, config, timm_config
    architecture = architecture or found
    if architecture not in CONFIGS:
        raise CheckpointError(
            f"Unknown timm architecture {architecture!r} for {str(source)!r}: "
            f"name one of {sorted(CONFIGS)} (`--architecture` on the command line)."
        )
    return state, CONFIGS[architecture], timm_config


_DOC = """{title}, timm's `{timm_name}` in Keras 3.

    The layers are keras_se's: the blocks' attention is `{attention}`, so
    `keras_se.describe`, the excitation plots and the tuner see it.

    Args:
        include_top: whether to include the classifier. Defaults to True.
        weights: `None` (random), a timm hub name such as
            `"{timm_name}.<tag>"` (downloaded through `huggingface_hub` into
            its cache), or a local timm checkpoint: a `.safetensors` file, a
            state-dict `.pth`/`.bin`, or a folder with `model.safetensors`
            and `config.json`. With `classes != 1000` or
            `include_top=False`, everything but the classifier is loaded.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: the image shape without the batch axis; defaults to
            `(None, None, 3)` (channels last).
        pooling: with `include_top=False`: `None`, `"avg"` or `"max"`.
        classes: the number of classes of the classifier. Defaults to 1000.
        classifier_activation: the classifier's activation; `None` gives
            logits. Defaults to `"softmax"`.
        name: the model's name. Defaults to `"{timm_name}"`.

    Returns:
        A `keras.Model`. Its inputs are preprocessed images:
        `keras_se.models.preprocess_images(images, "{timm_name}")`.

    Example:

    >>> model = keras_se.models.{builder}(weights=None, input_shape=(64, 64, 3))
    >>> model.count_params() > 0
    True
"""


def _builder(builder_name: str, timm_name: str, title: str):
    config = CONFIGS[timm_name]

    def builder(
        include_top: bool = True,
        weights: str | os.PathLike | None = None,
        input_tensor=None,
        input_shape: tuple[int | None, ...] | None = None,
        pooling: str | None = None,
        classes: int = 1000,
        classifier_activation: str | None = "softmax",
        name: str | None = None,
    ) -> keras.Model:
        model = build_resnet(
            config,
            include_top,
            input_tensor,
            input_shape,
            pooling,
            classes,
            classifier_activation,
            name,
        )
        if weights is not None:
            load_timm_weights(model, weights, config)
        return model

    builder.__name__ = builder.__qualname__ = builder_name
    builder.__doc__ = _DOC.format(
        title=title,
        timm_name=timm_name,
        attention=config.attention,
        builder=builder_name,
    )
    return builder


SEResNet50 = _builder("SEResNet50", "seresnet50", "SE-ResNet-50")
SEResNet101 = _builder("SEResNet101", "seresnet101", "SE-ResNet-101")
SEResNet152 = _builder("SEResNet152", "seresnet152", "SE-ResNet-152")
SEResNeXt50_32x4d = _builder(
    "SEResNeXt50_32x4d", "seresnext50_32x4d", "SE-ResNeXt-50 (32x4d)"
)
SEResNeXt101_32x4d = _builder(
    "SEResNeXt101_32x4d", "seresnext101_32x4d", "SE-ResNeXt-101 (32x4d)"
)
ECAResNet50d = _builder("ECAResNet50d", "ecaresnet50d", "ECA-ResNet-50-D")
ECAResNet101d = _builder("ECAResNet101d", "ecaresnet101d", "ECA-ResNet-101-D")
GCResNet50t = _builder("GCResNet50t", "gcresnet50t", "GC-ResNet-50-T")
ResNet50d = _builder("ResNet50d", "resnet50d", "ResNet-50-D (no attention)")
BUILDERS = {
    builder.__name__: builder
    for builder in (
        SEResNet50,
        SEResNet101,
        SEResNet152,
        SEResNeXt50_32x4d,
        SEResNeXt101_32x4d,
        ECAResNet50d,
        ECAResNet101d,
        GCResNet50t,
        ResNet50d,
    )
}
