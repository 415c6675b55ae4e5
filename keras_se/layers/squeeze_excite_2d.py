"""The `SqueezeExcite2D` layer."""

from __future__ import annotations

import keras

from keras_se.layers.base_squeeze_excite import SE_DOC, BaseSqueezeExcite


@keras.saving.register_keras_serializable(package="keras_se")
class SqueezeExcite2D(BaseSqueezeExcite):
    __doc__ = SE_DOC.fill("SqueezeExcite2D", 2)

    rank = 2
