"""SavedModel, TFLite and ONNX exports compute what the Keras model computes."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_se
from keras_se.errors import ExportError, KerasSEError, MissingDependencyError
from keras_se.export import litert
from tests.conftest import random_inputs
from tests.saving.helpers import (
    LAYER_CASES,
    layer_inputs,
    layer_model,
    randomize,
    se_cnn,
)

# Needs TensorFlow as the backend: skipped (not failed) without it.
pytestmark = pytest.mark.tensorflow
tf = pytest.importorskip("tensorflow", reason="needs the keras-se[tensorflow] extra")


def tflite_outputs(path, x):
    """Runs a .tflite file the way a user would, with the LiteRT interpreter."""
    runner = litert.interpreter(path.read_bytes()).get_signature_runner()
    (name,) = runner.get_input_details()
    return list(runner(**{name: x}).values())


@pytest.mark.parametrize("name", LAYER_CASES)
def test_every_layer_exports_to_a_savedmodel_that_reloads(name, tmp_path):
    model = layer_model(name)
    result = keras_se.export_model(
        model, tmp_path / "exported", "saved_model", sample_inputs=layer_inputs(name)
    )
    assert result.max_abs_diff <= 1e-6 and result.samples == 3
    # Other inputs than the ones checked at export.
    x = layer_inputs(name, batch=5, seed=7)
    expected = np.asarray(model(x))
    layer = keras.layers.TFSMLayer(result.path, call_endpoint="serve")
    np.testing.assert_allclose(np.asarray(layer(x)), expected, atol=1e-6)
    reloaded = tf.saved_model.load(str(result.path))
    np.testing.assert_allclose(reloaded.serve(x).numpy(), expected, atol=1e-6)
    assert "serving_default" in reloaded.signatures


@pytest.mark.parametrize("name", LAYER_CASES)
def test_every_layer_exports_to_tflite(name, tmp_path):
    model = layer_model(name)
    result = keras_se.export_model(model, tmp_path / f"{name}.tflite", "tflite")
    assert result.max_abs_diff <= 1e-5 <= result.tolerance
    x = layer_inputs(name, batch=5, seed=7)
    (actual,) = tflite_outputs(result.path, x)
    np.testing.assert_allclose(actual, np.asarray(model(x)), atol=1e-5)


def test_ops_tflite_cannot_run_are_named(tmp_path):
    model = keras.Sequential(
        [keras.Input((4, 4, 4, 2)), keras.layers.AveragePooling3D(2)]
    )
    with pytest.raises(ExportError, match=r"no built-in kernel for: AvgPool3D\."):
        keras_se.export_model(model, tmp_path / "pool.tflite", "tflite")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.large
def test_the_tolerance_is_relative_to_the_output_scale(tmp_path):
    model = se_cnn()
    x = random_inputs((4, 8, 8, 3), seed=3)
    scale = np.abs(model.predict(x, verbose=0)).max()
    float_export = keras_se.export_model(
        model, tmp_path / "f.tflite", "tflite", sample_inputs=x
    )
    assert float_export.tolerance == pytest.approx(1e-4 + 1e-4 * scale)
    dynamic = keras_se.export_model(
        model, tmp_path / "d.tflite", "tflite", quantize="dynamic", sample_inputs=x
    )
    assert dynamic.tolerance == pytest.approx(1e-3 + 5e-2 * scale)


def wide_cnn():
    inputs = keras.Input((8, 8, 3), name="image")
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu")(inputs)
    x = keras_se.SqueezeExciteConv2D(64, ratio=4)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(128, activation="relu")(x)
    return randomize(keras.Model(inputs, keras.layers.Dense(10)(x)), 0, scale=0.1)


@pytest.mark.large
@pytest.mark.parametrize("quantize, size_ratio", [("dynamic", 0.35), ("float16", 0.6)])
def test_quantized_tflite_is_smaller_and_stays_close(quantize, size_ratio, tmp_path):
    model = wide_cnn()
    plain = keras_se.export_model(model, tmp_path / "float.tflite", "tflite")
    small = keras_se.export_model(
        model, tmp_path / f"{quantize}.tflite", "tflite", quantize=quantize
    )
    assert small.path.stat().st_size < size_ratio * plain.path.stat().st_size
    assert plain.max_abs_diff < small.max_abs_diff <= small.tolerance
    x = random_inputs((6, 8, 8, 3), seed=9, low=-1, high=1)
    expected = model.predict(x, verbose=0)
    (actual,) = tflite_outputs(small.path, x)
    assert np.abs(actual - expected).max() <= 0.05 * np.abs(expected).max()


@pytest.mark.large
def test_an_export_that_differs_is_refused_and_not_written(tmp_path):
    model = wide_cnn()
    path = keras_se.export_model(model, tmp_path / "model.tflite", "tflite").path
    before = path.read_bytes()
    with pytest.raises(
        ExportError, match=r"refused and not written to .*model\.tflite"
    ):
        keras_se.export_model(model, path, "tflite", quantize="dynamic", tolerance=1e-9)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.tflite"]


def test_nan_outputs_are_refused(tmp_path, monkeypatch):
    # What a converter fed `from_concrete_functions([f], model)` can produce.
    def nan_outputs(content, inputs, names):
        return [np.full((len(inputs[0]), 5), np.nan, "float32")]

    monkeypatch.setattr(litert, "run_tflite", nan_outputs)
    with pytest.raises(ExportError) as info:
        keras_se.export_model(se_cnn(), tmp_path / "model.tflite", "tflite")
    assert info.value.max_abs_diff == float("inf")
    assert list(tmp_path.iterdir()) == []


def two_way_model():
    # Inputs named out of alphabetical order, so matching by position would fail.
    image = keras.Input((6, 6, 3), name="zeta")
    extra = keras.Input((5,), name="alpha")
    x = keras_se.SqueezeExcite2D(units=2)(keras.layers.Conv2D(8, 1)(image))
    x = keras.layers.GlobalAveragePooling2D()(x)
    first = keras.layers.Dense(3, name="zz")(keras.layers.Concatenate()([x, extra]))
    second = keras.layers.Dense(2, name="aa")(extra)
    return randomize(keras.Model([image, extra], [first, second]), 0)


@pytest.mark.parametrize(
    "format, name", [("saved_model", "sm"), ("tflite", "m.tflite")]
)
def test_a_model_with_two_inputs_and_two_outputs(format, name, tmp_path):
    model = two_way_model()
    result = keras_se.export_model(model, tmp_path / name, format)
    assert result.max_abs_diff <= 1e-5


@pytest.mark.large
def test_a_savedmodel_export_replaces_the_previous_one(tmp_path):
    path = tmp_path / "exported"
    keras_se.export_model(se_cnn(seed=0), path, "saved_model")
    newer = se_cnn(seed=1)
    keras_se.export_model(newer, path, "saved_model")
    x = random_inputs((2, 8, 8, 3))
    reloaded = tf.saved_model.load(str(path))
    served = reloaded.serve(x).numpy()
    np.testing.assert_allclose(served, np.asarray(newer(x)), rtol=1e-5, atol=1e-5)
    assert [p.name for p in tmp_path.iterdir()] == ["exported"]


BAD_ARGUMENTS = {
    "format": ({"format": "coreml"}, "m.tflite", r"`format` must be one of"),
    "quantize": (
        {"format": "tflite", "quantize": "int4"},
        "m.tflite",
        r"`quantize` must be one of",
    ),
    "quantize savedmodel": (
        {"format": "saved_model", "quantize": "dynamic"},
        "sm",
        r"applies to the 'tflite' format only",
    ),
    "suffix": ({"format": "tflite"}, "m.lite", r"must end in '\.tflite'"),
    "samples": (
        {"format": "tflite", "sample_inputs": [np.zeros((2, 8, 8, 3))] * 2},
        "m.tflite",
        r"one array per model input \(1\)",
    ),
}


@pytest.mark.parametrize("kind", BAD_ARGUMENTS)
def test_bad_arguments_fail_before_anything_is_written(kind, tmp_path):
    kwargs, name, message = BAD_ARGUMENTS[kind]
    with pytest.raises(ValueError, match=message):
        keras_se.export_model(se_cnn(), tmp_path / name, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_is_not_a_savedmodel_is_left_alone(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep")
    with pytest.raises(ValueError, match=r"not a SavedModel folder: it is left alone"):
        keras_se.export_model(se_cnn(), tmp_path / "notes", "saved_model")
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep"


def test_tflite_needs_the_tensorflow_backend(tmp_path, monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(
        ExportError, match=r"KERAS_BACKEND=tensorflow \(this is 'jax'\)"
    ):
        keras_se.export_model(se_cnn(), tmp_path / "m.tflite", "tflite")


def test_onnx_without_its_packages_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(keras_se.export.onnx, "_installed", lambda name: False)
    with pytest.raises(MissingDependencyError) as info:
        keras_se.export_model(se_cnn(), tmp_path / "m.onnx", "onnx")
    assert 'pip install "keras-se[onnx]"' in str(info.value)
    assert isinstance(info.value, ImportError) and isinstance(info.value, KerasSEError)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["se_cnn", *LAYER_CASES])
def test_onnx_export_matches_keras(name, tmp_path):
    for package in ("tf2onnx", "onnx"):
        pytest.importorskip(package)
    onnxruntime = pytest.importorskip("onnxruntime")
    model = se_cnn() if name == "se_cnn" else layer_model(name)
    result = keras_se.export_model(model, tmp_path / "model.onnx", "onnx")
    assert result.max_abs_diff <= 1e-5
    session = onnxruntime.InferenceSession(str(result.path))
    shape = (8, 8, 3) if name == "se_cnn" else LAYER_CASES[name][1]
    x = random_inputs((5, *shape), seed=7)
    (actual,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(actual, np.asarray(model(x)), atol=1e-5)


def test_an_onnx_graph_onnxruntime_cannot_run_is_refused(tmp_path):
    for package in ("tf2onnx", "onnx", "onnxruntime"):
        pytest.importorskip(package)
    # tf2onnx writes Keras's exact gelu with Erfc, an op ONNX does not have.
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(4, activation="gelu")]
    )
    with pytest.raises(ExportError, match=r"onnxruntime cannot run .*Erfc"):
        keras_se.export_model(model, tmp_path / "gelu.onnx", "onnx")
    assert list(tmp_path.iterdir()) == []
