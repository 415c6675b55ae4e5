"""Writing each export format, running what was written, and their arguments.

`Conversion` writes one format (SavedModel, TFLite, ONNX; float or
quantized) to a staging path and runs the result in the runtime it is meant
for; `keras_se.saving.export` compares what it returns with Keras.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from keras_se._validation import check_choice
from keras_se.errors import MissingDependencyError
from keras_se.saving import runtimes as _runtimes

EXPORT_FORMATS = ("saved_model", "tflite", "onnx")
QUANTIZATIONS = ("dynamic", "float16", "int8")
# The quantizations each format offers; ONNX int8 is onnxruntime's static
# quantization (QDQ), calibrated on the same representative data.
FORMAT_QUANTIZATIONS = {
    "saved_model": (),
    "tflite": QUANTIZATIONS,
    "onnx": ("int8",),
}
IO_DTYPES = ("float32", "int8")
SUFFIXES = {"saved_model": "", "tflite": ".tflite", "onnx": ".onnx"}


def check_quantize(format, quantize, representative_data, io_dtype) -> None:
    """Refuses a quantization the format lacks, or int8 without calibration data."""
    check_choice("io_dtype", io_dtype, IO_DTYPES)
    if quantize is not None:
        check_choice("quantize", quantize, QUANTIZATIONS)
        if not FORMAT_QUANTIZATIONS[format]:
            raise ValueError(
                "`quantize` applies to the 'tflite' format only ('int8' to "
                f"'onnx' too). Received: format={format!r}, quantize={quantize!r}"
            )
        if quantize not in FORMAT_QUANTIZATIONS[format]:
            raise ValueError(
                f"`quantize` must be one of {FORMAT_QUANTIZATIONS[format]} for "
                f"the {format!r} format. Received: quantize={quantize!r}"
            )
    if (quantize == "int8") != (representative_data is not None):
        raise ValueError(
            "`representative_data` (calibration inputs) is needed for, and "
            'only for, quantize="int8". Received: '
            f"quantize={quantize!r}, representative_data="
            f"{type(representative_data).__name__}"
        )
    if io_dtype == "int8" and (format, quantize) != ("tflite", "int8"):
        raise ValueError(
            '`io_dtype="int8"` needs format="tflite" and quantize="int8". '
            f"Received: format={format!r}, quantize={quantize!r}"
        )


def check_target(path: Path, format: str) -> Path:
    """Checks `path` suits `format` and that replacing it loses nothing."""
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


def make_sample_inputs(model, sample_inputs) -> list[np.ndarray]:
    """The inputs to compare on: the user's, cast, or seeded random ones."""
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


def packed(inputs: list[np.ndarray]):
    """One array for a one-input model, else the list, as Keras takes them."""
    return inputs[0] if len(inputs) == 1 else inputs


class Conversion:
    """Writes one format to a staging path and runs what it wrote."""

    def __init__(self, format, quantize, representative, io_dtype):
        self.format = format
        self.quantize = quantize
        self.representative = representative
        self.io_dtype = io_dtype
        self.names: list[str] = []
        self.float_ops: tuple[str, ...] | None = None

    def write_and_run(self, model, staging: Path, inputs) -> list[np.ndarray]:
        self.names = [t.name for t in getattr(model, "inputs", None) or []]
        if self.format == "saved_model":
            model.export(str(staging), format="tf_saved_model", verbose=False)
        elif self.format == "onnx":
            self._write_onnx(model, staging)
        else:
            with tempfile.TemporaryDirectory() as folder:
                model.export(folder, format="tf_saved_model", verbose=False)
                content = _runtimes.convert_to_tflite(
                    folder, self.quantize, self.representative, self.io_dtype
                )
            self.float_ops = tuple(_runtimes.tflite_float_ops(content))
            staging.write_bytes(content)
        return self.run(staging, inputs)

    def run(self, staging: Path, inputs) -> list[np.ndarray]:
        if self.format == "saved_model":
            return _runtimes.run_saved_model(staging, packed(inputs))
        if self.format == "onnx":
            return _runtimes.run_onnx(staging, inputs, self.names)
        return _runtimes.run_tflite(staging.read_bytes(), inputs, self.names)

    def _write_onnx(self, model, staging: Path) -> None:
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "float.onnx" if self.quantize else staging
            try:
                model.export(str(target), format="onnx", verbose=False)
            except ImportError as error:
                raise MissingDependencyError(
                    f"ONNX export needs {error.name or error}: "
                    'pip install "keras-se[onnx]"'
                ) from error
            if self.quantize:
                _runtimes.quantize_onnx(
                    target, staging, self.representative, self.names
                )
