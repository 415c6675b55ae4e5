"""The `SqueezeExciteConv2D` layer: a convolution, an SE block and a skip."""

from __future__ import annotations

from collections.abc import Callable

import keras

from keras_se._validation import (
    check_positive_int,
    get_keras_object,
    resolve_data_format,
)
from keras_se.layers.squeeze_excite_2d import SqueezeExcite2D


@keras.saving.register_keras_serializable(package="keras_se")
class SqueezeExciteConv2D(keras.layers.Layer):
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
        ratio, units, divisor, activation, gate, squeeze: passed to the
            `SqueezeExcite2D` block; see there.
        data_format: `"channels_last"` or `"channels_first"`; `None` means
            `keras.config.image_data_format()` at construction.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: for the convolution and the SE block's steps.
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

    def __init__(
        self,
        filters: int,
        kernel_size: int = 3,
        residual: bool = False,
        ratio: int = 16,
        units: int | None = None,
        divisor: int = 1,
        activation: str | Callable | None = "relu",
        gate: str = "sigmoid",
        squeeze: str = "avg",
        data_format: str | None = None,
        kernel_initializer: str | keras.initializers.Initializer = "glorot_uniform",
        bias_initializer: str | keras.initializers.Initializer = "zeros",
        kernel_regularizer: str | keras.regularizers.Regularizer | None = None,
        bias_regularizer: str | keras.regularizers.Regularizer | None = None,
        **kwargs,
    ):
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        if not isinstance(residual, bool):
            raise ValueError(
                f"`residual` must be True or False. Received: residual={residual!r}"
            )
        self.residual = residual
        self.data_format = resolve_data_format(data_format)
        self.kernel_initializer = get_keras_object(
            "kernel_initializer", kernel_initializer
        )
        self.bias_initializer = get_keras_object("bias_initializer", bias_initializer)
        self.kernel_regularizer = get_keras_object(
            "kernel_regularizer", kernel_regularizer
        )
        self.bias_regularizer = get_keras_object("bias_regularizer", bias_regularizer)
        super().__init__(**kwargs)
        # Made here, not in `build`, so bad SE arguments fail at construction.
        self.se = SqueezeExcite2D(
            ratio=ratio,
            units=units,
            divisor=divisor,
            activation=activation,
            gate=gate,
            squeeze=squeeze,
            data_format=self.data_format,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            kernel_regularizer=self.kernel_regularizer,
            bias_regularizer=self.bias_regularizer,
            dtype=self.dtype_policy,
            name="se",
        )
        self.conv = keras.layers.Conv2D(
            filters,
            kernel_size,
            padding="same",
            data_format=self.data_format,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            kernel_regularizer=self.kernel_regularizer,
            bias_regularizer=self.bias_regularizer,
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
        self.conv.build(input_shape)
        self.se.build(self.conv.compute_output_shape(input_shape))

    def call(self, inputs):
        outputs = self.se(self.conv(inputs))
        if self.residual:
            outputs = outputs + inputs
        return outputs

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "residual": self.residual,
                "ratio": self.se.ratio,
                "units": self.se.units,
                "divisor": self.se.divisor,
                "activation": keras.activations.serialize(self.se.activation),
                "gate": self.se.gate,
                "squeeze": self.se.squeeze,
                "data_format": self.data_format,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(
                    self.kernel_regularizer
                ),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            }
        )
        return config
