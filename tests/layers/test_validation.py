"""Bad arguments and inputs fail early with a message naming them."""

from __future__ import annotations

import re

import keras
import pytest

import keras_se

SE_LAYERS = [
    keras_se.SqueezeExcite1D,
    keras_se.SqueezeExcite2D,
    keras_se.SqueezeExcite3D,
]
BAD_COUNTS = [0, -3, 2.0, 1.5, "16", True, False, None]
# A float ratio is a ratio: 2.0 and 1.5 are fine.
BAD_RATIOS = [0, -3, -1.5, 0.0, "16", True, False, None, float("inf"), float("nan")]
ALL_LAYERS = [*SE_LAYERS, keras_se.SqueezeExciteConv2D]


def required_args(layer_class):
    return {"filters": 8} if layer_class is keras_se.SqueezeExciteConv2D else {}


@pytest.mark.parametrize("layer_class", ALL_LAYERS)
@pytest.mark.parametrize(
    "argument, value",
    [("divisor", value) for value in BAD_COUNTS]
    # units=None means "use ratio".
    + [("units", value) for value in BAD_COUNTS if value is not None],
)
def test_counts_must_be_positive_ints(layer_class, argument, value):
    args = required_args(layer_class)
    with pytest.raises(ValueError, match=rf"`{argument}` must be a positive integer"):
        layer_class(**args, **{argument: value})
    with pytest.raises(ValueError, match=re.escape(f"Received: {argument}={value!r}")):
        layer_class(**args, **{argument: value})


@pytest.mark.parametrize("layer_class", ALL_LAYERS)
@pytest.mark.parametrize("value", BAD_RATIOS)
def test_ratio_must_be_a_positive_number(layer_class, value):
    with pytest.raises(ValueError) as error:
        layer_class(**required_args(layer_class), ratio=value)
    assert str(error.value) == (
        f"`ratio` must be a positive number. Received: ratio={value!r}"
    )


@pytest.mark.parametrize("layer_class", ALL_LAYERS)
@pytest.mark.parametrize("value", [2.0, 1.5, 0.5, 16])
def test_float_ratios_are_accepted(layer_class, value):
    layer = layer_class(**required_args(layer_class), ratio=value)
    assert layer.get_config()["ratio"] == value


@pytest.mark.parametrize("layer_class", ALL_LAYERS)
@pytest.mark.parametrize(
    "value", [-0.1, 1, 1.0, 1.5, "0.9", True, None, float("nan"), float("inf")]
)
def test_round_limit_must_be_in_unit_interval(layer_class, value):
    with pytest.raises(ValueError) as error:
        layer_class(**required_args(layer_class), round_limit=value)
    assert str(error.value) == (
        f"`round_limit` must be a number in [0, 1). Received: round_limit={value!r}"
    )


@pytest.mark.parametrize(
    "argument, value, allowed",
    [
        ("gate", "softmax", "'sigmoid'"),
        ("gate", None, "'hard_sigmoid'"),
        ("squeeze", "mean", "'avg', 'max'"),
        ("data_format", "NHWC", "'channels_last', 'channels_first'"),
        ("activation", "not_an_activation", "keras.activations"),
        ("kernel_initializer", "nope", "keras.initializers"),
        ("kernel_regularizer", "nope", "keras.regularizers"),
        ("kernel_constraint", "nope", "keras.constraints"),
        ("use_bias", "yes", "True or False"),
    ],
)
def test_unknown_names_list_what_is_allowed(argument, value, allowed):
    with pytest.raises(ValueError) as error:
        keras_se.SqueezeExcite2D(**{argument: value})
    message = str(error.value)
    assert f"`{argument}`" in message
    assert f"{argument}={value!r}" in message
    assert allowed in message


@pytest.mark.parametrize(
    "layer_class, shape",
    [
        (keras_se.SqueezeExcite1D, (None, 8, 8, 4)),
        (keras_se.SqueezeExcite2D, (None, 8, 4)),
        (keras_se.SqueezeExcite2D, (None, 2, 8, 8, 4)),
        (keras_se.SqueezeExcite3D, (None, 8, 8, 4)),
    ],
)
def test_wrong_input_rank(layer_class, shape):
    with pytest.raises(
        ValueError, match=r"expects inputs of rank .*Received: input_shape"
    ):
        layer_class().build(shape)
    with pytest.raises(ValueError, match="ndim"):
        layer_class()(keras.Input(shape[1:]))


@pytest.mark.parametrize(
    "data_format, shape",
    [("channels_last", (None, 8, 8, None)), ("channels_first", (None, None, 8, 8))],
)
def test_unknown_channel_count(data_format, shape):
    layer = keras_se.SqueezeExcite2D(data_format=data_format)
    with pytest.raises(ValueError, match=r"known channel count.*input_shape"):
        layer.build(shape)


def test_residual_needs_matching_channels():
    block = keras_se.SqueezeExciteConv2D(16, residual=True)
    with pytest.raises(ValueError, match=r"`filters` must equal .* \(8\)"):
        block.build((None, 4, 4, 8))


@pytest.mark.parametrize("argument, value", [("filters", 0), ("kernel_size", -1)])
def test_conv_block_counts(argument, value):
    args = {"filters": 8, argument: value}
    with pytest.raises(ValueError, match=rf"`{argument}` must be a positive integer"):
        keras_se.SqueezeExciteConv2D(**args)


def test_conv_block_residual_must_be_bool():
    with pytest.raises(ValueError, match="`residual` must be True or False"):
        keras_se.SqueezeExciteConv2D(8, residual="yes")


def test_conv_block_checks_se_arguments_at_construction():
    with pytest.raises(ValueError, match="`gate`"):
        keras_se.SqueezeExciteConv2D(8, gate="nope")


@pytest.mark.parametrize(
    "value", [0, -1.0, "2", True, None, float("nan"), float("inf")]
)
def test_gate_scale_must_be_positive(value):
    with pytest.raises(ValueError, match=r"`gate_scale` must be a positive number"):
        keras_se.SqueezeExcite2D(gate_scale=value)
