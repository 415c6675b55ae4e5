"""`SEResNetBackbone`: timm's SE-family ResNets as a KerasHub `Backbone`, with presets.

Needs the `hub` extra (KerasHub). `keras_se.models.SEResNetBackbone` imports
this module on first use, as `import keras_se` does when KerasHub is already
imported; `import keras_se.models` does not import KerasHub.
"""

from __future__ import annotations

import dataclasses
import os

import keras

from keras_se._optional import import_optional
from keras_se._validation import resolve_data_format
from keras_se.models.applications import CONFIGS, resolve_timm_checkpoint
from keras_se.models.convert import load_timm_state_dict
from keras_se.models.resnet import ResNetConfig, check_stage_sizes, resnet_features

keras_hub = import_optional("keras_hub", "keras_se's KerasHub backbone")

# The constructor's names of the `ResNetConfig` fields it renames (`layers` is
# a `keras.Model` property).
RENAMED = {"layers": "stackwise_num_blocks", "channels": "stackwise_num_filters"}
FIELDS = tuple(field.name for field in dataclasses.fields(ResNetConfig))


def _arguments(config: ResNetConfig) -> dict:
    """The constructor arguments of `config`."""
    return {RENAMED.get(field, field): getattr(config, field) for field in FIELDS}


@keras.saving.register_keras_serializable(package="keras_se")
class SEResNetBackbone(keras_hub.models.FeaturePyramidBackbone):
    """timm's SE-family ResNets as a KerasHub backbone, with presets.

    One class for the family: SE-ResNet, SE-ResNeXt, ECA-ResNet-D,
    GC-ResNet-T and ResNet-D are arguments (`from_resnet_config("seresnet50")`).
    The same network as `keras_se.models.build_resnet` without its head,
    layer for layer and name for name: the attention blocks are keras_se
    layers, and a timm checkpoint loads into it (`from_timm`). It outputs
    the last feature map; `pyramid_outputs` holds each stage's
    (`"P2"`...`"P5"`, the map `2^n` times smaller than the image).
    `save_to_preset` and `from_preset` work as for any KerasHub backbone;
    import `keras_se` after `keras_hub` (or name
    `keras_se.models.SEResNetBackbone` once) before loading a preset, so
    that Keras knows the class.

    Args:
        stackwise_num_blocks: blocks per stage, e.g. `(3, 4, 6, 3)`
            (`ResNetConfig.layers`).
        stackwise_num_filters: the `planes` of each stage; a block puts out
            4 times as many (`ResNetConfig.channels`).
        stem_width, stem_type, avg_down, cardinality, base_width, attention,
            layout: the fields of `keras_se.models.ResNetConfig` of these
            names (stem, shortcut, groups, attention in each block: `None`,
            `"se"`, `"eca"` or `"gca"`, timm's module layout).
        timm_name: the timm architecture, e.g. `"seresnet50"`; `from_timm`
            checks a checkpoint's against it.
        image_shape: the image shape without the batch axis; `None` means
            `(None, None, 3)`, or `(3, None, None)` channels first.
        data_format: `"channels_last"` or `"channels_first"`; `None` means
            `keras.config.image_data_format()`.
        dtype: the dtype policy of every layer, e.g. `"bfloat16"`.
        **kwargs: `keras.Model` arguments, such as `name`.

    Input shape:
        `(batch, height, width, 3)` (channels last): images preprocessed as
        timm's (`keras_se.models.preprocess_images`).

    Output shape:
        `(batch, height / 32, width / 32, 4 * stackwise_num_filters[-1])`.

    Example:

    >>> backbone = keras_se.models.SEResNetBackbone(
    ...     stackwise_num_blocks=(1, 1, 1, 1),
    ...     stackwise_num_filters=(4, 8, 8, 16),
    ...     attention="se",
    ...     image_shape=(32, 32, 3),
    ... )
    >>> tuple(backbone.output.shape), sorted(backbone.pyramid_outputs)
    ((None, 1, 1, 64), ['P2', 'P3', 'P4', 'P5'])
    >>> backbone.save_to_preset(f"{tmp_dir}/tiny")
    >>> loaded = keras_se.models.SEResNetBackbone.from_preset(f"{tmp_dir}/tiny")
    >>> loaded.get_config() == backbone.get_config()
    True

    Reference:
        [Hu et al., Squeeze-and-Excitation Networks](https://arxiv.org/abs/1709.01507)
    """

    def __init__(
        self,
        stackwise_num_blocks: tuple[int, ...] = (3, 4, 6, 3),
        stackwise_num_filters: tuple[int, ...] = (64, 128, 256, 512),
        stem_width: int = 64,
        stem_type: str = "",
        avg_down: bool = False,
        cardinality: int = 1,
        base_width: int = 64,
        attention: str | None = "se",
        layout: str = "resnet",
        timm_name: str = "",
        image_shape: tuple[int | None, ...] | None = None,
        data_format: str | None = None,
        dtype=None,
        **kwargs,
    ):
        # Before any layer is built, with this constructor's names.
        check_stage_sizes(
            stackwise_num_blocks=stackwise_num_blocks,
            stackwise_num_filters=stackwise_num_filters,
        )
        data_format = resolve_data_format(data_format)
        if image_shape is None:
            image_shape = (None, None, 3)
            if data_format == "channels_first":
                image_shape = (3, None, None)
        if len(image_shape) != 3:
            raise ValueError(
                "`image_shape` must be (height, width, channels) or channels "
                f"first. Received: image_shape={image_shape!r}"
            )
        config = ResNetConfig(
            layers=tuple(stackwise_num_blocks),
            channels=tuple(stackwise_num_filters),
            stem_width=stem_width,
            stem_type=stem_type,
            avg_down=avg_down,
            cardinality=cardinality,
            base_width=base_width,
            attention=attention,
            layout=layout,
            timm_name=timm_name,
        )
        # === Functional model ===
        inputs = keras.Input(shape=tuple(image_shape), name="image")
        stages = resnet_features(inputs, config, data_format, dtype)
        super().__init__(inputs=inputs, outputs=stages[-1], dtype=dtype, **kwargs)

        # === Config ===
        for argument, value in _arguments(config).items():
            setattr(self, argument, value)
        self.image_shape = tuple(image_shape)
        self.data_format = data_format
        self.pyramid_outputs = {
            f"P{index + 2}": stage for index, stage in enumerate(stages)
        }

    @property
    def resnet_config(self) -> ResNetConfig:
        """The architecture as `keras_se.models.build_resnet` takes it."""
        return ResNetConfig(
            **{field: getattr(self, RENAMED.get(field, field)) for field in FIELDS}
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(_arguments(self.resnet_config))
        config.update(
            {"image_shape": self.image_shape, "data_format": self.data_format}
        )
        return config

    @classmethod
    def from_resnet_config(
        cls, config: ResNetConfig | str, **kwargs
    ) -> SEResNetBackbone:
        """The backbone of a `ResNetConfig`, or of a timm architecture's name.

        Args:
            config: a `ResNetConfig`, or a key of `keras_se.models.CONFIGS`
                such as `"seresnext50_32x4d"`.
            **kwargs: the other constructor arguments (`image_shape`,
                `data_format`, `dtype`, `name`).

        Returns:
            An `SEResNetBackbone` with random weights.

        Raises:
            ValueError: for an unknown architecture name.
        """
        if not isinstance(config, ResNetConfig):
            if config not in CONFIGS:
                raise ValueError(
                    f"`config` must be a ResNetConfig or one of {sorted(CONFIGS)}. "
                    f"Received: config={config!r}"
                )
            config = CONFIGS[config]
        return cls(**_arguments(config), **kwargs)

    @classmethod
    def from_timm(
        cls,
        source: str | os.PathLike,
        architecture: str | ResNetConfig | None = None,
        **kwargs,
    ) -> SEResNetBackbone:
        """The backbone of a timm checkpoint, every weight but the classifier's.

        Save it with `save_to_preset` to make a KerasHub preset of a timm
        checkpoint; `SEResNetImageClassifier.from_timm` keeps the
        classifier too.

        Args:
            source: a timm hub name (downloaded, the `pretrained` extra), a
                `.safetensors`/`.pth`/`.bin` file, or a folder with
                `model.safetensors` and `config.json`.
            architecture: a key of `keras_se.models.CONFIGS`, needed for a
                bare file; or a `ResNetConfig` for a network of other sizes.
            **kwargs: the other constructor arguments (`image_shape`,
                `data_format`, `dtype`, `name`).

        Returns:
            An `SEResNetBackbone` with the checkpoint's weights.

        Raises:
            CheckpointError: for an unknown or contradicting architecture,
                or a checkpoint that does not fit it.
        """
        state, config, _ = resolve_timm_checkpoint(source, architecture)
        backbone = cls.from_resnet_config(config, **kwargs)
        load_timm_state_dict(backbone, state, skip=(config.head_name,))
        return backbone
