"""The keras_se layers."""

from keras_se.layers.attention import ATTENTIONS, get_attention
from keras_se.layers.base_squeeze_excite import SQUEEZES
from keras_se.layers.bottleneck import bottleneck_units, make_divisible
from keras_se.layers.gates import GATES, IDENTITY_GATES, get_gate
from keras_se.layers.squeeze_excite_1d import SqueezeExcite1D
from keras_se.layers.squeeze_excite_2d import SqueezeExcite2D
from keras_se.layers.squeeze_excite_3d import SqueezeExcite3D
from keras_se.layers.squeeze_excite_conv_2d import SqueezeExciteConv2D

__all__ = [
    "ATTENTIONS",
    "GATES",
    "IDENTITY_GATES",
    "SQUEEZES",
    "SqueezeExcite1D",
    "SqueezeExcite2D",
    "SqueezeExcite3D",
    "SqueezeExciteConv2D",
    "bottleneck_units",
    "get_attention",
    "get_gate",
    "make_divisible",
]
