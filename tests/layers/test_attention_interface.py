"""Every attention layer answers for itself: its kind, its arguments, its gate."""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest
from keras import ops

import keras_se
from keras_se.layers import ATTENTIONS, AttentionInterface, is_attention
from keras_se.layers.attention_interface import GATE_READERS
from tests.layers.registry import LAYER_CASES

CASES = [pytest.param(case, id=case.id) for case in LAYER_CASES]
CLASSES = sorted({case.layer_class for case in LAYER_CASES}, key=lambda c: c.__name__)
# The layers whose gate is not one per sample and channel.
WITHOUT_CHANNEL_GATE = {
    ("GatherExcite2D", "extent", 2),
    ("GatherExcite2D", "extent", 4),
    ("GlobalContext2D", "fusion", "add"),
}


def built(case):
    layer = case.layer_class(**case.init_kwargs)
    layer.build(case.input_shape)
    return layer


def has_channel_gate(case) -> bool:
    return not any(
        case.layer_class.__name__ == name and case.init_kwargs.get(key) == value
        for name, key, value in WITHOUT_CHANNEL_GATE
    )


@pytest.mark.parametrize("layer_class", CLASSES, ids=lambda c: c.__name__)
def test_kind_names_a_registered_attention_of_the_same_family(layer_class):
    assert issubclass(layer_class, AttentionInterface)
    assert layer_class.attention_kind in ATTENTIONS
    family = ATTENTIONS[layer_class.attention_kind]
    if layer_class is keras_se.SqueezeExciteConv2D:  # a conv, then SE
        assert family is keras_se.SqueezeExcite2D
    else:  # the 2D layer itself, or a 1D/3D variant on the same base
        assert layer_class.__mro__[1] is family.__mro__[1]


@pytest.mark.parametrize("layer_class", CLASSES, ids=lambda c: c.__name__)
def test_arguments_are_the_constructor_arguments(layer_class):
    declared = layer_class.attention_arguments()
    assert len(declared) == len(set(declared))
    parameters = set(inspect.signature(layer_class.__init__).parameters)
    assert set(declared) == parameters - {"self", "kwargs"}


@pytest.mark.parametrize("case", CASES)
def test_constructs_from_its_arguments_in_its_config(case):
    layer = case.layer_class(**case.init_kwargs)
    config = layer.get_config()
    arguments = {name: config[name] for name in layer.attention_arguments()}
    rebuilt = case.layer_class(**arguments, name=layer.name)
    assert rebuilt.get_config() == config
    assert is_attention(layer)


@pytest.mark.parametrize("case", CASES)
def test_channel_gate_is_what_the_block_multiplies_channels_by(case):
    layer = built(case)
    x = np.random.default_rng(0).uniform(0.5, 2.0, case.input_shape).astype("float32")
    assert layer.has_channel_gate == has_channel_gate(case)
    if not layer.has_channel_gate:
        with pytest.raises(ValueError, match="has no per-channel gate"):
            layer.channel_gate(x)
        return
    gate = ops.convert_to_numpy(layer.channel_gate(x))
    channels = layer.compute_output_shape(case.input_shape)[
        1 if layer.data_format == "channels_first" else -1
    ]
    assert gate.shape == (case.input_shape[0], channels)
    if isinstance(layer, keras_se.layers.base_attention.BaseChannelGate):
        axes = [-1] + [1] * (len(case.input_shape) - 1)
        axes[1 if layer.data_format == "channels_first" else -1] = channels
        expected = x * gate.reshape(axes)
        np.testing.assert_allclose(
            ops.convert_to_numpy(layer(x)), expected, rtol=1e-5, atol=1e-6
        )


@pytest.mark.parametrize("case", CASES)
def test_reading_a_gate_builds_the_layer_first(case):
    x = np.random.default_rng(0).uniform(0.5, 2.0, case.input_shape).astype("float32")
    readers = [
        name
        for name in GATE_READERS
        if hasattr(case.layer_class, name)
        and (has_channel_gate(case) or name not in ("excitation", "channel_gate"))
    ]
    assert readers or not has_channel_gate(case)
    for name in readers:
        fresh = case.layer_class(**case.init_kwargs)
        value = getattr(fresh, name)(x)
        assert fresh.built
        reference = built(case)
        reference.set_weights(fresh.get_weights())
        np.testing.assert_allclose(
            ops.convert_to_numpy(value),
            ops.convert_to_numpy(getattr(reference, name)(x)),
            rtol=1e-6,
            err_msg=name,
        )


@pytest.mark.parametrize(
    ("layer", "channels", "width"),
    [
        (keras_se.SqueezeExcite2D(ratio=4), 16, 4),
        (keras_se.SqueezeExcite2D(units=3), 16, 3),
        (keras_se.GlobalContext2D(ratio=8), 16, 2),
        (keras_se.CBAM2D(ratio=2), 16, 8),
        (keras_se.GatherExcite2D(ratio=4), 16, 4),
        (keras_se.GatherExcite2D(extent=2, use_mlp=False), 16, None),
        (keras_se.EfficientChannelAttention2D(), 16, None),
        (keras_se.EffectiveSqueezeExcite2D(), 16, None),
        (keras_se.SqueezeExciteConv2D(32, ratio=4), 8, 8),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, keras.Layer) else None,
)
def test_bottleneck_width(layer, channels, width):
    assert layer.bottleneck_width is None  # unbuilt
    layer.build((1, 8, 8, channels))
    assert layer.bottleneck_width == width


def test_a_keras_layer_is_not_an_attention():
    assert not is_attention(keras.layers.Conv2D(4, 3))
    assert not is_attention(keras.layers.Multiply())
