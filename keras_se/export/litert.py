"""TFLite (LiteRT): converted from a SavedModel, run in the LiteRT interpreter.

`quantize="dynamic"` stores int8 weights, `"float16"` float16 weights, and
`"int8"` is full-integer: int8 weights and activations, calibrated on
representative samples (`calibration.representative_samples`); ops without
an int8 kernel stay float, which `tflite_float_ops` lists.
"""

from __future__ import annotations

import re
import tempfile
import warnings

import keras
import numpy as np

from keras_se._optional import import_optional
from keras_se.errors import ExportError
from keras_se.export.base import ExportFormat, first_line, match_inputs, output_order


class LiteRTFormat(ExportFormat):
    """A `.tflite` file for the LiteRT interpreter; needs the TensorFlow backend."""

    name = "tflite"
    label = "TFLite"
    suffix = ".tflite"
    quantizations = ("dynamic", "float16", "int8")

    def check_ready(self) -> None:
        backend = keras.backend.backend()
        if backend != "tensorflow":
            raise ExportError(
                "TFLite export converts a TensorFlow graph: run it with "
                f"KERAS_BACKEND=tensorflow (this is {backend!r})."
            )

    def write(self, model, staging, quantize, representative, io_dtype, names):
        with tempfile.TemporaryDirectory() as folder:
            model.export(folder, format="tf_saved_model", verbose=False)
            content = convert_to_tflite(folder, quantize, representative, io_dtype)
        staging.write_bytes(content)
        return tuple(tflite_float_ops(content))

    def run(self, staging, inputs, names):
        return run_tflite(staging.read_bytes(), inputs, names)


def convert_to_tflite(
    saved_model: str,
    quantize: str | None,
    representative: list[list[np.ndarray]] | None = None,
    io_dtype: str = "float32",
) -> bytes:
    """Converts a SavedModel folder to a TFLite flatbuffer.

    `io_dtype="int8"` (with `quantize="int8"`) makes the model take and
    return int8 too.
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
    runner = interpreter(content).get_signature_runner()
    details = runner.get_input_details()
    feed = match_inputs(list(details), inputs, names, "TFLite")
    feed = {key: _quantize(value, details[key]) for key, value in feed.items()}
    try:
        outputs = runner(**feed)
    except RuntimeError as error:
        if "XNNPACK" not in str(error):
            raise
        # XNNPACK refuses some int8 ops (scale ratios out of its range); the
        # built-in kernels run them, as a device without XNNPACK would.
        runner = interpreter(content, delegates=False).get_signature_runner()
        outputs = runner(**feed)
    out_details = runner.get_output_details()
    return [
        _dequantize(outputs[key], out_details[key])
        for key in output_order(list(outputs))
    ]


def tflite_float_ops(content: bytes) -> list[str]:
    """The ops of a TFLite model that compute in floating point.

    The `QUANTIZE` and `DEQUANTIZE` ops that convert a float input or output
    of an int8 model are not counted: they change types, they do not compute.
    """
    loaded = interpreter(content)
    dtypes = {t["index"]: t["dtype"] for t in loaded.get_tensor_details()}
    found = []
    # The op table has no public accessor; the LiteRT and TF interpreters both
    # keep this one.
    for op in loaded._get_ops_details():
        if op["op_name"] in ("QUANTIZE", "DEQUANTIZE"):
            continue
        tensors = [i for i in (*op["inputs"], *op["outputs"]) if i >= 0]
        if any(np.issubdtype(dtypes[i], np.floating) for i in tensors):
            found.append(op["op_name"])
    return found


def interpreter(content: bytes, delegates: bool = True):
    """A LiteRT interpreter for `content` (tf.lite's without ai_edge_litert)."""
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
