"""`keras-se export`: a .keras model to SavedModel, TFLite or ONNX, checked."""

from __future__ import annotations

import argparse

from keras_se.cli.arguments import positive_float, print_error, print_path, subcommand
from keras_se.export.calibration import CALIBRATION_SAMPLES
from keras_se.export.checked import DEFAULT_ACCURACY_TOLERANCE
from keras_se.export.formats import (
    EXPORT_FORMATS,
    FORMAT_QUANTIZATIONS,
    FORMATS,
    IO_DTYPES,
    QUANTIZATIONS,
)


@subcommand(
    "export",
    help="export a .keras model to SavedModel, TFLite or ONNX, checked",
    description=(
        "Export a .keras model for inference. The export is run on sample "
        "inputs and compared with Keras before it is written; the largest "
        "absolute difference is printed."
    ),
)
def add_parser(export: argparse.ArgumentParser) -> None:
    export.add_argument("model", metavar="MODEL.keras", help="the model to export")
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    export.add_argument(
        "--out", required=True, metavar="PATH", help="the file or folder to write"
    )
    export.add_argument(
        "--quantize",
        choices=QUANTIZATIONS,
        help="dynamic: int8 weights, float16: float16 weights (TFLite); int8: "
        "int8 weights and activations, every op integer (TFLite, ONNX), "
        "calibrated on --representative and judged by accuracy",
    )
    export.add_argument(
        "--representative",
        metavar="digits|FILE",
        help="int8 calibration data: 'digits' (the demo's train split, "
        "with its test split held out for the accuracy check), or .npy/.npz "
        "with x (and y: the last quarter is then held out, unless the file "
        "has x_test and y_test)",
    )
    export.add_argument(
        "--io-dtype",
        choices=IO_DTYPES,
        default="float32",
        help="TFLite int8 only: the dtype the model takes and returns",
    )
    export.add_argument(
        "--accuracy-tolerance",
        type=non_negative_float,
        default=DEFAULT_ACCURACY_TOLERANCE,
        metavar="POINTS",
        help="with labels, refuse an export whose top-1 accuracy drops by "
        "more than this many points (default: %(default)s)",
    )
    export.add_argument(
        "--sample-inputs",
        metavar="FILE",
        help="inputs to compare on: .npy (one input) or .npz (one array per "
        "input, in order); default 4 random samples",
    )
    export.add_argument(
        "--tolerance",
        type=positive_float,
        help="the largest absolute difference to accept (default: by format)",
    )
    export.set_defaults(handler=run, check=check)


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuses flag combinations argparse cannot express."""
    if args.quantize and args.quantize not in FORMAT_QUANTIZATIONS[args.format]:
        parser.error(
            f"--quantize {args.quantize} does not apply to --format {args.format}"
        )
    if (args.quantize == "int8") != (args.representative is not None):
        parser.error("--quantize int8 needs --representative, and only it takes it")
    if args.io_dtype == "int8" and (args.format, args.quantize) != ("tflite", "int8"):
        parser.error("--io-dtype int8 needs --format tflite --quantize int8")


def run(args: argparse.Namespace) -> int:
    """Runs `keras-se export`; returns the exit status."""
    from rich.console import Console

    from keras_se.errors import KerasSEError
    from keras_se.export import export_model
    from keras_se.saving import load_model

    console = Console()
    try:
        model = load_model(args.model, compile=False)
        representative, validation = _read_representative(args.representative, model)
        result = export_model(
            model,
            args.out,
            args.format,
            quantize=args.quantize,
            sample_inputs=_read_samples(args.sample_inputs),
            tolerance=args.tolerance,
            representative_data=representative,
            validation_data=validation,
            accuracy_tolerance=args.accuracy_tolerance,
            io_dtype=args.io_dtype,
        )
    except (KerasSEError, ValueError, OSError) as error:
        return print_error("export", error)
    label = FORMATS[result.format].label
    label += f", {result.quantize}" if result.quantize else ""
    print_path(
        console,
        f"Exported {args.model} to {result.path} ({label}, "
        f"{_size(result.path) / 1e6:.2f} MB)",
    )
    console.print(
        f"max abs difference vs Keras: {result.max_abs_diff:.3g} on "
        f"{result.samples} sample inputs (tolerance {result.tolerance:.3g})",
        markup=False,
    )
    for line in _int8_lines(result):
        console.print(line, markup=False)
    return 0


def non_negative_float(text: str) -> float:
    """An argparse type: a number of at least 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def _int8_lines(result) -> list[str]:
    lines = []
    if result.quantize == "int8" and result.float_ops is not None:
        lines.append(
            f"int8 weights and activations, {result.io_dtype} input and output; "
            + (
                "every op integer"
                if not result.float_ops
                else "ops still in float: " + ", ".join(sorted(set(result.float_ops)))
            )
        )
    check = result.accuracy
    if check is not None:
        lines.append(
            f"top-1 accuracy on {check.samples} held-out samples: Keras "
            f"{100 * check.float_accuracy:.2f}%, export {100 * check.accuracy:.2f}% "
            f"({-check.drop_points:+.2f} points, tolerance "
            f"{result.accuracy_tolerance:g}); agreement {100 * check.agreement:.2f}%"
        )
    return lines


def _read_representative(source: str | None, model):
    """Calibration inputs and held-out `(x, y)` (or `None`) from the flag."""
    if source is None:
        return None, None
    import numpy as np

    if source == "digits":
        from keras_se.demo.data import load_digits

        train, test = load_digits()
        expected = tuple(model.inputs[0].shape[1:]) if model.inputs else None
        if expected != train.x.shape[1:]:
            raise ValueError(
                f"--representative digits gives {train.x.shape[1:]} images; the "
                f"model takes inputs of shape {expected}."
            )
        return train.x[:CALIBRATION_SAMPLES], (test.x, test.y)
    data = np.load(source, allow_pickle=False)
    if isinstance(data, np.ndarray):
        return data, None
    with data:
        arrays = {key: data[key] for key in data.files}
    if "x" not in arrays:
        raise ValueError(
            f"{source} must hold an array named x (and y for the accuracy "
            f"check). Received: {', '.join(arrays) or 'no arrays'}"
        )
    x, y = arrays["x"], arrays.get("y")
    if "x_test" in arrays and "y_test" in arrays:
        return x, (arrays["x_test"], arrays["y_test"])
    if y is None:
        return x, None
    held_out = max(1, len(x) // 4)
    return x[:-held_out], (x[-held_out:], y[-held_out:])


def _read_samples(path: str | None):
    if path is None:
        return None
    import numpy as np

    data = np.load(path, allow_pickle=False)
    if isinstance(data, np.ndarray):
        return data
    with data:
        return [data[key] for key in data.files]


def _size(path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())
