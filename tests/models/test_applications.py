"""The named builders: keras.applications' arguments, timm's keys, shapes and sizes."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_se
from keras_se.models import BUILDERS, CONFIGS, load_timm_state_dict
from tests.models.references import full_size_keys

ARCHITECTURES = {
    builder: CONFIGS[name].timm_name
    for builder, name in zip(BUILDERS, CONFIGS, strict=True)
}


def timm_shaped_zeros(keys: dict[str, list[int]]) -> dict[str, np.ndarray]:
    # Read-only views of one zero: the full-size key sets cost no memory.
    zero = np.zeros((), "float32")
    return {key: np.broadcast_to(zero, shape) for key, shape in keys.items()}


def trainable_count(model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def check_against_timm(builder_name):
    expected = full_size_keys()[ARCHITECTURES[builder_name]]
    model = BUILDERS[builder_name](input_shape=(64, 64, 3))
    assert trainable_count(model) == expected["parameters"]
    state = timm_shaped_zeros(expected["keys"])
    loaded = load_timm_state_dict(model, state, check_only=True)
    assert loaded == len(model.weights)
    return model


def test_seresnet50_has_timms_keys_shapes_parameter_count_and_se_layers():
    model = check_against_timm("SEResNet50")
    blocks = [
        layer for layer in model.layers if isinstance(layer, keras_se.SqueezeExcite2D)
    ]
    # timm's SEModule: make_divisible(channels / 16, 8, round_limit=0).
    assert len(blocks) == 16
    assert [block.bottleneck_units for block in blocks[:4]] == [16, 16, 16, 32]


@pytest.mark.large
@pytest.mark.parametrize("builder_name", sorted(set(BUILDERS) - {"SEResNet50"}))
def test_every_network_has_timms_keys_shapes_and_parameter_count(builder_name):
    check_against_timm(builder_name)


def test_applications_arguments():
    inputs = keras.Input((64, 64, 3))
    model = keras_se.models.ResNet50d(
        include_top=False, input_tensor=inputs, pooling="max", name="features"
    )
    assert model.name == "features"
    assert model.inputs[0] is inputs
    assert tuple(model.output.shape) == (None, 2048)
    head = keras_se.models.ECAResNet50d(
        input_shape=(64, 64, 3), classes=7, classifier_activation=None
    )
    assert tuple(head.output.shape) == (None, 7)
    assert head.get_layer("fc").activation is keras.activations.linear
    assert head.name == "ecaresnet50d"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"pooling": "mean", "include_top": False}, "`pooling` must be"),
        ({"classes": 0}, "`classes` must be a positive integer"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras_se.models.SEResNet50(**kwargs)
