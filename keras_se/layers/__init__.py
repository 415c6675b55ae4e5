"""The keras_se layers."""

from keras_se.layers.attention import (
    ATTENTION_REGISTRY,
    ATTENTIONS,
    AttentionEntry,
    get_attention,
    is_attention,
)
from keras_se.layers.attention_interface import AttentionInterface
from keras_se.layers.base_efficient_channel_attention import (
    ECA_PADDINGS,
    eca_kernel_size,
)
from keras_se.layers.base_squeeze_excite import SQUEEZES
from keras_se.layers.bottleneck import bottleneck_units, make_divisible
from keras_se.layers.cbam_2d import CBAM2D
from keras_se.layers.effective_squeeze_excite_1d import EffectiveSqueezeExcite1D
from keras_se.layers.effective_squeeze_excite_2d import EffectiveSqueezeExcite2D
from keras_se.layers.effective_squeeze_excite_3d import EffectiveSqueezeExcite3D
from keras_se.layers.efficient_channel_attention_1d import (
    EfficientChannelAttention1D,
)
from keras_se.layers.efficient_channel_attention_2d import (
    EfficientChannelAttention2D,
)
from keras_se.layers.efficient_channel_attention_3d import (
    EfficientChannelAttention3D,
)
from keras_se.layers.gates import GATES, IDENTITY_GATES, get_gate
from keras_se.layers.gather_excite_2d import GatherExcite2D
from keras_se.layers.global_context_2d import GlobalContext2D
from keras_se.layers.quantization import QuantizableSublayers
from keras_se.layers.squeeze_excite_1d import SqueezeExcite1D
from keras_se.layers.squeeze_excite_2d import SqueezeExcite2D
from keras_se.layers.squeeze_excite_3d import SqueezeExcite3D
from keras_se.layers.squeeze_excite_conv_2d import SqueezeExciteConv2D

__all__ = [
    "ATTENTIONS",
    "ATTENTION_REGISTRY",
    "CBAM2D",
    "ECA_PADDINGS",
    "GATES",
    "IDENTITY_GATES",
    "SQUEEZES",
    "AttentionEntry",
    "AttentionInterface",
    "EffectiveSqueezeExcite1D",
    "EffectiveSqueezeExcite2D",
    "EffectiveSqueezeExcite3D",
    "EfficientChannelAttention1D",
    "EfficientChannelAttention2D",
    "EfficientChannelAttention3D",
    "GatherExcite2D",
    "GlobalContext2D",
    "QuantizableSublayers",
    "SqueezeExcite1D",
    "SqueezeExcite2D",
    "SqueezeExcite3D",
    "SqueezeExciteConv2D",
    "bottleneck_units",
    "eca_kernel_size",
    "get_attention",
    "get_gate",
    "is_attention",
    "make_divisible",
]
