"""Run an exported model in its own runtime, to compare it with Keras."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import keras
import numpy as np

from keras_se._optional import import_optional
from keras_se.errors import ExportError


def flatten_outputs(outputs) -> list[np.ndarray]:
    """The outputs of a model as a flat list of arrays, in Keras's order."""
    return [
        np.asarray(keras.ops.convert_to_numpy(x)) for x in keras.tree.flatten(outputs)
    ]


def max_abs_diff(expected: list[np.ndarray], actual: list[np.ndarray]) -> float:
    """The largest absolute difference; infinity for NaN or mismatched shapes."""
    if len(expected) != len(actual):
        return float("inf")
    worst = 0.0
    for want, got in zip(expected, actual, strict=True):
        got = np.asarray(got)
        if want.shape != got.shape:
            return float("inf")
        diff = np.abs(want.astype("float64") - got.astype("float64"))
        if not np.isfinite(diff).all():
            return float("inf")
        worst = max(worst, float(np.max(diff, initial=0.0)))
    return worst


def run_saved_model(folder: Path, inputs) -> list[np.ndarray]:
    """Reloads a SavedModel with `tf.saved_model.load` and calls `serve`."""
    tf = import_optional("tensorflow", "SavedModel export")

    reloaded = tf.saved_model.load(str(folder))
    return flatten_outputs(reloaded.serve(inputs))


def convert_to_tflite(
    saved_model: str,
    quantize: str | None,
    representative: list[list[np.ndarray]] | None = None,
    io_dtype: str = "float32",
) -> bytes:
    """Converts a SavedModel folder to a TFLite flatbuffer.

    `quantize="int8"` quantizes weights and activations, calibrated on
    `representative` (samples from `calibration.representative_samples`);
    ops without an int8 kernel stay float, which `tflite_float_ops` lists.
    `io_dtype="int8"` makes the model take and return int8 too.
    """
    tf = import_optional("tensorflow", "TFLite export")
    # from_saved_model (or from_keras_model) is the right path: a converter
    # fed from_concrete_functions([f], model) can give a model that outputs NaN.
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
    if quantize is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        converter.representative_dataset = lambda: iter(representative)
        if io_dtype == "int8":
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
    try:
        return converter.convert()
    except Exception as error:
        missing = re.search(r"TF Select ops: ([^\n]+)", str(error))
        if missing:
            raise ExportError(
                "The TFLite conversion failed: the model uses TensorFlow ops that "
                f"TFLite has no built-in kernel for: {missing.group(1).strip()}. "
                "Replace the layers that use them, or export to SavedModel or ONNX."
            ) from error
        raise ExportError(
            f"The TFLite conversion failed: {first_line(error)}"
        ) from error


def run_tflite(content: bytes, inputs: list[np.ndarray], names: list[str]):
    """Runs a TFLite model's default signature on `inputs`."""
    runner = _interpreter(content).get_signature_runner()
    details = runner.get_input_details()
    feed = _match_inputs(list(details), inputs, names, "TFLite")
    feed = {key: _quantize(value, details[key]) for key, value in feed.items()}
    try:
        outputs = runner(**feed)
    except RuntimeError as error:
        if "XNNPACK" not in str(error):
            raise
        # XNNPACK refuses some int8 ops (scale ratios out of its range); the
        # built-in kernels run them, as a device without XNNPACK would.
        runner = _interpreter(content, delegates=False).get_signature_runner()
        outputs = runner(**feed)
    out_details = runner.get_output_details()
    return [
        _dequantize(outputs[key], out_details[key])
        for key in _output_order(list(outputs))
    ]


def tflite_float_ops(content: bytes) -> list[str]:
    """The ops of a TFLite model that compute in floating point.

    The `QUANTIZE` and `DEQUANTIZE` ops that convert a float input or output
    of an int8 model are not counted: they change types, they do not compute.
    """
    interpreter = _interpreter(content)
    dtypes = {t["index"]: t["dtype"] for t in interpreter.get_tensor_details()}
    found = []
    # The op table has no public accessor; the LiteRT and TF interpreters both
    # keep this one.
    for op in interpreter._get_ops_details():
        if op["op_name"] in ("QUANTIZE", "DEQUANTIZE"):
            continue
        tensors = [i for i in (*op["inputs"], *op["outputs"]) if i >= 0]
        if any(np.issubdtype(dtypes[i], np.floating) for i in tensors):
            found.append(op["op_name"])
    return found


def _quantize(value: np.ndarray, detail: dict) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    if not np.issubdtype(dtype, np.integer) or np.issubdtype(value.dtype, np.integer):
        return value
    scale, zero_point = detail["quantization"]
    if scale == 0:  # an integer input that is not quantized, e.g. token ids
        return value.astype(dtype)
    info = np.iinfo(dtype)
    scaled = np.round(np.asarray(value, "float64") / scale) + zero_point
    return np.clip(scaled, info.min, info.max).astype(dtype)


def _dequantize(value, detail: dict) -> np.ndarray:
    value = np.asarray(value)
    scale, zero_point = detail["quantization"]
    if not np.issubdtype(value.dtype, np.integer) or scale == 0:
        return value
    return ((value.astype("float32") - zero_point) * scale).astype("float32")


def run_onnx(path: Path, inputs: list[np.ndarray], names: list[str]):
    """Runs an ONNX model with onnxruntime on the CPU."""
    onnxruntime = import_optional("onnxruntime", "ONNX export")

    try:
        session = onnxruntime.InferenceSession(
            str(path), providers=["CPUExecutionProvider"]
        )
    except Exception as error:
        raise ExportError(
            "onnxruntime cannot run the exported graph (it holds an op that "
            f"ONNX or onnxruntime lacks): {first_line(error)}"
        ) from error
    keys = [node.name for node in session.get_inputs()]
    if set(keys) != set(names):
        # Unnamed graph inputs come in the model's order.
        names = keys
    feed = _match_inputs(keys, inputs, names, "ONNX")
    return [np.asarray(output) for output in session.run(None, feed)]


def quantize_onnx(
    source: Path, target: Path, samples: list[list[np.ndarray]], names: list[str]
) -> None:
    """Quantizes a float ONNX model to int8 with onnxruntime, statically.

    Weights (per channel) and activations become int8 in QDQ form, with
    activation ranges calibrated on `samples`, as in `convert_to_tflite`.
    """
    quantization = import_optional("onnxruntime.quantization", "ONNX int8 export")
    onnxruntime = import_optional("onnxruntime", "ONNX int8 export")

    session = onnxruntime.InferenceSession(
        str(source), providers=["CPUExecutionProvider"]
    )
    keys = [node.name for node in session.get_inputs()]
    names = names if set(keys) == set(names) else keys
    feeds = iter([_match_inputs(keys, sample, names, "ONNX") for sample in samples])

    class Reader(quantization.CalibrationDataReader):
        def get_next(self):
            return next(feeds, None)

    quantization.quantize_static(
        str(source),
        str(target),
        Reader(),
        quant_format=quantization.QuantFormat.QDQ,
        activation_type=quantization.QuantType.QInt8,
        weight_type=quantization.QuantType.QInt8,
        per_channel=True,
    )


def _interpreter(content: bytes, delegates: bool = True):
    try:
        from ai_edge_litert import interpreter as litert
    except ImportError:
        tf = import_optional("tensorflow", "TFLite export")
        litert = tf.lite
    options = {}
    if not delegates:
        # ai_edge_litert.interpreter has it at the top, tf.lite in experimental.
        resolver = getattr(litert, "OpResolverType", None)
        resolver = resolver or litert.experimental.OpResolverType
        options["experimental_op_resolver_type"] = (
            resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        )
    with warnings.catch_warnings():
        # tf.lite.Interpreter warns that it moves to ai_edge_litert.
        warnings.simplefilter("ignore")
        return litert.Interpreter(model_content=content, **options)


def _match_inputs(keys, inputs, names, runtime) -> dict[str, np.ndarray]:
    if len(keys) != len(inputs):
        raise ExportError(
            f"The {runtime} model takes {len(keys)} inputs, the Keras model "
            f"{len(inputs)}."
        )
    if len(keys) == 1:
        return {keys[0]: inputs[0]}
    if set(keys) == set(names):
        return dict(zip(names, inputs, strict=True))
    raise ExportError(
        f"Cannot tell which {runtime} input is which: it has {keys}, the Keras "
        f"model {names}. Give the model's keras.Input layers distinct names."
    )


def _output_order(keys: list[str]) -> list[str]:
    numbered = [re.fullmatch(r"output_(\d+)", key) for key in keys]
    if all(numbered):
        return sorted(keys, key=lambda key: int(key.split("_")[1]))
    return sorted(keys)


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
