"""`keras-se export`: a .keras model to SavedModel, TFLite or ONNX, checked."""

from __future__ import annotations

import argparse

from keras_se.cli.arguments import positive_float, print_error, print_path
from keras_se.saving.export import EXPORT_FORMATS, QUANTIZATIONS

FORMAT_LABELS = {"saved_model": "SavedModel", "tflite": "TFLite", "onnx": "ONNX"}


def add_parser(commands) -> None:
    """Adds the `export` subcommand to what `add_subparsers()` returned."""
    export = commands.add_parser(
        "export",
        help="export a .keras model to SavedModel, TFLite or ONNX, checked",
        description=(
            "Export a .keras model for inference. The export is run on sample "
            "inputs and compared with Keras before it is written; the largest "
            "absolute difference is printed."
        ),
    )
    export.add_argument("model", metavar="MODEL.keras", help="the model to export")
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    export.add_argument(
        "--out", required=True, metavar="PATH", help="the file or folder to write"
    )
    export.add_argument(
        "--quantize", choices=QUANTIZATIONS, help="TFLite only: int8 or float16 weights"
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
    if args.quantize and args.format != "tflite":
        parser.error("--quantize applies to --format tflite only")


def run(args: argparse.Namespace) -> int:
    """Runs `keras-se export`; returns the exit status."""
    from rich.console import Console

    from keras_se.errors import KerasSEError
    from keras_se.saving import export_model, load_model

    console = Console()
    try:
        model = load_model(args.model, compile=False)
        result = export_model(
            model,
            args.out,
            args.format,
            quantize=args.quantize,
            sample_inputs=_read_samples(args.sample_inputs),
            tolerance=args.tolerance,
        )
    except (KerasSEError, ValueError, OSError) as error:
        return print_error("export", error)
    label = FORMAT_LABELS[result.format]
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
    return 0


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
