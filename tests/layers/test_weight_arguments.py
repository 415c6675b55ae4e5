"""The weight arguments, written once, listed in every layer's signature."""

from __future__ import annotations

import inspect

import keras
import pytest

from keras_se.layers.weight_arguments import (
    KERNEL_ARGUMENTS,
    WEIGHT_ARGUMENTS,
    WEIGHT_PARAMETERS,
)
from tests.layers.registry import LAYER_CASES

CLASSES = sorted({case.layer_class for case in LAYER_CASES}, key=lambda c: c.__name__)


@pytest.mark.parametrize("layer_class", CLASSES, ids=lambda c: c.__name__)
def test_the_signature_lists_the_weight_arguments_with_their_defaults(layer_class):
    parameters = inspect.signature(layer_class.__init__).parameters
    names = layer_class.weight_argument_names
    assert names in (WEIGHT_ARGUMENTS, KERNEL_ARGUMENTS)
    listed = [name for name in parameters if name in WEIGHT_ARGUMENTS]
    assert listed == list(names)
    for name in names:
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert parameters[name].default == WEIGHT_PARAMETERS[name][0]
    assert list(parameters)[-1] == "kwargs"


@pytest.mark.parametrize("layer_class", CLASSES, ids=lambda c: c.__name__)
def test_weight_arguments_reach_the_layer_and_its_config(layer_class):
    required = (
        {"filters": 8} if "filters" in inspect.signature(layer_class).parameters else {}
    )
    layer = layer_class(
        **required, kernel_initializer="he_normal", kernel_constraint="non_neg"
    )
    assert isinstance(layer.kernel_initializer, keras.initializers.HeNormal)
    config = layer.get_config()
    assert config["kernel_initializer"]["class_name"] == "HeNormal"
    assert config["kernel_constraint"]["class_name"] == "NonNeg"
    assert set(layer_class.weight_argument_names) <= set(config)


def test_a_layer_without_biases_refuses_a_bias_argument():
    from keras_se.layers import EfficientChannelAttention2D

    with pytest.raises((TypeError, ValueError), match="bias_initializer"):
        EfficientChannelAttention2D(bias_initializer="zeros")
