"""The `EffectiveSqueezeExcite3D` layer."""

from __future__ import annotations

import keras

from keras_se.layers.base_effective_squeeze_excite import (
    BaseEffectiveSqueezeExcite,
)


@keras.saving.register_keras_serializable(package="keras_se")
class EffectiveSqueezeExcite3D(BaseEffectiveSqueezeExcite):
    """Effective Squeeze-and-Excitation (eSE) for volumes and videos.

    Squeeze-and-Excitation with one fully connected step in place of the
    bottleneck, so that no channel information is lost to the reduction:
    the squeeze averages every channel over the spatial axes,
    `z_c = 1/(D*H*W) * sum(u_c)`, one step `W z + b` maps the `C` means to `C` logits,
    and the output is `u_c * gate(W z + b)_c`. The layer has `C * C + C`
    parameters. It matches timm's `EffectiveSEModule`.

    Args:
        add_maxpool: whether the squeeze is `0.5 * mean + 0.5 * max` over
            the spatial axes rather than the mean (timm's `add_maxpool`).
            Defaults to `False`.
        gate: one of `keras_se.layers.GATES`. Defaults to `"hard_sigmoid"`,
            `relu6(x + 3) / 6`, the paper's and timm's.
        gate_scale: positive float, a constant the gate is multiplied by;
            2 with `initialize_as_identity()` starts the block as the
            identity. Defaults to 1.0.
        data_format: `"channels_last"` or `"channels_first"`; `None`
            means `keras.config.image_data_format()` at construction.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, kernel_constraint, bias_constraint: as in
            `keras.layers.Dense`, for the fully connected step, whose
            kernel is timm's `fc.weight[:, :, 0, 0]` transposed.
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: a 5D tensor.
        mask: optional boolean mask over the spatial axes (a sequence's
            padding mask): masked positions are left out of the squeeze
            (mean and max), and a sample whose positions are all masked
            squeezes to 0.

    Input shape:
        `(batch, depth, height, width, channels)` with `"channels_last"`,
        `(batch, channels, depth, height, width)` with `"channels_first"`.

    Output shape:
        The input's shape.

    Example:

    >>> x = np.random.rand(2, 4, 4, 4, 64).astype("float32")
    >>> layer = keras_se.layers.EffectiveSqueezeExcite3D()
    >>> tuple(layer(x).shape)
    (2, 4, 4, 4, 64)
    >>> layer.count_params()
    4160

    Reference:
        - [Lee and Park, CenterMask: Real-Time Anchor-Free Instance
            Segmentation, CVPR 2020](https://arxiv.org/abs/1911.06667)
    """

    rank = 3
