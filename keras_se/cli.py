"""The `keras-se` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from keras_se.tuning.command import add_tune_parser
from keras_se.viz.explain import add_explain_parser

# TensorFlow's C++ start-up logs (a CUDA probe on CPU-only machines, for one) are
# noise on a command line; an environment setting still wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# The same as keras_se.export's; kept here so `--help` does not import TensorFlow.
EXPORT_FORMATS = ("saved_model", "tflite", "onnx")
QUANTIZATIONS = ("dynamic", "float16")


def positive_int(text: str) -> int:
    """An argparse type: a positive integer, with a clear message otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from keras_se.distribute import add_training_flags

    parser = argparse.ArgumentParser(
        prog="keras-se",
        description="Squeeze-and-Excitation channel attention for Keras 3.",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    train = commands.add_parser(
        "train",
        help="train a small CNN with and without SE on the embedded digits",
        description=(
            "Train the same small CNN without and with SE blocks on "
            "scikit-learn's bundled handwritten digits (no download), print "
            "both side by side and save the SE model as .keras."
        ),
    )
    train.add_argument("--epochs", type=positive_int, default=30)
    train.add_argument("--batch-size", type=positive_int, default=32)
    train.add_argument("--ratio", type=positive_int, default=8, help="SE reduction")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--output-dir", default="keras_se_output", help="where the model is saved"
    )
    train.add_argument(
        "--quiet", action="store_true", help="no per-epoch progress bars"
    )
    add_training_flags(train)
    train.set_defaults(handler=run_train)

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
    export.set_defaults(handler=run_export)
    add_tune_parser(commands)
    add_explain_parser(commands)
    return parser


def positive_float(text: str) -> float:
    """An argparse type: a positive number, with a clear message otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a positive number, got {text!r}"
        ) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {value}")
    return value


def run_train(args: argparse.Namespace) -> int:
    from rich.console import Console

    from keras_se import distribute

    console = Console()
    # First: a multi-worker strategy must exist before TensorFlow starts.
    strategy, jit_compile = distribute.apply_training_flags(
        args, log=lambda line: console.print(line, markup=False, soft_wrap=True)
    )
    import keras

    from keras_se.data import DIGITS_CLASSES, load_digits
    from keras_se.training import compare_se_on_digits
    from keras_se.viz import write_explanations

    chief = distribute.is_chief(strategy)
    if chief:
        console.print(
            f"Training on the embedded digits: {args.epochs} epochs, batch size "
            f"{args.batch_size}, SE ratio {args.ratio}, seed {args.seed}; "
            f"{keras.config.dtype_policy().name}, XLA {jit_compile}, strategy "
            f"{distribute.strategy_name(strategy)} "
            f"({strategy.num_replicas_in_sync} replica(s)).",
            markup=False,
            soft_wrap=True,
        )
    results, path = compare_se_on_digits(
        output_dir=args.output_dir,
        epochs=args.epochs,
        batch_size=args.batch_size,
        ratio=args.ratio,
        seed=args.seed,
        verbose=0 if args.quiet or not chief else "auto",
        strategy=strategy,
        jit_compile=jit_compile,
    )
    if chief:
        report_training(console, results, path)
    _, test = load_digits(seed=args.seed)
    # Every worker predicts (under a multi-worker strategy `predict` runs
    # collective ops); only the chief's pictures are kept.
    with distribute.chief_dir(args.output_dir, strategy) as folder:
        pictures = write_explanations(
            results[-1].model,
            test.x,
            test.y,
            folder,
            class_names=[str(digit) for digit in range(DIGITS_CLASSES)],
            verbose=0 if args.quiet or not chief else "auto",
        )
    if chief:
        for picture in pictures:
            console.print(f"Saved {picture}", soft_wrap=True, markup=False)
    return 0


def report_training(console, results, path) -> None:
    console.print(results_table(results))
    summary = {
        result.name: {
            "params": result.params,
            "test_accuracy": result.test_accuracy,
            "seconds_per_epoch": result.seconds_per_epoch,
        }
        for result in results
    }
    summary_path = path.parent / "train_results.json"
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    # Paths stay on one line so they can be copied.
    console.print(f"Saved the SE model to {path}", soft_wrap=True, markup=False)
    console.print(f"Saved the results to {summary_path}", soft_wrap=True, markup=False)


def run_export(args: argparse.Namespace) -> int:
    from rich.console import Console

    import keras_se
    from keras_se.errors import KerasSEError

    console = Console()
    try:
        model = keras_se.load_model(args.model, compile=False)
        samples = _read_samples(args.sample_inputs)
        result = keras_se.export_model(
            model,
            args.out,
            args.format,
            quantize=args.quantize,
            sample_inputs=samples,
            tolerance=args.tolerance,
        )
    except (KerasSEError, ValueError, OSError) as error:
        message = " ".join(str(error).split())
        Console(stderr=True).print(
            f"keras-se export: error: {message}", soft_wrap=True, markup=False
        )
        return 1
    kind = {"saved_model": "SavedModel", "tflite": "TFLite", "onnx": "ONNX"}
    label = kind[result.format] + (f", {result.quantize}" if result.quantize else "")
    console.print(
        f"Exported {args.model} to {result.path} ({label}, "
        f"{_size(result.path) / 1e6:.2f} MB)",
        soft_wrap=True,
        markup=False,
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


def results_table(results):
    from rich.table import Table

    plain = results[0]
    table = Table(title="Digits CNN: without and with SE blocks")
    table.add_column("model")
    table.add_column("params", justify="right")
    table.add_column("params vs plain", justify="right")
    table.add_column("test accuracy", justify="right")
    table.add_column("s / epoch", justify="right")
    for result in results:
        table.add_row(
            result.name,
            f"{result.params:,}",
            f"{result.params / plain.params:.3f}x",
            f"{result.test_accuracy:.4f}",
            f"{result.seconds_per_epoch:.3f}",
        )
    return table


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"keras-se {version('keras-se')}"
    except PackageNotFoundError:
        return "keras-se (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "export" and args.quantize and args.format != "tflite":
        parser.error("--quantize applies to --format tflite only")
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
