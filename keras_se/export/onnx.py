"""ONNX: `model.export(format="onnx")`, run with onnxruntime on the CPU.

Needs the optional packages of `pip install "keras-se[onnx]"`;
`quantize="int8"` is onnxruntime's static quantization (QDQ), calibrated on
the same representative samples as TFLite's.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import numpy as np

from keras_se._optional import import_optional
from keras_se.errors import ExportError, MissingDependencyError
from keras_se.export.base import ExportFormat, first_line, match_inputs

ONNX_PACKAGES = ("tf2onnx", "onnx", "onnxruntime")


class ONNXFormat(ExportFormat):
    """A `.onnx` file for onnxruntime."""

    name = "onnx"
    label = "ONNX"
    suffix = ".onnx"
    quantizations = ("int8",)

    def check_ready(self) -> None:
        missing = [name for name in ONNX_PACKAGES if not _installed(name)]
        if missing:
            raise MissingDependencyError(
                f"ONNX export needs the optional packages {', '.join(missing)}: "
                'pip install "keras-se[onnx]"'
            )

    def write(self, model, staging, quantize, representative, io_dtype, names):
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "float.onnx" if quantize else staging
            try:
                model.export(str(target), format="onnx", verbose=False)
            except ImportError as error:
                raise MissingDependencyError(
                    f"ONNX export needs {error.name or error}: "
                    'pip install "keras-se[onnx]"'
                ) from error
            if quantize:
                quantize_onnx(target, staging, representative, names)
        return None

    def run(self, staging, inputs, names):
        return run_onnx(staging, inputs, names)


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
    feed = match_inputs(keys, inputs, names, "ONNX")
    return [np.asarray(output) for output in session.run(None, feed)]


def quantize_onnx(
    source: Path, target: Path, samples: list[list[np.ndarray]], names: list[str]
) -> None:
    """Quantizes a float ONNX model to int8 with onnxruntime, statically.

    Weights (per channel) and activations become int8 in QDQ form, with
    activation ranges calibrated on `samples`, as TFLite's int8 is.
    """
    quantization = import_optional("onnxruntime.quantization", "ONNX int8 export")
    onnxruntime = import_optional("onnxruntime", "ONNX int8 export")

    session = onnxruntime.InferenceSession(
        str(source), providers=["CPUExecutionProvider"]
    )
    keys = [node.name for node in session.get_inputs()]
    names = names if set(keys) == set(names) else keys
    feeds = iter([match_inputs(keys, sample, names, "ONNX") for sample in samples])

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


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None
