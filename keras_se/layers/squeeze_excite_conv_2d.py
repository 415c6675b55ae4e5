"""The `SqueezeExciteConv2D` layer: a convolution, an SE block and a skip."""

from __future__ import annotations

from collections.abc import Callable

import keras

from keras_se._validation import (
    check_bool,
    check_positive_int,
    resolve_data_format,
)
from keras_se.layers.attention_interface import AttentionInterface
from keras_se.layers.bottleneck import DEFAULT_ROUND_LIMIT
from keras_se.layers.quantization import QuantizableSublayers
from keras_se.layers.squeeze_excite_2d import SqueezeExcite2D
from keras_se.layers.weight_arguments import (
    pop_weight_arguments,
    set_weight_arguments,
    sublayer_weight_arguments,
    weight_arguments_config,
)

# What the block hands to its SE block as is (and reads back for its config).
SE_ARGUMENTS = (
    "ratio",
    "units",
    "divisor",
    "round_limit",
    "activation",
    "gate",
    "gate_scale",
    "squeeze",
)


@keras.saving.register_keras_serializable(package="keras_se")
class SqueezeExciteConv2D(AttentionInterface, QuantizableSublayers, keras.layers.Layer):
    """A `kernel_size` convolution, then `SqueezeExcite2D`, then an optional skip.

    The SE building block as first sketched: `U = conv(X)` with "same"
    padding, `X~ = SE(U)`, and with `residual=True`, `X + X~`, a skip
    connection that bypasses the convolution and the SE block. The skip needs
    `filters` equal to the input's channel count.

    Args:
        filters: positive int, output channels of the convolution.
        kernel_size: positive int, the convolution's square window.
            Defaults to 3.
        residual: whether to add the input to the output. Defaults to `False`.
        ratio, units, divisor, round_limit, activation, gate, gate_scale,
        squeeze: passed to the `SqueezeExcite2D` block, with the same
            defaults; see there.
        data_format: `"channels_last"` or `"channels_first"`; `None` means
            `keras.config.image_data_format()` at construction.
        use_bias: whether the convolution and the SE block's two steps have
            biases. Defaults to `True`.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, kernel_constraint, bias_constraint: as in
            `keras.layers.Conv2D`, for the convolution and the SE block's
            two steps. Each of the three gets its own initializer instance
            (a seeded one is re-seeded with `seed`, `seed + 1` and
            `seed + 2`), so no two of them start with the same values.
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: a 4D tensor.

    Input shape:
        `(batch, height, width, channels)` with `"channels_last"`,
        `(batch, channels, height, width)` with `"channels_first"`.

    Output shape:
        The input's shape with `filters` channels.

    Example:

    >>> x = np.random.rand(2, 8, 8, 16).astype("float32")
    >>> block = keras_se.layers.SqueezeExciteConv2D(16, ratio=4, residual=True)
    >>> tuple(block(x).shape)
    (2, 8, 8, 16)

    Reference:
        - [Hu et al., Squeeze-and-Excitation Networks, CVPR 2018](
            https://arxiv.org/abs/1709.01507)
    """

    attention_kind = "se"
    own_arguments = (
        "filters",
        "kernel_size",
        "residual",
        *SqueezeExcite2D.own_arguments,
    )
    has_channel_gate = True

    def __init__(
        self,
        filters: int,
        kernel_size: int = 3,
        residual: bool = False,
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
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        self.residual = check_bool("residual", residual)
        self.data_format = resolve_data_format(data_format)
        self.use_bias = check_bool("use_bias", use_bias)
        weights = pop_weight_arguments(kwargs, self.weight_argument_names)
        set_weight_arguments(self, **weights)
        super().__init__(**kwargs)
        # Made here, not in `build`, so bad SE arguments fail at construction.
        # The SE block re-seeds its second step with its seed + 1: offset 1
        # here keeps both of its steps apart from the convolution (offset 0).
        self.se = SqueezeExcite2D(
            ratio=ratio,
            units=units,
            divisor=divisor,
            round_limit=round_limit,
            activation=activation,
            gate=gate,
            gate_scale=gate_scale,
            squeeze=squeeze,
            data_format=self.data_format,
            use_bias=self.use_bias,
            **sublayer_weight_arguments(self, 1),
            dtype=self.dtype_policy,
            name="se",
        )
        self.conv = keras.layers.Conv2D(
            filters,
            kernel_size,
            padding="same",
            data_format=self.data_format,
            use_bias=self.use_bias,
            **sublayer_weight_arguments(self, 0),
            dtype=self.dtype_policy,
            name="conv",
        )
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape):
        channel_axis = -1 if self.data_format == "channels_last" else 1
        channels = input_shape[channel_axis]
        if self.residual and channels != self.filters:
            raise ValueError(
                "`residual=True` adds the input to the output, so `filters` must "
                f"equal the input's channel count ({channels}). Received: "
                f"filters={self.filters}, input_shape={tuple(input_shape)}"
            )
        # The SE block first: its checks (a bottleneck at most 64 times the
        # channels) come before any weight is made.
        self.se.build(self.conv.compute_output_shape(input_shape))
        self.conv.build(input_shape)

    @property
    def gate_scale(self) -> float:
        return self.se.gate_scale

    @property
    def bottleneck_width(self) -> int | None:
        return self.se.bottleneck_width

    def channel_gate(self, inputs, mask=None):
        return self.se.channel_gate(self.conv(inputs), mask)

    def call(self, inputs):
        outputs = self.se(self.conv(inputs))
        if self.residual:
            outputs = outputs + inputs
        return outputs

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        se_config = self.se.get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "residual": self.residual,
                **{name: se_config[name] for name in SE_ARGUMENTS},
                "data_format": self.data_format,
                "use_bias": self.use_bias,
                **weight_arguments_config(self),
            }
        )
        return config
