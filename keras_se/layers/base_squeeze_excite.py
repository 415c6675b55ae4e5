"""The private base of `SqueezeExcite1D`, `SqueezeExcite2D` and `SqueezeExcite3D`."""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import ops

from keras_se._validation import (
    check_bool,
    check_choice,
    check_fraction,
    check_positive_int,
    check_positive_number,
    get_keras_object,
    resolve_data_format,
)
from keras_se.layers.bottleneck import DEFAULT_ROUND_LIMIT, bottleneck_units
from keras_se.layers.gates import GATES, check_identity_start, get_gate
from keras_se.layers.quantization import QuantizableSublayers
from keras_se.layers.squeeze import spatial_max, spatial_mean
from keras_se.layers.weight_arguments import (
    fresh_initializer,
    set_weight_arguments,
    weight_arguments_config,
)

SQUEEZES = ("avg", "max")


class BaseSqueezeExcite(QuantizableSublayers, keras.layers.Layer):
    """Squeeze-and-Excitation over `rank` spatial axes.

    Holds validation, build, call, `compute_output_shape` and `get_config` for
    the 1D/2D/3D variants, which only set `rank`, the number of spatial axes,
    and their docstrings.
    """

    rank: int = 2

    def __init__(
        self,
        ratio: float = 16,
        units: int | None = None,
        divisor: int = 1,
        round_limit: float = DEFAULT_ROUND_LIMIT,
        activation: str | Callable | None = "relu",
        gate: str = "sigmoid",
        gate_scale: float = 1.0,
        squeeze: str = "avg",
        data_format: str | None = None,
        use_bias: bool = True,
        kernel_initializer: str | keras.initializers.Initializer = "glorot_uniform",
        bias_initializer: str | keras.initializers.Initializer = "zeros",
        kernel_regularizer: str | keras.regularizers.Regularizer | None = None,
        bias_regularizer: str | keras.regularizers.Regularizer | None = None,
        kernel_constraint: str | keras.constraints.Constraint | None = None,
        bias_constraint: str | keras.constraints.Constraint | None = None,
        **kwargs,
    ):
        check_positive_number("ratio", ratio)
        # Stored as passed: an int ratio stays an int in the config.
        self.ratio = ratio
        self.units = check_positive_int("units", units, allow_none=True)
        self.divisor = check_positive_int("divisor", divisor)
        self.round_limit = check_fraction("round_limit", round_limit)
        self.activation = get_keras_object("activation", activation)
        self.gate = check_choice("gate", gate, GATES)
        self.gate_scale = check_positive_number("gate_scale", gate_scale)
        self.squeeze = check_choice("squeeze", squeeze, SQUEEZES)
        self.data_format = resolve_data_format(data_format)
        self.use_bias = check_bool("use_bias", use_bias)
        set_weight_arguments(
            self,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )
        super().__init__(**kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=self.rank + 2)
        self._gate_fn = get_gate(gate)
        self.supports_masking = True

    @property
    def channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    @property
    def spatial_axes(self) -> tuple[int, ...]:
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.rank))

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"`{type(self).__name__}` expects inputs of rank {self.rank + 2} "
                f"(batch, {self.rank} spatial axes and channels). Received: "
                f"input_shape={tuple(input_shape)}"
            )
        channels = input_shape[self.channel_axis]
        if channels is None:
            raise ValueError(
                f"`{type(self).__name__}` needs a known channel count on axis "
                f"{self.channel_axis} (data_format={self.data_format!r}). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.channels = channels
        self.bottleneck_units = bottleneck_units(
            channels, self.ratio, self.units, self.divisor, self.round_limit
        )
        self.reduce = self._dense(self.bottleneck_units, self.activation, "reduce", 0)
        self.expand = self._dense(channels, None, "expand", 1)
        self.reduce.build((None, channels))
        self.expand.build((None, self.bottleneck_units))
        self.input_spec = keras.layers.InputSpec(
            ndim=self.rank + 2, axes={self.channel_axis: channels}
        )
        gate_shape = [-1] + [1] * (self.rank + 1)
        gate_shape[self.channel_axis] = channels
        self._gate_shape = tuple(gate_shape)

    def _dense(self, units, activation, name, seed_offset):
        # Each step gets its own initializer instance: a shared one returns
        # the same values twice, and `reduce` and `expand` would start equal.
        return keras.layers.Dense(
            units,
            activation=activation,
            use_bias=self.use_bias,
            kernel_initializer=fresh_initializer(self.kernel_initializer, seed_offset),
            bias_initializer=fresh_initializer(self.bias_initializer, seed_offset),
            kernel_regularizer=self.kernel_regularizer,
            bias_regularizer=self.bias_regularizer,
            kernel_constraint=self.kernel_constraint,
            bias_constraint=self.bias_constraint,
            dtype=self.dtype_policy,
            name=name,
        )

    def initialize_as_identity(self) -> None:
        """Zeroes the `expand` step, so that the block starts as the identity.

        The gate then sees logits of 0 for every input, and
        `gate_scale * gate(0)` is 1 for a sigmoid or hard-sigmoid gate with
        `gate_scale=2`: the block returns its input exactly. Every attention
        layer of keras_se has this method; `wrap_with_se` calls it.

        Raises:
            ValueError: if the layer is not built, or its gate and
                `gate_scale` are not 1 at 0.
        """
        check_identity_start(self, self.gate, self.gate_scale)
        for weight in self.expand.weights:
            weight.assign(ops.zeros(weight.shape, weight.dtype))

    def excitation(self, inputs, mask=None):
        """Returns the gate values, shape `(batch, channels)`.

        This is what the block multiplies its input by, one scale per
        channel and sample: the quantity of the paper's excitation plots.
        """
        gate = self._gate_fn(self.expand(self.reduce(self._squeeze(inputs, mask))))
        if self.gate_scale != 1.0:
            gate = gate * ops.cast(self.gate_scale, gate.dtype)
        return gate

    def _squeeze(self, inputs, mask):
        if mask is not None:
            return self._masked_squeeze(inputs, mask)
        pool = spatial_max if self.squeeze == "max" else spatial_mean
        return pool(inputs, self.rank, self.data_format)

    def _masked_squeeze(self, inputs, mask):
        pool = spatial_max if self.squeeze == "max" else spatial_mean
        return pool(inputs, self.rank, self.data_format, mask)

    def call(self, inputs, mask=None):
        scale = ops.reshape(self.excitation(inputs, mask), self._gate_shape)
        return inputs * ops.cast(scale, inputs.dtype)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "ratio": self.ratio,
                "units": self.units,
                "divisor": self.divisor,
                "round_limit": self.round_limit,
                "activation": keras.activations.serialize(self.activation),
                "gate": self.gate,
                "gate_scale": self.gate_scale,
                "squeeze": self.squeeze,
                "data_format": self.data_format,
                "use_bias": self.use_bias,
                **weight_arguments_config(self),
            }
        )
        return config
