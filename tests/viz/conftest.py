"""Models and data shared by the viz tests."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_se
from keras_se.demo.data import load_digits
from keras_se.demo.model import build_digits_cnn


@pytest.fixture(scope="session")
def digits():
    return load_digits(seed=0)


@pytest.fixture(scope="session")
def trained_digits_model(digits):
    """The main job's SE CNN, trained briefly (a few seconds on 2 CPU cores)."""
    train, _ = digits
    keras.utils.set_random_seed(0)
    model = build_digits_cnn(ratio=8)
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(train.x, train.y, epochs=5, batch_size=64, verbose=0)
    return model


def constant_gate_model(logits, gate_scale):
    """A model whose SE gates are `sigmoid(logits[i]) * gate_scale` whatever the input.

    Three kinds of block: `SqueezeExcite2D`, `SqueezeExciteConv2D` (the SE
    inside it) and `SqueezeExcite2D` after pooling, 4 channels each.
    """
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = keras_se.SqueezeExcite2D(ratio=2, gate_scale=gate_scale, name="se_a")(x)
    x = keras_se.SqueezeExciteConv2D(4, ratio=2, name="se_conv")(x)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras_se.SqueezeExcite2D(ratio=2, gate_scale=gate_scale, name="se_b")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    blocks = [model.get_layer("se_a"), model.get_layer("se_conv").se]
    blocks.append(model.get_layer("se_b"))
    for block, logit in zip(blocks, logits, strict=True):
        block.expand.kernel.assign(np.zeros(block.expand.kernel.shape))
        block.expand.bias.assign(np.full(block.expand.bias.shape, logit))
    return model


def nested_digits_model(model: keras.Model) -> keras.Model:
    """`model` split into a nested feature extractor and a head, same layers."""
    features = keras.Model(
        model.inputs, model.get_layer("stage2_se").output, name="features"
    )
    inputs = keras.Input(model.inputs[0].shape[1:], name="pixels")
    x = features(inputs)
    x = model.get_layer("pool")(x)
    return keras.Model(inputs, model.get_layer("classes")(x), name="nested")


def random_images(count, shape=(8, 8, 1), seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (count, *shape)).astype("float32")
