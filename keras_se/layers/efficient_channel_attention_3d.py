"""The `EfficientChannelAttention3D` layer."""

from __future__ import annotations

import keras

from keras_se.layers.base_efficient_channel_attention import (
    BaseEfficientChannelAttention,
)


@keras.saving.register_keras_serializable(package="keras_se")
class EfficientChannelAttention3D(BaseEfficientChannelAttention):
    """Efficient Channel Attention (ECA-Net) for volumes and videos.

    The block rescales each channel of its input by a gate computed from the
    whole input, as Squeeze-and-Excitation does, with no bottleneck: the
    squeeze averages every channel over the spatial axes,
    `z_c = 1/(D*H*W) * sum(u_c)`, a 1D convolution of `k` weights and no bias slides
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
        inputs: a 5D tensor.
        mask: optional boolean mask over the spatial axes (a sequence's
            padding mask): masked positions are left out of the squeeze,
            and a sample whose positions are all masked squeezes to 0.

    Input shape:
        `(batch, depth, height, width, channels)` with `"channels_last"`,
        `(batch, channels, depth, height, width)` with `"channels_first"`.

    Output shape:
        The input's shape.

    Example:

    >>> x = np.random.rand(2, 4, 4, 4, 64).astype("float32")
    >>> layer = keras_se.layers.EfficientChannelAttention3D()
    >>> tuple(layer(x).shape)
    (2, 4, 4, 4, 64)
    >>> layer.count_params()
    3

    Reference:
        - [Wang et al., ECA-Net: Efficient Channel Attention for Deep
            Convolutional Neural Networks, CVPR 2020](
            https://arxiv.org/abs/1910.03151)
    """

    rank = 3
