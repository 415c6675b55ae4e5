"""Full-integer TFLite (and ONNX) exports, judged by accuracy on held-out digits."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_se
from keras_se.demo.data import load_digits
from keras_se.demo.model import build_digits_cnn
from keras_se.errors import ExportError
from keras_se.export import litert
from keras_se.export.calibration import representative_samples

# Needs TensorFlow as the backend: skipped (not failed) without it.
pytestmark = pytest.mark.tensorflow
tf = pytest.importorskip("tensorflow", reason="needs the keras-se[tensorflow] extra")


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def se_cnn(digits):
    """The demo's digits SE CNN, trained to about 95% in a few seconds."""
    train, _ = digits
    keras.utils.set_random_seed(0)
    model = build_digits_cnn(se=True, filters=(16, 32))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(train.x, train.y, epochs=6, batch_size=32, verbose=0)
    return model


def tensor_dtypes(path) -> list[str]:
    interpreter = litert.interpreter(path.read_bytes())
    return [np.dtype(t["dtype"]).name for t in interpreter.get_tensor_details()]


@pytest.mark.large
@pytest.mark.parametrize("io_dtype", ["float32", "int8"])
def test_int8_tflite_is_fully_integer_and_keeps_the_accuracy(
    se_cnn, digits, io_dtype, tmp_path
):
    train, test = digits
    result = keras_se.export_model(
        se_cnn,
        tmp_path / "se.tflite",
        "tflite",
        quantize="int8",
        representative_data=train.x[:128],
        validation_data=(test.x, test.y),
        io_dtype=io_dtype,
    )
    assert result.float_ops == ()
    check = result.accuracy
    assert check.samples == len(test.y) == 360
    assert check.float_accuracy > 0.9
    assert abs(check.drop_points) <= 1.0 and check.agreement >= 0.97
    # Every tensor is integer but, with float I/O, the input and the output.
    dtypes = tensor_dtypes(result.path)
    floats = [d for d in dtypes if d.startswith("float")]
    assert len(floats) == (2 if io_dtype == "float32" else 0)
    assert dtypes.count("int8") > 20
    runner = litert.interpreter(result.path.read_bytes()).get_signature_runner()
    (detail,) = runner.get_input_details().values()
    assert np.dtype(detail["dtype"]).name == io_dtype
    # The file predicts what the check measured, run the way a user runs it.
    (scores,) = litert.run_tflite(result.path.read_bytes(), [test.x], [])
    assert np.mean(scores.argmax(-1) == test.y) == pytest.approx(check.accuracy)


@pytest.mark.large
def test_representative_data_as_array_dataset_or_generator_calibrate_alike(
    se_cnn, digits, tmp_path
):
    x = digits[0].x[:24]
    sources = {
        "array": x,
        "dataset": tf.data.Dataset.from_tensor_slices((x, x[:, 0, 0, 0])).batch(5),
        "generator": lambda: (x[i : i + 7] for i in range(0, len(x), 7)),
    }
    contents = {}
    for name, data in sources.items():
        samples = representative_samples(data, num_inputs=1)
        assert len(samples) == 24 and samples[3][0].shape == (1, 8, 8, 1)
        np.testing.assert_array_equal(samples[3][0], x[3:4])
        path = tmp_path / f"{name}.tflite"
        keras_se.export_model(
            se_cnn, path, "tflite", quantize="int8", representative_data=data
        )
        contents[name] = path.read_bytes()
    assert contents["array"] == contents["dataset"] == contents["generator"]


@pytest.mark.large
def test_hard_sigmoid_gate_and_se_multiply_quantize_cleanly(digits, tmp_path):
    train, test = digits
    keras.utils.set_random_seed(1)

    def hard_sigmoid(layer):
        config = layer.get_config()
        if isinstance(layer, keras_se.SqueezeExcite2D):
            config.update(gate="hard_sigmoid", gate_scale=2.0)
        return type(layer).from_config(config)

    model = keras.models.clone_model(
        build_digits_cnn(se=True, filters=(16, 32)), clone_function=hard_sigmoid
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(train.x, train.y, epochs=6, batch_size=32, verbose=0)
    result = keras_se.export_model(
        model,
        tmp_path / "hard.tflite",
        "tflite",
        quantize="int8",
        representative_data=train.x[:128],
        validation_data=(test.x, test.y),
        accuracy_tolerance=2.0,
    )
    assert result.float_ops == ()
    assert result.accuracy.float_accuracy > 0.9
    assert result.accuracy.agreement >= 0.95


@pytest.mark.large
def test_a_badly_calibrated_export_is_refused_and_not_written(se_cnn, digits, tmp_path):
    _, test = digits
    path = tmp_path / "bad.tflite"
    with pytest.raises(ExportError, match="refused and not written") as caught:
        keras_se.export_model(
            se_cnn,
            path,
            "tflite",
            quantize="int8",
            # All-zero calibration: every activation range collapses.
            representative_data=np.zeros((8, 8, 8, 1), "float32"),
            validation_data=(test.x, test.y),
        )
    assert "points below Keras's" in str(caught.value)
    assert not path.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"quantize": "int8"}, "`representative_data`"),
        ({"quantize": "dynamic", "representative_data": np.zeros(1)}, "only for"),
        ({"io_dtype": "int8"}, 'needs format="tflite" and quantize="int8"'),
        ({"io_dtype": "uint8"}, "`io_dtype`"),
        ({"validation_data": np.zeros((3, 8, 8, 1))}, "tuple \\(x, y\\)"),
        ({"validation_data": (np.zeros((3, 8, 8, 1)), [1])}, "as many labels"),
        ({"accuracy_tolerance": -1}, "`accuracy_tolerance` must be a number"),
    ],
)
def test_bad_int8_arguments_are_refused(se_cnn, tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_se.export_model(se_cnn, tmp_path / "m.tflite", "tflite", **kwargs)
    assert not (tmp_path / "m.tflite").exists()


def test_onnx_takes_only_int8_quantization(se_cnn, tmp_path):
    with pytest.raises(ValueError, match=r"one of \('int8',\) for the 'onnx'"):
        keras_se.export_model(se_cnn, tmp_path / "m.onnx", "onnx", quantize="dynamic")


@pytest.mark.large
def test_int8_onnx_keeps_the_accuracy(se_cnn, digits, tmp_path):
    pytest.importorskip("onnxruntime.quantization")
    pytest.importorskip("tf2onnx")
    train, test = digits
    result = keras_se.export_model(
        se_cnn,
        tmp_path / "se.onnx",
        "onnx",
        quantize="int8",
        representative_data=train.x[:128],
        validation_data=(test.x, test.y),
    )
    assert abs(result.accuracy.drop_points) <= 1.0
    assert result.accuracy.agreement >= 0.97
    import onnx

    ops = {node.op_type for node in onnx.load(result.path).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops


@pytest.mark.extra_large
def test_wrapped_mobilenet_v2_int8_is_fully_integer_and_keeps_the_accuracy(
    digits, tmp_path
):
    pytest.importorskip("keras_se.surgery")
    train, test = digits

    def rgb32(x):  # the 8x8 digits as the 32x32 RGB images MobileNetV2 takes
        return np.repeat(np.repeat(np.repeat(x, 4, axis=1), 4, axis=2), 3, axis=3)

    keras.utils.set_random_seed(0)
    base = keras.applications.MobileNetV2(
        weights=None, input_shape=(32, 32, 3), alpha=0.35, classes=10
    )
    model = keras_se.wrap_with_se(base, ratio=4)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9  # statistics that settle in 3 short epochs
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(rgb32(train.x), train.y, epochs=3, batch_size=32, verbose=0)
    result = keras_se.export_model(
        model,
        tmp_path / "mobilenet_v2.tflite",
        "tflite",
        quantize="int8",
        representative_data=rgb32(train.x[:256]),
        validation_data=(rgb32(test.x), test.y),
    )
    assert result.float_ops == ()
    assert result.accuracy.float_accuracy > 0.7
    assert abs(result.accuracy.drop_points) <= 1.0
