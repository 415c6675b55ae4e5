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
)
from keras_se.layers.base_attention import BaseChannelGate
from keras_se.layers.squeeze import spatial_mean

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


class BaseEfficientChannelAttention(BaseChannelGate):
    """Efficient Channel Attention over `rank` spatial axes.

    Holds the arguments, build, excitation and `get_config` for the 1D/2D/3D
    variants, which only set `rank` and their docstrings.
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
        super().__init__(
            gate=gate,
            gate_scale=gate_scale,
            data_format=data_format,
            weight_arguments={
                "kernel_initializer": kernel_initializer,
                "kernel_regularizer": kernel_regularizer,
                "kernel_constraint": kernel_constraint,
            },
            **kwargs,
        )

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
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
            data_format="channels_last",
            use_bias=False,
            **self._sublayer_weights(),
            dtype=self.dtype_policy,
            name="conv",
        )
        padded = channels if self._wrap is None else len(self._wrap)
        self.conv.build((None, padded, 1))

    def initialize_as_identity(self) -> None:
        """Zeroes the convolution, so that the block starts as the identity.

        The gate then sees logits of 0 for every input, and
        `gate_scale * gate(0)` is 1 for a sigmoid or hard-sigmoid gate with
        `gate_scale=2`: the block returns its input exactly.

        Raises:
            ValueError: if the layer is not built, or its gate and
                `gate_scale` are not 1 at 0.
        """
        self._check_identity_start()
        self._zero([self.conv.kernel])

    def excitation(self, inputs, mask=None):
        """Returns the gate values, shape `(batch, channels)`."""
        squeezed = spatial_mean(inputs, self.rank, self.data_format, mask)
        sequence = ops.expand_dims(squeezed, -1)
        if self._wrap is not None:
            sequence = ops.take(sequence, self._wrap, axis=1)
        return self._scaled_gate(ops.reshape(self.conv(sequence), (-1, self.channels)))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "kernel_size": self.kernel_size,
                "gamma": self.gamma,
                "beta": self.beta,
                "padding": self.padding,
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
