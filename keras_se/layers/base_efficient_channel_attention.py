"""The private base of the `EfficientChannelAttention1D/2D/3D` layers (ECA-Net)."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from keras_se._validation import (
    check_choice,
    check_positive_int,
    check_positive_number,
    resolve_data_format,
)
from keras_se.layers.gates import GATES, check_identity_start, get_gate
from keras_se.layers.quantization import QuantizableSublayers
from keras_se.layers.squeeze import channel_axis, spatial_mean
from keras_se.layers.weight_arguments import (
    KERNEL_ARGUMENTS,
    fresh_initializer,
    set_weight_arguments,
    weight_arguments_config,
)

ECA_PADDINGS = ("zeros", "circular")


def eca_kernel_size(channels: int, gamma: float = 2.0, beta: float = 1.0) -> int:
    """The adaptive kernel size of ECA-Net for `channels` channels.

    timm's `EcaModule` rule: `t = int(abs(log2(channels) + beta) / gamma)`,
    then `t` if it is odd, else `t + 1`, and at least 3. The paper's
    `psi(C) = |(log2(C) + b) / gamma|_odd` without timm's floor of 3 would
    give 1 below 8 channels; timm's floor is matched here.

    Args:
        channels: the channel count, a positive int.
        gamma: positive number, the paper's `gamma`. Defaults to 2.
        beta: number, the paper's `b`. Defaults to 1.

    Returns:
        An odd kernel size, at least 3.

    Example:

    >>> [keras_se.layers.eca_kernel_size(c) for c in (64, 256, 1024, 2048)]
    [3, 5, 5, 7]
    """
    # `math.log(channels, 2)`, as timm writes it, so that the rare float
    # rounding at a boundary rounds the same way.
    t = int(abs(math.log(channels, 2) + beta) / gamma)
    return max(t if t % 2 else t + 1, 3)


class BaseEfficientChannelAttention(QuantizableSublayers, keras.layers.Layer):
    """Efficient Channel Attention over `rank` spatial axes.

    Holds validation, build, call, `compute_output_shape` and `get_config`
    for the 1D/2D/3D variants, which only set `rank` and their docstrings.
    """

    rank: int = 2

    def __init__(
        self,
        kernel_size: int | None = None,
        gamma: float = 2.0,
        beta: float = 1.0,
        padding: str = "zeros",
        gate: str = "sigmoid",
        gate_scale: float = 1.0,
        data_format: str | None = None,
        kernel_initializer: str | keras.initializers.Initializer = "glorot_uniform",
        kernel_regularizer: str | keras.regularizers.Regularizer | None = None,
        kernel_constraint: str | keras.constraints.Constraint | None = None,
        **kwargs,
    ):
        self.kernel_size = check_positive_int(
            "kernel_size", kernel_size, allow_none=True
        )
        if kernel_size is not None and kernel_size % 2 == 0:
            raise ValueError(
                "`kernel_size` must be an odd positive integer or None (the "
                f"adaptive size). Received: kernel_size={kernel_size!r}"
            )
        self.gamma = check_positive_number("gamma", gamma)
        self.beta = _check_finite_number("beta", beta)
        self.padding = check_choice("padding", padding, ECA_PADDINGS)
        self.gate = check_choice("gate", gate, GATES)
        self.gate_scale = check_positive_number("gate_scale", gate_scale)
        self.data_format = resolve_data_format(data_format)
        set_weight_arguments(
            self,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=kernel_regularizer,
            kernel_constraint=kernel_constraint,
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
        self.resolved_kernel_size = self.kernel_size or eca_kernel_size(
            channels, self.gamma, self.beta
        )
        half = (self.resolved_kernel_size - 1) // 2
        # The squeezed vector is a 1-channel sequence of `channels` steps, so
        # the step is a channels-last Conv1D whatever the layer's data_format.
        # Zero padding is "same" padding for an odd kernel; circular padding
        # wraps the vector by index before a "valid" convolution.
        self._wrap = None
        if self.padding == "circular" and half:
            self._wrap = np.arange(-half, channels + half) % channels
        self.conv = keras.layers.Conv1D(
            1,
            self.resolved_kernel_size,
            padding="same" if self.padding == "zeros" else "valid",
            use_bias=False,
            kernel_initializer=fresh_initializer(self.kernel_initializer),
            kernel_regularizer=self.kernel_regularizer,
            kernel_constraint=self.kernel_constraint,
            dtype=self.dtype_policy,
            name="conv",
        )
        padded = channels if self._wrap is None else len(self._wrap)
        self.conv.build((None, padded, 1))
        self.input_spec = keras.layers.InputSpec(
            ndim=self.rank + 2, axes={axis: channels}
        )
        gate_shape = [-1] + [1] * (self.rank + 1)
        gate_shape[axis] = channels
        self._gate_shape = tuple(gate_shape)

    def initialize_as_identity(self) -> None:
        """Zeroes the convolution, so that the block starts as the identity.

        The gate then sees logits of 0 for every input, and
        `gate_scale * gate(0)` is 1 for a sigmoid or hard-sigmoid gate with
        `gate_scale=2`: the block returns its input exactly.

        Raises:
            ValueError: if the layer is not built, or its gate and
                `gate_scale` are not 1 at 0.
        """
        check_identity_start(self, self.gate, self.gate_scale)
        kernel = self.conv.kernel
        kernel.assign(ops.zeros(kernel.shape, kernel.dtype))

    def excitation(self, inputs, mask=None):
        """Returns the gate values, shape `(batch, channels)`."""
        squeezed = spatial_mean(inputs, self.rank, self.data_format, mask)
        sequence = ops.expand_dims(squeezed, -1)
        if self._wrap is not None:
            sequence = ops.take(sequence, self._wrap, axis=1)
        logits = ops.reshape(self.conv(sequence), (-1, self.channels))
        gate = self._gate_fn(logits)
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
                "kernel_size": self.kernel_size,
                "gamma": self.gamma,
                "beta": self.beta,
                "padding": self.padding,
                "gate": self.gate,
                "gate_scale": self.gate_scale,
                "data_format": self.data_format,
                **weight_arguments_config(self, KERNEL_ARGUMENTS),
            }
        )
        return config


def _check_finite_number(name: str, value) -> float:
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not is_number or not math.isfinite(value):
        raise ValueError(
            f"`{name}` must be a finite number. Received: {name}={value!r}"
        )
    return float(value)
