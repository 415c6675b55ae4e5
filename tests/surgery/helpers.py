"""Factories and checks shared by the surgery tests."""

from __future__ import annotations

import functools

import keras
import numpy as np

import keras_se

APPLICATIONS = {
    "ResNet50": keras.applications.ResNet50,
    "ResNet50V2": keras.applications.ResNet50V2,
    "MobileNetV2": keras.applications.MobileNetV2,
    "MobileNetV3Small": keras.applications.MobileNetV3Small,
    "EfficientNetB0": keras.applications.EfficientNetB0,
    "DenseNet121": keras.applications.DenseNet121,
    "VGG16": keras.applications.VGG16,
    "ConvNeXtTiny": keras.applications.ConvNeXtTiny,
}


@functools.cache
def application(name: str) -> keras.Model:
    """A small, randomly initialised keras.applications model (built once)."""
    keras.utils.set_random_seed(0)
    return APPLICATIONS[name](weights=None, input_shape=(32, 32, 3), classes=10)


def small_cnn_in(data_format: str) -> keras.Model:
    """Two 3x3 convolutions of 16 channels on 8x8 RGB images, in `data_format`."""
    shape = (3, 8, 8) if data_format == "channels_first" else (8, 8, 3)
    inputs = keras.Input(shape, name="image")
    x = keras.layers.Conv2D(16, 3, data_format=data_format, name="conv1")(inputs)
    x = keras.layers.Conv2D(16, 3, data_format=data_format, name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D(data_format=data_format, name="gap")(x)
    return keras.Model(inputs, keras.layers.Dense(2, name="logits")(x))


def two_stage_channels_first_cnn() -> keras.Model:
    """Two resolutions, two widths (8 then 16 channels) at the first one.

    `relu_a`'s map declares no format of its own: it is conv `a`'s.
    """
    data_format = "channels_first"
    inputs = keras.Input((3, 8, 8))
    x = keras.layers.Conv2D(8, 3, padding="same", data_format=data_format, name="a")(
        inputs
    )
    x = keras.layers.BatchNormalization(axis=1, name="bn_a")(x)
    x = keras.layers.ReLU(name="relu_a")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", data_format=data_format, name="b")(x)
    x = keras.layers.MaxPooling2D(data_format=data_format, name="pool")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", data_format=data_format, name="c")(x)
    x = keras.layers.GlobalAveragePooling2D(data_format=data_format)(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="logits")(x))


def cannot_run_channels_first() -> str | None:
    """Why this backend cannot run channels_first convolutions; `None` if it can."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return None
    return "TensorFlow's CPU Conv2D kernel supports channels_last only"


def attention_blocks(model):
    return [layer for layer in all_layers(model) if keras_se.layers.is_attention(layer)]


def images(batch=2, seed=0, shape=(32, 32, 3)):
    return (
        np.random.default_rng(seed).uniform(0, 255, (batch, *shape)).astype("float32")
    )


def all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)


def se_blocks(model):
    return [
        layer
        for layer in all_layers(model)
        if isinstance(layer, keras_se.SqueezeExcite2D)
    ]


def snapshot(model):
    return {
        layer.name: [w.copy() for w in layer.get_weights()]
        for layer in all_layers(model)
    }


def assert_original_weights_kept(original, wrapped):
    wrapped_layers = {layer.name: layer for layer in all_layers(wrapped)}
    for layer in all_layers(original):
        if isinstance(layer, keras.Model):
            continue  # a nested model now holds SE weights too; its layers count
        clone = wrapped_layers[layer.name]
        assert clone is not layer, f"{layer.name} is shared with the input model"
        expected, actual = layer.get_weights(), clone.get_weights()
        assert len(expected) == len(actual), layer.name
        for want, got in zip(expected, actual, strict=True):
            np.testing.assert_array_equal(got, want, err_msg=layer.name)


def max_abs_difference(a, b, x):
    to_numpy = keras.ops.convert_to_numpy  # a torch output may require grad
    return float(np.max(np.abs(to_numpy(a(x)) - to_numpy(b(x)))))


def producer_of_input(model, layer_name):
    """The name of the layer whose output feeds `layer_name`'s (single) call."""
    config = next(c for c in model.get_config()["layers"] if c["name"] == layer_name)
    node = config["inbound_nodes"][0]
    return node["args"][0]["config"]["keras_history"][0]


def consumers_of(model, layer_name):
    names = []
    for config in model.get_config()["layers"]:
        for node in config.get("inbound_nodes") or []:
            if f"'keras_history': ['{layer_name}'" in str(node).replace('"', "'"):
                names.append(config["name"])
    return names
