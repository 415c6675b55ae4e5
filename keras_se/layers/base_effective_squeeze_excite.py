"""The private base of the `EffectiveSqueezeExcite1D/2D/3D` layers (eSE)."""

from __future__ import annotations

import keras
from keras import ops

from keras_se._validation import check_bool
from keras_se.layers._docstrings import IDENTITY_DOC, DocTemplate
from keras_se.layers.base_attention import BaseChannelGate
from keras_se.layers.squeeze import spatial_max, spatial_mean

# The class docstring of the 1D, 2D and 3D variants, filled per rank.
ESE_DOC = DocTemplate(
    """Effective Squeeze-and-Excitation (eSE) for {subject}.

    Squeeze-and-Excitation with one fully connected step in place of the
    bottleneck, so that no channel information is lost to the reduction:
    the squeeze averages every channel over the spatial axes,
    `z_c = {mean} * sum(u_c)`, one step `W z + b` maps the `C` means to `C` logits,
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
        inputs: a {tensor} tensor.
        mask: optional boolean mask over the spatial axes (a sequence's
            padding mask): masked positions are left out of the squeeze
            (mean and max), and a sample whose positions are all masked
            squeezes to 0.

    {shapes}
    Reference:
        - [Lee and Park, CenterMask: Real-Time Anchor-Free Instance
            Segmentation, CVPR 2020](https://arxiv.org/abs/1911.06667)
    """,
    {1: (2, 10, 64), 2: (2, 8, 8, 64), 3: (2, 4, 4, 4, 64)},
    more=("layer.count_params()", "4160"),
)


class BaseEffectiveSqueezeExcite(BaseChannelGate):
    """Effective Squeeze-and-Excitation: the body of the 1D, 2D and 3D variants."""

    rank: int = 2
    attention_kind = "ese"
    own_arguments = ("add_maxpool",)

    def __init__(
        self,
        add_maxpool: bool = False,
        gate: str = "hard_sigmoid",
        gate_scale: float = 1.0,
        data_format: str | None = None,
        **kwargs,
    ):
        self.add_maxpool = check_bool("add_maxpool", add_maxpool)
        super().__init__(gate, gate_scale, data_format, **kwargs)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.fc = keras.layers.Dense(
            channels, **self._sublayer_weights(), dtype=self.dtype_policy, name="fc"
        )
        self.fc.build((None, channels))

    def initialize_as_identity(self) -> None:
        self._check_identity_start()
        self._zero(self.fc.weights)

    initialize_as_identity.__doc__ = IDENTITY_DOC.format(
        what="the fully connected step"
    )

    def _squeeze(self, inputs, mask):
        squeezed = spatial_mean(inputs, self.rank, self.data_format, mask)
        if self.add_maxpool:
            maximum = spatial_max(inputs, self.rank, self.data_format, mask)
            half = ops.cast(0.5, squeezed.dtype)
            squeezed = half * squeezed + half * maximum
        return squeezed

    def excitation(self, inputs, mask=None):
        """Returns the gate values, shape `(batch, channels)`."""
        return self._scaled_gate(self.fc(self._squeeze(inputs, mask)))

    def get_config(self):
        config = super().get_config()
        config.update({"add_maxpool": self.add_maxpool})
        return config
