"""`keras-se export`: checked exports, one clear line on bad files."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_se
from keras_se.cli import main
from keras_se.export import litert
from tests.conftest import random_inputs
from tests.export.test_export import tflite_outputs
from tests.saving.helpers import se_cnn


@pytest.fixture
def model_path(tmp_path):
    return keras_se.save_model(se_cnn(), tmp_path / "cnn.keras")


@pytest.mark.large
def test_export_to_tflite_prints_the_difference_it_measured(
    model_path, tmp_path, capsys
):
    out = tmp_path / "exports" / "cnn.tflite"
    code = main(["export", str(model_path), "--format", "tflite", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert f"Exported {model_path} to {out} (TFLite, " in printed
    difference = float(printed.split("max abs difference vs Keras: ")[1].split()[0])
    assert 0 <= difference <= 1e-4
    assert "on 4 sample inputs (tolerance " in printed
    x = random_inputs((3, 8, 8, 3), seed=5)
    (actual,) = tflite_outputs(out, x)
    expected = keras_se.load_model(model_path).predict(x, verbose=0)
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_export_savedmodel_on_the_users_samples(model_path, tmp_path, capsys):
    samples = tmp_path / "samples.npy"
    np.save(samples, random_inputs((6, 8, 8, 3), seed=2))
    out = tmp_path / "served"
    args = ["export", str(model_path), "--format", "saved_model", "--out", str(out)]
    assert main([*args, "--sample-inputs", str(samples)]) == 0
    assert "on 6 sample inputs" in capsys.readouterr().out
    layer = keras.layers.TFSMLayer(out, call_endpoint="serve")
    assert tuple(layer(np.load(samples)).shape) == (6, 5)


def test_a_dynamic_range_quantized_export(model_path, tmp_path, capsys):
    out = tmp_path / "cnn_int8.tflite"
    args = ["export", str(model_path), "--format", "tflite", "--out", str(out)]
    assert main([*args, "--quantize", "dynamic"]) == 0
    printed = capsys.readouterr().out
    assert "(TFLite, dynamic, " in printed and "max abs difference" in printed


def test_an_export_over_the_tolerance_fails_and_writes_nothing(
    model_path, tmp_path, capsys
):
    out = tmp_path / "cnn.tflite"
    args = ["export", str(model_path), "--format", "tflite", "--out", str(out)]
    assert main([*args, "--quantize", "dynamic", "--tolerance", "1e-12"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("keras-se export: error: The TFLite (dynamic-quantized)")
    assert "refused and not written" in error and error.count("\n") == 1
    assert not out.exists()


def bad_file(kind, tmp_path, model_path):
    path = tmp_path / f"{kind}.keras"
    if kind == "text":
        path.write_text("not a model")
    elif kind == "truncated":
        path.write_bytes(model_path.read_bytes()[:1000])
    elif kind == "lambda":
        inputs = keras.Input((3,))
        outputs = keras.layers.Lambda(lambda t: t + 1.0)(inputs)
        keras_se.save_model(keras.Model(inputs, outputs), path)
    return path


@pytest.mark.parametrize(
    "kind, message",
    [
        ("missing", "Model file not found: "),
        ("text", "is not a .keras archive"),
        ("truncated", "is a truncated or corrupt .keras archive"),
        ("lambda", "was refused: "),
    ],
)
def test_bad_model_files_exit_1_with_one_line(
    kind, message, model_path, tmp_path, capsys
):
    path = bad_file(kind, tmp_path, model_path)
    out = tmp_path / "out.tflite"
    code = main(["export", str(path), "--format", "tflite", "--out", str(out)])
    assert code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("keras-se export: error: ")
    assert message in captured.err and str(path) in captured.err
    assert captured.err.count("\n") == 1
    assert not out.exists()


def test_onnx_without_its_packages_exits_1_and_says_what_to_install(
    model_path, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(keras_se.export.onnx, "_installed", lambda name: False)
    out = tmp_path / "cnn.onnx"
    assert main(["export", str(model_path), "--format", "onnx", "--out", str(out)]) == 1
    assert 'pip install "keras-se[onnx]"' in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, flag",
    [
        (["--format", "saved_model", "--quantize", "dynamic"], "--quantize"),
        (["--format", "coreml"], "--format"),
        (["--format", "tflite", "--tolerance", "-1"], "--tolerance"),
        (["--format", "tflite", "--quantize", "int4"], "--quantize"),
        (["--format", "tflite", "--quantize", "int8"], "--representative"),
        (["--format", "onnx", "--quantize", "dynamic"], "--quantize dynamic"),
        (["--format", "tflite", "--representative", "digits"], "--representative"),
        (["--format", "onnx", "--io-dtype", "int8"], "--io-dtype int8"),
        (["--format", "tflite", "--io-dtype", "uint8"], "--io-dtype"),
        (["--format", "tflite", "--accuracy-tolerance", "-1"], "--accuracy-tolerance"),
    ],
)
def test_bad_flags_exit_2_before_anything_runs(extra, flag, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["export", "model.keras", "--out", str(tmp_path / "x"), *extra])
    assert info.value.code == 2
    assert flag in capsys.readouterr().err


def test_export_help_lists_its_flags(capsys):
    with pytest.raises(SystemExit) as info:
        main(["export", "--help"])
    assert info.value.code == 0
    printed = capsys.readouterr().out
    for flag in ("--format", "--out", "--quantize", "--sample-inputs", "--tolerance"):
        assert flag in printed
    for flag in ("--representative", "--io-dtype", "--accuracy-tolerance"):
        assert flag in printed


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    """A digits SE CNN trained to about 95%, saved."""
    from keras_se.demo.data import load_digits
    from keras_se.demo.model import build_digits_cnn

    train, _ = load_digits()
    keras.utils.set_random_seed(0)
    model = build_digits_cnn(se=True, filters=(16, 32))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(train.x, train.y, epochs=6, batch_size=32, verbose=0)
    folder = tmp_path_factory.mktemp("digits")
    return keras_se.save_model(model, folder / "digits.keras"), train


def int8_export(path, out, *extra):
    args = ["export", str(path), "--format", out.suffix[1:], "--out", str(out)]
    return main([*args, "--quantize", "int8", *extra])


@pytest.mark.large
def test_int8_export_on_the_digits_prints_its_accuracy(digits_model, tmp_path, capsys):
    path, _ = digits_model
    out = tmp_path / "digits_int8.tflite"
    assert int8_export(path, out, "--representative", "digits") == 0
    printed = capsys.readouterr().out
    assert "(TFLite, int8, " in printed
    assert (
        "int8 weights and activations, float32 input and output; every op "
        "integer" in printed
    )
    line = printed.split("top-1 accuracy on 360 held-out samples: Keras ")[1]
    keras_accuracy, export_accuracy = (
        float(line.split("%")[0]),
        float(line.split("export ")[1].split("%")[0]),
    )
    assert keras_accuracy > 90 and abs(keras_accuracy - export_accuracy) <= 1
    assert "tolerance 1)" in line and out.exists()


@pytest.mark.large
def test_int8_io_export_from_an_npz_holds_out_a_quarter(digits_model, tmp_path, capsys):
    path, train = digits_model
    data = tmp_path / "calibration.npz"
    np.savez(data, x=train.x[:200], y=train.y[:200])
    out = tmp_path / "digits_io.tflite"
    assert (
        int8_export(path, out, "--representative", str(data), "--io-dtype", "int8") == 0
    )
    printed = capsys.readouterr().out
    assert "int8 input and output; every op integer" in printed
    assert "top-1 accuracy on 50 held-out samples" in printed
    runner = litert.interpreter(out.read_bytes()).get_signature_runner()
    (detail,) = runner.get_input_details().values()
    assert np.dtype(detail["dtype"]) == np.int8


@pytest.mark.large
def test_int8_export_without_labels_measures_no_accuracy(
    digits_model, tmp_path, capsys
):
    path, train = digits_model
    data = tmp_path / "x.npz"
    np.savez(data, x=train.x[:40])
    out = tmp_path / "digits.onnx"
    pytest.importorskip("onnxruntime.quantization")
    assert int8_export(path, out, "--representative", str(data)) == 0
    printed = capsys.readouterr().out
    assert "(ONNX, int8, " in printed and "held-out" not in printed


@pytest.mark.large
def test_an_int8_export_that_loses_accuracy_is_refused(digits_model, tmp_path, capsys):
    path, train = digits_model
    data = tmp_path / "zeros.npz"
    zeros = np.zeros_like(train.x[:16])
    np.savez(data, x=zeros, y=train.y[:16], x_test=train.x[:100], y_test=train.y[:100])
    out = tmp_path / "bad.tflite"
    assert int8_export(path, out, "--representative", str(data)) == 1
    error = capsys.readouterr().err
    assert error.startswith("keras-se export: error: The TFLite (int8-quantized)")
    assert "points below Keras's" in error and "on 100 held-out samples" in error
    assert not out.exists()


def test_digits_need_a_model_that_takes_digits(model_path, tmp_path, capsys):
    out = tmp_path / "cnn.tflite"
    assert int8_export(model_path, out, "--representative", "digits") == 1
    error = capsys.readouterr().err
    assert "--representative digits gives (8, 8, 1) images" in error
    assert "(8, 8, 3)" in error and not out.exists()
