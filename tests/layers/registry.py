"""The layer contract registry: one line per public layer and argument set.

Every public layer of `keras_se.layers` is listed here; `test_contract.py`
runs the whole contract (config, serialization, fresh-process reload, shapes,
weights, a training step, masking, dtype policies, backends) over every case,
with the checks of `harness.py`. Adding a layer means adding its lines here,
with its expected weight and parameter counts unless `COUNT_FORMULAS` has a
formula for its class.
"""

# ruff: noqa: E501 -- LAYER_CASES is a table, one case per line.

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import keras

from keras_se.layers import (
    SqueezeExcite1D,
    SqueezeExcite2D,
    SqueezeExcite3D,
    SqueezeExciteConv2D,
    bottleneck_units,
)


@dataclasses.dataclass(frozen=True)
class LayerCase:
    """One layer class with one set of arguments and one input shape.

    Attributes:
        id: the pytest id of the case.
        layer_class: the public layer class.
        init_kwargs: the constructor arguments; never mutated by the harness.
        input_shape: the input's shape, batch first (a tiny one: CI is a CPU).
        expected_output_shape: the output's shape; `None` means the input's.
        supports_masking: whether the layer takes a padding mask (over every
            axis but the batch and the channels); the harness checks the layer
            says the same.
        expected_weights: `(trainable, non_trainable)` weight counts, and
        expected_params: the parameter count; `None` means the class's
            formula in `COUNT_FORMULAS` computes it.
    """

    id: str
    layer_class: type[keras.layers.Layer]
    init_kwargs: dict[str, Any]
    input_shape: tuple[int, ...]
    expected_output_shape: tuple[int, ...] | None = None
    supports_masking: bool = False
    expected_weights: tuple[int, int] | None = None
    expected_params: int | None = None

    @property
    def output_shape(self) -> tuple[int, ...]:
        if self.expected_output_shape is None:
            return self.input_shape
        return self.expected_output_shape

    @property
    def channels_first(self) -> bool:
        return self.init_kwargs.get("data_format") == "channels_first"


# Every SE argument away from its default, so a dropped or mangled one shows.
SE_ARGS = {
    "ratio": 2.5,
    "divisor": 2,
    "round_limit": 0.5,
    "activation": "gelu",
    "gate": "hard_sigmoid",
    "gate_scale": 2.0,
    "squeeze": "max",
    "data_format": "channels_last",
    "use_bias": False,
    "kernel_initializer": "he_normal",
    "kernel_regularizer": keras.regularizers.L2(1e-3),
    "kernel_constraint": "non_neg",
}
# The bias arguments, with biases on, and an absolute width on a float ratio.
BIAS_ARGS = {
    "units": 3,
    "ratio": 0.5,
    "activation": "swish",
    "gate": "tanh",
    "bias_initializer": keras.initializers.Constant(0.1),
    "bias_regularizer": "l1",
    "bias_constraint": keras.constraints.MaxNorm(2.0),
}
FIRST = {"data_format": "channels_first"}
CONV_ARGS = {**SE_ARGS, "kernel_size": 1, "residual": True}

# fmt: off
LAYER_CASES = (
    LayerCase("se1d", SqueezeExcite1D, {}, (2, 6, 16), supports_masking=True),
    LayerCase("se1d_all_args", SqueezeExcite1D, SE_ARGS, (2, 6, 16), supports_masking=True),
    LayerCase("se1d_bias_args", SqueezeExcite1D, BIAS_ARGS, (2, 5, 6), supports_masking=True),
    LayerCase("se1d_channels_first", SqueezeExcite1D, {**FIRST, "ratio": 2}, (2, 8, 5), supports_masking=True),
    LayerCase("se2d", SqueezeExcite2D, {}, (2, 4, 5, 16), supports_masking=True),
    LayerCase("se2d_all_args", SqueezeExcite2D, SE_ARGS, (2, 3, 4, 16), supports_masking=True),
    LayerCase("se2d_bias_args", SqueezeExcite2D, BIAS_ARGS, (2, 3, 4, 6), supports_masking=True),
    LayerCase("se2d_channels_first", SqueezeExcite2D, {**FIRST, "ratio": 2, "gate": "hard_sigmoid"}, (2, 8, 4, 5), supports_masking=True),
    LayerCase("se2d_mobilenet_v3", SqueezeExcite2D, {"ratio": 4, "divisor": 8}, (2, 3, 3, 24), supports_masking=True),
    LayerCase("se3d", SqueezeExcite3D, {}, (2, 2, 3, 4, 16), supports_masking=True),
    LayerCase("se3d_all_args", SqueezeExcite3D, SE_ARGS, (2, 2, 3, 2, 16), supports_masking=True),
    LayerCase("se3d_channels_first", SqueezeExcite3D, {**FIRST, **BIAS_ARGS}, (2, 6, 2, 3, 2), supports_masking=True),
    LayerCase("conv", SqueezeExciteConv2D, {"filters": 8}, (2, 5, 6, 4), (2, 5, 6, 8)),
    LayerCase("conv_residual", SqueezeExciteConv2D, {"filters": 8, "residual": True, "ratio": 4}, (2, 5, 6, 8)),
    LayerCase("conv_kernel_1_all_args", SqueezeExciteConv2D, {**CONV_ARGS, "filters": 16}, (2, 3, 4, 16)),
    LayerCase("conv_bias_args", SqueezeExciteConv2D, {**BIAS_ARGS, "filters": 6, "kernel_size": 2}, (2, 4, 5, 3), (2, 4, 5, 6)),
    LayerCase("conv_channels_first", SqueezeExciteConv2D, {**FIRST, "filters": 6, "ratio": 2}, (2, 3, 4, 5), (2, 6, 4, 5)),
)
# fmt: on


def se_counts(args: dict, channels: int) -> tuple[int, int, int]:
    """An SE block: C -> u -> C, two dense steps: C*u + u + u*C + C with biases."""
    wanted = inspect.signature(bottleneck_units).parameters
    units = bottleneck_units(
        channels, **{k: v for k, v in args.items() if k in wanted and k != "channels"}
    )
    biases = units + channels if args["use_bias"] else 0
    return (4 if args["use_bias"] else 2), 0, 2 * channels * units + biases


def conv_counts(args: dict, channels: int) -> tuple[int, int, int]:
    """A k x k convolution to `filters` channels, then an SE block on them."""
    filters, size, bias = args["filters"], args["kernel_size"], args["use_bias"]
    se_weights, _, se_params = se_counts(args, filters)
    conv_params = size * size * channels * filters + (filters if bias else 0)
    return se_weights + (2 if bias else 1), 0, se_params + conv_params


# Independent parameter formulas, from the resolved arguments and the input's
# channel count; a class without one gives its counts on its registry lines.
COUNT_FORMULAS = {
    SqueezeExcite1D: se_counts,
    SqueezeExcite2D: se_counts,
    SqueezeExcite3D: se_counts,
    SqueezeExciteConv2D: conv_counts,
}


# Every public layer class, in registry order; a test checks this is the set
# of layers `keras_se.layers.__all__` exports.
LAYER_CLASSES = tuple(dict.fromkeys(case.layer_class for case in LAYER_CASES))
