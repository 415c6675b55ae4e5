"""The channel-attention family behind one registry, as timm's `create_attn`.

`ATTENTIONS` maps timm's short names to the 2D layer classes; the surgery,
the tuner and the CLI look attentions up here, so a name means the same
block everywhere.
"""

from __future__ import annotations

from typing import Any

import keras

from keras_se._validation import check_choice
from keras_se.layers.squeeze_excite_2d import SqueezeExcite2D

ATTENTIONS: dict[str, type[keras.layers.Layer]] = {
    "se": SqueezeExcite2D,
}


def get_attention(name: str, **kwargs: Any) -> keras.layers.Layer:
    """Returns a new 2D attention layer of the family registered as `name`.

    Args:
        name: one of `keras_se.layers.ATTENTIONS`: timm's names.
        **kwargs: the layer's constructor arguments.

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
