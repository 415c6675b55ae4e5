"""`keras-se train`: the main job, the digits CNN plain and with each attention."""

from __future__ import annotations

import argparse
import json
import sys

from keras_se.cli.arguments import (
    attention_help,
    attention_list,
    positive_int,
    print_path,
    subcommand,
)


@subcommand(
    "train",
    help="train a small CNN plain and with SE, ECA, CBAM on the embedded digits",
    description=(
        "Train the same small CNN plain and with each attention (SE, ECA "
        "and CBAM by default) on scikit-learn's bundled handwritten digits "
        "(no download), over several seeds; print params, test accuracy "
        "(mean +- std over seeds), seconds per epoch and whether each "
        "difference to the plain CNN exceeds the seed spread; save the "
        "best attention model as .keras, with Grad-CAM and excitation "
        "pictures."
    ),
)
def add_parser(train: argparse.ArgumentParser) -> None:
    from keras_se.demo.flags import add_training_flags

    train.add_argument(
        "--attention",
        type=attention_list,
        default=None,
        help=attention_help("compare", "se,eca,cbam"),
    )
    train.add_argument(
        "--seeds", type=positive_int, default=3, help="runs per model (default: 3)"
    )
    train.add_argument("--epochs", type=positive_int, default=12)
    train.add_argument("--batch-size", type=positive_int, default=32)
    train.add_argument(
        "--ratio",
        type=positive_int,
        default=None,
        help=(
            "reduction ratio of the attentions that have one; given, it "
            "replaces a preset's (default: a preset's own, else 8)"
        ),
    )
    train.add_argument("--seed", type=int, default=0, help="the first seed")
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

    # Wide enough for the table when the output is a file or a pipe.
    console = Console(width=None if sys.stdout.isatty() else 120)
    # First: a multi-worker strategy must exist before TensorFlow starts.
    strategy, jit_compile = flags.apply_training_flags(
        args, log=lambda line: print_path(console, line)
    )
    import keras

    from keras_se.demo.data import DIGITS_CLASSES, load_digits
    from keras_se.demo.training import (
        DEFAULT_ATTENTIONS,
        compare_attentions_on_digits,
    )
    from keras_se.viz import write_explanations

    attentions = args.attention or DEFAULT_ATTENTIONS
    chief = distribute.is_chief(strategy)
    if chief:
        print_path(
            console,
            f"Training on the embedded digits: plain and "
            f"{', '.join(attentions)}, {args.seeds} seed(s) from {args.seed}, "
            f"{args.epochs} epochs, batch size {args.batch_size}, "
            f"{_ratios(attentions, args.ratio)}; "
            f"{keras.config.dtype_policy().name}, XLA {jit_compile}, strategy "
            f"{distribute.strategy_name(strategy)} "
            f"({distribute.num_replicas(strategy)} replica(s)).",
        )
    comparison = compare_attentions_on_digits(
        output_dir=args.output_dir,
        attentions=attentions,
        seeds=args.seeds,
        seed=args.seed,
        epochs=args.epochs,
        batch_size=args.batch_size,
        ratio=args.ratio,
        # Many short runs: a progress bar each would drown the table.
        verbose=0 if args.quiet or not chief or args.seeds > 1 else "auto",
        strategy=strategy,
        jit_compile=jit_compile,
    )
    if chief:
        report_training(console, comparison)
    _, test = load_digits(seed=args.seed)
    # Every worker predicts (under a multi-worker strategy `predict` runs
    # collective ops); only the chief's pictures are kept.
    method = "gradcam" if _grad_cam_available() else None
    if chief and method is None:
        print_path(
            console,
            "Grad-CAM skipped: it runs through tf-keras-vis, on the TensorFlow "
            "backend with keras-se[tensorflow] installed.",
        )
    with distribute.chief_dir(args.output_dir, strategy) as folder:
        pictures = write_explanations(
            comparison.best.model,
            test.x,
            test.y,
            folder,
            class_names=[str(digit) for digit in range(DIGITS_CLASSES)],
            method=method,
            verbose=0 if args.quiet or not chief else "auto",
        )
    if chief:
        for picture in pictures:
            print_path(console, f"Saved {picture}")
    return 0


def _ratios(attentions, ratio: int | None) -> str:
    """The ratio each attention's blocks get, for the settings line."""
    from keras_se.demo.model import digits_ratio

    ratios = {name: digits_ratio(name, ratio) for name in attentions}
    given = {name: r for name, r in ratios.items() if r is not None}
    if not given:
        return "no reduction ratio"
    if len(set(given.values())) == 1:
        return f"ratio {next(iter(given.values()))}"
    return "ratio " + ", ".join(f"{r} ({name})" for name, r in given.items())


def _grad_cam_available() -> bool:
    import importlib.util

    import keras

    return (
        keras.backend.backend() == "tensorflow"
        and importlib.util.find_spec("tf_keras_vis") is not None
    )


def report_training(console, comparison) -> None:
    """Prints the comparison and writes `train_results.json` beside the model."""
    from keras_se.saving.atomic import write_bytes_atomically

    console.print(results_table(comparison.summaries))
    for line in verdicts(comparison.summaries):
        console.print(line, soft_wrap=True, markup=False)
    summary = {
        s.name: {
            "params": s.params,
            "test_accuracy": list(s.accuracies),
            "test_accuracy_mean": s.mean,
            "test_accuracy_std": s.std,
            "difference_to_plain": s.difference,
            "seed_spread": s.spread,
            "exceeds_seed_spread": s.exceeds_spread,
            "p_value": s.p_value,
            "seconds_per_epoch": s.seconds_per_epoch,
        }
        for s in comparison.summaries
    }
    path = comparison.path
    summary_path = write_bytes_atomically(
        path.parent / "train_results.json",
        (json.dumps(summary, indent=2) + "\n").encode(),
    )
    print_path(console, f"Saved the best attention model to {path}")
    print_path(console, f"Saved the results to {summary_path}")


def results_table(summaries):
    """A rich table of the models: params, accuracy over seeds, time per epoch."""
    from rich.table import Table

    plain = summaries[0]
    seeds = len(plain.accuracies)
    table = Table(title=f"Digits CNN: plain and with attention ({seeds} seed(s))")
    table.add_column("model")
    table.add_column("params", justify="right")
    table.add_column("vs plain", justify="right")
    table.add_column("test accuracy", justify="right")
    table.add_column("diff to plain", justify="right")
    table.add_column("seed spread", justify="right")
    table.add_column("p", justify="right")
    table.add_column("s / epoch", justify="right")
    for s in summaries:
        compared = s.difference is not None
        table.add_row(
            s.name,
            f"{s.params:,}",
            f"{s.params / plain.params:.3f}x",
            f"{s.mean:.4f} ± {s.std:.4f}",
            f"{s.difference:+.4f}" if compared else "-",
            f"±{s.spread:.4f}" if compared else "-",
            f"{s.p_value:.2f}" if s.p_value is not None else "-",
            f"{s.seconds_per_epoch:.3f}",
        )
    return table


def verdicts(summaries) -> list[str]:
    """One sentence per attention model: does it beat the seed spread?"""
    lines = []
    for s in summaries[1:]:
        change = f"{100 * s.difference:+.2f} points"
        if s.exceeds_spread is None:
            lines.append(f"{s.name}: {change} vs plain (one seed: no spread to judge).")
        elif s.exceeds_spread:
            word = "better" if s.difference > 0 else "worse"
            lines.append(
                f"{s.name}: {change} vs plain, beyond the seed spread "
                f"(±{100 * s.spread:.2f}): {word} on this data."
            )
        else:
            lines.append(
                f"{s.name}: {change} vs plain, within the seed spread "
                f"(±{100 * s.spread:.2f}): no measurable difference."
            )
    return lines
