"""The channel-attention family behind one registry, as timm's `create_attn`.

Each entry of `ATTENTION_REGISTRY` carries a layer class, preset arguments
and aliases: the six families under timm's short names (`"se"`, `"gc"`,
`"ge"`, `"cbam"`, `"eca"`, `"ese"`, with their defaults) and presets named
after the papers' settings (`"se_r16"`, `"eca_adaptive"`, `"cbam_7x7"`,
...). `ATTENTIONS` maps the family names to their 2D classes. The surgery,
the tuner and the CLI look attentions up here, so a name means the same
block everywhere; what a class accepts it says itself
(`attention_arguments()`).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping, Sequence
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


@dataclasses.dataclass(frozen=True)
class AttentionEntry:
    """One name of the attention registry.

    Attributes:
        name: the registered name, e.g. `"se_r16"`.
        layer_class: the layer it makes.
        arguments: the preset constructor arguments (read-only); arguments
            given when making a layer override them.
        aliases: other names that look the entry up.
        setting: where the preset comes from (a paper's or timm's setting).
    """

    name: str
    layer_class: type[keras.layers.Layer]
    arguments: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    setting: str = ""

    def __post_init__(self):
        object.__setattr__(
            self, "arguments", types.MappingProxyType(dict(self.arguments))
        )

    @property
    def kind(self) -> str:
        """The family of the layer, its `attention_kind` (`"se"`, `"eca"`, ...)."""
        return self.layer_class.attention_kind

    def takes(self, argument: str) -> bool:
        """Whether the layer has the constructor `argument`."""
        return argument in self.layer_class.attention_arguments()

    def create(self, **kwargs: Any) -> keras.layers.Layer:
        """A new layer: the preset arguments, then `kwargs` over them."""
        return self.layer_class(**{**self.arguments, **kwargs})


FAMILIES = (
    AttentionEntry("se", SqueezeExcite2D, aliases=("squeeze_excite", "senet")),
    AttentionEntry("gc", GlobalContext2D, aliases=("global_context", "gcnet")),
    AttentionEntry("ge", GatherExcite2D, aliases=("gather_excite",)),
    AttentionEntry("cbam", CBAM2D),
    AttentionEntry(
        "eca", EfficientChannelAttention2D, aliases=("efficient_channel_attention",)
    ),
    AttentionEntry(
        "ese", EffectiveSqueezeExcite2D, aliases=("effective_squeeze_excite",)
    ),
)
PRESETS = (
    AttentionEntry(
        "se_r16",
        SqueezeExcite2D,
        {"ratio": 16, "activation": "relu", "gate": "sigmoid"},
        setting="SENet (Hu et al., 2018): reduction ratio r=16, ReLU, sigmoid",
    ),
    AttentionEntry(
        "se_mobilenetv3",
        SqueezeExcite2D,
        {"ratio": 4, "divisor": 8, "gate": "hard_sigmoid"},
        aliases=("se_mnv3",),
        setting="MobileNetV3 (Howard et al., 2019): a quarter of the channels, "
        "rounded to multiples of 8, hard sigmoid",
    ),
    AttentionEntry(
        "eca_adaptive",
        EfficientChannelAttention2D,
        {"kernel_size": None, "gamma": 2.0, "beta": 1.0},
        setting="ECA-Net (Wang et al., 2020): kernel size adapted to the "
        "channels, gamma=2, b=1",
    ),
    AttentionEntry(
        "ceca",
        EfficientChannelAttention2D,
        {"padding": "circular"},
        aliases=("eca_circular",),
        setting="timm's CecaModule: ECA with circular padding",
    ),
    AttentionEntry(
        "cbam_7x7",
        CBAM2D,
        {"ratio": 16, "spatial_kernel_size": 7},
        setting="CBAM (Woo et al., 2018): r=16 and a 7x7 spatial convolution",
    ),
    AttentionEntry(
        "gca",
        GlobalContext2D,
        {"fusion": "add"},
        aliases=("gc_add",),
        setting="timm's gca: GCNet's channel-add fusion (Cao et al., 2019)",
    ),
)
ATTENTION_REGISTRY: dict[str, AttentionEntry] = {
    entry.name: entry for entry in (*FAMILIES, *PRESETS)
}
ALIASES: dict[str, str] = {
    alias: entry.name
    for entry in ATTENTION_REGISTRY.values()
    for alias in entry.aliases
}
# The family names and their 2D classes, for the callers that need a class.
ATTENTIONS: dict[str, type[keras.layers.Layer]] = {
    entry.name: entry.layer_class for entry in FAMILIES
}


def attention_entry(name: str, argument: str = "attention") -> AttentionEntry:
    """The registry entry of `name` or of an alias of it.

    Raises:
        ValueError: for an unknown name, listing the registered ones;
            `argument` names the argument in the message.

    Example:

    >>> from keras_se.layers.attention import attention_entry
    >>> entry = attention_entry("cbam_7x7")
    >>> entry.layer_class.__name__, dict(entry.arguments)
    ('CBAM2D', {'ratio': 16, 'spatial_kernel_size': 7})
    >>> attention_entry("squeeze_excite").name
    'se'
    """
    if isinstance(name, str) and name in ALIASES:
        name = ALIASES[name]
    return ATTENTION_REGISTRY[check_choice(argument, name, ATTENTION_REGISTRY)]


def get_attention(attention, /, **kwargs: Any) -> keras.layers.Layer:
    """Returns an attention layer for a name, an alias, a class or a layer.

    Args:
        attention: a name or alias in `keras_se.layers.ATTENTION_REGISTRY`
            (timm's family names and the papers' presets: a new 2D layer
            with the preset's arguments), an attention layer class (a new
            layer of it), or an attention layer (returned as it is).
        **kwargs: constructor arguments (`name` included), over the
            preset's; none for a layer instance.

    Returns:
        A layer; a new, unbuilt one unless a layer was given.

    Raises:
        ValueError: for an unknown name (listing the names), a class or
            object that is not a keras_se attention, or arguments given
            with a layer instance.

    Example:

    >>> layer = keras_se.layers.get_attention("se", ratio=4)
    >>> type(layer).__name__, layer.ratio
    ('SqueezeExcite2D', 4)
    >>> keras_se.layers.get_attention("se_r16").ratio
    16
    >>> type(keras_se.layers.get_attention(keras_se.SqueezeExcite1D)).__name__
    'SqueezeExcite1D'
    """
    if isinstance(attention, str):
        return attention_entry(attention).create(**kwargs)
    if isinstance(attention, type) and issubclass(attention, AttentionInterface):
        return attention(**kwargs)
    if is_attention(attention):
        if kwargs:
            raise ValueError(
                "Arguments cannot be applied to an attention layer instance: "
                f"pass its class or name instead. Received: {sorted(kwargs)} "
                f"with {type(attention).__name__} {attention.name!r}"
            )
        return attention
    raise ValueError(
        "`attention` must be a registered name, a keras_se attention class or "
        f"layer. Received: attention={attention!r}"
    )


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
    >>> attention_takes("se", "ratio"), attention_takes("ceca", "ratio")
    (True, False)
    """
    return attention_entry(name).takes(argument)


def check_attentions(attentions: Sequence[str]) -> tuple[str, ...]:
    """Returns `attentions` as a tuple of registered names, repeats dropped.

    Aliases become the names they stand for.

    Raises:
        ValueError: for a string, an empty sequence or an unknown name.

    Example:

    >>> from keras_se.layers.attention import check_attentions
    >>> check_attentions(["se", "eca", "se", "squeeze_excite", "cbam_7x7"])
    ('se', 'eca', 'cbam_7x7')
    """
    if isinstance(attentions, str) or not attentions:
        raise ValueError(
            "`attentions` must be a non-empty sequence of names in "
            f"{tuple(ATTENTION_REGISTRY)}. Received: attentions={attentions!r}"
        )
    names = [attention_entry(name, "attentions").name for name in attentions]
    return tuple(dict.fromkeys(names))
