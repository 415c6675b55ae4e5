"""The channel-attention family behind one registry, as timm's `create_attn`.

`ATTENTIONS` maps timm's short names to the 2D layer classes; the surgery,
the tuner and the CLI look attentions up here, so a name means the same
block everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from keras_se._validation import check_choice
from keras_se.layers.attention_interface import AttentionInterface
from keras_se.layers.cbam_2d import CBAM2D
from keras_se.layers.effective_squeeze_excite_2d import EffectiveSqueezeExcite2D
from keras_se.layers.efficient_channel_attention_2d import (
    EfficientChannelAttention2D,
)
from keras_se.layers.gather_excite_2d import GatherExcite2D
from keras_se.layers.global_context_2d import GlobalContext2D
from keras_se.layers.squeeze_excite_2d import SqueezeExcite2D

ATTENTIONS: dict[str, type[keras.layers.Layer]] = {
    "se": SqueezeExcite2D,
    "gc": GlobalContext2D,
    "ge": GatherExcite2D,
    "cbam": CBAM2D,
    "eca": EfficientChannelAttention2D,
    "ese": EffectiveSqueezeExcite2D,
}


def get_attention(name: str, /, **kwargs: Any) -> keras.layers.Layer:
    """Returns a new 2D attention layer of the family registered as `name`.

    Args:
        name: one of `keras_se.layers.ATTENTIONS`: timm's names.
        **kwargs: the layer's constructor arguments (`name` included).

    Returns:
        A new, unbuilt layer.

    Raises:
        ValueError: if `name` is not a registered attention, listing the names.

    Example:

    >>> layer = keras_se.layers.get_attention("se", ratio=4)
    >>> type(layer).__name__
    'SqueezeExcite2D'
    """
    return ATTENTIONS[check_choice("attention", name, ATTENTIONS)](**kwargs)


def is_attention(layer) -> bool:
    """Whether `layer` is an attention block of keras_se (any rank, any kind).

    Every attention layer answers `keras_se.layers.AttentionInterface`'s
    questions (its kind, its arguments, its gate): `describe`, the surgery,
    the viz tools and the tuner find the blocks of a model with this test,
    then ask them.

    Example:

    >>> keras_se.layers.is_attention(keras_se.SqueezeExcite2D())
    True
    >>> keras_se.layers.is_attention(keras.layers.Dense(4))
    False
    """
    return isinstance(layer, AttentionInterface)


def attention_takes(name: str, argument: str) -> bool:
    """Whether the attention registered as `name` has the constructor `argument`.

    ECA and eSE have no bottleneck, so no `ratio`; the surgery, the tuner and
    the main job ask this before passing one.

    Example:

    >>> from keras_se.layers.attention import attention_takes
    >>> attention_takes("se", "ratio")
    True
    """
    layer_class = ATTENTIONS[check_choice("attention", name, ATTENTIONS)]
    return argument in layer_class.attention_arguments()


def check_attentions(attentions: Sequence[str]) -> tuple[str, ...]:
    """Returns `attentions` as a tuple of registered names, repeats dropped.

    Raises:
        ValueError: for a string, an empty sequence or an unknown name.

    Example:

    >>> from keras_se.layers.attention import check_attentions
    >>> check_attentions(["se", "eca", "se"])
    ('se', 'eca')
    """
    if isinstance(attentions, str) or not attentions:
        raise ValueError(
            "`attentions` must be a non-empty sequence of names in "
            f"{tuple(ATTENTIONS)}. Received: attentions={attentions!r}"
        )
    for name in attentions:
        check_choice("attentions", name, ATTENTIONS)
    return tuple(dict.fromkeys(attentions))
