"""What every attention layer of keras_se says about itself.

The surgery, the viz tools and the tuner ask a layer these questions, as
Keras asks a layer its `compute_output_shape`; none of them matches class
names, reads constructor signatures or probes attributes:

- `attention_kind`: the family name of the attention, its key in
  `keras_se.layers.ATTENTIONS` (`"se"`, `"eca"`, ...; the 1D and 3D
  variants share their 2D layer's).
- `attention_arguments()`: the constructor arguments it takes, from its
  declared `own_arguments`, the gate arguments every attention takes and
  its weight arguments.
- `has_channel_gate` and `channel_gate(inputs, mask=None)`: whether the
  layer computes one gate per sample and channel, and that gate,
  `(batch, channels)`: the quantity of the paper's excitation plots.
- `bottleneck_width`: the width of its (built) bottleneck, `None` where
  it has none.

A layer's gate readers (`excitation`, `channel_gate`, ...) build it on
first use, as calling the layer would.
"""

from __future__ import annotations

import functools

from keras_se.layers.weight_arguments import WEIGHT_ARGUMENTS, add_weight_parameters

# The arguments every attention layer takes, besides its own and its weights'.
GATE_ARGUMENTS = ("gate", "gate_scale", "data_format")
# The methods that read a layer's gate from its inputs.
GATE_READERS = (
    "excitation",
    "channel_excitation",
    "spatial_excitation",
    "channel_gate",
)


def builds_on_first_use(read_gate):
    """Wraps a gate reader: a layer not built yet is built for `inputs` first."""

    @functools.wraps(read_gate)
    def wrapper(self, inputs, *args, **kwargs):
        if not self.built:
            self.build(tuple(inputs.shape))
        return read_gate(self, inputs, *args, **kwargs)

    return wrapper


class AttentionInterface:
    """A mixin: the questions an attention layer answers for itself.

    A subclass sets `attention_kind` and `own_arguments` (and
    `weight_argument_names` when its steps have no biases) and overrides
    `has_channel_gate`, `channel_gate` and `bottleneck_width` where it
    has them.
    """

    attention_kind: str = ""
    own_arguments: tuple[str, ...] = ()
    weight_argument_names: tuple[str, ...] = WEIGHT_ARGUMENTS

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A constructor takes its weight arguments through `**kwargs`
        # (`pop_weight_arguments`); its signature still lists them.
        if "__init__" in vars(cls):
            add_weight_parameters(cls.__init__, cls.weight_argument_names)
        for name in GATE_READERS:
            if name in vars(cls):
                setattr(cls, name, builds_on_first_use(vars(cls)[name]))

    @classmethod
    def attention_arguments(cls) -> tuple[str, ...]:
        """The constructor arguments of the layer (besides `name` and `dtype`).

        Example:

        >>> keras_se.layers.EfficientChannelAttention2D.attention_arguments()[:4]
        ('kernel_size', 'gamma', 'beta', 'padding')
        """
        return (*cls.own_arguments, *GATE_ARGUMENTS, *cls.weight_argument_names)

    @property
    def has_channel_gate(self) -> bool:
        """Whether the layer has one gate per sample and channel to read."""
        return False

    def channel_gate(self, inputs, mask=None):
        """The layer's gate on `inputs`, shape `(batch, channels)`.

        The default reads the layer's `excitation(inputs)`.

        Raises:
            ValueError: if the layer has no per-channel gate
                (`has_channel_gate` is False).
        """
        if not self.has_channel_gate:
            raise ValueError(
                f"`{type(self).__name__}` {self.name!r} has no per-channel gate "
                "(`has_channel_gate` is False)."
            )
        return self.excitation(inputs)

    @property
    def bottleneck_width(self) -> int | None:
        """The width of the built layer's bottleneck; `None` if it has none."""
        return None
