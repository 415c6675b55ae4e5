"""The `EfficientChannelAttention2D` layer."""

from __future__ import annotations

import keras

from keras_se.layers import base_efficient_channel_attention as base


@keras.saving.register_keras_serializable(package="keras_se")
class EfficientChannelAttention2D(base.BaseEfficientChannelAttention):
    __doc__ = base.ECA_DOC.fill("EfficientChannelAttention2D", 2)

    rank = 2
