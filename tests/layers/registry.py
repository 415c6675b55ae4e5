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
import math
from typing import Any

import keras

from keras_se.layers import (
    CBAM2D,
    EffectiveSqueezeExcite1D,
    EffectiveSqueezeExcite2D,
    EffectiveSqueezeExcite3D,
    EfficientChannelAttention1D,
    EfficientChannelAttention2D,
    EfficientChannelAttention3D,
    GatherExcite2D,
    GlobalContext2D,
    SqueezeExcite1D,
    SqueezeExcite2D,
    SqueezeExcite3D,
    SqueezeExciteConv2D,
    bottleneck_units,
    make_divisible,
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
# Every GC / GE / CBAM argument away from its default.
TIMM_ARGS = {
    "ratio": 2.5,
    "divisor": 2,
    "activation": "gelu",
    "gate": "hard_sigmoid",
    "gate_scale": 2.0,
    "data_format": "channels_last",
    "kernel_initializer": "he_normal",
    "kernel_regularizer": keras.regularizers.L2(1e-3),
    "kernel_constraint": keras.constraints.MaxNorm(2.0),
}
GC_ARGS = {**TIMM_ARGS, "fusion": "both", "use_attention": False}
GE_ARGS = {**TIMM_ARGS, "extent": 2, "extra_params": True, "use_mlp": False}
CBAM_ARGS = {**TIMM_ARGS, "spatial_kernel_size": 3}
# Every ECA argument away from its default; a positive start, so that
# `non_neg` leaves every weight to the data.
ECA_ARGS = {
    "kernel_size": 5,
    "gamma": 1.5,
    "beta": 0.5,
    "padding": "circular",
    "gate": "hard_sigmoid",
    "gate_scale": 2.0,
    "data_format": "channels_last",
    "kernel_initializer": keras.initializers.RandomUniform(0.1, 0.5, seed=7),
    "kernel_regularizer": keras.regularizers.L2(1e-3),
    "kernel_constraint": "non_neg",
}
# Every eSE argument away from its default.
ESE_ARGS = {
    "add_maxpool": True,
    "gate": "sigmoid",
    "gate_scale": 2.0,
    "data_format": "channels_last",
    "kernel_initializer": "he_normal",
    "bias_initializer": keras.initializers.Constant(0.1),
    "kernel_regularizer": keras.regularizers.L2(1e-3),
    "bias_regularizer": "l1",
    "kernel_constraint": keras.constraints.MaxNorm(2.0),
    "bias_constraint": "non_neg",
}

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
    LayerCase("gc", GlobalContext2D, {}, (2, 4, 5, 16)),
    LayerCase("gc_all_args", GlobalContext2D, GC_ARGS, (2, 3, 4, 16)),
    LayerCase("gc_add_bias_args", GlobalContext2D, {**BIAS_ARGS, "fusion": "add"}, (2, 3, 4, 6)),
    LayerCase("gc_channels_first", GlobalContext2D, {**FIRST, "ratio": 2, "fusion": "both"}, (2, 8, 4, 5)),
    LayerCase("ge", GatherExcite2D, {}, (2, 4, 5, 16)),
    LayerCase("ge_strided_maxpool", GatherExcite2D, {"extent": 2, "add_maxpool": True, "ratio": 4}, (2, 5, 6, 8)),
    LayerCase("ge_extra_params", GatherExcite2D, {"extent": 4, "extra_params": True, "ratio": 4}, (2, 6, 7, 8)),
    LayerCase("ge_all_args", GatherExcite2D, GE_ARGS, (2, 5, 4, 8)),
    LayerCase("ge_mlp_bias_args", GatherExcite2D, {**BIAS_ARGS, "extent": 2, "extra_params": True}, (2, 4, 5, 6)),
    LayerCase("ge_channels_first", GatherExcite2D, {**FIRST, "extent": 2, "extra_params": True, "ratio": 2}, (2, 8, 5, 4)),
    LayerCase("ge_channels_first_pool", GatherExcite2D, {**FIRST, "extent": 4, "ratio": 2}, (2, 8, 5, 6)),
    LayerCase("cbam", CBAM2D, {}, (2, 4, 5, 16)),
    LayerCase("cbam_all_args", CBAM2D, CBAM_ARGS, (2, 5, 4, 16)),
    LayerCase("cbam_units", CBAM2D, {"units": 3, "activation": "swish", "gate": "tanh"}, (2, 4, 4, 6)),
    LayerCase("cbam_channels_first", CBAM2D, {**FIRST, "ratio": 2}, (2, 8, 4, 5)),
    LayerCase("eca1d", EfficientChannelAttention1D, {}, (2, 6, 16), supports_masking=True),
    LayerCase("eca1d_circular", EfficientChannelAttention1D, {"padding": "circular"}, (2, 5, 6), supports_masking=True),
    LayerCase("eca2d", EfficientChannelAttention2D, {}, (2, 4, 5, 16), supports_masking=True),
    LayerCase("eca2d_all_args", EfficientChannelAttention2D, ECA_ARGS, (2, 3, 4, 16), supports_masking=True),
    LayerCase("eca2d_adaptive_k5", EfficientChannelAttention2D, {}, (2, 2, 2, 128), supports_masking=True),
    LayerCase("eca2d_channels_first", EfficientChannelAttention2D, {**FIRST, "gate": "tanh"}, (2, 8, 4, 5), supports_masking=True),
    LayerCase("eca3d", EfficientChannelAttention3D, {"kernel_size": 3, "padding": "circular"}, (2, 2, 3, 2, 6), supports_masking=True),
    LayerCase("eca3d_channels_first", EfficientChannelAttention3D, FIRST, (2, 16, 2, 3, 2), supports_masking=True),
    LayerCase("ese1d", EffectiveSqueezeExcite1D, {}, (2, 6, 8), supports_masking=True),
    LayerCase("ese2d", EffectiveSqueezeExcite2D, {}, (2, 4, 5, 8), supports_masking=True),
    LayerCase("ese2d_all_args", EffectiveSqueezeExcite2D, ESE_ARGS, (2, 3, 4, 6), supports_masking=True),
    LayerCase("ese2d_channels_first", EffectiveSqueezeExcite2D, {**FIRST, "add_maxpool": True}, (2, 6, 3, 4), supports_masking=True),
    LayerCase("ese3d", EffectiveSqueezeExcite3D, {}, (2, 2, 3, 2, 6), supports_masking=True),
    LayerCase("ese3d_channels_first", EffectiveSqueezeExcite3D, {**FIRST, "gate": "tanh"}, (2, 4, 2, 2, 3), supports_masking=True),
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


def eca_counts(args: dict, channels: int) -> tuple[int, int, int]:
    """One bias-free kernel of k weights; k from ECA-Net's rule as timm floors it."""
    size = args["kernel_size"]
    if size is None:
        t = int(abs(math.log2(channels) + args["beta"]) / args["gamma"])
        size = max(3, t + 1 - t % 2)
    return 1, 0, size


def ese_counts(args: dict, channels: int) -> tuple[int, int, int]:
    """One C -> C dense step with a bias."""
    return 2, 0, channels * channels + channels


def timm_width(args: dict, channels: int) -> int:
    """timm's `make_divisible(C * rd_ratio, rd_divisor, round_limit=0.)`."""
    if args["units"] is not None:
        return args["units"]
    return make_divisible(channels / args["ratio"], args["divisor"], round_limit=0.0)


def gc_counts(args: dict, channels: int) -> tuple[int, int, int]:
    """A C -> 1 attention conv with bias; per fusion C -> u -> LayerNorm(u) -> C."""
    units, fusions = timm_width(args, channels), 2 if args["fusion"] == "both" else 1
    attention = args["use_attention"]
    transform = 2 * channels * units + units + channels + 2 * units
    weights = 2 * attention + 6 * fusions
    return weights, 0, (channels + 1) * attention + fusions * transform


def ge_counts(args: dict, channels: int) -> tuple[int, int, int]:
    """log2(extent) x (3x3 depthwise, batch norm) if extra_params; C -> u -> C MLP."""
    steps = int(math.log2(args["extent"])) if args["extra_params"] else 0
    units = timm_width(args, channels)
    mlp = args["use_mlp"]
    params = steps * 13 * channels + mlp * (2 * channels * units + units + channels)
    return 3 * steps + 4 * mlp, 2 * steps, params


def cbam_counts(args: dict, channels: int) -> tuple[int, int, int]:
    """A bias-free C -> u -> C MLP, a k x k conv 2 -> 1, a 1-channel batch norm."""
    units, size = timm_width(args, channels), args["spatial_kernel_size"]
    return 5, 2, 2 * channels * units + 2 * size * size + 4


# Independent parameter formulas, from the resolved arguments and the input's
# channel count; a class without one gives its counts on its registry lines.
COUNT_FORMULAS = {
    SqueezeExcite1D: se_counts,
    SqueezeExcite2D: se_counts,
    SqueezeExcite3D: se_counts,
    SqueezeExciteConv2D: conv_counts,
    EfficientChannelAttention1D: eca_counts,
    EfficientChannelAttention2D: eca_counts,
    EfficientChannelAttention3D: eca_counts,
    EffectiveSqueezeExcite1D: ese_counts,
    EffectiveSqueezeExcite2D: ese_counts,
    EffectiveSqueezeExcite3D: ese_counts,
    GlobalContext2D: gc_counts,
    GatherExcite2D: ge_counts,
    CBAM2D: cbam_counts,
}


# Every public layer class, in registry order; a test checks this is the set
# of layers `keras_se.layers.__all__` exports.
LAYER_CLASSES = tuple(dict.fromkeys(case.layer_class for case in LAYER_CASES))
