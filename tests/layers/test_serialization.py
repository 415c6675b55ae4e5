"""Configs round-trip; `.keras` archives load with safe_mode=True, no custom_objects."""

from __future__ import annotations

import inspect
import json

import keras
import numpy as np
import pytest
from keras import ops

import keras_se
from tests.conftest import random_inputs, run_python

ALL_LAYERS = {
    keras_se.SqueezeExcite1D: ((5, 8), {}),
    keras_se.SqueezeExcite2D: ((4, 5, 8), {}),
    keras_se.SqueezeExcite3D: ((2, 3, 4, 8), {}),
    keras_se.SqueezeExciteConv2D: ((4, 5, 8), {"filters": 8}),
}

# Every argument set away from its default, so a dropped one shows.
NON_DEFAULT_ARGS = {
    "ratio": 2,
    "units": 3,
    "divisor": 2,
    "activation": "gelu",
    "gate": "hard_sigmoid",
    "gate_scale": 2.0,
    "squeeze": "max",
    "data_format": "channels_last",
    "use_bias": False,
    "kernel_initializer": "he_normal",
    "bias_initializer": keras.initializers.Constant(0.1),
    "kernel_regularizer": keras.regularizers.L2(1e-3),
    "bias_regularizer": "l1",
    "kernel_constraint": "non_neg",
    "bias_constraint": keras.constraints.MaxNorm(2.0),
    "kernel_size": 1,
    "residual": True,
}


def as_json(config):
    """Configs compare equal up to tuples read back as lists."""
    return json.loads(json.dumps(config))


def init_arguments(layer_class):
    parameters = inspect.signature(layer_class.__init__).parameters
    return [name for name in parameters if name not in ("self", "kwargs")]


def non_default_layer(layer_class, extra):
    names = init_arguments(layer_class)
    args = {name: NON_DEFAULT_ARGS[name] for name in names if name in NON_DEFAULT_ARGS}
    return layer_class(**{**args, **extra}, name="under_test")


@pytest.mark.parametrize("layer_class", ALL_LAYERS)
def test_config_holds_exactly_the_init_arguments(layer_class):
    _, extra = ALL_LAYERS[layer_class]
    config = non_default_layer(layer_class, extra).get_config()
    base_keys = set(keras.layers.Layer().get_config())
    assert set(config) - base_keys == set(init_arguments(layer_class))


@pytest.mark.parametrize("layer_class", ALL_LAYERS)
def test_config_round_trip(layer_class):
    shape, extra = ALL_LAYERS[layer_class]
    layer = non_default_layer(layer_class, extra)
    clone = layer_class.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    # And through Keras's registry, as a model file does it.
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(layer)))
    assert serialized["registered_name"] == f"keras_se>{layer_class.__name__}"
    revived = keras.saving.deserialize_keras_object(serialized)
    assert type(revived) is layer_class
    assert revived.get_config() == layer.get_config()
    x = random_inputs((2, *shape))
    layer(x), revived(x)
    revived.set_weights(layer.get_weights())
    np.testing.assert_allclose(
        ops.convert_to_numpy(revived(x)), ops.convert_to_numpy(layer(x)), atol=1e-6
    )


def sequential_model():
    return keras.Sequential(
        [
            keras.Input((6, 6, 3)),
            keras.layers.Conv2D(16, 3, padding="same"),
            keras_se.SqueezeExcite2D(ratio=4, gate="hard_sigmoid"),
            keras_se.SqueezeExciteConv2D(16, residual=True, ratio=4, divisor=2),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3),
        ]
    )


def functional_model():
    image = keras.Input((6, 6, 3))
    sequence = keras.Input((7, 4))
    volume = keras.Input((2, 4, 4, 5))
    a = keras.layers.GlobalAveragePooling2D()(
        keras_se.SqueezeExcite2D(ratio=2, data_format="channels_first")(image)
    )
    b = keras.layers.GlobalAveragePooling1D()(
        keras_se.SqueezeExcite1D(units=2)(sequence)
    )
    c = keras.layers.GlobalAveragePooling3D()(keras_se.SqueezeExcite3D(2)(volume))
    return keras.Model([image, sequence, volume], keras.layers.Concatenate()([a, b, c]))


MODEL_INPUTS = {
    "sequential": (sequential_model, [(2, 6, 6, 3)]),
    "functional": (functional_model, [(2, 6, 6, 3), (2, 7, 4), (2, 2, 4, 4, 5)]),
}


@pytest.mark.parametrize("kind", MODEL_INPUTS)
def test_keras_archive_round_trip_in_a_fresh_process(kind, tmp_path):
    factory, shapes = MODEL_INPUTS[kind]
    model = factory()
    inputs = [random_inputs(shape, seed=i) for i, shape in enumerate(shapes)]
    expected = ops.convert_to_numpy(model(inputs if len(inputs) > 1 else inputs[0]))
    path = keras_se.save_model(model, tmp_path / f"{kind}.keras")
    np.savez(tmp_path / "inputs.npz", *inputs)

    # Same process: safe mode, no custom_objects.
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert as_json(reloaded.get_config()) == as_json(model.get_config())
    actual = reloaded(inputs if len(inputs) > 1 else inputs[0])
    np.testing.assert_array_equal(ops.convert_to_numpy(actual), expected)

    # A fresh interpreter that only imports keras_se.
    result = run_python(
        f"""
import json, keras, numpy as np, keras_se
data = np.load({str(tmp_path / "inputs.npz")!r})
inputs = [data[key] for key in sorted(data.files)]
model = keras.saving.load_model({str(path)!r}, safe_mode=True)
out = model(inputs if len(inputs) > 1 else inputs[0])
np.save({str(tmp_path / "out.npy")!r}, keras.ops.convert_to_numpy(out))
print(json.dumps({{"classes": sorted({{type(l).__name__ for l in model.layers}})}}))
"""
    )
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), expected)
    assert any(name.startswith("SqueezeExcite") for name in result["classes"])


def test_fresh_process_without_import_fails_clearly(tmp_path):
    path = keras_se.save_model(sequential_model(), tmp_path / "model.keras")
    code = f"""
import json, keras
try:
    keras.saving.load_model({str(path)!r})
    print(json.dumps({{"error": None}}))
except Exception as error:
    print(json.dumps({{"error": str(error)}}))
"""
    error = run_python(code)["error"]
    assert error is not None and "keras_se>SqueezeExcite2D" in error
