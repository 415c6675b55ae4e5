"""CBAM2D against timm's CbamModule, its widths and identity start."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
from keras import ops

import keras_se
from tests.layers.attention_helpers import inputs, output, randomized, timm_reference
from tests.layers.reference import NUMPY_GATES


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"ratio": 4, "spatial_kernel_size": 3}, {"gate": "hard_sigmoid"}],
    ids=str,
)
@pytest.mark.parametrize("spatial", [(7, 6), (3, 9)])
def test_matches_timm_cbam(spatial, kwargs, data_format):
    reference = timm_reference()
    x = inputs(data_format, (2, *spatial, 32))
    layer = randomized(keras_se.CBAM2D(data_format=data_format, **kwargs), x)
    expected = reference.run(reference.CbamModule(layer), x, data_format)
    np.testing.assert_allclose(output(layer, x), expected, atol=1e-5, rtol=1e-5)


def test_matches_a_numpy_cbam():
    """The paper's equations with a 1x1 spatial window (no padding questions)."""
    x = inputs("channels_last", (2, 3, 4, 8)).astype("float64")
    layer = randomized(keras_se.CBAM2D(ratio=2, spatial_kernel_size=1), x)
    w1 = ops.convert_to_numpy(layer.reduce.kernel)
    w2 = ops.convert_to_numpy(layer.expand.kernel)
    conv = ops.convert_to_numpy(layer.spatial_conv.kernel)[0, 0, :, 0]
    gamma, beta, mean, variance = layer.spatial_norm.get_weights()
    sigmoid = NUMPY_GATES["sigmoid"]

    def mlp(z):
        return np.maximum(z @ w1, 0.0) @ w2

    channel = sigmoid(mlp(x.mean(axis=(1, 2))) + mlp(x.max(axis=(1, 2))))
    y = x * channel[:, None, None, :]
    pooled = np.stack([y.mean(axis=-1), y.max(axis=-1)], axis=-1)
    logits = (pooled @ conv - mean) / np.sqrt(variance + 1e-5) * gamma + beta
    expected = y * sigmoid(logits)[..., None]
    actual = output(layer, x.astype("float32"))
    np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "channels, kwargs, expected",
    [
        (64, {}, 4),
        (24, {}, 2),
        (8, {}, 1),
        (40, {"divisor": 4}, 4),
        (8, {"units": 3}, 3),
    ],
)
def test_mlp_width_is_timm_rounding(channels, kwargs, expected):
    layer = keras_se.CBAM2D(**kwargs)
    layer.build((None, 4, 4, channels))
    assert layer.mlp_units == expected
    assert tuple(layer.reduce.kernel.shape) == (channels, expected)


def test_steps_have_no_biases_and_torch_batch_norm_defaults():
    layer = keras_se.CBAM2D(spatial_kernel_size=5)
    layer.build((None, 6, 6, 32))
    assert [w.path.split("/", 1)[1] for w in layer.trainable_weights] == [
        "reduce/kernel",
        "expand/kernel",
        "spatial_conv/kernel",
        "spatial_norm/gamma",
        "spatial_norm/beta",
    ]
    assert tuple(layer.spatial_conv.kernel.shape) == (5, 5, 2, 1)
    norm = layer.spatial_norm
    assert (norm.momentum, norm.epsilon) == (0.9, 1e-5)


def test_mlp_is_shared_by_the_average_and_the_maximum():
    layer = keras_se.CBAM2D(ratio=4)
    layer.build((None, 4, 4, 16))
    assert layer.count_params() == 2 * 16 * 4 + 7 * 7 * 2 + 4


@pytest.mark.parametrize("gate", ["sigmoid", "hard_sigmoid"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("training", [False, True])
def test_initialize_as_identity_returns_the_input(gate, data_format, training):
    x = inputs(data_format, (2, 5, 6, 16))
    layer = keras_se.CBAM2D(gate=gate, gate_scale=2.0, data_format=data_format)
    randomized(layer, x)
    assert not np.allclose(output(layer, x), x)
    layer.initialize_as_identity()
    np.testing.assert_array_equal(output(layer, x, training=training), x)


def test_initialize_as_identity_needs_a_gate_that_can_be_one():
    layer = keras_se.CBAM2D()
    layer.build((None, 4, 4, 16))
    with pytest.raises(ValueError, match=r"gate_scale=1\.0"):
        layer.initialize_as_identity()


def test_sub_layers_have_their_own_initializers():
    seeded = keras_se.CBAM2D(ratio=1, kernel_initializer=keras.initializers.HeNormal(3))
    seeded.build((None, 3, 3, 4))
    reduce, expand = (
        ops.convert_to_numpy(d.kernel) for d in (seeded.reduce, seeded.expand)
    )
    assert not np.allclose(reduce, expand)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"spatial_kernel_size": 4}, "Received: spatial_kernel_size=4"),
        ({"spatial_kernel_size": 0}, "Received: spatial_kernel_size=0"),
        ({"spatial_kernel_size": 7.0}, "Received: spatial_kernel_size=7.0"),
        ({"ratio": -16}, "Received: ratio=-16"),
        ({"units": 2.5}, "Received: units=2.5"),
        ({"divisor": 0}, "Received: divisor=0"),
        ({"gate": "gelu"}, "Received: gate='gelu'"),
        ({"gate_scale": float("inf")}, "Received: gate_scale=inf"),
        ({"data_format": "NCHW"}, "Received: data_format='NCHW'"),
        ({"kernel_regularizer": "l3"}, "Received: kernel_regularizer='l3'"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        keras_se.CBAM2D(**kwargs)


def test_takes_no_bias_arguments():
    with pytest.raises(ValueError, match="bias_initializer"):
        keras_se.CBAM2D(bias_initializer="zeros")


def test_registered_as_cbam():
    layer = keras_se.layers.get_attention("cbam", spatial_kernel_size=3)
    assert isinstance(layer, keras_se.CBAM2D)
    assert layer.spatial_kernel_size == 3
