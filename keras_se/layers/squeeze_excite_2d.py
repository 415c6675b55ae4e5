"""The `SqueezeExcite2D` layer."""

from __future__ import annotations

import keras

from keras_se.layers.base_squeeze_excite import BaseSqueezeExcite


@keras.saving.register_keras_serializable(package="keras_se")
class SqueezeExcite2D(BaseSqueezeExcite):
    """Squeeze-and-Excitation channel attention for images and feature maps.

    The block rescales each channel of its input by a gate computed from the
    whole input: the *squeeze* averages every channel over the spatial axes,
    `z_c = 1/(H*W) * sum(u_c)`, the *excitation* maps `z` through a
    bottleneck of two fully connected steps, `s = gate(W2 activation(W1 z))`,
    and the output is `u_c * s_c`.

    The squeeze is the mean. A widely copied write-up of SE divides the spatial
    sum by `h + w` in its code and by `HC` in its formula; both are wrong,
    the paper's squeeze is the mean, `1 / (H*W)`, and so is this layer's.

    Args:
        ratio: positive number, the reduction ratio `r`: the bottleneck has
            `floor(channels / ratio)` units (at least 1), `channels // ratio`
            for an int. A float is allowed: `ratio=0.5` doubles the width.
            Defaults to 16.
        units: positive int or `None`, an absolute bottleneck width that
            overrides `ratio`. The width is at most 64 times the input's
            channels (so `ratio` is at least 1/64); a wider one raises a
            `ValueError` when the layer is built.
            Defaults to `None`.
        divisor: positive int. With `divisor > 1` the width
            `v = channels / ratio` is rounded by
            `keras_se.layers.make_divisible`: the multiple of `divisor`
            nearest to `v` (halves round up), at least `divisor`, plus one
            `divisor` when that is below `round_limit * v`. Defaults to 1.
        round_limit: number in [0, 1), used only with `divisor > 1`. The
            default 0.9 (bump up when rounding down would lose more than
            10%) is timm's and TF Model Garden's `make_divisible`:
            `ratio=4, divisor=8` reproduces the SE blocks of MobileNetV3.
            `round_limit=0.0` never bumps, the rounding of timm's
            `SEModule` (`rd_divisor=8` with `rd_ratio=1/16` is `ratio=16,
            divisor=8, round_limit=0.0`). Defaults to 0.9.
        activation: the activation between the two steps, any Keras
            activation. Defaults to `"relu"`.
        gate: `"sigmoid"` (the paper's), `"hard_sigmoid"` (MobileNetV3's,
            `relu6(x + 3) / 6`), or the paper's ablations `"tanh"` and
            `"relu"`. Defaults to `"sigmoid"`.
        gate_scale: positive float, a constant the gate is multiplied by.
            1 is the paper's block. `wrap_with_se(..., identity_init=True)`
            uses 2 with a zero-initialised `expand` step, so that a sigmoid
            gate starts at exactly `2 * sigmoid(0) = 1` and the block starts
            as the identity (NFNets' SE scales its gate by 2 likewise).
            Defaults to 1.0.
        squeeze: `"avg"` (the paper's) or `"max"` (its ablation).
            Defaults to `"avg"`.
        data_format: `"channels_last"` or `"channels_first"`; `None`
            means `keras.config.image_data_format()` at construction.
        use_bias: whether the two steps have biases. Defaults to `True`.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, kernel_constraint, bias_constraint: as in
            `keras.layers.Dense`, for both steps. Each step gets its own
            initializer instance, so the two never start with the same
            values; a seeded initializer seeds `reduce` with `seed` and
            `expand` with `seed + 1`.
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: a 4D tensor.
        mask: optional boolean mask over the spatial axes (a sequence's
            padding mask): masked positions are left out of the squeeze.
            A sample whose positions are all masked squeezes to 0, with
            `squeeze="avg"` and `squeeze="max"` alike.

    Input shape:
        `(batch, height, width, channels)` with `"channels_last"`,
        `(batch, channels, height, width)` with `"channels_first"`.

    Output shape:
        The input's shape.

    Example:

    >>> x = np.random.rand(2, 8, 8, 32).astype("float32")
    >>> layer = keras_se.layers.SqueezeExcite2D(ratio=4)
    >>> tuple(layer(x).shape)
    (2, 8, 8, 32)

    Reference:
        - [Hu et al., Squeeze-and-Excitation Networks, CVPR 2018](
            https://arxiv.org/abs/1709.01507)
    """

    rank = 2
