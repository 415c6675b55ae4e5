"""The private bases of the attention layers.

`BaseAttention` holds what every attention layer of keras_se takes and does
alike: the `gate`, `gate_scale` and `data_format` arguments and the weight
arguments (checked, stored and serialized once), the axes of an input with
`rank` spatial axes, the input check of `build`, the scaled gate, and the
zeroing behind `initialize_as_identity()`. `BaseChannelGate` adds the call
of the layers whose output is the input times one gate per channel (SE,
ECA, eSE), with padding masks passed through.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_se._validation import (
    check_choice,
    check_positive_number,
    resolve_data_format,
)
from keras_se.layers.attention_interface import AttentionInterface
from keras_se.layers.gates import GATES, check_identity_start, get_gate
from keras_se.layers.quantization import QuantizableSublayers
from keras_se.layers.squeeze import channel_axis, spatial_axes
from keras_se.layers.weight_arguments import (
    pop_weight_arguments,
    set_weight_arguments,
    sublayer_weight_arguments,
    weight_arguments_config,
)


class BaseAttention(AttentionInterface, QuantizableSublayers, keras.layers.Layer):
    """The base of the attention layers over `rank` spatial axes.

    A subclass sets `rank`, checks and stores its own arguments, then calls
    this constructor with the shared ones; its sub-layers quantize with
    `model.quantize(mode)` and reload quantized. It answers the questions
    of `AttentionInterface` (its kind, its arguments, its gate).

    Args:
        gate: one of `keras_se.layers.GATES`.
        gate_scale: positive float, a constant the gate is multiplied by.
        data_format: `"channels_last"`, `"channels_first"` or `None`
            (`keras.config.image_data_format()`).
        **kwargs: the layer's weight arguments (its `weight_argument_names`,
            defaulted if absent) and base layer keyword arguments, such as
            `name` and `dtype`.
    """

    rank: int = 2

    def __init__(
        self,
        gate: str,
        gate_scale: float,
        data_format: str | None,
        **kwargs,
    ):
        self.gate = check_choice("gate", gate, GATES)
        self.gate_scale = check_positive_number("gate_scale", gate_scale)
        self.data_format = resolve_data_format(data_format)
        weights = pop_weight_arguments(kwargs, self.weight_argument_names)
        set_weight_arguments(self, **weights)
        super().__init__(**kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=self.rank + 2)
        self._gate_fn = get_gate(gate)

    @property
    def channel_axis(self) -> int:
        return channel_axis(self.data_format)

    @property
    def spatial_axes(self) -> tuple[int, ...]:
        return spatial_axes(self.rank, self.data_format)

    def _input_channels(self, input_shape) -> int:
        """Checks `input_shape`; returns its channel count and stores it.

        Raises:
            ValueError: if the input does not have `rank + 2` axes or its
                channel count is unknown.
        """
        name = type(self).__name__
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"`{name}` expects inputs of rank {self.rank + 2} (batch, "
                f"{self.rank} spatial axes and channels). Received: "
                f"input_shape={tuple(input_shape)}"
            )
        channels = input_shape[self.channel_axis]
        if channels is None:
            raise ValueError(
                f"`{name}` needs a known channel count on axis "
                f"{self.channel_axis} (data_format={self.data_format!r}). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.channels = channels
        self.input_spec = keras.layers.InputSpec(
            ndim=self.rank + 2, axes={self.channel_axis: channels}
        )
        return channels

    def _sublayer_weights(self, seed_offset: int = 0) -> dict[str, Any]:
        """The weight arguments of one sub-layer; see `sublayer_weight_arguments`."""
        return sublayer_weight_arguments(self, seed_offset)

    def _dense(self, units, activation, name, seed_offset, use_bias=True):
        """A `keras.layers.Dense` step of the block, with its own initializers."""
        # Each step gets its own initializer instance: a shared one returns
        # the same values twice, and `reduce` and `expand` would start equal.
        return keras.layers.Dense(
            units,
            activation=activation,
            use_bias=use_bias,
            **self._sublayer_weights(seed_offset),
            dtype=self.dtype_policy,
            name=name,
        )

    def _per_channel(self, values):
        """Reshapes `(batch, channels)` values to broadcast over the input."""
        shape = [-1] + [1] * (self.rank + 1)
        shape[self.channel_axis] = values.shape[-1]
        return ops.reshape(values, shape)

    def _scaled_gate(self, logits):
        gate = self._gate_fn(logits)
        if self.gate_scale != 1.0:
            gate = gate * ops.cast(self.gate_scale, gate.dtype)
        return gate

    def _check_identity_start(self, gated: bool = True) -> None:
        """Raises unless the layer is built and, if `gated`, its gate is 1 at 0.

        `gated=False` is for a layer whose identity start adds 0 and does
        not go through the gate.
        """
        if gated:
            check_identity_start(self, self.gate, self.gate_scale)
        else:
            check_identity_start(self, None, None)

    @staticmethod
    def _zero(weights) -> None:
        """Sets each of `weights` to zeros."""
        for weight in weights:
            weight.assign(ops.zeros(weight.shape, weight.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "gate": self.gate,
                "gate_scale": self.gate_scale,
                "data_format": self.data_format,
                **weight_arguments_config(self),
            }
        )
        return config


class BaseChannelGate(BaseAttention):
    """An attention whose output is its input times one gate per channel.

    The base of SE, ECA and eSE: a subclass defines
    `excitation(inputs, mask=None)`, the gate of shape `(batch, channels)`.
    A padding mask over the spatial axes is left out of the squeeze (the
    subclass's business) and passed on unchanged. Each of the three holds
    the arguments, build, excitation and `get_config` of its 1D/2D/3D
    variants, which only set `rank`, the number of spatial axes, and their
    docstrings (its `DocTemplate`, filled per rank).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.supports_masking = True

    has_channel_gate = True

    def excitation(self, inputs, mask=None):
        raise NotImplementedError

    def channel_gate(self, inputs, mask=None):
        return self.excitation(inputs, mask)

    def call(self, inputs, mask=None):
        scale = self._per_channel(self.excitation(inputs, mask))
        return inputs * ops.cast(scale, inputs.dtype)

    def compute_mask(self, inputs, mask=None):
        return mask
