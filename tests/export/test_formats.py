"""Each export format owns its checks: targets, dependencies, quantizations.

None of these needs TensorFlow: the formats are checked before anything is
converted.
"""

from __future__ import annotations

import keras
import pytest

from keras_se.errors import ExportError, MissingDependencyError
from keras_se.export import EXPORT_FORMATS, QUANTIZATIONS, litert, onnx
from keras_se.export.formats import FORMAT_QUANTIZATIONS, FORMATS, get_format


def test_the_formats_are_one_module_each():
    assert EXPORT_FORMATS == ("saved_model", "tflite", "onnx")
    assert {name: type(fmt).__module__ for name, fmt in FORMATS.items()} == {
        "saved_model": "keras_se.export.saved_model",
        "tflite": "keras_se.export.litert",
        "onnx": "keras_se.export.onnx",
    }
    assert QUANTIZATIONS == ("dynamic", "float16", "int8")
    assert FORMAT_QUANTIZATIONS == {
        "saved_model": (),
        "tflite": ("dynamic", "float16", "int8"),
        "onnx": ("int8",),
    }


def test_an_unknown_format_lists_the_formats():
    with pytest.raises(ValueError, match=r"`format` must be one of \('saved_model'"):
        get_format("coreml")


@pytest.mark.parametrize("name, target", [("tflite", "m.onnx"), ("onnx", "m.tflite")])
def test_a_file_format_checks_its_suffix(tmp_path, name, target):
    with pytest.raises(ValueError, match=rf"must end in '\.{name}'"):
        get_format(name).check_target(tmp_path / target)


@pytest.mark.parametrize("name", ["tflite", "onnx"])
def test_a_file_format_refuses_a_folder(tmp_path, name):
    folder = tmp_path / f"m.{name}"
    folder.mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        get_format(name).check_target(folder)


def test_saved_model_leaves_another_folder_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="is not a SavedModel folder"):
        get_format("saved_model").check_target(tmp_path)
    assert get_format("saved_model").check_target(tmp_path / "new") == tmp_path / "new"


@pytest.mark.skipif(keras.backend.backend() == "tensorflow", reason="other backends")
def test_tflite_needs_the_tensorflow_backend():
    with pytest.raises(ExportError, match="KERAS_BACKEND=tensorflow"):
        litert.LiteRTFormat().check_ready()


def test_onnx_names_its_missing_packages(monkeypatch):
    monkeypatch.setattr(onnx, "_installed", lambda name: name == "onnx")
    with pytest.raises(MissingDependencyError, match="tf2onnx, onnxruntime"):
        onnx.ONNXFormat().check_ready()
