"""SqueezeExcite1D/2D/3D against the NumPy reference."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

import keras_se
from keras_se.layers import GATES, bottleneck_units, make_divisible
from tests.conftest import random_inputs
from tests.layers.reference import squeeze_excite_reference

LAYERS = {
    1: keras_se.SqueezeExcite1D,
    2: keras_se.SqueezeExcite2D,
    3: keras_se.SqueezeExcite3D,
}

SHAPES = [
    (2, (3, 5), 8),
    (2, (7, 4), 32),
    (2, (1, 1), 16),
    (1, (6,), 12),
    (3, (11,), 64),
    (2, (2, 3, 4), 16),
]


def channels_first(shape):
    return (shape[0], shape[-1], *shape[1:-1])


def randomize_weights(layer, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [rng.normal(0, 0.5, w.shape).astype("float32") for w in layer.get_weights()]
    )


@pytest.mark.parametrize("batch, spatial, channels", SHAPES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("gate", sorted(GATES))
def test_matches_numpy_reference(batch, spatial, channels, data_format, gate):
    shape = (batch, *spatial, channels)
    if data_format == "channels_first":
        shape = channels_first(shape)
    layer = LAYERS[len(spatial)](ratio=4, gate=gate, data_format=data_format)
    x = random_inputs(shape)
    layer.build(x.shape)
    randomize_weights(layer)
    expected = squeeze_excite_reference(x, layer.get_weights(), data_format, gate)
    np.testing.assert_allclose(ops.convert_to_numpy(layer(x)), expected, atol=2e-5)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_max_squeeze_matches_numpy_reference(data_format):
    shape = (2, 5, 3, 8) if data_format == "channels_last" else (2, 8, 5, 3)
    layer = keras_se.SqueezeExcite2D(ratio=2, squeeze="max", data_format=data_format)
    x = random_inputs(shape)
    layer.build(x.shape)
    randomize_weights(layer)
    expected = squeeze_excite_reference(
        x, layer.get_weights(), data_format, squeeze="max"
    )
    np.testing.assert_allclose(ops.convert_to_numpy(layer(x)), expected, atol=2e-5)


def identity_excitation_layer(channels, data_format="channels_last"):
    """Excitation = relu(squeeze): identity weights, linear inner activation."""
    layer = keras_se.SqueezeExcite2D(
        units=channels, activation="linear", gate="relu", data_format=data_format
    )
    eye, zeros = np.eye(channels, dtype="float32"), np.zeros(channels, "float32")
    layer.build((None, 3, 5, channels))
    layer.set_weights([eye, zeros, eye, zeros])
    return layer


def test_squeeze_is_the_spatial_mean_not_sum_over_h_plus_w():
    # H=3, W=5: the mean divides by H*W=15, the mistaken code by H+W=8.
    x = random_inputs((2, 3, 5, 4), low=0.5, high=3.0)
    excitation = ops.convert_to_numpy(identity_excitation_layer(4).excitation(x))
    np.testing.assert_allclose(excitation, x.mean(axis=(1, 2)), rtol=1e-6)
    assert not np.allclose(excitation, x.sum(axis=(1, 2)) / (3 + 5), rtol=1e-2)
    assert not np.allclose(excitation, x.sum(axis=(1, 2)) / (3 * 4), rtol=1e-2)


def test_constant_input_squeezes_to_its_value():
    x = np.full((1, 3, 5, 2), 2.5, dtype="float32")
    excitation = ops.convert_to_numpy(identity_excitation_layer(2).excitation(x))
    np.testing.assert_allclose(excitation, [[2.5, 2.5]], rtol=1e-6)


@pytest.mark.parametrize("gate", ["sigmoid", "hard_sigmoid"])
def test_zero_expand_with_gate_scale_two_is_exactly_the_identity(gate):
    layer = keras_se.SqueezeExcite2D(ratio=2, gate=gate, gate_scale=2.0)
    x = random_inputs((2, 3, 4, 8))
    layer.build(x.shape)
    w1, b1, w2, b2 = layer.get_weights()
    layer.set_weights([w1, b1, np.zeros_like(w2), np.zeros_like(b2)])
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(x)), x)


def test_gate_scale_multiplies_the_gate():
    plain = keras_se.SqueezeExcite2D(ratio=2)
    scaled = keras_se.SqueezeExcite2D(ratio=2, gate_scale=1.5)
    x = random_inputs((2, 3, 4, 8))
    plain.build(x.shape), scaled.build(x.shape)
    scaled.set_weights(plain.get_weights())
    np.testing.assert_allclose(
        ops.convert_to_numpy(scaled(x)), 1.5 * ops.convert_to_numpy(plain(x)), rtol=1e-6
    )


def test_output_is_input_times_gate_per_channel():
    layer = keras_se.SqueezeExcite2D(ratio=2)
    x = random_inputs((2, 4, 4, 6))
    out = ops.convert_to_numpy(layer(x))
    gate = ops.convert_to_numpy(layer.excitation(x))
    np.testing.assert_allclose(out, x * gate[:, None, None, :], rtol=1e-6)
    assert np.all((gate > 0) & (gate < 1))


@pytest.mark.parametrize(
    "channels, ratio, units, divisor, expected",
    [
        (64, 16, None, 1, 4),
        (256, 16, None, 1, 16),
        (24, 16, None, 1, 1),  # floor(1.5)
        (8, 16, None, 1, 1),  # never 0 wide: clamped to 1
        (64, 16, 10, 1, 10),  # units override ratio
        (64, 16, 10, 8, 10),  # ... and are used as is
        (240, 4, None, 8, 64),  # 60 -> 64
        (72, 4, None, 8, 24),  # 18 -> 16 would lose >10%: 24
        (8, 16, None, 8, 8),  # never below the divisor
    ],
)
def test_bottleneck_units(channels, ratio, units, divisor, expected):
    assert bottleneck_units(channels, ratio, units, divisor) == expected
    layer = keras_se.SqueezeExcite2D(ratio=ratio, units=units, divisor=divisor)
    layer.build((None, 4, 4, channels))
    assert layer.bottleneck_units == expected
    assert layer.reduce.kernel.shape == (channels, expected)
    assert layer.expand.kernel.shape == (expected, channels)


def test_divisor_reproduces_mobilenet_v3_se_widths():
    model = keras.applications.MobileNetV3Small(
        weights=None, input_shape=(32, 32, 3), include_top=False
    )
    reductions = [
        layer for layer in model.layers if layer.name.endswith("squeeze_excite_conv")
    ]
    assert len(reductions) == 9
    for conv in reductions:
        channels = conv.kernel.shape[-2]
        assert bottleneck_units(channels, 4, divisor=8) == conv.filters, conv.name


@pytest.mark.parametrize("round_limit", [0.9, 0.5, 0.0])
def test_make_divisible_is_a_multiple_and_close(round_limit):
    for value in np.linspace(0.5, 400, 300):
        for divisor in (1, 4, 8, 16):
            rounded = make_divisible(value, divisor, round_limit=round_limit)
            assert rounded % divisor == 0
            assert rounded >= divisor
            assert rounded >= round_limit * value
            assert rounded <= max(divisor, value + divisor)


def test_masked_1d_squeeze_ignores_padding():
    x = random_inputs((2, 6, 8))
    mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=bool)
    layer = keras_se.SqueezeExcite1D(ratio=2)
    masked = ops.convert_to_numpy(layer(x, mask=mask))
    unpadded = ops.convert_to_numpy(layer(x[:1, :4]))
    np.testing.assert_allclose(masked[0, :4], unpadded[0], atol=1e-6)
    np.testing.assert_allclose(
        masked[1], ops.convert_to_numpy(layer(x[1:])[0]), atol=1e-6
    )


def test_masking_layer_mask_reaches_the_squeeze():
    x = random_inputs((1, 5, 4), low=0.5, high=1.0)
    x[:, 3:] = 0.0
    inputs = keras.Input((5, 4))
    masked = keras.layers.Masking(0.0)(inputs)
    se = keras_se.SqueezeExcite1D(ratio=2)
    model = keras.Model(inputs, se(masked))
    out = ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(
        out[0, :3], ops.convert_to_numpy(se(x[:, :3]))[0], atol=1e-6
    )


def test_output_shape_and_trainable_weights():
    layer = keras_se.SqueezeExcite3D(ratio=4)
    assert layer.compute_output_shape((None, 2, 3, 4, 16)) == (None, 2, 3, 4, 16)
    layer.build((None, 2, 3, 4, 16))
    assert [tuple(w.shape) for w in layer.trainable_weights] == [
        (16, 4),
        (4,),
        (4, 16),
        (16,),
    ]


def test_unknown_spatial_size_matches_reference():
    # A symbolic spatial size takes the `ops.mean` squeeze, not the pooling one.
    inputs = keras.Input((None, None, 8))
    layer = keras_se.SqueezeExcite2D(ratio=2)
    model = keras.Model(inputs, layer(inputs))
    for shape in [(1, 3, 3, 8), (4, 9, 2, 8)]:
        x = random_inputs(shape)
        expected = squeeze_excite_reference(x, layer.get_weights())
        np.testing.assert_allclose(
            ops.convert_to_numpy(model.predict(x, verbose=0)), expected, atol=2e-5
        )


def test_gradients_reach_every_weight():
    layer = keras_se.SqueezeExcite2D(ratio=2)
    model = keras.Sequential([keras.Input((4, 4, 8)), layer])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    before = [w.copy() for w in layer.get_weights()]
    model.train_on_batch(random_inputs((4, 4, 4, 8)), np.zeros((4, 4, 4, 8)))
    for old, new in zip(before, layer.get_weights(), strict=True):
        assert not np.allclose(old, new)
