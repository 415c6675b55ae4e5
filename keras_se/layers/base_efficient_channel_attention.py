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
from keras_se.layers._docstrings import IDENTITY_DOC, DocTemplate
from keras_se.layers.base_attention import BaseChannelGate
from keras_se.layers.squeeze import spatial_mean
from keras_se.layers.weight_arguments import KERNEL_ARGUMENTS

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


def max_eca_kernel_size(channels: int) -> int:
    """The widest ECA kernel for `channels` channels: `2 * channels - 1`, at least 3.

    Centred on the first channel, such a kernel reaches the last one; a
    wider one only adds steps that see padding. 3 is always allowed, as
    timm's adaptive size never goes below it.
    """
    return max(2 * channels - 1, 3)


# The class docstring of the 1D, 2D and 3D variants, filled per rank.
ECA_DOC = DocTemplate(
    """Efficient Channel Attention (ECA-Net) for {subject}.

    The block rescales each channel of its input by a gate computed from the
    whole input, as Squeeze-and-Excitation does, with no bottleneck: the
    squeeze averages every channel over the spatial axes,
    `z_c = {mean} * sum(u_c)`, a 1D convolution of `k` weights and no bias slides
    across the channel axis of `z`, so that each channel's gate sees its
    `k` neighbours, and the output is `u_c * gate(conv(z))_c`. The layer
    has `k` parameters, whatever its channel count. It matches timm's
    `EcaModule` (and `CecaModule` with `padding="circular"`); timm's
    experimental `use_mlp` variant of `EcaModule` is not offered.

    Args:
        kernel_size: odd positive int, or `None` for the adaptive size of
            `keras_se.layers.eca_kernel_size`: timm's rule
            `t = int(abs(log2(channels) + beta) / gamma)`, `t` if odd else
            `t + 1`, at least 3: 3 below 128 channels, 5 from 128 to 2047,
            7 from 2048 to 32767. At most `2 * channels - 1` (a wider
            kernel sees only padding past both ends; 3 is always allowed):
            a wider one raises a `ValueError` when the layer is built.
            Defaults to `None`.
        gamma: positive number, `gamma` of the adaptive size. Defaults to 2.
        beta: number, `b` of the adaptive size. Defaults to 1.
        padding: how the convolution sees past the first and last channel:
            `"zeros"` (ECA-Net's and timm's `EcaModule`: `(k - 1) // 2`
            zeros at each end) or `"circular"` (timm's `CecaModule`: the
            channel vector wraps around). Defaults to `"zeros"`.
        gate: one of `keras_se.layers.GATES`. Defaults to `"sigmoid"`.
        gate_scale: positive float, a constant the gate is multiplied by;
            2 with `initialize_as_identity()` starts the block as the
            identity. Defaults to 1.0.
        data_format: `"channels_last"` or `"channels_first"`; `None`
            means `keras.config.image_data_format()` at construction.
        kernel_initializer, kernel_regularizer, kernel_constraint: as in
            `keras.layers.Conv1D`, for the convolution's kernel, of shape
            `(k, 1, 1)`: timm's `conv.weight` of shape `(1, 1, k)`,
            transposed. Defaults to `"glorot_uniform"`, `None`, `None`.
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: a {tensor} tensor.
        mask: optional boolean mask over the spatial axes (a sequence's
            padding mask): masked positions are left out of the squeeze,
            and a sample whose positions are all masked squeezes to 0.

    {shapes}
    Reference:
        - [Wang et al., ECA-Net: Efficient Channel Attention for Deep
            Convolutional Neural Networks, CVPR 2020](
            https://arxiv.org/abs/1910.03151)
    """,
    {1: (2, 10, 64), 2: (2, 8, 8, 64), 3: (2, 4, 4, 4, 64)},
    more=("layer.count_params()", "3"),
)


class BaseEfficientChannelAttention(BaseChannelGate):
    """Efficient Channel Attention: the body of the 1D, 2D and 3D variants."""

    rank: int = 2
    attention_kind = "eca"
    own_arguments = ("kernel_size", "gamma", "beta", "padding")
    weight_argument_names = KERNEL_ARGUMENTS

    def __init__(
        self,
        kernel_size: int | None = None,
        gamma: float = 2.0,
        beta: float = 1.0,
        padding: str = "zeros",
        gate: str = "sigmoid",
        gate_scale: float = 1.0,
        data_format: str | None = None,
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
        super().__init__(gate, gate_scale, data_format, **kwargs)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.resolved_kernel_size = self._checked_kernel_size(channels, input_shape)
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

    def _checked_kernel_size(self, channels, input_shape) -> int:
        """The kernel size, at most `max_eca_kernel_size(channels)`."""
        size = self.kernel_size or eca_kernel_size(channels, self.gamma, self.beta)
        limit = max_eca_kernel_size(channels)
        if size <= limit:
            return size
        if self.kernel_size is None:
            received = f"gamma={self.gamma!r}, beta={self.beta!r}"
            what = f"`gamma` and `beta` give an adaptive kernel size of {size}"
        else:
            received = f"kernel_size={size!r}"
            what = f"`kernel_size` is {size}"
        raise ValueError(
            f"{what}, wider than the {channels} channels allow: the kernel may "
            f"span at most 2 * channels - 1 = {limit} channels (3 always "
            "works); every step past that sees only padding. Received: "
            f"{received}, input_shape={tuple(input_shape)}"
        )

    def initialize_as_identity(self) -> None:
        self._check_identity_start()
        self._zero([self.conv.kernel])

    initialize_as_identity.__doc__ = IDENTITY_DOC.format(what="the convolution")

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
