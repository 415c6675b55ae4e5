"""GlobalContext2D against timm's GlobalContext, its widths and identity start."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
from keras import ops

import keras_se
from tests.layers import attention_helpers
from tests.layers.attention_helpers import output, randomized, timm_reference

SHAPE = (2, 5, 6, 16)


def inputs(data_format, shape=SHAPE, seed=0):
    return attention_helpers.inputs(data_format, shape, seed)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("fusion", ["scale", "add", "both"])
@pytest.mark.parametrize("use_attention", [True, False])
def test_matches_timm_global_context(data_format, fusion, use_attention):
    reference = timm_reference()
    x = inputs(data_format)
    layer = keras_se.GlobalContext2D(
        fusion=fusion, use_attention=use_attention, data_format=data_format
    )
    randomized(layer, x)
    expected = reference.run(reference.GlobalContext(layer), x, data_format)
    np.testing.assert_allclose(output(layer, x), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("gate", ["hard_sigmoid", "tanh"])
def test_gate_and_gate_scale_match_timm(gate):
    reference = timm_reference()
    x = inputs("channels_last", (1, 3, 4, 12))
    layer = randomized(keras_se.GlobalContext2D(ratio=3, gate=gate, gate_scale=2.0), x)
    expected = reference.run(reference.GlobalContext(layer), x, "channels_last")
    np.testing.assert_allclose(output(layer, x), expected, atol=1e-5, rtol=1e-5)


def test_attention_pooling_is_a_softmax_weighted_sum():
    x = inputs("channels_last", (2, 3, 4, 8))
    layer = randomized(keras_se.GlobalContext2D(), x)
    kernel, bias = layer.attention.get_weights()
    logits = (x @ kernel)[..., 0] + bias[0]
    weights = np.exp(logits - logits.max(axis=(1, 2), keepdims=True))
    weights /= weights.sum(axis=(1, 2), keepdims=True)
    expected = np.einsum("bhwc,bhw->bc", x.astype("float64"), weights)
    context = ops.convert_to_numpy(layer.context(x))
    np.testing.assert_allclose(context, expected, atol=1e-5)
    mean = keras_se.GlobalContext2D(use_attention=False)
    mean.build(x.shape)
    np.testing.assert_allclose(
        ops.convert_to_numpy(mean.context(x)), x.mean(axis=(1, 2)), atol=1e-6
    )


@pytest.mark.parametrize(
    "channels, kwargs, expected",
    [
        (64, {}, 8),  # timm's default rd_ratio=1/8
        (20, {}, 3),  # 2.5 rounds half up, where SE's floor gives 2
        (12, {}, 2),  # 1.5 -> 2
        (4, {}, 1),  # 0.5 -> at least the divisor
        (20, {"divisor": 4}, 4),
        (100, {"ratio": 16, "divisor": 8}, 8),
        (20, {"units": 5}, 5),
    ],
)
def test_transform_width_is_timm_rounding(channels, kwargs, expected):
    layer = keras_se.GlobalContext2D(**kwargs)
    layer.build((None, 3, 3, channels))
    assert layer.transform_units == expected
    assert tuple(layer.scale_reduce.kernel.shape) == (channels, expected)
    assert tuple(layer.scale_norm.gamma.shape) == (expected,)


@pytest.mark.parametrize(
    "fusion, gate, gate_scale",
    [
        ("scale", "sigmoid", 2.0),
        ("scale", "hard_sigmoid", 2.0),
        ("both", "sigmoid", 2.0),
        ("add", "tanh", 1.0),  # no gate on the "add" path
    ],
)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_initialize_as_identity_returns_the_input(
    fusion, gate, gate_scale, data_format
):
    x = inputs(data_format)
    layer = keras_se.GlobalContext2D(
        fusion=fusion, gate=gate, gate_scale=gate_scale, data_format=data_format
    )
    randomized(layer, x)
    assert not np.allclose(output(layer, x), x)
    layer.initialize_as_identity()
    np.testing.assert_array_equal(output(layer, x), x)


@pytest.mark.parametrize("fusion", ["scale", "both"])
def test_initialize_as_identity_needs_a_gate_that_can_be_one(fusion):
    layer = keras_se.GlobalContext2D(fusion=fusion)
    layer.build(SHAPE)
    with pytest.raises(ValueError, match=r"gate_scale=1\.0"):
        layer.initialize_as_identity()


def test_initialize_as_identity_needs_a_built_layer():
    with pytest.raises(ValueError, match="needs a built layer"):
        keras_se.GlobalContext2D(fusion="add").initialize_as_identity()


def test_sub_layers_have_their_own_initializers():
    seeded = keras_se.GlobalContext2D(
        ratio=1, fusion="both", kernel_initializer=keras.initializers.HeNormal(3)
    )
    seeded.build((None, 3, 3, 8))
    kernels = [
        seeded.scale_reduce.kernel,
        seeded.scale_expand.kernel,
        seeded.add_reduce.kernel,
        seeded.add_expand.kernel,
    ]
    values = [ops.convert_to_numpy(k) for k in kernels]
    for i in range(len(values)):
        for j in range(i):
            assert not np.allclose(values[i], values[j])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"ratio": 0}, "`ratio` must be a positive number. Received: ratio=0"),
        ({"units": 0}, "`units` must be a positive integer or None. Received: units=0"),
        ({"divisor": 1.5}, "Received: divisor=1.5"),
        ({"fusion": "mul"}, "`fusion` must be one of ('scale', 'add', 'both')"),
        ({"use_attention": 1}, "`use_attention` must be True or False"),
        ({"gate": "softmax"}, "Received: gate='softmax'"),
        ({"gate_scale": -1.0}, "Received: gate_scale=-1.0"),
        ({"data_format": "nhwc"}, "Received: data_format='nhwc'"),
        ({"activation": "nope"}, "Received: activation='nope'"),
        ({"bias_initializer": "nope"}, "Received: bias_initializer='nope'"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        keras_se.GlobalContext2D(**kwargs)


@pytest.mark.parametrize(
    "shape, message",
    [((2, 4, 16), "expects inputs of rank 4"), ((2, 4, 4, None), "channel count")],
)
def test_bad_input_shapes_are_named(shape, message):
    with pytest.raises(ValueError, match=message):
        keras_se.GlobalContext2D().build(shape)


def test_registered_as_gc():
    layer = keras_se.layers.get_attention("gc", fusion="add")
    assert isinstance(layer, keras_se.GlobalContext2D)
    assert layer.fusion == "add"
