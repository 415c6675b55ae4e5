"""The private base of the `EffectiveSqueezeExcite1D/2D/3D` layers (eSE)."""

from __future__ import annotations

import keras
from keras import ops

from keras_se._validation import check_bool
from keras_se.layers.base_attention import BaseChannelGate
from keras_se.layers.squeeze import spatial_max, spatial_mean


class BaseEffectiveSqueezeExcite(BaseChannelGate):
    """Effective Squeeze-and-Excitation over `rank` spatial axes.

    Holds the arguments, build, excitation and `get_config` for the 1D/2D/3D
    variants, which only set `rank` and their docstrings.
    """

    rank: int = 2
    attention_kind = "ese"
    own_arguments = ("add_maxpool",)

    def __init__(
        self,
        add_maxpool: bool = False,
        gate: str = "hard_sigmoid",
        gate_scale: float = 1.0,
        data_format: str | None = None,
        kernel_initializer: str | keras.initializers.Initializer = "glorot_uniform",
        bias_initializer: str | keras.initializers.Initializer = "zeros",
        kernel_regularizer: str | keras.regularizers.Regularizer | None = None,
        bias_regularizer: str | keras.regularizers.Regularizer | None = None,
        kernel_constraint: str | keras.constraints.Constraint | None = None,
        bias_constraint: str | keras.constraints.Constraint | None = None,
        **kwargs,
    ):
        self.add_maxpool = check_bool("add_maxpool", add_maxpool)
        super().__init__(
            gate=gate,
            gate_scale=gate_scale,
            data_format=data_format,
            weight_arguments={
                "kernel_initializer": kernel_initializer,
                "bias_initializer": bias_initializer,
                "kernel_regularizer": kernel_regularizer,
                "bias_regularizer": bias_regularizer,
                "kernel_constraint": kernel_constraint,
                "bias_constraint": bias_constraint,
            },
            **kwargs,
        )

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.fc = keras.layers.Dense(
            channels, **self._sublayer_weights(), dtype=self.dtype_policy, name="fc"
        )
        self.fc.build((None, channels))

    def initialize_as_identity(self) -> None:
        """Zeroes the fully connected step, so that the block starts as the identity.

        The gate then sees logits of 0 for every input, and
        `gate_scale * gate(0)` is 1 for a sigmoid or hard-sigmoid gate with
        `gate_scale=2`: the block returns its input exactly.

        Raises:
            ValueError: if the layer is not built, or its gate and
                `gate_scale` are not 1 at 0.
        """
        self._check_identity_start()
        self._zero(self.fc.weights)

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
