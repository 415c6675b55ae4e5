"""Regression tests: each one failed before the fix it is named after."""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest
from keras import ops

import keras_se
from keras_se.layers import bottleneck_units, make_divisible
from tests.conftest import random_inputs

SE_LAYERS = {
    1: keras_se.SqueezeExcite1D,
    2: keras_se.SqueezeExcite2D,
    3: keras_se.SqueezeExcite3D,
}


def numpy_weight(variable):
    return ops.convert_to_numpy(variable).reshape(-1)


def correlation(a, b):
    return float(np.corrcoef(numpy_weight(a), numpy_weight(b))[0, 1])


# 1. One initializer instance was shared by `reduce` and `expand` (and by the
# convolution of SqueezeExciteConv2D), so equal shapes started equal.

INITIALIZERS = {
    "name": lambda: "glorot_uniform",
    "unseeded": lambda: keras.initializers.GlorotUniform(),
    "seeded": lambda: keras.initializers.GlorotUniform(seed=7),
    "seeded_normal": lambda: keras.initializers.RandomNormal(stddev=1.0, seed=3),
}


def built_se(rank, initializer, bias_initializer="zeros"):
    # 8 channels and 8 units: `reduce` and `expand` kernels are both 8x8.
    layer = SE_LAYERS[rank](
        units=8, kernel_initializer=initializer, bias_initializer=bias_initializer
    )
    layer.build((None, *([3] * rank), 8))
    return layer


@pytest.mark.parametrize("rank", sorted(SE_LAYERS))
@pytest.mark.parametrize("kind", sorted(INITIALIZERS))
def test_reduce_and_expand_kernels_start_different(rank, kind):
    layer = built_se(rank, INITIALIZERS[kind]())
    reduce, expand = layer.reduce.kernel, layer.expand.kernel
    assert reduce.shape == expand.shape == (8, 8)
    assert not np.allclose(numpy_weight(reduce), numpy_weight(expand))
    assert abs(correlation(reduce, expand)) < 0.9


def test_random_bias_initializer_is_not_shared():
    bias = keras.initializers.RandomNormal(seed=5)
    layer = built_se(2, "glorot_uniform", bias_initializer=bias)
    assert not np.allclose(
        numpy_weight(layer.reduce.bias), numpy_weight(layer.expand.bias)
    )


@pytest.mark.parametrize("layer_class", [*SE_LAYERS.values()])
def test_seeded_initializer_is_reproducible_across_constructions(layer_class):
    rank = layer_class.rank
    first = built_se(rank, keras.initializers.GlorotUniform(seed=11))
    second = built_se(rank, keras.initializers.GlorotUniform(seed=11))
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # The first step draws what a plain Dense with the same initializer draws.
    dense = keras.layers.Dense(
        8, kernel_initializer=keras.initializers.GlorotUniform(seed=11)
    )
    dense.build((None, 8))
    np.testing.assert_array_equal(
        numpy_weight(first.reduce.kernel), numpy_weight(dense.kernel)
    )


def test_config_keeps_the_initializer_as_passed():
    initializer = keras.initializers.GlorotUniform(seed=11)
    layer = built_se(2, initializer)
    config = layer.get_config()["kernel_initializer"]
    assert config == keras.initializers.serialize(initializer)
    assert config["config"]["seed"] == 11
    unseeded = built_se(2, keras.initializers.GlorotUniform())
    assert unseeded.get_config()["kernel_initializer"]["config"]["seed"] is None


def conv_block_kernels(initializer):
    block = keras_se.SqueezeExciteConv2D(
        8, kernel_size=1, units=8, kernel_initializer=initializer
    )
    block.build((None, 4, 4, 8))
    return block, [block.conv.kernel, block.se.reduce.kernel, block.se.expand.kernel]


@pytest.mark.parametrize("kind", sorted(INITIALIZERS))
def test_conv_block_sub_layers_start_different(kind):
    _, kernels = conv_block_kernels(INITIALIZERS[kind]())
    for i in range(3):
        for j in range(i + 1, 3):
            assert abs(correlation(kernels[i], kernels[j])) < 0.9, (i, j)


def test_conv_block_seeded_is_reproducible_and_config_unchanged():
    first, kernels_a = conv_block_kernels(keras.initializers.GlorotUniform(seed=2))
    _, kernels_b = conv_block_kernels(keras.initializers.GlorotUniform(seed=2))
    for a, b in zip(kernels_a, kernels_b, strict=True):
        np.testing.assert_array_equal(numpy_weight(a), numpy_weight(b))
    assert first.get_config()["kernel_initializer"]["config"]["seed"] == 2


# 2. A fully masked sample made the max squeeze -inf, and the gate NaN.


def identity_1d(squeeze, dtype=None):
    """SqueezeExcite1D whose excitation is relu(squeeze): eye kernels."""
    layer = keras_se.SqueezeExcite1D(
        units=8, activation="linear", gate="relu", squeeze=squeeze, dtype=dtype
    )
    layer.build((None, None, 8))
    eye, zeros = np.eye(8, dtype="float32"), np.zeros(8, "float32")
    layer.set_weights([eye, zeros, eye, zeros])
    return layer


@pytest.mark.parametrize("squeeze", ["max", "avg"])
def test_fully_masked_sample_squeezes_to_zero(squeeze):
    x = random_inputs((3, 6, 8), low=0.5, high=3.0)
    mask = np.ones((3, 6), dtype=bool)
    mask[1] = False
    mask[2, 4:] = False
    layer = identity_1d(squeeze)
    out = ops.convert_to_numpy(layer(x, mask=mask))
    excitation = ops.convert_to_numpy(layer.excitation(x, mask=mask))
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(excitation))
    np.testing.assert_array_equal(excitation[1], np.zeros(8))
    reduce = np.max if squeeze == "max" else np.mean
    np.testing.assert_allclose(excitation[0], reduce(x[0], axis=0), rtol=1e-6)
    np.testing.assert_allclose(excitation[2], reduce(x[2, :4], axis=0), rtol=1e-6)


def test_fully_masked_sample_trains_with_finite_weights():
    x = random_inputs((4, 5, 8), low=0.5, high=1.0)
    x[0] = 0.0  # all padding
    model = keras.Sequential(
        [
            keras.Input((5, 8)),
            keras.layers.Masking(0.0),
            keras_se.SqueezeExcite1D(ratio=2, squeeze="max"),
            # Not a masked pooling: that divides by a count of 0 itself.
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    loss = model.train_on_batch(x, np.ones((4, 5, 1), "float32"))
    assert np.isfinite(loss)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


# 3. The masked average summed in float16 under mixed precision: overflow.


def test_masked_average_does_not_overflow_in_float16():
    # 4,000 steps of 20 sum to 80,000: past float16's 65,504.
    x = np.full((2, 4000, 8), 20.0, dtype="float32")
    mask = np.ones((2, 4000), dtype=bool)
    mask[1, 3500:] = False
    x[1, 3500:] = 0.0
    layer = identity_1d("avg", dtype="mixed_float16")
    excitation = ops.convert_to_numpy(layer.excitation(x, mask=mask))
    assert np.all(np.isfinite(excitation))
    np.testing.assert_allclose(excitation.astype("float32"), 20.0, rtol=1e-3)
    out = ops.convert_to_numpy(layer(x, mask=mask))
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert np.all(np.isfinite(out))


# 4. SqueezeExciteConv2D lacked arguments every SE layer takes.

SHARED_SE_ARGUMENTS = (
    "ratio",
    "units",
    "divisor",
    "round_limit",
    "activation",
    "gate",
    "gate_scale",
    "squeeze",
    "data_format",
    "use_bias",
    "kernel_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "bias_constraint",
)


def test_conv_block_takes_every_se_argument_with_the_same_default():
    se = inspect.signature(keras_se.SqueezeExcite2D.__init__).parameters
    conv = inspect.signature(keras_se.SqueezeExciteConv2D.__init__).parameters
    assert set(se) - {"self", "kwargs"} == set(SHARED_SE_ARGUMENTS)
    for name in SHARED_SE_ARGUMENTS:
        assert conv[name].default == se[name].default, name
    config = keras_se.SqueezeExciteConv2D(8).get_config()
    assert set(SHARED_SE_ARGUMENTS) <= set(config)


def test_conv_block_passes_the_new_arguments_through():
    block = keras_se.SqueezeExciteConv2D(
        8,
        ratio=2,
        gate_scale=2.0,
        use_bias=False,
        kernel_constraint="non_neg",
        bias_constraint=keras.constraints.MaxNorm(2.0),
    )
    x = random_inputs((4, 4, 4, 8))
    block(x)
    assert block.se.gate_scale == 2.0
    assert not block.conv.use_bias and block.conv.bias is None
    assert not block.se.use_bias and len(block.weights) == 3
    model = keras.Sequential([keras.Input((4, 4, 8)), block])
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    model.train_on_batch(x, -np.ones_like(x))
    for kernel in (block.conv.kernel, block.se.reduce.kernel, block.se.expand.kernel):
        assert np.all(ops.convert_to_numpy(kernel) >= 0)
    config = block.get_config()
    assert config["gate_scale"] == 2.0 and config["use_bias"] is False
    clone = keras_se.SqueezeExciteConv2D.from_config(config)
    assert clone.get_config() == config


def test_conv_block_gate_scale_matches_se_layer():
    x = random_inputs((2, 4, 4, 8))
    block = keras_se.SqueezeExciteConv2D(8, kernel_size=1, ratio=2, gate_scale=1.5)
    plain = keras_se.SqueezeExciteConv2D(8, kernel_size=1, ratio=2)
    block(x), plain(x)
    plain.set_weights(block.get_weights())
    np.testing.assert_allclose(
        ops.convert_to_numpy(block(x)), 1.5 * ops.convert_to_numpy(plain(x)), rtol=1e-5
    )


@pytest.mark.parametrize(
    "argument, value, message",
    [
        ("use_bias", "yes", "`use_bias` must be True or False"),
        ("gate_scale", 0, "`gate_scale` must be a positive number"),
        ("kernel_constraint", "nope", "`kernel_constraint` must be a constraint"),
        ("bias_constraint", "nope", "`bias_constraint` must be a constraint"),
        ("round_limit", 1.0, r"`round_limit` must be a number in \[0, 1\)"),
    ],
)
def test_conv_block_validates_the_new_arguments(argument, value, message):
    with pytest.raises(ValueError, match=message):
        keras_se.SqueezeExciteConv2D(8, **{argument: value})


# 5. The bottleneck always rounded with timm's default 10% rule; timm's
# SEModule uses round_limit=0, and a float ratio was refused.


def timm_make_divisible(v, divisor=8, min_value=None, round_limit=0.9):
    """timm's `make_divisible`, rewritten from its definition."""
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < round_limit * v:
        new_v += divisor
    return new_v


def timm_se_module_width(channels, rd_ratio, rd_divisor=8):
    """The width of timm's `SEModule(channels, rd_ratio, rd_divisor)`."""
    return timm_make_divisible(channels * rd_ratio, rd_divisor, round_limit=0.0)


@pytest.mark.parametrize(
    "channels, ratio, divisor, round_limit, expected",
    [
        (36, 4, 8, 0.9, 16),  # 9 -> 8 loses 11%: bumped to 16
        (36, 4, 8, 0.0, 8),  # SEModule: no bump
        (72, 4, 8, 0.9, 24),
        (72, 4, 8, 0.0, 16),
        (240, 4, 8, 0.9, 64),
        (240, 4, 8, 0.0, 64),
        (64, 16, 8, 0.9, 8),
        (200, 16, 8, 0.0, 16),  # 12.5 -> 16 (halves round up)
        (184, 16, 8, 0.0, 8),  # 11.5 -> 8
        (184, 16, 8, 0.5, 8),  # 8 >= 0.5 * 11.5: no bump
        (184, 16, 8, 0.75, 16),  # 8 < 0.75 * 11.5: bumped
        (8, 16, 8, 0.0, 8),  # never below the divisor
        (100, 2.5, 8, 0.9, 40),  # float ratio: 40
        (100, 3.0, 4, 0.0, 32),  # 33.3 -> 32
        (50, 0.5, 16, 0.9, 96),  # 100 -> 96
    ],
)
def test_rounding_table_matches_timm(channels, ratio, divisor, round_limit, expected):
    assert timm_make_divisible(channels / ratio, divisor, None, round_limit) == expected
    assert bottleneck_units(channels, ratio, None, divisor, round_limit) == expected
    assert (
        make_divisible(channels / ratio, divisor, round_limit=round_limit) == expected
    )
    layer = keras_se.SqueezeExcite2D(
        ratio=ratio, divisor=divisor, round_limit=round_limit
    )
    layer.build((None, 2, 2, channels))
    assert layer.bottleneck_units == expected
    assert layer.reduce.kernel.shape == (channels, expected)


@pytest.mark.parametrize("ratio", [4, 16])
def test_round_limit_zero_is_timm_se_module_for_every_channel_count(ratio):
    channels = range(1, 2049)
    ours = [bottleneck_units(c, ratio, divisor=8, round_limit=0.0) for c in channels]
    timm = [timm_se_module_width(c, 1 / ratio) for c in channels]
    assert ours == timm
    default = [bottleneck_units(c, ratio, divisor=8) for c in channels]
    assert default == [timm_make_divisible(c / ratio, 8) for c in channels]
    # The two rules are different rules: they disagree on some widths.
    assert default != ours


@pytest.mark.parametrize(
    "channels, ratio, expected",
    [
        (64, 2.0, 32),
        (64, 0.5, 128),
        (10, 2.5, 4),
        (10, 3.0, 3),  # floor(3.33)
        (3, 0.1, 30),  # 3 / 0.1 is 29.999... in floating point
        (8, 16.0, 1),  # at least 1
    ],
)
def test_float_ratio_without_divisor_floors(channels, ratio, expected):
    assert bottleneck_units(channels, ratio) == expected
    layer = keras_se.SqueezeExcite1D(ratio=ratio)
    layer.build((None, 5, channels))
    assert layer.bottleneck_units == expected
    assert layer.get_config()["ratio"] == ratio


def test_int_ratio_widths_are_unchanged():
    for channels in range(1, 513):
        for ratio in range(1, 33):
            assert bottleneck_units(channels, ratio) == max(1, channels // ratio)
            assert bottleneck_units(channels, ratio, divisor=8) == timm_make_divisible(
                channels / ratio, 8
            )
    assert type(keras_se.SqueezeExcite2D(ratio=4).get_config()["ratio"]) is int


def test_round_limit_is_in_the_config():
    layer = keras_se.SqueezeExcite2D(ratio=4, divisor=8, round_limit=0.0)
    assert layer.get_config()["round_limit"] == 0.0
    clone = keras_se.SqueezeExcite2D.from_config(layer.get_config())
    clone.build((None, 2, 2, 36))
    assert clone.bottleneck_units == 8
    assert keras_se.SqueezeExcite2D().get_config()["round_limit"] == 0.9


def test_wrap_with_se_accepts_a_float_ratio():
    inputs = keras.Input((8, 8, 3))
    features = keras.layers.Conv2D(20, 3, padding="same", name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(features))
    wrapped = keras_se.wrap_with_se(model, ratio=2.5, placement=["conv"])
    blocks = [
        layer for layer in wrapped.layers if isinstance(layer, keras_se.SqueezeExcite2D)
    ]
    assert len(blocks) == 1 and blocks[0].bottleneck_units == 8
