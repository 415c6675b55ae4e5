"""The `CBAM2D` layer: channel attention, then spatial attention."""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import ops

from keras_se._validation import (
    check_positive_int,
    get_keras_object,
)
from keras_se.layers._attention_parts import (
    BATCH_NORM_EPSILON,
    BATCH_NORM_MOMENTUM,
    timm_units,
)
from keras_se.layers._docstrings import fill_shapes
from keras_se.layers.base_attention import BaseAttention
from keras_se.layers.bottleneck import set_width_arguments
from keras_se.layers.weight_arguments import KERNEL_ARGUMENTS

# timm's `CbamModule` default, allowed on any map.
DEFAULT_SPATIAL_KERNEL_SIZE = 7


@keras.saving.register_keras_serializable(package="keras_se")
@fill_shapes((2, 8, 8, 32), "ratio=8")
class CBAM2D(BaseAttention):
    """Convolutional Block Attention Module: channel, then spatial attention.

    *Channel attention*: the spatial mean and the spatial maximum of each
    channel go through ONE shared MLP without biases (`channels ->
    channels / ratio -> channels`, `activation` between), the two results
    are summed and gated, and the input is scaled per channel. *Spatial
    attention*: the mean and the maximum over the channels of that result,
    stacked in this order, go through a `spatial_kernel_size` convolution
    without bias to one map ("same" padding), then batch normalization
    (PyTorch's defaults: momentum 0.1, that is Keras's 0.9, epsilon 1e-5),
    then the gate, which scales every position. The defaults are those of
    timm's `CbamModule`.

    Args:
        ratio: positive number, the reduction ratio of the MLP: it has
            `channels / ratio` units, rounded to the nearest multiple of
            `divisor` (halves up) and at least `divisor`, as timm rounds.
            Defaults to 16.
        {width_args}
        spatial_kernel_size: positive odd int, the window of the spatial
            convolution. At most `2 * max(height, width) - 1` on a map of
            known size (7 is always allowed): a wider window sees only
            padding past the map, and raises a `ValueError` when the layer
            is built. Defaults to 7.
        activation: the MLP's activation, any Keras activation.
            Defaults to `"relu"`.
        gate: the gate of both attentions, one of `keras_se.layers.GATES`.
            Defaults to `"sigmoid"`.
        gate_scale: positive float, a constant both gates are multiplied by.
            Defaults to 1.0.
        data_format: `"channels_last"` or `"channels_first"`; `None`
            means `keras.config.image_data_format()` at construction.
        kernel_initializer, kernel_regularizer, kernel_constraint: for the
            MLP's two steps and the spatial convolution (none has a bias),
            each with its own initializer instance.
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: a 4D tensor.
        training: whether the batch normalization uses the batch's
            statistics.

    {shapes}
    Reference:
        - [Woo et al., CBAM: Convolutional Block Attention Module,
            ECCV 2018](https://arxiv.org/abs/1807.06521)
    """

    attention_kind = "cbam"
    own_arguments = ("ratio", "units", "divisor", "spatial_kernel_size", "activation")
    weight_argument_names = KERNEL_ARGUMENTS
    has_channel_gate = True

    def channel_gate(self, inputs, mask=None):
        return self.channel_excitation(inputs)

    @property
    def bottleneck_width(self) -> int | None:
        return self.mlp_units if self.built else None

    def __init__(
        self,
        ratio: float = 16,
        units: int | None = None,
        divisor: int = 1,
        spatial_kernel_size: int = DEFAULT_SPATIAL_KERNEL_SIZE,
        activation: str | Callable | None = "relu",
        gate: str = "sigmoid",
        gate_scale: float = 1.0,
        data_format: str | None = None,
        **kwargs,
    ):
        set_width_arguments(self, ratio, units, divisor)
        check_positive_int("spatial_kernel_size", spatial_kernel_size)
        if spatial_kernel_size % 2 == 0:
            # timm pads (k - 1) // 2 on each side: an even window would
            # shrink the map by one position.
            raise ValueError(
                "`spatial_kernel_size` must be a positive odd integer. "
                f"Received: spatial_kernel_size={spatial_kernel_size!r}"
            )
        self.spatial_kernel_size = spatial_kernel_size
        self.activation = get_keras_object("activation", activation)
        super().__init__(gate, gate_scale, data_format, **kwargs)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._check_spatial_kernel_size(input_shape)
        self.mlp_units = timm_units(channels, self.ratio, self.units, self.divisor)
        self.reduce = self._dense(
            self.mlp_units, self.activation, "reduce", 0, use_bias=False
        )
        self.expand = self._dense(channels, None, "expand", 1, use_bias=False)
        self.reduce.build((None, channels))
        self.expand.build((None, self.mlp_units))
        # The [mean, max] map is stacked channels-last whatever the input's
        # format: a two-channel transpose is free, and TensorFlow's CPU
        # kernels have no channels-first convolution.
        self.spatial_conv = keras.layers.Conv2D(
            1,
            self.spatial_kernel_size,
            padding="same",
            use_bias=False,
            **self._sublayer_weights(2),
            data_format="channels_last",
            dtype=self.dtype_policy,
            name="spatial_conv",
        )
        self.spatial_norm = keras.layers.BatchNormalization(
            axis=-1,
            momentum=BATCH_NORM_MOMENTUM,
            epsilon=BATCH_NORM_EPSILON,
            dtype=self.dtype_policy,
            name="spatial_norm",
        )
        height, width = (input_shape[axis] for axis in self.spatial_axes)
        self.spatial_conv.build((None, height, width, 2))
        self.spatial_norm.build((None, height, width, 1))

    def _check_spatial_kernel_size(self, input_shape) -> None:
        sizes = [input_shape[axis] for axis in self.spatial_axes]
        if None in sizes:
            return
        limit = max(2 * max(sizes) - 1, DEFAULT_SPATIAL_KERNEL_SIZE)
        if self.spatial_kernel_size > limit:
            raise ValueError(
                f"`spatial_kernel_size` must be at most {limit} for a "
                f"{sizes[0]}x{sizes[1]} map: 2 * max(height, width) - 1, the "
                "window that, centred on a corner, reaches the far side "
                f"({DEFAULT_SPATIAL_KERNEL_SIZE} always works); every position "
                "past that sees only padding. Received: "
                f"spatial_kernel_size={self.spatial_kernel_size!r}, "
                f"input_shape={tuple(input_shape)}"
            )

    def initialize_as_identity(self) -> None:
        """Zeroes the MLP's `expand` step and the spatial convolution.

        Both gates then see logits of 0 (the batch normalization of a zero
        map is 0 once its offset and moving mean are zeroed too, in training
        and inference alike), and `gate_scale * gate(0)` is 1 for a sigmoid
        or hard-sigmoid gate with `gate_scale=2`: the block starts as the
        identity.

        Raises:
            ValueError: if the layer is not built, or its gate and
                `gate_scale` are not 1 at 0.
        """
        self._check_identity_start()
        norm = self.spatial_norm
        self._zero([*self.expand.weights, *self.spatial_conv.weights])
        self._zero([norm.beta, norm.moving_mean])

    def channel_excitation(self, inputs):
        """Returns the channel gate, shape `(batch, channels)`."""
        average = ops.mean(inputs, axis=self.spatial_axes)
        maximum = ops.max(inputs, axis=self.spatial_axes)
        mlp = self.expand(self.reduce(average)) + self.expand(self.reduce(maximum))
        return self._scaled_gate(mlp)

    def spatial_excitation(self, inputs, training=None):
        """Returns the spatial gate, shape `(batch, height, width, 1)`."""
        pooled = ops.stack(
            [
                ops.mean(inputs, axis=self.channel_axis),
                ops.max(inputs, axis=self.channel_axis),
            ],
            axis=-1,
        )
        logits = self.spatial_norm(self.spatial_conv(pooled), training=training)
        return self._scaled_gate(logits)

    def call(self, inputs, training=None):
        channel_gate = self._per_channel(self.channel_excitation(inputs))
        x = inputs * ops.cast(channel_gate, inputs.dtype)
        spatial_gate = self.spatial_excitation(x, training)
        if self.data_format == "channels_first":
            spatial_gate = ops.transpose(spatial_gate, (0, 3, 1, 2))
        return x * ops.cast(spatial_gate, inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "ratio": self.ratio,
                "units": self.units,
                "divisor": self.divisor,
                "spatial_kernel_size": self.spatial_kernel_size,
                "activation": keras.activations.serialize(self.activation),
            }
        )
        return config
