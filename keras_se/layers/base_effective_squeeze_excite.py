"""The private base of the `EffectiveSqueezeExcite1D/2D/3D` layers (eSE)."""

from __future__ import annotations

import keras
from keras import ops

from keras_se._validation import (
    check_bool,
    check_choice,
    check_positive_number,
    resolve_data_format,
)
from keras_se.layers.gates import GATES, check_identity_start, get_gate
from keras_se.layers.quantization import QuantizableSublayers
from keras_se.layers.squeeze import channel_axis, spatial_max, spatial_mean
from keras_se.layers.weight_arguments import (
    fresh_initializer,
    set_weight_arguments,
    weight_arguments_config,
)


class BaseEffectiveSqueezeExcite(QuantizableSublayers, keras.layers.Layer):
    """Effective Squeeze-and-Excitation over `rank` spatial axes.

    Holds validation, build, call, `compute_output_shape` and `get_config`
    for the 1D/2D/3D variants, which only set `rank` and their docstrings.
    """

    rank: int = 2

    def __init__(
        self,
        add_maxpool: bool = False,
        gate: str = "hard_sigmoid",
        gate_scale: float = 1.0,
        data_format: str | None = None,
        kernel_initializer: str | keras.initializers.Initializer = "glorot_uniform",
        bias_initializer: str | keras.initializers.Initializer = "zeros",
        kernel_regularizer: str | keras.regularizers.Regularizer | None = None,
        bias_regularizer: str | keras.regularizers.Regularizer | None = None,
        kernel_constraint: str | keras.constraints.Constraint | None = None,
        bias_constraint: str | keras.constraints.Constraint | None = None,
        **kwargs,
    ):
        self.add_maxpool = check_bool("add_maxpool", add_maxpool)
        self.gate = check_choice("gate", gate, GATES)
        self.gate_scale = check_positive_number("gate_scale", gate_scale)
        self.data_format = resolve_data_format(data_format)
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

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"`{type(self).__name__}` expects inputs of rank {self.rank + 2} "
                f"(batch, {self.rank} spatial axes and channels). Received: "
                f"input_shape={tuple(input_shape)}"
            )
        axis = channel_axis(self.data_format)
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(
                f"`{type(self).__name__}` needs a known channel count on axis "
                f"{axis} (data_format={self.data_format!r}). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.channels = channels
        self.fc = keras.layers.Dense(
            channels,
            kernel_initializer=fresh_initializer(self.kernel_initializer),
            bias_initializer=fresh_initializer(self.bias_initializer),
            kernel_regularizer=self.kernel_regularizer,
            bias_regularizer=self.bias_regularizer,
            kernel_constraint=self.kernel_constraint,
            bias_constraint=self.bias_constraint,
            dtype=self.dtype_policy,
            name="fc",
        )
        self.fc.build((None, channels))
        self.input_spec = keras.layers.InputSpec(
            ndim=self.rank + 2, axes={axis: channels}
        )
        gate_shape = [-1] + [1] * (self.rank + 1)
        gate_shape[axis] = channels
        self._gate_shape = tuple(gate_shape)

    def initialize_as_identity(self) -> None:
        """Zeroes the fully connected step, so that the block starts as the identity.

        The gate then sees logits of 0 for every input, and
        `gate_scale * gate(0)` is 1 for a sigmoid or hard-sigmoid gate with
        `gate_scale=2`: the block returns its input exactly.

        Raises:
            ValueError: if the layer is not built, or its gate and
                `gate_scale` are not 1 at 0.
        """
        check_identity_start(self, self.gate, self.gate_scale)
        for weight in self.fc.weights:
            weight.assign(ops.zeros(weight.shape, weight.dtype))

    def _squeeze(self, inputs, mask):
        squeezed = spatial_mean(inputs, self.rank, self.data_format, mask)
        if self.add_maxpool:
            maximum = spatial_max(inputs, self.rank, self.data_format, mask)
            half = ops.cast(0.5, squeezed.dtype)
            squeezed = half * squeezed + half * maximum
        return squeezed

    def excitation(self, inputs, mask=None):
        """Returns the gate values, shape `(batch, channels)`."""
        gate = self._gate_fn(self.fc(self._squeeze(inputs, mask)))
        if self.gate_scale != 1.0:
            gate = gate * ops.cast(self.gate_scale, gate.dtype)
        return gate

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
                "add_maxpool": self.add_maxpool,
                "gate": self.gate,
                "gate_scale": self.gate_scale,
                "data_format": self.data_format,
                **weight_arguments_config(self),
            }
        )
        return config
