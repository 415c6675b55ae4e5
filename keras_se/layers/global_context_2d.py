"""The `GlobalContext2D` layer: GCNet's global context block."""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import ops

from keras_se._validation import (
    check_bool,
    check_choice,
    get_keras_object,
)
from keras_se.layers._attention_parts import timm_units
from keras_se.layers._docstrings import fill_shapes
from keras_se.layers.base_attention import BaseAttention
from keras_se.layers.bottleneck import set_width_arguments
from keras_se.layers.squeeze import accumulation_dtype

# How the transformed context meets the input: timm's `fuse_scale` (its
# default), `fuse_add` (the paper's), or both, each with its own transform.
FUSIONS = ("scale", "add", "both")
# timm's `LayerNorm2d` epsilon.
LAYER_NORM_EPSILON = 1e-6


@keras.saving.register_keras_serializable(package="keras_se")
@fill_shapes((2, 6, 6, 16), 'fusion="add"')
class GlobalContext2D(BaseAttention):
    """Global context block (GCNet): attention pooling, a transform, a fusion.

    The *context* is one vector per sample: a 1x1 convolution with bias maps
    the input to one logit per position, a softmax over all `H*W` positions
    turns the logits into weights, and the context is the weighted sum of the
    input, `c = sum_p softmax(w . x_p + b)_p x_p` (`use_attention=False`
    takes the plain spatial mean instead). The *transform* is
    `expand(activation(LayerNorm(reduce(c))))`, two 1x1 convolutions with
    biases on the context (dense steps on the vector) around a layer norm
    (epsilon 1e-6, timm's `LayerNorm2d`). The *fusion* is `"scale"`,
    `x * gate(transform(c))` (timm's default), `"add"`, `x + transform(c)`
    (the paper's), or `"both"`, scale then add, each with a transform of its
    own. The defaults are those of timm's `GlobalContext`.

    Args:
        ratio: positive number, the reduction ratio: the transform has
            `channels / ratio` units, rounded to the nearest multiple of
            `divisor` (halves up) and at least `divisor`, as timm rounds.
            Defaults to 8 (timm's `rd_ratio=1/8`).
        {width_args}
        fusion: `"scale"`, `"add"` or `"both"`. Defaults to `"scale"`.
        use_attention: whether the context is attention-pooled (`True`) or
            the spatial mean (`False`). Defaults to `True`.
        activation: the activation after the layer norm, any Keras
            activation. Defaults to `"relu"`.
        gate: the gate of the `"scale"` fusion, one of
            `keras_se.layers.GATES`. Defaults to `"sigmoid"`.
        gate_scale: positive float, a constant the gate is multiplied by.
            Defaults to 1.0.
        data_format: `"channels_last"` or `"channels_first"`; `None`
            means `keras.config.image_data_format()` at construction.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, kernel_constraint, bias_constraint: for the
            attention convolution and the dense steps, each with its own
            initializer instance (a seeded one gets `seed`, `seed + 1`, ...).
            timm draws the attention kernel with He normal, and zeroes the
            last kernel of the `"add"` transform: `initialize_as_identity()`
            does that (biases included).
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: a 4D tensor.

    {shapes}
    Reference:
        - [Cao et al., GCNet: Non-local Networks Meet Squeeze-Excitation
            Networks and Beyond, ICCVW 2019](https://arxiv.org/abs/1904.11492)
    """

    attention_kind = "gc"
    own_arguments = (
        "ratio",
        "units",
        "divisor",
        "fusion",
        "use_attention",
        "activation",
    )

    @property
    def has_channel_gate(self) -> bool:
        # The "add" fusion has no gate.
        return "scale" in self.fusions

    @property
    def bottleneck_width(self) -> int | None:
        return self.transform_units if self.built else None

    def __init__(
        self,
        ratio: float = 8,
        units: int | None = None,
        divisor: int = 1,
        fusion: str = "scale",
        use_attention: bool = True,
        activation: str | Callable | None = "relu",
        gate: str = "sigmoid",
        gate_scale: float = 1.0,
        data_format: str | None = None,
        **kwargs,
    ):
        set_width_arguments(self, ratio, units, divisor)
        self.fusion = check_choice("fusion", fusion, FUSIONS)
        self.use_attention = check_bool("use_attention", use_attention)
        self.activation = get_keras_object("activation", activation)
        super().__init__(gate, gate_scale, data_format, **kwargs)

    @property
    def fusions(self) -> tuple[str, ...]:
        """The transforms the layer has, in the order it applies them."""
        return ("scale", "add") if self.fusion == "both" else (self.fusion,)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.transform_units = timm_units(
            channels, self.ratio, self.units, self.divisor
        )
        self.attention = None
        if self.use_attention:
            # A 1x1 convolution to one map, as an einsum over the channel
            # axis: it runs in either data format on every backend.
            equation, output_shape = (
                ("bhwc,cn->bhwn", (None, None, 1))
                if self.data_format == "channels_last"
                else ("bchw,cn->bnhw", (1, None, None))
            )
            self.attention = keras.layers.EinsumDense(
                equation,
                output_shape,
                bias_axes="n",
                **self._sublayer_weights(0),
                dtype=self.dtype_policy,
                name="attention",
            )
            self.attention.build(tuple(input_shape))
        for index, fusion in enumerate(self.fusions):
            reduce = keras.layers.Dense(
                self.transform_units,
                **self._sublayer_weights(2 * index + 1),
                dtype=self.dtype_policy,
                name=f"{fusion}_reduce",
            )
            norm = keras.layers.LayerNormalization(
                epsilon=LAYER_NORM_EPSILON,
                dtype=self.dtype_policy,
                name=f"{fusion}_norm",
            )
            expand = keras.layers.Dense(
                channels,
                **self._sublayer_weights(2 * index + 2),
                dtype=self.dtype_policy,
                name=f"{fusion}_expand",
            )
            reduce.build((None, channels))
            norm.build((None, self.transform_units))
            expand.build((None, self.transform_units))
            # Attributes, so Keras tracks them: `scale_reduce`, `add_norm`, ...
            setattr(self, f"{fusion}_reduce", reduce)
            setattr(self, f"{fusion}_norm", norm)
            setattr(self, f"{fusion}_expand", expand)

    def initialize_as_identity(self) -> None:
        """Zeroes the last step of each transform: the block starts as the identity.

        The `"add"` transform then adds 0 (any gate will do); the `"scale"`
        transform's gate sees logits of 0, and `gate_scale * gate(0)` is 1
        for a sigmoid or hard-sigmoid gate with `gate_scale=2`.

        Raises:
            ValueError: if the layer is not built, or it has the `"scale"`
                fusion and its gate and `gate_scale` are not 1 at 0.
        """
        self._check_identity_start(gated="scale" in self.fusions)
        for fusion in self.fusions:
            self._zero(getattr(self, f"{fusion}_expand").weights)

    def context(self, inputs):
        """Returns the pooled context, shape `(batch, channels)`."""
        if self.attention is None:
            return ops.mean(inputs, axis=self.spatial_axes)
        # The logits, the softmax over all positions and the weighted sum, in
        # float32 at least: in float16 the logits of a few channels near 1e4
        # overflow, and the exponentials of a large map lose most of their
        # precision.
        wide = ops.cast(inputs, accumulation_dtype(inputs.dtype))
        logits = ops.cast(self._attention_logits(wide), wide.dtype)
        shifted = logits - ops.max(logits, axis=(1, 2), keepdims=True)
        weights = ops.exp(shifted)
        weights = weights / ops.sum(weights, axis=(1, 2), keepdims=True)
        equation = (
            "bhwc,bhw->bc" if self.data_format == "channels_last" else ("bchw,bhw->bc")
        )
        return ops.cast(ops.einsum(equation, wide, weights), inputs.dtype)

    def _attention_logits(self, wide):
        """One logit per position, `(batch, height, width)`, from the wide input."""
        attention = self.attention
        if attention.quantization_mode is not None:
            # Keras's quantized kernels compute in the layer's compute dtype.
            logits = attention(wide)
        else:
            kernel = ops.cast(attention.kernel, wide.dtype)
            logits = ops.einsum(attention.equation, wide, kernel)
            logits = logits + ops.cast(attention.bias, wide.dtype)
        return ops.squeeze(logits, axis=self.channel_axis)

    def excitation(self, inputs):
        """Returns the gate of the `"scale"` fusion, shape `(batch, channels)`.

        What the block multiplies its input by, one scale per channel and
        sample (before the `"add"` fusion, if any): the quantity of the
        excitation plots.

        Raises:
            ValueError: if the block has no `"scale"` fusion.
        """
        if "scale" not in self.fusions:
            raise ValueError(
                "`GlobalContext2D.excitation` needs the 'scale' fusion: the "
                f"'add' fusion has no gate. Received: fusion={self.fusion!r}"
            )
        gate = self._scaled_gate(self._transform("scale", self.context(inputs)))
        return ops.reshape(gate, (-1, inputs.shape[self.channel_axis]))

    def _transform(self, fusion, context):
        hidden = getattr(self, f"{fusion}_reduce")(context)
        hidden = self.activation(getattr(self, f"{fusion}_norm")(hidden))
        expand = getattr(self, f"{fusion}_expand")
        return self._per_channel(expand(hidden))

    def call(self, inputs):
        context = self.context(inputs)
        outputs = inputs
        if "scale" in self.fusions:
            gate = self._scaled_gate(self._transform("scale", context))
            outputs = outputs * ops.cast(gate, inputs.dtype)
        if "add" in self.fusions:
            outputs = outputs + ops.cast(self._transform("add", context), inputs.dtype)
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "ratio": self.ratio,
                "units": self.units,
                "divisor": self.divisor,
                "fusion": self.fusion,
                "use_attention": self.use_attention,
                "activation": keras.activations.serialize(self.activation),
            }
        )
        return config
