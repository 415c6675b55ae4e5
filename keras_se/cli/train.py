"""`keras-se train`: the main job, the digits CNN with and without SE."""

from __future__ import annotations

import argparse
import json

from keras_se.cli.arguments import positive_int, print_path


def add_parser(commands) -> None:
    """Adds the `train` subcommand to what `add_subparsers()` returned."""
    from keras_se.demo.flags import add_training_flags

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
    train.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Runs `keras-se train`; returns the exit status."""
    from rich.console import Console

    from keras_se.demo import distribute, flags

    console = Console()
    # First: a multi-worker strategy must exist before TensorFlow starts.
    strategy, jit_compile = flags.apply_training_flags(
        args, log=lambda line: print_path(console, line)
    )
    import keras

    from keras_se.demo.data import DIGITS_CLASSES, load_digits
    from keras_se.demo.training import compare_se_on_digits
    from keras_se.viz import write_explanations

    chief = distribute.is_chief(strategy)
    if chief:
        print_path(
            console,
            f"Training on the embedded digits: {args.epochs} epochs, batch size "
            f"{args.batch_size}, SE ratio {args.ratio}, seed {args.seed}; "
            f"{keras.config.dtype_policy().name}, XLA {jit_compile}, strategy "
            f"{distribute.strategy_name(strategy)} "
            f"({strategy.num_replicas_in_sync} replica(s)).",
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
            print_path(console, f"Saved {picture}")
    return 0


def report_training(console, results, path) -> None:
    """Prints the comparison table and writes `train_results.json` beside `path`."""
    from keras_se.saving.atomic import write_bytes_atomically

    console.print(results_table(results))
    summary = {
        result.name: {
            "params": result.params,
            "test_accuracy": result.test_accuracy,
            "seconds_per_epoch": result.seconds_per_epoch,
        }
        for result in results
    }
    summary_path = write_bytes_atomically(
        path.parent / "train_results.json",
        (json.dumps(summary, indent=2) + "\n").encode(),
    )
    print_path(console, f"Saved the SE model to {path}")
    print_path(console, f"Saved the results to {summary_path}")


def results_table(results):
    """A rich table of the trained models: params, accuracy, time per epoch."""
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
