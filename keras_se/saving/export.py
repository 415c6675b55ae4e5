"""Export to SavedModel, TFLite (LiteRT) and ONNX, checked against Keras.

Each export is written under a temporary name beside the target, reloaded in
the runtime it is meant for, run on sample inputs and compared with
`model.predict`; only if the outputs agree is it renamed to the target. A
conversion that runs but computes something else is refused, not written.

The accepted difference is `atol + rtol * scale`, where `scale` is the
largest absolute value of the Keras outputs on the samples:

| export | atol | rtol |
| --- | --- | --- |
| float (SavedModel, TFLite, ONNX) | 1e-4 | 1e-4 |
| TFLite, `quantize="float16"` (float16 weights) | 1e-3 | 1e-2 |
| TFLite, `quantize="dynamic"` (int8 weights) | 1e-3 | 5e-2 |
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from keras_se._validation import check_choice
from keras_se.errors import ExportError, KerasSEError, MissingDependencyError
from keras_se.saving import runtimes as _runtimes
from keras_se.saving.atomic import write_atomically

EXPORT_FORMATS = ("saved_model", "tflite", "onnx")
QUANTIZATIONS = ("dynamic", "float16")
TOLERANCES = {None: (1e-4, 1e-4), "float16": (1e-3, 1e-2), "dynamic": (1e-3, 5e-2)}
SUFFIXES = {"saved_model": "", "tflite": ".tflite", "onnx": ".onnx"}
ONNX_PACKAGES = ("tf2onnx", "onnx", "onnxruntime")


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """What an export wrote and how closely it matches the Keras model.

    Attributes:
        path: the file or folder written.
        format: `"saved_model"`, `"tflite"` or `"onnx"`.
        quantize: `None`, `"dynamic"` or `"float16"` (TFLite only).
        max_abs_diff: the largest absolute difference between the exported
            model's outputs and `model.predict`'s, over the sample inputs.
        tolerance: the largest difference that would have been accepted.
        samples: how many sample inputs were compared.
    """

    path: Path
    format: str
    quantize: str | None
    max_abs_diff: float
    tolerance: float
    samples: int


def export_model(
    model: keras.Model,
    path: str | os.PathLike,
    format: str,
    quantize: str | None = None,
    sample_inputs: np.ndarray | Sequence[np.ndarray] | None = None,
    tolerance: float | None = None,
) -> ExportResult:
    """Exports `model` for inference, after checking the export's outputs.

    - `"saved_model"`: `model.export`, a folder that `tf.saved_model.load`
      and `keras.layers.TFSMLayer(path, call_endpoint="serve")` reload.
    - `"tflite"`: a `.tflite` file for the LiteRT interpreter, converted
      with `tf.lite.TFLiteConverter.from_saved_model`; `quantize="dynamic"`
      stores int8 weights, `quantize="float16"` float16 weights.
    - `"onnx"`: a `.onnx` file, with the optional packages of
      `pip install "keras-se[onnx]"` (tf2onnx, onnx, onnxruntime).

    Args:
        model: a built model.
        path: the target: a folder for SavedModel, else a file ending in
            `.tflite` or `.onnx`. An existing target is replaced atomically.
        format: one of `"saved_model"`, `"tflite"`, `"onnx"`.
        quantize: `None`, `"dynamic"` or `"float16"`; TFLite only.
        sample_inputs: the inputs to compare on: an array, or one per model
            input. By default 4 seeded samples, uniform in [-1, 1].
        tolerance: the largest absolute difference to accept; by default
            `atol + rtol * scale` with the values of this module's table
            (`1e-4 + 1e-4 * scale` for float exports).

    Returns:
        An `ExportResult` with the difference measured.

    Raises:
        ValueError: for a bad `format`, `quantize` or `path`.
        ExportError: if the conversion fails, or the exported model's
            outputs differ from Keras's by more than the tolerance; nothing
            is written then.
        MissingDependencyError: for ONNX without its optional packages.

    Example:

    >>> model = keras.Sequential([keras.Input((8, 8, 4)), keras_se.SqueezeExcite2D(2)])
    >>> result = keras_se.export_model(model, tmp_dir / "se.tflite", "tflite")
    >>> result.path.name, result.max_abs_diff < result.tolerance
    ('se.tflite', True)
    """
    check_choice("format", format, EXPORT_FORMATS)
    if quantize is not None:
        check_choice("quantize", quantize, QUANTIZATIONS)
        if format != "tflite":
            raise ValueError(
                "`quantize` applies to the 'tflite' format only. Received: "
                f"format={format!r}, quantize={quantize!r}"
            )
    path = _check_target(Path(path), format)
    _check_backend(format)
    inputs = _sample_inputs(model, sample_inputs)
    expected = _runtimes.flatten_outputs(model.predict(_packed(inputs), verbose=0))
    if not all(np.isfinite(output).all() for output in expected):
        raise ExportError(
            f"{model.name!r} itself outputs NaN or infinity on the sample "
            "inputs, so the export cannot be checked: pass other sample_inputs."
        )
    scale = max(float(np.max(np.abs(output), initial=0.0)) for output in expected)
    if tolerance is None:
        atol, rtol = TOLERANCES[quantize]
        tolerance = atol + rtol * scale
    measured = {}

    def write(staging: Path) -> None:
        try:
            actual = _write_and_run(model, staging, format, quantize, inputs)
        except KerasSEError:
            raise
        except Exception as error:
            raise ExportError(
                f"The {_describe(format, quantize)} export of {model.name!r} "
                f"failed: {_runtimes.first_line(error)}"
            ) from error
        diff = _runtimes.max_abs_diff(expected, actual)
        if not diff <= tolerance:
            raise ExportError(
                f"The {_describe(format, quantize)} export of {model.name!r} was "
                f"refused and not written to {path}: its outputs differ from "
                f"Keras's by up to {diff:.3g} on {len(inputs[0])} sample inputs, "
                f"more than the tolerance {tolerance:.3g}. Look for a layer this "
                "format computes differently; if the difference is acceptable, "
                "pass a larger tolerance.",
                max_abs_diff=diff,
                tolerance=tolerance,
            )
        measured["diff"] = diff

    write_atomically(path, SUFFIXES[format], write)
    return ExportResult(
        path, format, quantize, measured["diff"], tolerance, len(inputs[0])
    )


def _check_target(path: Path, format: str) -> Path:
    suffix = SUFFIXES[format]
    if suffix and path.suffix != suffix:
        raise ValueError(
            f"`path` must end in {suffix!r} for the {format!r} format. "
            f"Received: path={str(path)!r}"
        )
    if format == "saved_model":
        if path.exists() and not (path / "saved_model.pb").exists():
            raise ValueError(
                f"{path} exists and is not a SavedModel folder: it is left "
                "alone. Choose another `path`."
            )
    elif path.is_dir():
        raise ValueError(f"{path} is a folder: choose a file name ending in {suffix}.")
    return path


def _check_backend(format: str) -> None:
    backend = keras.backend.backend()
    if format == "tflite" and backend != "tensorflow":
        raise ExportError(
            "TFLite export converts a TensorFlow graph: run it with "
            f"KERAS_BACKEND=tensorflow (this is {backend!r})."
        )
    if format == "onnx":
        missing = [name for name in ONNX_PACKAGES if not _installed(name)]
        if missing:
            raise MissingDependencyError(
                f"ONNX export needs the optional packages {', '.join(missing)}: "
                'pip install "keras-se[onnx]"'
            )


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _sample_inputs(model, sample_inputs) -> list[np.ndarray]:
    specs = getattr(model, "inputs", None)
    if sample_inputs is not None:
        arrays = (
            [sample_inputs]
            if isinstance(sample_inputs, np.ndarray)
            else list(sample_inputs)
        )
        if specs and len(arrays) != len(specs):
            raise ValueError(
                f"`sample_inputs` must hold one array per model input "
                f"({len(specs)}). Received: {len(arrays)} arrays"
            )
        dtypes = [spec.dtype for spec in specs] if specs else [None] * len(arrays)
        return [
            np.asarray(array, dtype=dtype)
            for array, dtype in zip(arrays, dtypes, strict=True)
        ]
    if not specs:
        raise ValueError(
            f"{model.name!r} has no symbolic inputs to make samples from: pass "
            "`sample_inputs`."
        )
    rng = np.random.default_rng(0)
    arrays = []
    for spec in specs:
        shape = [4] + [32 if size is None else size for size in spec.shape[1:]]
        if "int" in str(spec.dtype):
            arrays.append(rng.integers(0, 2, size=shape).astype(spec.dtype))
        else:
            arrays.append(rng.uniform(-1, 1, size=shape).astype(spec.dtype))
    return arrays


def _packed(inputs: list[np.ndarray]):
    return inputs[0] if len(inputs) == 1 else inputs


def _write_and_run(model, staging, format, quantize, inputs) -> list[np.ndarray]:
    names = [tensor.name for tensor in getattr(model, "inputs", None) or []]
    if format == "saved_model":
        model.export(str(staging), format="tf_saved_model", verbose=False)
        return _runtimes.run_saved_model(staging, _packed(inputs))
    if format == "onnx":
        try:
            model.export(str(staging), format="onnx", verbose=False)
        except ImportError as error:
            raise MissingDependencyError(
                f'ONNX export needs {error.name or error}: pip install "keras-se[onnx]"'
            ) from error
        return _runtimes.run_onnx(staging, inputs, names)
    with tempfile.TemporaryDirectory() as folder:
        model.export(folder, format="tf_saved_model", verbose=False)
        content = _runtimes.convert_to_tflite(folder, quantize)
    outputs = _runtimes.run_tflite(content, inputs, names)
    staging.write_bytes(content)
    return outputs


def _describe(format: str, quantize: str | None) -> str:
    names = {"saved_model": "SavedModel", "tflite": "TFLite", "onnx": "ONNX"}
    return names[format] + (f" ({quantize}-quantized)" if quantize else "")
