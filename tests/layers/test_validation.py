"""Bad arguments fail at construction with a message naming them and the value.

One table of bad values per argument, checked on every constructor of the
family that takes the argument (1D, 2D and 3D variants alike), through
`get_attention` and through `wrap_with_se(attention=..., attention_kwargs=...)`.
Checks that need the input's shape are in `test_build_validation.py`.
"""

from __future__ import annotations

import re

import keras
import pytest

import keras_se
from keras_se.layers import ATTENTIONS
from tests.layers.harness import init_arguments
from tests.layers.registry import LAYER_CLASSES

NAN, INF = float("nan"), float("inf")
BAD_COUNTS = [0, -3, 2.0, 1.5, "16", True, False]
BAD_BOOLS = ["yes", 1, None]
BAD_NUMBERS = ["2", True, None, NAN, INF]
BAD_NAMES = ["nope", 3]
# Each argument's bad values, refused by every constructor that takes it.
BAD_VALUES = {
    "filters": [*BAD_COUNTS, None],
    "kernel_size": [0, -1, 2.5, "3", True, False],
    "residual": BAD_BOOLS,
    # A float ratio is a ratio (2.0 and 0.5 are fine), down to 1/64: a
    # bottleneck at most 64 times as wide as the channels. 1e-320 would
    # overflow the division: it is refused before dividing.
    "ratio": [0, -3, -1.5, 0.0, 1 / 65, 1e-9, 1e-320, *BAD_NUMBERS, False],
    # units=None means "use ratio".
    "units": BAD_COUNTS,
    "divisor": [*BAD_COUNTS, None],
    "round_limit": [-0.1, 1, 1.0, 1.5, "0.9", True, None, NAN, INF],
    "activation": ["not_an_activation", 3],
    "gate": ["softmax", None],
    "gate_scale": [0, -1.0, *BAD_NUMBERS],
    "squeeze": ["mean", None],
    "data_format": ["NHWC", 3],
    "use_bias": BAD_BOOLS,
    "kernel_initializer": BAD_NAMES,
    "bias_initializer": BAD_NAMES,
    "kernel_regularizer": ["nope"],
    "bias_regularizer": ["nope"],
    "kernel_constraint": ["nope"],
    "bias_constraint": ["nope"],
    "fusion": ["mul", None],
    "use_attention": BAD_BOOLS,
    "extent": [1, 3, 6, -2, 2.0, "2", True, None],
    "extra_params": BAD_BOOLS,
    "use_mlp": BAD_BOOLS,
    "add_maxpool": BAD_BOOLS,
    "spatial_kernel_size": [0, -1, 4, 2.5, "7", True, None],
    "gamma": [0, -1.0, *BAD_NUMBERS],
    "beta": BAD_NUMBERS,
    "padding": ["reflect", None],
}
# Bad for one family only: ECA's kernel is odd, SE-conv's may be even.
ECA_CLASSES = (
    keras_se.layers.EfficientChannelAttention1D,
    keras_se.layers.EfficientChannelAttention2D,
    keras_se.layers.EfficientChannelAttention3D,
)
EXTRA_BAD_VALUES = {(layer_class, "kernel_size"): [4, 2] for layer_class in ECA_CLASSES}
REQUIRED = {keras_se.SqueezeExciteConv2D: {"filters": 8}}
# Set by the surgery itself; `attention_kwargs` may not hold them.
SURGERY_RESERVED = ("name", "dtype", "gate_scale")


def bad_values(layer_class, argument):
    return BAD_VALUES[argument] + EXTRA_BAD_VALUES.get((layer_class, argument), [])


def cases(layer_classes, skip=()):
    return [
        pytest.param(layer_class, argument, value, id=f"{key}-{argument}={value!r}")
        for key, layer_class in layer_classes
        for argument in init_arguments(layer_class)
        if argument not in skip
        for value in bad_values(layer_class, argument)
    ]


# What some messages say is allowed, beside the name and the value.
RULES = {
    "filters": "must be a positive integer",
    "units": "must be a positive integer or None",
    "divisor": "must be a positive integer",
    "round_limit": "must be a number in [0, 1)",
    "gate_scale": "must be a positive number",
    "residual": "must be True or False",
    "use_bias": "must be True or False",
}


def assert_names(error, argument, value):
    message = str(error.value)
    assert f"`{argument}`" in message, message
    assert f"{argument}={value!r}" in message, message
    assert RULES.get(argument, "") in message, message


CLASSES = [(layer_class.__name__, layer_class) for layer_class in LAYER_CLASSES]
RATIO_CLASSES = [c for c in LAYER_CLASSES if "ratio" in init_arguments(c)]


def test_every_argument_has_bad_values():
    arguments = {a for c in LAYER_CLASSES for a in init_arguments(c)}
    assert arguments <= set(BAD_VALUES), arguments - set(BAD_VALUES)


@pytest.mark.parametrize("layer_class, argument, value", cases(CLASSES))
def test_constructors_name_the_bad_argument(layer_class, argument, value):
    args = {**REQUIRED.get(layer_class, {}), argument: value}
    with pytest.raises(ValueError) as error:
        layer_class(**args)
    assert_names(error, argument, value)


@pytest.mark.parametrize(
    "layer_class, argument, value", cases(list(ATTENTIONS.items()))
)
def test_get_attention_names_the_bad_argument(layer_class, argument, value):
    name = next(key for key, cls in ATTENTIONS.items() if cls is layer_class)
    with pytest.raises(ValueError) as error:
        keras_se.layers.get_attention(name, **{argument: value})
    assert_names(error, argument, value)


@pytest.fixture(scope="module")
def tiny_model():
    return keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Conv2D(4, 1)])


@pytest.mark.parametrize(
    "layer_class, argument, value",
    cases(list(ATTENTIONS.items()), skip=SURGERY_RESERVED),
)
def test_wrap_with_se_names_the_bad_attention_argument(
    tiny_model, layer_class, argument, value
):
    name = next(key for key, cls in ATTENTIONS.items() if cls is layer_class)
    with pytest.raises(ValueError) as error:
        keras_se.wrap_with_se(
            tiny_model, attention=name, attention_kwargs={argument: value}
        )
    assert_names(error, argument, value)


@pytest.mark.parametrize(
    "attention, argument",
    [
        (name, argument)
        for name, layer_class in ATTENTIONS.items()
        for argument in ("ratio", "units", "divisor")
        if argument in init_arguments(layer_class)
    ],
)
def test_wrap_with_se_names_its_own_bad_arguments(tiny_model, attention, argument):
    # None means the attention's default here.
    for value in [v for v in BAD_VALUES[argument] if v is not None]:
        with pytest.raises(ValueError) as error:
            keras_se.wrap_with_se(tiny_model, attention=attention, **{argument: value})
        assert_names(error, argument, value)


@pytest.mark.parametrize("attention", list(ATTENTIONS))
@pytest.mark.parametrize("argument", SURGERY_RESERVED)
def test_wrap_with_se_refuses_what_the_surgery_sets(tiny_model, attention, argument):
    kwargs = {argument: "x"}
    with pytest.raises(ValueError, match=rf"`{argument}` is set by the surgery"):
        keras_se.wrap_with_se(tiny_model, attention=attention, attention_kwargs=kwargs)


@pytest.mark.parametrize("layer_class", RATIO_CLASSES)
@pytest.mark.parametrize("value", [0, -3, -1.5, 0.0, "16", True, None, INF, NAN])
def test_ratio_must_be_a_positive_number(layer_class, value):
    with pytest.raises(ValueError) as error:
        layer_class(**REQUIRED.get(layer_class, {}), ratio=value)
    assert str(error.value) == (
        f"`ratio` must be a positive number. Received: ratio={value!r}"
    )


@pytest.mark.parametrize("layer_class", RATIO_CLASSES)
@pytest.mark.parametrize("value", [1 / 65, 1e-9, 1e-320, 5e-324])
def test_ratio_below_one_64th_is_refused_before_dividing(layer_class, value):
    with pytest.raises(ValueError) as error:
        layer_class(**REQUIRED.get(layer_class, {}), ratio=value)
    assert str(error.value) == (
        "`ratio` must be at least 1/64: the bottleneck is `channels / ratio` "
        f"wide, at most 64 times the channels. Received: ratio={value!r}"
    )


@pytest.mark.parametrize("layer_class", RATIO_CLASSES)
@pytest.mark.parametrize("value", [2.0, 1.5, 0.5, 16, 1 / 64])
def test_float_ratios_are_accepted(layer_class, value):
    layer = layer_class(**REQUIRED.get(layer_class, {}), ratio=value)
    assert layer.get_config()["ratio"] == value


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


def test_bottleneck_units_refuses_a_tiny_ratio_before_dividing():
    with pytest.raises(ValueError, match=re.escape("Received: ratio=1e-320")):
        keras_se.layers.bottleneck_units(16, 1e-320)


def test_conv_block_checks_se_arguments_at_construction():
    with pytest.raises(ValueError, match="`gate`"):
        keras_se.SqueezeExciteConv2D(8, gate="nope")
