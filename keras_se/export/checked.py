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

A full-integer export (`quantize="int8"`: int8 weights and activations,
calibrated on `representative_data`) is judged by accuracy instead: given
labelled `validation_data`, it is refused when its top-1 accuracy is more
than `accuracy_tolerance` points below the Keras model's. Any export given
`validation_data` is judged so, besides the table.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from keras_se.errors import ExportError, KerasSEError
from keras_se.export.base import first_line, flatten_outputs, max_abs_diff, packed
from keras_se.export.calibration import (
    AccuracyCheck,
    check_labelled,
    make_sample_inputs,
    measure_accuracy,
    representative_samples,
)
from keras_se.export.formats import check_quantize, get_format
from keras_se.saving.atomic import write_atomically

TOLERANCES = {
    None: (1e-4, 1e-4),
    "float16": (1e-3, 1e-2),
    "dynamic": (1e-3, 5e-2),
    "int8": (float("inf"), 0.0),
}
DEFAULT_ACCURACY_TOLERANCE = 1.0


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """What an export wrote and how closely it matches the Keras model.

    Attributes:
        path: the file or folder written.
        format: `"saved_model"`, `"tflite"` or `"onnx"`.
        quantize: `None`, `"dynamic"`, `"float16"` or `"int8"`.
        max_abs_diff: the largest absolute difference between the exported
            model's outputs and `model.predict`'s, over the sample inputs.
        tolerance: the largest difference that would have been accepted
            (infinite for int8, which is judged by accuracy).
        samples: how many sample inputs were compared.
        io_dtype: the dtype the export takes and returns, `"float32"` or
            `"int8"`.
        float_ops: the TFLite ops that still compute in float (an empty
            tuple for a fully integer model); `None` where not inspected.
        accuracy: the `AccuracyCheck` on `validation_data`, or `None`: the
            Keras model's and the export's accuracy and their agreement.
        accuracy_tolerance: the largest accuracy drop accepted, in points.
    """

    path: Path
    format: str
    quantize: str | None
    max_abs_diff: float
    tolerance: float
    samples: int
    io_dtype: str = "float32"
    float_ops: tuple[str, ...] | None = None
    accuracy: AccuracyCheck | None = None
    accuracy_tolerance: float | None = None


def export_model(
    model: keras.Model,
    path: str | os.PathLike,
    format: str,
    quantize: str | None = None,
    sample_inputs: np.ndarray | Sequence[np.ndarray] | None = None,
    tolerance: float | None = None,
    representative_data=None,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    accuracy_tolerance: float = DEFAULT_ACCURACY_TOLERANCE,
    io_dtype: str = "float32",
) -> ExportResult:
    """Exports `model` for inference, after checking the export's outputs.

    - `"saved_model"`: `model.export`, a folder that `tf.saved_model.load`
      and `keras.layers.TFSMLayer(path, call_endpoint="serve")` reload.
    - `"tflite"`: a `.tflite` file for the LiteRT interpreter, converted
      with `tf.lite.TFLiteConverter.from_saved_model`; `quantize="dynamic"`
      stores int8 weights, `quantize="float16"` float16 weights, and
      `quantize="int8"` is full-integer: int8 weights and activations,
      calibrated on `representative_data`.
    - `"onnx"`: a `.onnx` file, with the optional packages of
      `pip install "keras-se[onnx]"` (tf2onnx, onnx, onnxruntime);
      `quantize="int8"` runs onnxruntime's static quantization.

    Args:
        model: a built model.
        path: the target: a folder for SavedModel, else a file ending in
            `.tflite` or `.onnx`. An existing target is replaced atomically.
        format: one of `"saved_model"`, `"tflite"`, `"onnx"`.
        quantize: `None`, `"dynamic"`, `"float16"` (TFLite) or `"int8"`
            (TFLite and ONNX).
        sample_inputs: the inputs to compare on: an array, or one per model
            input. By default the first 4 representative samples for int8,
            else 4 seeded samples, uniform in [-1, 1].
        tolerance: the largest absolute difference to accept; by default
            `atol + rtol * scale` with the values of this module's table
            (`1e-4 + 1e-4 * scale` for float exports, none for int8).
        representative_data: int8 only, and needed there: calibration
            inputs, an array, a `tf.data.Dataset` or a callable returning an
            iterable of batches (`(x, y)` batches are fine); the first 256
            samples are used.
        validation_data: held-out `(x, y)`, labels as class indices or
            one-hot: the export's top-1 accuracy is measured and compared
            with the Keras model's.
        accuracy_tolerance: with `validation_data`, the largest accuracy
            drop to accept, in percentage points. Defaults to 1.
        io_dtype: TFLite int8 only: `"int8"` makes the model take and
            return int8 (scales in its input and output details), for
            integer-only accelerators. Defaults to `"float32"`.

    Returns:
        An `ExportResult` with the difference measured.

    Raises:
        ValueError: for a bad `format`, `quantize`, `path`, `io_dtype`,
            `representative_data` or `validation_data`.
        ExportError: if the conversion fails, the exported model's outputs
            differ from Keras's by more than the tolerance, or its accuracy
            drops by more than `accuracy_tolerance`; nothing is written then.
        MissingDependencyError: for ONNX without its optional packages.

    Example:

    >>> model = keras.Sequential([keras.Input((8, 8, 4)), keras_se.SqueezeExcite2D(2)])
    >>> result = keras_se.export_model(model, tmp_dir / "se.tflite", "tflite")
    >>> result.path.name, result.max_abs_diff < result.tolerance
    ('se.tflite', True)
    """
    exporter = get_format(format)
    check_quantize(format, quantize, representative_data, io_dtype)
    if validation_data is not None:
        validation_data = check_labelled(validation_data)
    if not (isinstance(accuracy_tolerance, (int, float)) and accuracy_tolerance >= 0):
        raise ValueError(
            "`accuracy_tolerance` must be a number of points >= 0. Received: "
            f"accuracy_tolerance={accuracy_tolerance!r}"
        )
    path = exporter.check_target(Path(path))
    exporter.check_ready()
    representative = None
    if quantize == "int8":
        representative = representative_samples(
            representative_data, len(getattr(model, "inputs", None) or [0])
        )
        if sample_inputs is None:
            sample_inputs = [
                np.concatenate(parts) for parts in zip(*representative[:4], strict=True)
            ]
    inputs = make_sample_inputs(model, sample_inputs)
    expected = flatten_outputs(model.predict(packed(inputs), verbose=0))
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
    if validation_data is not None:
        float_scores = _single_output(model, validation_data[0])
    names = [t.name for t in getattr(model, "inputs", None) or []]
    label = exporter.label + (f" ({quantize}-quantized)" if quantize else "")

    def write(staging: Path) -> None:
        try:
            measured["float_ops"] = exporter.write(
                model, staging, quantize, representative, io_dtype, names
            )
            actual = exporter.run(staging, inputs, names)
        except KerasSEError:
            raise
        except Exception as error:
            raise ExportError(
                f"The {label} export of {model.name!r} failed: {first_line(error)}"
            ) from error
        diff = max_abs_diff(expected, actual)
        if not diff <= tolerance:
            raise ExportError(
                f"The {label} export of {model.name!r} was "
                f"refused and not written to {path}: its outputs differ from "
                f"Keras's by up to {diff:.3g} on {len(inputs[0])} sample inputs, "
                f"more than the tolerance {tolerance:.3g}. Look for a layer this "
                "format computes differently; if the difference is acceptable, "
                "pass a larger tolerance.",
                max_abs_diff=diff,
                tolerance=tolerance,
            )
        measured["diff"] = diff
        if validation_data is not None:
            scores = exporter.run(staging, [validation_data[0]], names)[0]
            check = measure_accuracy(float_scores, scores, validation_data[1])
            measured["accuracy"] = check
            if check.drop_points > accuracy_tolerance:
                raise ExportError(
                    f"The {label} export of {model.name!r} "
                    f"was refused and not written to {path}: its top-1 accuracy "
                    f"is {100 * check.accuracy:.2f}%, {check.drop_points:.2f} "
                    f"points below Keras's {100 * check.float_accuracy:.2f}% on "
                    f"{check.samples} held-out samples (agreement "
                    f"{100 * check.agreement:.2f}%), more than the tolerance of "
                    f"{accuracy_tolerance:g} points. Calibrate on more or more "
                    "typical data, or pass a larger accuracy_tolerance.",
                )

    write_atomically(path, exporter.suffix, write)
    return ExportResult(
        path,
        format,
        quantize,
        measured["diff"],
        tolerance,
        len(inputs[0]),
        io_dtype=io_dtype,
        float_ops=measured["float_ops"],
        accuracy=measured.get("accuracy"),
        accuracy_tolerance=(
            accuracy_tolerance if validation_data is not None else None
        ),
    )


def _single_output(model, x) -> np.ndarray:
    outputs = flatten_outputs(model.predict(x, verbose=0))
    if len(outputs) != 1:
        raise ValueError(
            "`validation_data` measures top-1 accuracy, which needs a model with "
            f"one output. Received: a model with {len(outputs)} outputs"
        )
    return outputs[0]
