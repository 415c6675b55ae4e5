"""Run an exported model in its own runtime, to compare it with Keras."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import keras
import numpy as np

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
    import tensorflow as tf

    reloaded = tf.saved_model.load(str(folder))
    return flatten_outputs(reloaded.serve(inputs))


def convert_to_tflite(saved_model: str, quantize: str | None) -> bytes:
    """Converts a SavedModel folder to a TFLite flatbuffer."""
    import tensorflow as tf

    # from_saved_model (or from_keras_model) is the right path: a converter
    # fed from_concrete_functions([f], model) can give a model that outputs NaN.
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
    if quantize is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
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
    keys = list(runner.get_input_details())
    feed = _match_inputs(keys, inputs, names, "TFLite")
    outputs = runner(**feed)
    return [np.asarray(outputs[key]) for key in _output_order(list(outputs))]


def run_onnx(path: Path, inputs: list[np.ndarray], names: list[str]):
    """Runs an ONNX model with onnxruntime on the CPU."""
    import onnxruntime

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


def _interpreter(content: bytes):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        with warnings.catch_warnings():
            # tf.lite.Interpreter warns that it moves to ai_edge_litert.
            warnings.simplefilter("ignore")
            return tf.lite.Interpreter(model_content=content)
    return Interpreter(model_content=content)


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
