"""The private base of `SqueezeExcite1D`, `SqueezeExcite2D` and `SqueezeExcite3D`."""

from __future__ import annotations

from collections.abc import Callable

import keras

from keras_se._validation import (
    check_bool,
    check_choice,
    check_fraction,
    get_keras_object,
)
from keras_se.layers._docstrings import DocTemplate
from keras_se.layers.base_attention import BaseChannelGate
from keras_se.layers.bottleneck import (
    DEFAULT_ROUND_LIMIT,
    bottleneck_units,
    set_width_arguments,
)
from keras_se.layers.squeeze import spatial_max, spatial_mean

SQUEEZES = ("avg", "max")

# The class docstring of the 1D, 2D and 3D variants, filled per rank.
SE_DOC = DocTemplate(
    """Squeeze-and-Excitation channel attention for {subject}.

    The block rescales each channel of its input by a gate computed from the
    whole input: the *squeeze* averages every channel over the spatial axes,
    `z_c = 1/({positions}) * sum(u_c)`, the *excitation* maps `z` through a
    bottleneck of two fully connected steps, `s = gate(W2 activation(W1 z))`,
    and the output is `u_c * s_c`.

    The squeeze is the mean. A widely copied write-up of SE divides the spatial
    sum by `h + w` in its code and by `HC` in its formula; both are wrong,
    the paper's squeeze is the mean, `1 / ({positions})`, and so is this layer's.

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
        inputs: a {tensor} tensor.
        mask: optional boolean mask over the spatial axes (a sequence's
            padding mask): masked positions are left out of the squeeze.
            A sample whose positions are all masked squeezes to 0, with
            `squeeze="avg"` and `squeeze="max"` alike.

    {shapes}
    Reference:
        - [Hu et al., Squeeze-and-Excitation Networks, CVPR 2018](
            https://arxiv.org/abs/1709.01507)
    """,
    {1: (2, 10, 32), 2: (2, 8, 8, 32), 3: (2, 4, 8, 8, 32)},
    example_args="ratio=4",
)


class BaseSqueezeExcite(BaseChannelGate):
    """Squeeze-and-Excitation: the body of the 1D, 2D and 3D variants."""

    rank: int = 2
    attention_kind = "se"
    own_arguments = (
        "ratio",
        "units",
        "divisor",
        "round_limit",
        "activation",
        "squeeze",
        "use_bias",
    )

    @property
    def bottleneck_width(self) -> int | None:
        return self.bottleneck_units if self.built else None

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
        **kwargs,
    ):
        set_width_arguments(self, ratio, units, divisor)
        self.round_limit = check_fraction("round_limit", round_limit)
        self.activation = get_keras_object("activation", activation)
        self.squeeze = check_choice("squeeze", squeeze, SQUEEZES)
        self.use_bias = check_bool("use_bias", use_bias)
        super().__init__(gate, gate_scale, data_format, **kwargs)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.bottleneck_units = bottleneck_units(
            channels, self.ratio, self.units, self.divisor, self.round_limit
        )
        self.reduce = self._dense(
            self.bottleneck_units, self.activation, "reduce", 0, self.use_bias
        )
        self.expand = self._dense(channels, None, "expand", 1, self.use_bias)
        self.reduce.build((None, channels))
        self.expand.build((None, self.bottleneck_units))

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
        self._check_identity_start()
        self._zero(self.expand.weights)

    def excitation(self, inputs, mask=None):
        """Returns the gate values, shape `(batch, channels)`.

        This is what the block multiplies its input by, one scale per
        channel and sample: the quantity of the paper's excitation plots.
        """
        return self._scaled_gate(self.expand(self.reduce(self._squeeze(inputs, mask))))

    def _squeeze(self, inputs, mask):
        pool = spatial_max if self.squeeze == "max" else spatial_mean
        return pool(inputs, self.rank, self.data_format, mask)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "ratio": self.ratio,
                "units": self.units,
                "divisor": self.divisor,
                "round_limit": self.round_limit,
                "activation": keras.activations.serialize(self.activation),
                "squeeze": self.squeeze,
                "use_bias": self.use_bias,
            }
        )
        return config
