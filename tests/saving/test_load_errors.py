"""Bad model and weights files fail with one clear line that names the file."""

from __future__ import annotations

import zipfile

import keras
import numpy as np
import pytest

import keras_se
from keras_se.errors import (
    KerasSEError,
    ModelFileError,
    ModelFileNotFoundError,
    UnknownClassError,
    UnsafeModelError,
)
from tests.conftest import run_python
from tests.saving.helpers import rewrite_config, se_cnn


@pytest.fixture
def good(tmp_path):
    return keras_se.save_model(se_cnn(), tmp_path / "good.keras")


def flip_a_byte(good, target):
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))


def no_config(good, target):
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("metadata.json", "{}")


def bad_json(good, target):
    with zipfile.ZipFile(good) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            new.writestr(item, b"{not json" if item.filename == "config.json" else data)


BAD_FILES = {
    "empty": (".keras", lambda good, t: t.write_bytes(b""), "is empty"),
    "text": (
        ".keras",
        lambda good, t: t.write_text("hello"),
        r"is not a \.keras archive \(not a zip file\)",
    ),
    "truncated": (
        ".keras",
        lambda good, t: t.write_bytes(good.read_bytes()[: good.stat().st_size // 2]),
        r"is a truncated or corrupt \.keras archive",
    ),
    "corrupt": (".keras", flip_a_byte, r"corrupt or truncated file: the checksum"),
    "no config": (".keras", no_config, r"not a Keras model archive"),
    "bad json": (".keras", bad_json, r"config\.json is not valid JSON"),
    "weights": (
        ".keras",
        lambda good, t: (
            se_cnn().save_weights(t.with_suffix(".weights.h5"))
            or t.with_suffix(".weights.h5").rename(t)
        ),
        r"is an HDF5 file .*keras_se\.load_weights",
    ),
    "zip name": (
        ".zip",
        lambda good, t: t.write_bytes(good.read_bytes()),
        r"only reads it under a name ending in \.keras: rename it",
    ),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_load_model_explains_bad_files(kind, good, tmp_path):
    suffix, make, message = BAD_FILES[kind]
    path = tmp_path / f"bad{suffix}"
    make(good, path)
    with pytest.raises(ModelFileError, match=message) as info:
        keras_se.load_model(path)
    text = str(info.value)
    assert str(path) in text and "\n" not in text
    assert info.value.path == path
    assert isinstance(info.value, ValueError) and isinstance(info.value, KerasSEError)


def test_load_model_explains_a_missing_file(tmp_path):
    path = tmp_path / "missing.keras"
    with pytest.raises(ModelFileNotFoundError, match=f"not found: {path}"):
        keras_se.load_model(path)
    with pytest.raises(FileNotFoundError):
        keras_se.load_model(path)


@pytest.mark.tensorflow  # exports a SavedModel
def test_load_model_points_a_savedmodel_folder_to_tfsmlayer(tmp_path):
    folder = tmp_path / "exported"
    keras_se.export_model(se_cnn(), folder, "saved_model")
    with pytest.raises(ModelFileError, match=r"SavedModel folder.*TFSMLayer"):
        keras_se.load_model(folder)


def rename_class(registered_name, class_name, module):
    def edit(config):
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "SqueezeExcite2D":
                layer.update(
                    registered_name=registered_name,
                    class_name=class_name,
                    module=module,
                )

    return edit


UNKNOWN = {
    "newer keras_se": (
        ("keras_se>SqueezeExcite4D", "SqueezeExcite4D", "keras_se.layers"),
        r"'keras_se>SqueezeExcite4D' \(keras_se .* has no such class: a newer "
        r"keras-se may\)",
    ),
    "uninstalled package": (
        ("acme_blocks>Blur", "Blur", "acme_blocks.layers"),
        r"'acme_blocks>Blur' \(from the package 'acme_blocks', not installed "
        r"\(pip install acme-blocks\)\)",
    ),
    "keras_hub": (
        ("keras_hub>FancyBlock", "FancyBlock", "keras_hub.src.layers.fancy"),
        r"'keras_hub>FancyBlock' \(from the package 'keras_hub'",
    ),
    "script": (
        ("Custom>Widget", "Widget", None),
        r"'Custom>Widget' \(registered under the package name 'Custom' by a "
        r"script",
    ),
}


@pytest.mark.parametrize("kind", UNKNOWN)
def test_load_model_names_unknown_classes_and_who_may_provide_them(
    kind, good, tmp_path
):
    names, message = UNKNOWN[kind]
    path = tmp_path / "unknown.keras"
    rewrite_config(good, path, rename_class(*names))
    with pytest.raises(UnknownClassError, match=message) as info:
        keras_se.load_model(path)
    assert info.value.classes == (names[0],)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_custom_objects_resolve_a_class_the_file_needs(good, tmp_path):
    path = tmp_path / "renamed.keras"
    rewrite_config(good, path, rename_class("acme>Gate", "Gate", None))
    custom = {"acme>Gate": keras_se.SqueezeExcite2D}
    model = keras_se.load_model(path, custom_objects=custom)
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    expected = keras_se.load_model(good)
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(expected(x)))


def lambda_model():
    inputs = keras.Input((8, 8, 3))
    x = keras_se.SqueezeExcite2D(ratio=1)(inputs)
    x = keras.layers.Lambda(lambda t: t * 2.0, name="double")(x)
    return keras.Model(inputs, x)


def test_a_lambda_archive_is_refused_with_the_reason(tmp_path):
    path = keras_se.save_model(lambda_model(), tmp_path / "lambda.keras")
    with pytest.raises(UnsafeModelError) as info:
        keras_se.load_model(path)
    text = str(info.value)
    assert str(path) in text and "'double' (Lambda)" in text
    assert "would run that code" in text and "safe mode" in text
    assert "Do not turn safe mode off for a file you did not make yourself" in text
    # Keras's own loader refuses it by default too.
    with pytest.raises(ValueError, match="safe_mode"):
        keras.saving.load_model(path)


@pytest.mark.large
def test_a_lambda_archive_is_refused_even_with_unsafe_deserialization_on(tmp_path):
    path = keras_se.save_model(lambda_model(), tmp_path / "lambda.keras")
    # A fresh process, so the global switch does not leak into other tests.
    result = run_python(
        f"""
import json, keras, keras_se
keras.config.enable_unsafe_deserialization()
keras_loaded = keras.saving.load_model({str(path)!r}, safe_mode=True) is not None
try:
    keras_se.load_model({str(path)!r})
    error = None
except keras_se.errors.UnsafeModelError as refused:
    error = str(refused)
print(json.dumps({{"keras_loaded": keras_loaded, "error": error}}))
"""
    )
    # Keras lets the global switch override safe_mode=True; keras_se does not.
    assert result["keras_loaded"] is True
    assert result["error"] is not None and "Lambda" in result["error"]


WEIGHT_FILES = {
    "missing": (None, ModelFileNotFoundError, r"Weights file not found"),
    "suffix": (".h5", ModelFileError, r"weights files end in \.weights\.h5"),
    "text": ("text", ModelFileError, r"is not an HDF5 weights file"),
    "archive": ("archive", ModelFileError, r"is a zip file .*keras_se\.load_model"),
    "truncated": ("truncated", ModelFileError, r"corrupt or truncated file"),
}


@pytest.mark.parametrize("kind", WEIGHT_FILES)
def test_load_weights_explains_bad_files(kind, good, tmp_path):
    content, error, message = WEIGHT_FILES[kind]
    path = tmp_path / ("w.h5" if content == ".h5" else "w.weights.h5")
    weights = keras_se.save_weights(se_cnn(), tmp_path / "good.weights.h5")
    if content == ".h5":
        path.write_bytes(weights.read_bytes())
    elif content == "text":
        path.write_text("hello")
    elif content == "archive":
        path.write_bytes(good.read_bytes())
    elif content == "truncated":
        path.write_bytes(weights.read_bytes()[:3000])
    model = se_cnn(seed=3)
    before = model.get_weights()
    with pytest.raises(error, match=message) as info:
        keras_se.load_weights(model, path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_load_weights_refuses_a_file_of_another_architecture(tmp_path):
    path = keras_se.save_weights(se_cnn(), tmp_path / "cnn.weights.h5")
    plain = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="conv")]
    )
    before = plain.get_weights()
    with pytest.raises(ModelFileError) as info:
        keras_se.load_weights(plain, path)
    text = str(info.value)
    assert "the file has" in text and "variable(s) that the model lacks" in text
    assert (
        "shape(s) differ (e.g. layers/conv2d/vars/0: (3, 3, 3, 16) in the file" in text
    )
    assert "The model was left unchanged." in text
    np.testing.assert_array_equal(plain.get_weights()[0], before[0])
