"""`keras-se explain`: Grad-CAM and excitation plots of a .keras model."""

from __future__ import annotations

import argparse
import json

import numpy as np

from keras_se.cli.arguments import positive_int, print_error, print_path, subcommand
from keras_se.viz.explain import METHOD_FILES

DATASETS = ("digits",)


@subcommand(
    "explain",
    help="Grad-CAM and SE excitation plots of a .keras model",
    description=(
        "Write a grid of Grad-CAM (or Grad-CAM++, saliency) heatmaps with "
        "the true and predicted classes, and the mean excitation of every "
        "SE block per class and channel (the SE paper's figures 6 and 7), "
        "as PNGs."
    ),
)
def add_parser(explain: argparse.ArgumentParser) -> None:
    explain.add_argument("model", metavar="MODEL.keras", help="the model to explain")
    explain.add_argument(
        "--out", required=True, metavar="DIR", help="the folder to write the PNGs to"
    )
    explain.add_argument("--method", choices=tuple(METHOD_FILES), default="gradcam")
    explain.add_argument(
        "--layer",
        metavar="NAME",
        help="the Grad-CAM layer (default: the last conv or SE block)",
    )
    explain.add_argument(
        "--samples", type=positive_int, default=16, help="images in the grid"
    )
    explain.add_argument(
        "--dataset",
        choices=DATASETS,
        default="digits",
        help="the data: the test split of the embedded digits",
    )
    explain.add_argument(
        "--data",
        metavar="FILE.npz",
        help="your own data instead: arrays `x` (inputs) and `y` (integer "
        "labels, optional), and optionally `class_names`",
    )
    explain.add_argument(
        "--seed", type=int, default=0, help="the digits split seed (as in train)"
    )
    explain.add_argument("--batch-size", type=positive_int, default=64)
    explain.add_argument("--quiet", action="store_true", help="no progress bar")
    explain.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Runs `keras-se explain`; returns the exit status."""
    from rich.console import Console

    from keras_se.errors import KerasSEError
    from keras_se.saving import load_model
    from keras_se.viz import write_explanations

    console = Console()
    try:
        model = load_model(args.model, compile=False)
        x, y, class_names = _load_data(args)
        expected = tuple(model.inputs[0].shape[1:])
        if len(expected) != x.ndim - 1 or any(
            want not in (None, got)
            for want, got in zip(expected, x.shape[1:], strict=True)
        ):
            raise ValueError(
                f"The model takes inputs of shape {expected}, the data has "
                f"samples of shape {x.shape[1:]}: pass matching data with --data."
            )
        paths = write_explanations(
            model,
            x,
            y,
            args.out,
            class_names=class_names,
            method=args.method,
            layer=args.layer,
            samples=args.samples,
            batch_size=args.batch_size,
            verbose=0 if args.quiet else "auto",
        )
    except (KerasSEError, ValueError, TypeError, OSError, KeyError) as error:
        return print_error("explain", error)
    summary_path = next((p for p in paths if p.suffix == ".json"), None)
    if summary_path is not None:
        console.print(_specificity_table(json.loads(summary_path.read_text())))
    for path in paths:
        print_path(console, f"Wrote {path}")
    return 0


def _load_data(args):
    if args.data:
        with np.load(args.data, allow_pickle=False) as data:
            x = data["x"]
            y = data["y"] if "y" in data.files else None
            names = data["class_names"].tolist() if "class_names" in data else None
        return x, y, names
    from keras_se.demo.data import DIGITS_CLASSES, load_digits

    _, test = load_digits(seed=args.seed)
    return test.x, test.y, [str(c) for c in range(DIGITS_CLASSES)]


def _specificity_table(summary: dict):
    from rich.table import Table

    table = Table(title=f"SE blocks of {summary['model']}")
    table.add_column("block")
    table.add_column("channels", justify="right")
    table.add_column("class specificity", justify="right")
    for block in summary["blocks"]:
        score = block["class_specificity"]
        table.add_row(
            block["name"],
            str(block["channels"]),
            "n/a" if score is None else f"{score:.3g}",
        )
    return table
