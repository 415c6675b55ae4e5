"""The `keras-se` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

# TensorFlow's C++ start-up logs (a CUDA probe on CPU-only machines, for one) are
# noise on a command line; an environment setting still wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


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
    train.set_defaults(handler=run_train)
    return parser


def run_train(args: argparse.Namespace) -> int:
    from rich.console import Console

    from keras_se.training import compare_se_on_digits

    console = Console()
    console.print(
        f"Training on the embedded digits: {args.epochs} epochs, batch size "
        f"{args.batch_size}, SE ratio {args.ratio}, seed {args.seed}."
    )
    results, path = compare_se_on_digits(
        output_dir=args.output_dir,
        epochs=args.epochs,
        batch_size=args.batch_size,
        ratio=args.ratio,
        seed=args.seed,
        verbose=0 if args.quiet else "auto",
    )
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
    return 0


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
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
