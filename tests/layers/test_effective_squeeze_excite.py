"""EffectiveSqueezeExcite1D/2D/3D against timm's EffectiveSEModule and NumPy."""

from __future__ import annotations

import importlib

import keras
import numpy as np
import pytest
from keras import ops

import keras_se
from tests.conftest import random_inputs

LAYERS = {
    1: keras_se.EffectiveSqueezeExcite1D,
    2: keras_se.EffectiveSqueezeExcite2D,
    3: keras_se.EffectiveSqueezeExcite3D,
}


@pytest.fixture
def timm_ref():
    pytest.importorskip("torch")
    return importlib.import_module("tests.layers.timm_reference_eca_ese")


def to_numpy(x):
    return ops.convert_to_numpy(x)


def channels_first(x):
    return np.moveaxis(x, -1, 1)


def hard_sigmoid(v):
    return np.clip(v + 3.0, 0.0, 6.0) / 6.0


def ese_numpy(x_last, kernel, bias, add_maxpool=False):
    flat = x_last.reshape(x_last.shape[0], -1, x_last.shape[-1])
    z = flat.mean(axis=1)
    if add_maxpool:
        z = 0.5 * z + 0.5 * flat.max(axis=1)
    scale = hard_sigmoid(z @ kernel + bias)
    return x_last * scale.reshape(x_last.shape[0], *[1] * (x_last.ndim - 2), -1)


@pytest.mark.parametrize("add_maxpool", [False, True])
@pytest.mark.parametrize("shape", [(2, 7, 5), (2, 3, 4, 6), (1, 2, 3, 2, 4)])
def test_matches_numpy_reference(add_maxpool, shape):
    rng = np.random.default_rng(3)
    x = random_inputs(shape)
    channels = shape[-1]
    kernel = rng.normal(0, 1.5, (channels, channels)).astype("float32")
    bias = rng.normal(0, 1.0, channels).astype("float32")
    layer = LAYERS[len(shape) - 2](add_maxpool=add_maxpool)
    layer.build(x.shape)
    layer.set_weights([kernel, bias])
    expected = ese_numpy(x, kernel, bias, add_maxpool)
    np.testing.assert_allclose(to_numpy(layer(x)), expected, atol=1e-6)


PARITY = [
    (1, (2, 16, 9), {}),
    (2, (2, 32, 3, 5), {}),
    (2, (2, 24, 4, 3), {"add_maxpool": True}),
    (2, (2, 8, 2, 2), {"gate": "sigmoid"}),
    (3, (2, 12, 2, 3, 2), {"add_maxpool": True}),
]


@pytest.mark.parametrize("rank, shape, kwargs", PARITY)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_matches_timm(timm_ref, rank, shape, kwargs, data_format):
    """Same weights as timm's EffectiveSEModule, to 1e-5."""
    rng = np.random.default_rng(rank + len(kwargs))
    x_first = rng.normal(0, 1.5, shape).astype("float32")
    channels = shape[1]
    weight = rng.normal(0, 0.5, (channels, channels, *[1] * rank)).astype("float32")
    bias = rng.normal(0, 0.5, channels).astype("float32")
    layer = LAYERS[rank](data_format=data_format, **kwargs)
    x = x_first if data_format == "channels_first" else np.moveaxis(x_first, 1, -1)
    layer.build(x.shape)
    layer.set_weights([timm_ref.ese_kernel_to_keras(weight), bias])
    expected = timm_ref.ese_forward(x_first, weight, bias, **kwargs)
    if data_format == "channels_last":
        expected = np.moveaxis(expected, 1, -1)
    np.testing.assert_allclose(to_numpy(layer(x)), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("channels", [1, 7, 64, 256])
def test_parameters_are_c_squared_plus_c(channels):
    layer = keras_se.EffectiveSqueezeExcite2D()
    layer.build((None, 3, 3, channels))
    assert layer.count_params() == channels * channels + channels
    assert [w.shape for w in layer.weights] == [(channels, channels), (channels,)]


def test_default_gate_is_hard_sigmoid():
    x = random_inputs((2, 3, 3, 4))
    layer = keras_se.EffectiveSqueezeExcite2D()
    layer.build(x.shape)
    kernel = np.zeros((4, 4), "float32")
    bias = np.array([-4.0, -1.5, 0.0, 3.0], "float32")
    layer.set_weights([kernel, bias])
    np.testing.assert_allclose(
        to_numpy(layer.excitation(x)), np.tile([0.0, 0.25, 0.5, 1.0], (2, 1))
    )


def test_channels_first_equals_channels_last():
    x = random_inputs((2, 4, 3, 6))
    last = keras_se.EffectiveSqueezeExcite2D(add_maxpool=True)
    first = keras_se.EffectiveSqueezeExcite2D(
        add_maxpool=True, data_format="channels_first"
    )
    last.build(x.shape)
    first.build(channels_first(x).shape)
    first.set_weights(last.get_weights())
    np.testing.assert_allclose(
        to_numpy(first(channels_first(x))), channels_first(to_numpy(last(x))), atol=1e-6
    )


@pytest.mark.parametrize("gate", ["sigmoid", "hard_sigmoid"])
@pytest.mark.parametrize("add_maxpool", [False, True])
def test_identity_start_returns_the_input_exactly(gate, add_maxpool):
    x = random_inputs((2, 4, 5, 8))
    layer = keras_se.EffectiveSqueezeExcite2D(
        add_maxpool=add_maxpool, gate=gate, gate_scale=2.0
    )
    layer.build(x.shape)
    layer.initialize_as_identity()
    assert not any(np.any(w) for w in layer.get_weights())
    np.testing.assert_array_equal(to_numpy(layer(x)), x)


@pytest.mark.parametrize(
    "kwargs",
    [{"gate": "hard_sigmoid", "gate_scale": 1.0}, {"gate": "relu", "gate_scale": 2.0}],
)
def test_identity_start_refuses_gates_not_one_at_zero(kwargs):
    layer = keras_se.EffectiveSqueezeExcite2D(**kwargs)
    layer.build((None, 3, 3, 8))
    with pytest.raises(ValueError, match=r"gate_scale=2\.0"):
        layer.initialize_as_identity()


@pytest.mark.parametrize("add_maxpool", [False, True])
def test_masked_steps_are_left_out_of_the_squeeze(add_maxpool):
    """A padded sequence gives, on its real steps, what the unpadded one gives."""
    x = random_inputs((2, 7, 5))
    layer = keras_se.EffectiveSqueezeExcite1D(add_maxpool=add_maxpool)
    layer.build(x.shape)
    mask = np.ones((2, 7), bool)
    mask[0, 3:] = False
    padded = np.where(mask[..., None], x, 100.0).astype("float32")
    masked = to_numpy(layer(padded, mask=mask))
    np.testing.assert_allclose(masked[0, :3], to_numpy(layer(x[:1, :3]))[0], atol=1e-6)
    np.testing.assert_allclose(masked[1], to_numpy(layer(x[1:]))[0], atol=1e-6)


def test_fully_masked_sample_squeezes_to_zero():
    x = random_inputs((1, 4, 3))
    layer = keras_se.EffectiveSqueezeExcite1D(add_maxpool=True, bias_initializer="ones")
    layer.build(x.shape)
    gate = to_numpy(layer.excitation(x, mask=np.zeros((1, 4), bool)))
    np.testing.assert_allclose(gate, hard_sigmoid(np.ones((1, 3))), atol=1e-7)


def test_masking_layer_mask_reaches_the_squeeze():
    x = random_inputs((1, 6, 8))
    x[:, 4:] = 0.0
    model = keras.Sequential(
        [
            keras.Input((6, 8)),
            keras.layers.Masking(0.0),
            keras_se.EffectiveSqueezeExcite1D(add_maxpool=True),
        ]
    )
    layer = model.layers[-1]
    np.testing.assert_allclose(
        to_numpy(model(x))[0, :4], to_numpy(layer(x[:, :4]))[0], atol=1e-6
    )


def test_get_attention_ese():
    layer = keras_se.layers.get_attention("ese", add_maxpool=True)
    assert isinstance(layer, keras_se.EffectiveSqueezeExcite2D)
    assert layer.add_maxpool is True


BAD_ARGUMENTS = [
    ({"add_maxpool": 1}, "`add_maxpool` must be True or False. "),
    ({"add_maxpool": "yes"}, "`add_maxpool` must be True or False. "),
    ({"gate": "swish"}, "`gate` must be one of "),
    ({"gate_scale": 0}, "`gate_scale` must be a positive number. "),
    ({"data_format": "channels_middle"}, "`data_format` must be one of "),
    ({"bias_regularizer": "l3"}, "`bias_regularizer` must be "),
]


@pytest.mark.parametrize("kwargs, message", BAD_ARGUMENTS)
def test_bad_arguments_name_argument_and_value(kwargs, message):
    ((name, value),) = kwargs.items()
    with pytest.raises(ValueError) as error:
        keras_se.EffectiveSqueezeExcite2D(**kwargs)
    assert message in str(error.value)
    assert str(error.value).endswith(f"Received: {name}={value!r}")


@pytest.mark.parametrize(
    "shape, match",
    [((None, 4, 4, 4, 8), "expects inputs of rank 4"), ((None, None, 3), "channel")],
)
def test_bad_input_shapes(shape, match):
    with pytest.raises(ValueError, match=match):
        LAYERS[2 if len(shape) == 5 else 1](data_format="channels_first").build(shape)
