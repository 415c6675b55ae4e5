"""The KerasHub image classifier of `SEResNetBackbone`, its preprocessor and converter.

With these registered, `keras_hub.models.ImageClassifier.from_preset(folder)`
finds `SEResNetImageClassifier` for a preset of an `SEResNetBackbone`, as it
finds `ResNetImageClassifier` for a `ResNetBackbone`.
"""

from __future__ import annotations

import os

import keras
import numpy as np

from keras_se._optional import import_optional
from keras_se.errors import CheckpointError
from keras_se.models.applications import resolve_timm_checkpoint
from keras_se.models.convert import load_timm_state_dict
from keras_se.models.hub_backbone import SEResNetBackbone
from keras_se.models.preprocessing import INTERPOLATIONS, timm_preprocessing

keras_hub = import_optional("keras_hub", "keras_se's KerasHub classifier")


@keras.saving.register_keras_serializable(package="keras_se")
class SEResNetImageConverter(keras_hub.layers.ImageConverter):
    """Resizes and normalizes images for an `SEResNetBackbone`.

    A `keras_hub.layers.ImageConverter`: `from_timm` sets timm's mean, std,
    size and interpolation of a checkpoint. It crops the center to the
    target's aspect ratio and resizes; timm's evaluation transform first
    resizes to `size / crop_pct` and crops the center `size`, which
    `keras_se.models.preprocess_images` does exactly.

    Args:
        **kwargs: `keras_hub.layers.ImageConverter`'s arguments
            (`image_size`, `scale`, `offset`, `interpolation`, ...).

    Example:

    >>> converter = keras_se.models.SEResNetImageConverter.from_timm("seresnet50")
    >>> converter.image_size
    (224, 224)
    """

    backbone_cls = SEResNetBackbone

    @classmethod
    def from_timm(
        cls, source: str | os.PathLike | dict, **kwargs
    ) -> SEResNetImageConverter:
        """The converter with timm's settings for `source`.

        Args:
            source: what `keras_se.models.timm_preprocessing` takes: a folder
                or `config.json` of a timm checkpoint, an architecture or hub
                name, or a dict with timm's keys.
            **kwargs: more `ImageConverter` arguments (`data_format`, ...).

        Returns:
            An `SEResNetImageConverter` taking RGB images in [0, 255] to
            `(x / 255 - mean) / std` at timm's input size.
        """
        settings = timm_preprocessing(source)
        mean = np.asarray(settings["mean"], "float64")
        std = np.asarray(settings["std"], "float64")
        interpolation = settings["interpolation"]
        if interpolation not in INTERPOLATIONS:
            interpolation = "bilinear"
        return cls(
            image_size=tuple(settings["input_size"][1:]),
            scale=(1.0 / (255.0 * std)).tolist(),
            offset=(-mean / std).tolist(),
            interpolation=interpolation,
            antialias=True,
            **kwargs,
        )


@keras.saving.register_keras_serializable(package="keras_se")
class SEResNetImageClassifierPreprocessor(keras_hub.models.ImageClassifierPreprocessor):
    """The preprocessor of `SEResNetImageClassifier`: an `SEResNetImageConverter`.

    Args:
        image_converter: an `SEResNetImageConverter`, or `None`.
        **kwargs: `keras_hub.models.ImageClassifierPreprocessor`'s arguments.

    Example:

    >>> converter = keras_se.models.SEResNetImageConverter.from_timm("seresnet50")
    >>> preprocessor = keras_se.models.SEResNetImageClassifierPreprocessor(converter)
    >>> tuple(preprocessor(np.zeros((1, 300, 300, 3))).shape)
    (1, 224, 224, 3)
    """

    backbone_cls = SEResNetBackbone
    image_converter_cls = SEResNetImageConverter


@keras.saving.register_keras_serializable(package="keras_se")
class SEResNetImageClassifier(keras_hub.models.ImageClassifier):
    """An `SEResNetBackbone` under KerasHub's image classifier head.

    KerasHub's `ImageClassifier`: the backbone, a global pooling, dropout
    and a dense layer named `"predictions"`. `from_timm` gives timm's
    classifier with its weights; `save_to_preset` writes the whole task.

    Args:
        backbone: an `SEResNetBackbone`.
        num_classes: the number of classes.
        preprocessor: an `SEResNetImageClassifierPreprocessor`, or `None`.
        **kwargs: `keras_hub.models.ImageClassifier`'s arguments
            (`pooling`, `activation`, `dropout`, `head_dtype`).

    Example:

    >>> backbone = keras_se.models.SEResNetBackbone(
    ...     stackwise_num_blocks=(1, 1, 1, 1),
    ...     stackwise_num_filters=(4, 8, 8, 16),
    ...     image_shape=(32, 32, 3),
    ... )
    >>> classifier = keras_se.models.SEResNetImageClassifier(backbone, 3)
    >>> tuple(classifier.predict(np.zeros((2, 32, 32, 3)), verbose=0).shape)
    (2, 3)
    """

    backbone_cls = SEResNetBackbone
    preprocessor_cls = SEResNetImageClassifierPreprocessor

    @classmethod
    def from_timm(
        cls,
        source: str | os.PathLike,
        architecture=None,
        activation: str | None = None,
        **kwargs,
    ) -> SEResNetImageClassifier:
        """timm's classifier of a checkpoint: backbone, head and preprocessing.

        Args:
            source: what `SEResNetBackbone.from_timm` takes; the checkpoint
                must hold its classifier.
            architecture: a key of `keras_se.models.CONFIGS` or a
                `ResNetConfig`, needed for a bare file.
            activation: the head's activation; `None` gives timm's logits.
            **kwargs: `SEResNetBackbone` arguments (`image_shape`,
                `data_format`, `dtype`).

        Returns:
            An `SEResNetImageClassifier` with every weight of the checkpoint
            and timm's preprocessing of it (its folder's `pretrained_cfg`,
            else the architecture's default).

        Raises:
            CheckpointError: for an unknown or contradicting architecture,
                a checkpoint that does not fit it, or one without classifier.
        """
        state, config, timm_config = resolve_timm_checkpoint(source, architecture)
        kernel = state.get(f"{config.head_name}.weight")
        if kernel is None:
            raise CheckpointError(
                f"The checkpoint {str(source)!r} has no classifier "
                f"({config.head_name}.weight): use SEResNetBackbone.from_timm."
            )
        backbone = SEResNetBackbone.from_resnet_config(config, **kwargs)
        load_timm_state_dict(backbone, state, skip=(config.head_name,))
        settings = timm_config.get("pretrained_cfg") or config.timm_name or {}
        preprocessor = SEResNetImageClassifierPreprocessor(
            SEResNetImageConverter.from_timm(settings, data_format=backbone.data_format)
        )
        classifier = cls(
            backbone,
            num_classes=int(kernel.shape[0]),
            preprocessor=preprocessor,
            activation=activation,
        )
        classifier.output_dense.set_weights(
            [kernel.T, state[f"{config.head_name}.bias"]]
        )
        return classifier
