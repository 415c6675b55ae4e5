"""GatherExcite2D against timm's GatherExcite, PyTorch's pooling and resize."""

from __future__ import annotations

import re

import numpy as np
import pytest
from keras import ops

import keras_se
from keras_se.layers._attention_parts import nearest_indices
from tests.layers.attention_helpers import inputs, output, randomized, timm_reference

CONFIGS = [
    {},
    {"add_maxpool": True},
    {"extent": 2},
    {"extent": 4, "use_mlp": False},
    {"extent": 4, "add_maxpool": True, "ratio": 4},
    {"extent": 8, "ratio": 2},
    {"extent": 2, "extra_params": True},
    {"extent": 4, "extra_params": True, "ratio": 4},
    {"extent": 8, "extra_params": True, "use_mlp": False},
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("spatial", [(7, 6), (8, 9)])
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_matches_timm_gather_excite(config, spatial, data_format):
    reference = timm_reference()
    x = inputs(data_format, (2, *spatial, 8))
    layer = randomized(keras_se.GatherExcite2D(data_format=data_format, **config), x)
    expected = reference.run(reference.GatherExcite(layer), x, data_format)
    np.testing.assert_allclose(output(layer, x), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("extent", [2, 4, 8])
@pytest.mark.parametrize("spatial", [(1, 1), (2, 3), (5, 8), (9, 12), (13, 7)])
def test_strided_gather_matches_torch_pooling_and_resize(extent, spatial):
    """No weights: the gate of the average pool (`count_include_pad=False`,
    padding `extent - 1`) resized by nearest neighbour, nothing else."""
    reference = timm_reference()
    x = inputs("channels_last", (1, *spatial, 3))
    for add_maxpool in (False, True):
        layer = keras_se.GatherExcite2D(
            extent=extent, use_mlp=False, add_maxpool=add_maxpool
        )
        layer.build(x.shape)
        expected = reference.run(reference.GatherExcite(layer), x, "channels_last")
        np.testing.assert_allclose(output(layer, x), expected, atol=1e-6)


def test_nearest_rows_are_those_of_torch_interpolate():
    timm_reference()
    import torch

    for in_size in range(1, 9):
        for out_size in range(1, 40):
            source = torch.arange(in_size, dtype=torch.float32).reshape(1, 1, -1, 1)
            resized = torch.nn.functional.interpolate(source, size=(out_size, 1))
            expected = resized.reshape(-1).numpy().astype("int32")
            rows = ops.convert_to_numpy(nearest_indices(out_size, in_size))
            np.testing.assert_array_equal(rows, expected, f"{in_size}->{out_size}")


def test_global_gather_is_squeeze_excite_with_timm_rounding():
    """`extent=0` without extra weights is SE; 24 channels / 16 -> 2 units."""
    x = inputs("channels_last", (2, 3, 4, 24))
    layer = randomized(keras_se.GatherExcite2D(), x)
    assert layer.mlp_units == 2
    se = keras_se.SqueezeExcite2D(units=2)
    se.build(x.shape)
    se.set_weights(layer.get_weights())
    np.testing.assert_allclose(output(layer, x), output(se, x), atol=1e-6)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("add_maxpool", [False, True])
@pytest.mark.parametrize("extent", [8, 64])
def test_extent_that_covers_the_map_is_the_global_gather(
    extent, add_maxpool, data_format
):
    """timm's pool then has one window holding the whole map: its mean (and max)."""
    x = inputs(data_format, (2, 6, 5, 8))
    kwargs = {"add_maxpool": add_maxpool, "ratio": 2, "data_format": data_format}
    wide = randomized(keras_se.GatherExcite2D(extent=extent, **kwargs), x)
    gate = ops.convert_to_numpy(wide.excitation(x))
    assert gate.shape == (
        (2, 1, 1, 8) if data_format == "channels_last" else (2, 8, 1, 1)
    )
    global_gather = keras_se.GatherExcite2D(extent=0, **kwargs)
    global_gather.build(x.shape)
    global_gather.set_weights(wide.get_weights())
    np.testing.assert_allclose(output(wide, x), output(global_gather, x), atol=1e-6)


@pytest.mark.parametrize("config", [{}, {"extra_params": True}], ids=str)
def test_extent_that_covers_the_map_matches_timm(config):
    reference = timm_reference()
    x = inputs("channels_last", (2, 6, 5, 8))
    layer = randomized(keras_se.GatherExcite2D(extent=64, **config), x)
    expected = reference.run(reference.GatherExcite(layer), x, "channels_last")
    np.testing.assert_allclose(output(layer, x), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "channels, kwargs, expected",
    [
        (24, {}, 2),
        (8, {}, 1),
        (40, {}, 3),
        (40, {"divisor": 4}, 4),
        (8, {"units": 5}, 5),
    ],
)
def test_mlp_width_is_timm_rounding(channels, kwargs, expected):
    layer = keras_se.GatherExcite2D(**kwargs)
    layer.build((None, 4, 4, channels))
    assert tuple(layer.reduce.kernel.shape) == (channels, expected)


def test_strided_convolutions_and_norms():
    layer = keras_se.GatherExcite2D(extent=8, extra_params=True, use_mlp=False)
    layer.build((None, 9, 16, 4))
    assert len(layer.gather_convs) == 3
    assert [tuple(c.kernel.shape) for c in layer.gather_convs] == [(3, 3, 4, 1)] * 3
    norm = layer.gather_norms[0]
    assert (norm.momentum, norm.epsilon) == (0.9, 1e-5)
    x = inputs("channels_last", (2, 9, 16, 4))
    assert layer.excitation(x).shape == (2, 2, 2, 4)  # ceil(9/8), ceil(16/8)


CAN_START_AS_IDENTITY = [
    {},
    {"extent": 4},
    {"extent": 2, "extra_params": True},
    {"extent": 4, "extra_params": True, "use_mlp": False},
]


@pytest.mark.parametrize("config", CAN_START_AS_IDENTITY, ids=str)
@pytest.mark.parametrize("gate", ["sigmoid", "hard_sigmoid"])
@pytest.mark.parametrize("training", [False, True])
def test_initialize_as_identity_returns_the_input(config, gate, training):
    x = inputs("channels_last", (2, 7, 6, 8))
    layer = keras_se.GatherExcite2D(gate=gate, gate_scale=2.0, **config)
    randomized(layer, x)
    assert not np.allclose(output(layer, x), x)
    layer.initialize_as_identity()
    np.testing.assert_array_equal(output(layer, x, training=training), x)


@pytest.mark.parametrize("config", [{}, {"extent": 4}], ids=str)
def test_without_weights_cannot_start_as_identity(config):
    layer = keras_se.GatherExcite2D(use_mlp=False, gate_scale=2.0, **config)
    layer.build((None, 4, 4, 8))
    message = "use_mlp=False, extra_params=False"
    with pytest.raises(ValueError, match=message):
        layer.initialize_as_identity()


def test_initialize_as_identity_needs_a_gate_that_can_be_one():
    layer = keras_se.GatherExcite2D(gate="tanh", gate_scale=2.0)
    layer.build((None, 4, 4, 8))
    with pytest.raises(ValueError, match="gate='tanh'"):
        layer.initialize_as_identity()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"extent": 1}, "Received: extent=1"),
        ({"extent": 6}, "Received: extent=6"),
        ({"extent": -2}, "Received: extent=-2"),
        ({"extent": 2.0}, "Received: extent=2.0"),
        ({"extent": True}, "Received: extent=True"),
        ({"extra_params": True}, "Received: extra_params=True, extent=0"),
        (
            {"extent": 2, "extra_params": True, "add_maxpool": True},
            "Received: add_maxpool=True, extra_params=True",
        ),
        ({"use_mlp": "yes"}, "`use_mlp` must be True or False"),
        ({"ratio": 0}, "Received: ratio=0"),
        ({"units": -1}, "Received: units=-1"),
        ({"divisor": 0}, "Received: divisor=0"),
        ({"gate": "swish"}, "Received: gate='swish'"),
        ({"gate_scale": 0}, "Received: gate_scale=0"),
        ({"kernel_constraint": "nope"}, "Received: kernel_constraint='nope'"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        keras_se.GatherExcite2D(**kwargs)


def test_registered_as_ge():
    layer = keras_se.layers.get_attention("ge", extent=2)
    assert isinstance(layer, keras_se.GatherExcite2D)
    assert layer.extent == 2
