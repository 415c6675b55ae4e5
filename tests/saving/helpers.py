"""Models and checks shared by the save, load and export tests."""

from __future__ import annotations

import json
import zipfile

import keras
import numpy as np

import keras_se
from tests.conftest import random_inputs

# Every layer, with arguments away from their defaults.
LAYER_CASES = {
    "SqueezeExcite1D": (
        keras_se.SqueezeExcite1D,
        (6, 8),
        {"ratio": 2, "gate": "hard_sigmoid"},
    ),
    "SqueezeExcite2D": (
        keras_se.SqueezeExcite2D,
        (5, 5, 8),
        {"units": 3, "squeeze": "max", "gate_scale": 2.0},
    ),
    "SqueezeExcite3D": (
        keras_se.SqueezeExcite3D,
        (3, 4, 4, 8),
        {"ratio": 4, "activation": "swish"},
    ),
    "SqueezeExciteConv2D": (
        keras_se.SqueezeExciteConv2D,
        (5, 5, 8),
        {"filters": 8, "residual": True, "ratio": 2},
    ),
}


def layer_model(name: str, seed: int = 0) -> keras.Model:
    """A model holding one keras_se layer, with random (not initial) weights."""
    layer_class, shape, kwargs = LAYER_CASES[name]
    model = keras.Sequential(
        [keras.Input(shape, name="features"), layer_class(**kwargs, name="se")],
        name=f"{name.lower()}_model",
    )
    return randomize(model, seed)


def layer_inputs(name: str, batch: int = 3, seed: int = 1) -> np.ndarray:
    return random_inputs((batch, *LAYER_CASES[name][1]), seed=seed)


def se_cnn(seed: int = 0) -> keras.Model:
    """A small functional CNN with two kinds of SE layers."""
    inputs = keras.Input((8, 8, 3), name="image")
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = keras_se.SqueezeExcite2D(ratio=4, gate="hard_sigmoid")(x)
    x = keras_se.SqueezeExciteConv2D(16, residual=True, ratio=4)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(5, name="logits")(x)
    return randomize(keras.Model(inputs, outputs, name="se_cnn"), seed)


def randomize(model: keras.Model, seed: int, scale: float = 0.5) -> keras.Model:
    """Gives every weight a random value, so a dropped weight shows."""
    rng = np.random.default_rng(seed)
    model.set_weights(
        [rng.normal(0, scale, w.shape).astype(w.dtype) for w in model.get_weights()]
    )
    return model


def assert_same_weights(expected: keras.Model, actual: keras.Model) -> None:
    want, got = expected.get_weights(), actual.get_weights()
    assert len(want) == len(got)
    for a, b in zip(want, got, strict=True):
        np.testing.assert_array_equal(a, b)


def rewrite_config(source, target, edit) -> None:
    """Copies a `.keras` archive, with `edit(config)` applied to config.json."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            new.writestr(item, data)


def layer_configs(config):
    """Every layer entry of a model config, nested models included."""
    for layer in config["config"]["layers"]:
        yield layer
        if "layers" in layer.get("config", {}):
            yield from layer_configs(layer)
