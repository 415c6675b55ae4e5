"""The `GatherExcite2D` layer: Gather-Excite attention."""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
from keras import ops

from keras_se._validation import (
    check_bool,
    get_keras_object,
)
from keras_se.layers._attention_parts import (
    BATCH_NORM_EPSILON,
    BATCH_NORM_MOMENTUM,
    resize_nearest,
    timm_units,
)
from keras_se.layers._docstrings import fill_shapes
from keras_se.layers._gather import convolution_gather, parameter_free_gather
from keras_se.layers.base_attention import BaseAttention
from keras_se.layers.bottleneck import set_width_arguments
from keras_se.layers.weight_arguments import fresh_initializer


@keras.saving.register_keras_serializable(package="keras_se")
@fill_shapes((2, 7, 7, 32), "extent=4, extra_params=True")
class GatherExcite2D(BaseAttention):
    """Gather-Excite attention: gather context over an extent, excite, rescale.

    The *gather* summarizes each channel over a neighbourhood: the whole map
    with `extent=0` (the mean, as SE), or, with `extent=e` (a power of two),
    every `e`-th position: parameter-free, an average pool with a window of
    `2e - 1`, stride `e` and `e - 1` positions of padding left out of the
    average (PyTorch's `count_include_pad=False`); with `extra_params=True`,
    `log2(e)` depthwise 3x3 convolutions of stride 2 (padding 1, no bias),
    each followed by batch normalization, with `activation` between them.
    With `use_mlp=True` the gathered map goes through two 1x1 convolutions
    with biases, `channels -> channels / ratio -> channels`, with
    `activation` between them. The *excite* is the gate of the result,
    resized to the input's size by nearest neighbour (PyTorch's
    `F.interpolate` rule), and the output is the input times the gate.
    The defaults are those of timm's `GatherExcite`; with them the block is
    an SE block with timm's rounding of the width.

    `initialize_as_identity()` (used by `wrap_with_se`) works for every
    configuration with weights: `use_mlp=True` (any extent), or
    `extra_params=True`. `use_mlp=False` with a parameter-free gather has
    nothing to zero, and raises.

    Args:
        extent: 0 (global) or a power of two, the gather's stride. An
            extent at least the map's height and width is a global gather,
            as in timm, whose pool then has one window that holds the whole
            map (padding left out of the average): the parameter-free
            gather takes the spatial mean (and maximum), and the gate is
            one value per channel. With `extra_params=True` the
            convolutions run down to a 1x1 map likewise. Defaults to 0.
        extra_params: whether a strided gather has weights (GE-θ). Needs
            `extent > 0` (timm's global gather with weights is a depthwise
            convolution with "same" padding, no global gather).
            Defaults to `False`.
        use_mlp: whether the gathered map goes through the two 1x1
            convolutions (GE-θ+). Defaults to `True`.
        ratio: positive number, the reduction ratio of the MLP: it has
            `channels / ratio` units, rounded to the nearest multiple of
            `divisor` (halves up) and at least `divisor`. Defaults to 16.
        {width_args}
        add_maxpool: whether the parameter-free gather averages its mean with
            the maximum over the same window (timm's experimental option).
            Defaults to `False`.
        activation: the activation in the MLP and between the gather's
            convolutions, any Keras activation. Defaults to `"relu"`.
        gate: one of `keras_se.layers.GATES`. Defaults to `"sigmoid"`.
        gate_scale: positive float, a constant the gate is multiplied by.
            Defaults to 1.0.
        data_format: `"channels_last"` or `"channels_first"`; `None`
            means `keras.config.image_data_format()` at construction.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, kernel_constraint, bias_constraint: for the MLP's
            steps; the kernel ones also for the depthwise convolutions.
            Each step gets its own initializer instance.
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: a 4D tensor.
        training: whether the batch normalization of `extra_params=True`
            uses the batch's statistics.

    {shapes}
    Reference:
        - [Hu et al., Gather-Excite: Exploiting Feature Context in
            Convolutional Neural Networks, NeurIPS 2018](
            https://arxiv.org/abs/1810.12348)
    """

    attention_kind = "ge"
    own_arguments = (
        "extent",
        "extra_params",
        "use_mlp",
        "ratio",
        "units",
        "divisor",
        "add_maxpool",
        "activation",
    )

    @property
    def has_channel_gate(self) -> bool:
        # A strided gather has one gate per region and channel.
        return self.extent == 0

    @property
    def bottleneck_width(self) -> int | None:
        # The MLP width is computed even when there is no MLP.
        return self.mlp_units if self.built and self.use_mlp else None

    def __init__(
        self,
        extent: int = 0,
        extra_params: bool = False,
        use_mlp: bool = True,
        ratio: float = 16,
        units: int | None = None,
        divisor: int = 1,
        add_maxpool: bool = False,
        activation: str | Callable | None = "relu",
        gate: str = "sigmoid",
        gate_scale: float = 1.0,
        data_format: str | None = None,
        **kwargs,
    ):
        is_int = isinstance(extent, int) and not isinstance(extent, bool)
        if not is_int or extent == 1 or extent < 0 or extent & (extent - 1):
            raise ValueError(
                "`extent` must be 0 (global) or a power of two from 2 up, such "
                f"as 2, 4 or 8. Received: extent={extent!r}"
            )
        self.extent = extent
        self.extra_params = check_bool("extra_params", extra_params)
        if extra_params and extent == 0:
            raise ValueError(
                "`extra_params=True` needs a strided gather, `extent` of 2 or "
                "more. Received: extra_params=True, extent=0"
            )
        self.use_mlp = check_bool("use_mlp", use_mlp)
        set_width_arguments(self, ratio, units, divisor)
        self.add_maxpool = check_bool("add_maxpool", add_maxpool)
        if add_maxpool and extra_params:
            raise ValueError(
                "`add_maxpool=True` applies to the parameter-free gather only. "
                "Received: add_maxpool=True, extra_params=True"
            )
        self.activation = get_keras_object("activation", activation)
        super().__init__(gate, gate_scale, data_format, **kwargs)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.mlp_units = timm_units(channels, self.ratio, self.units, self.divisor)
        self.gather_convs, self.gather_norms = [], []
        if self.extra_params:
            # The steps' weights depend on the channels only.
            shape = [None, None, None, None]
            shape[self.channel_axis] = channels
            for index in range(int(math.log2(self.extent))):
                conv = keras.layers.DepthwiseConv2D(
                    3,
                    strides=2,
                    padding="valid",
                    use_bias=False,
                    depthwise_initializer=fresh_initializer(
                        self.kernel_initializer, index
                    ),
                    depthwise_regularizer=self.kernel_regularizer,
                    depthwise_constraint=self.kernel_constraint,
                    data_format=self.data_format,
                    dtype=self.dtype_policy,
                    name=f"gather_conv{index + 1}",
                )
                norm = keras.layers.BatchNormalization(
                    axis=self.channel_axis,
                    momentum=BATCH_NORM_MOMENTUM,
                    epsilon=BATCH_NORM_EPSILON,
                    dtype=self.dtype_policy,
                    name=f"gather_norm{index + 1}",
                )
                conv.build(tuple(shape))
                norm.build(tuple(shape))
                self.gather_convs.append(conv)
                self.gather_norms.append(norm)
        if self.use_mlp:
            offset = len(self.gather_convs)
            self.reduce = self._dense(self.mlp_units, self.activation, "reduce", offset)
            self.expand = self._dense(channels, None, "expand", offset + 1)
            self.reduce.build((None, channels))
            self.expand.build((None, self.mlp_units))

    def initialize_as_identity(self) -> None:
        """Zeroes the last weighted step, so that the block starts as the identity.

        With `use_mlp=True` that is the MLP's `expand` step; with
        `use_mlp=False` and `extra_params=True`, the scale and offset of the
        last batch normalization. The gate then sees logits of 0, and
        `gate_scale * gate(0)` is 1 for a sigmoid or hard-sigmoid gate with
        `gate_scale=2`.

        Raises:
            ValueError: if the layer is not built, its gate and `gate_scale`
                are not 1 at 0, or it has no weights (`use_mlp=False` and
                `extra_params=False`).
        """
        if not (self.use_mlp or self.extra_params):
            raise ValueError(
                "`GatherExcite2D` without weights cannot start as the identity: "
                "set `use_mlp=True`, or `extra_params=True` with `extent` of 2 "
                "or more. Received: use_mlp=False, extra_params=False"
            )
        self._check_identity_start()
        if self.use_mlp:
            self._zero(self.expand.weights)
        else:
            norm = self.gather_norms[-1]
            self._zero([norm.gamma, norm.beta])

    def _gather(self, inputs, training):
        if self.extra_params:
            return convolution_gather(
                inputs,
                self.gather_convs,
                self.gather_norms,
                self.activation,
                self.data_format,
                training,
            )
        return parameter_free_gather(
            inputs, self.extent, self.add_maxpool, self.spatial_axes, self.data_format
        )

    def excitation(self, inputs, training=None):
        """Returns the gate before its resize: `(batch, channels)` for
        `extent=0`, else a map of `ceil(size / extent)` positions per axis,
        in the layer's data format."""
        gathered = self._gather(inputs, training)
        if self.use_mlp:
            if gathered.ndim == 4 and self.data_format == "channels_first":
                hidden = ops.transpose(gathered, (0, 2, 3, 1))
                gathered = ops.transpose(self.expand(self.reduce(hidden)), (0, 3, 1, 2))
            else:
                gathered = self.expand(self.reduce(gathered))
        return self._scaled_gate(gathered)

    def call(self, inputs, training=None):
        gate = self.excitation(inputs, training)
        if self.extent == 0:
            gate = self._per_channel(gate)
        else:
            # Nearest resize commutes with the elementwise gate: resizing the
            # gate is cheaper than gating the resized map.
            height, width = (ops.shape(inputs)[axis] for axis in self.spatial_axes)
            gate = resize_nearest(gate, height, width, self.data_format)
        return inputs * ops.cast(gate, inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "extent": self.extent,
                "extra_params": self.extra_params,
                "use_mlp": self.use_mlp,
                "ratio": self.ratio,
                "units": self.units,
                "divisor": self.divisor,
                "add_maxpool": self.add_maxpool,
                "activation": keras.activations.serialize(self.activation),
            }
        )
        return config
