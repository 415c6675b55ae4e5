"""The `EffectiveSqueezeExcite2D` layer."""

from __future__ import annotations

import keras

from keras_se.layers import base_effective_squeeze_excite as base


@keras.saving.register_keras_serializable(package="keras_se")
class EffectiveSqueezeExcite2D(base.BaseEffectiveSqueezeExcite):
    __doc__ = base.ESE_DOC.fill("EffectiveSqueezeExcite2D", 2)

    rank = 2
