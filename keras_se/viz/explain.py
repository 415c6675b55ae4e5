"""`keras-se explain` and the pictures `keras-se train` writes at its end."""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

METHOD_FILES = {
    "gradcam": "gradcam.png",
    "gradcam++": "gradcam_plus_plus.png",
    "saliency": "saliency.png",
}
METHOD_LABELS = {
    "gradcam": "Grad-CAM",
    "gradcam++": "Grad-CAM++",
    "saliency": "Saliency",
}
DATASETS = ("digits",)
# The Grad-CAM grid is chosen from this many samples per image shown, so a
# large dataset is not predicted in full just to pick 16 images.
POOL_PER_SAMPLE = 50


def write_explanations(
    model,
    x: np.ndarray,
    y: np.ndarray | None,
    out_dir: str | os.PathLike,
    class_names: Sequence[str] | None = None,
    method: str = "gradcam",
    layer: str | None = None,
    samples: int = 16,
    batch_size: int = 64,
    verbose: int | str = "auto",
) -> list[Path]:
    """Writes the heatmap grid and the excitation plots of a model.

    Files, in `out_dir`:
    - `gradcam.png` (`gradcam_plus_plus.png`, `saliency.png` for the other
      methods): `samples` images beside their heatmaps for the predicted
      class, with the true and predicted classes. Images are picked round
      the classes; up to a quarter are misclassified ones, if any.
    - `excitations.png`: the mean excitation per channel and class of each
      SE block (the SE paper's figures 6 and 7).
    - `class_specificity.png`: a blocks x classes heatmap of how far each
      class's gates lie from the mean, with each block's class specificity.
    - `excitations.json`: the class specificity, deviations and counts per
      block.
    A model without SE blocks gets the heatmap grid only; inputs that are
    not images (rank 4) get no grid.

    Args:
        model: a Functional or Sequential classifier, channels-last.
        x: the inputs, e.g. the test split.
        y: integer labels, or `None` to group excitations by the predicted
            class (and show no true class).
        out_dir: the folder to write to; created if missing.
        class_names: names for the class indices.
        method: `"gradcam"`, `"gradcam++"` or `"saliency"`.
        layer: the Grad-CAM layer; default `keras_se.viz.find_target_layer`.
        samples: positive int, images in the grid.
        batch_size: positive int.
        verbose: 0, 1 or `"auto"`: the progress bar of the excitation pass.

    Returns:
        The paths written, in the order above.

    Raises:
        ValueError: for a bad `method` or `layer`, or `x` and `y` of
            different lengths.

    Example:

    >>> from keras_se.models import build_digits_cnn
    >>> _, test = keras_se.data.load_digits()
    >>> paths = keras_se.viz.write_explanations(
    ...     build_digits_cnn(), test.x, test.y, tmp_dir, verbose=0)
    >>> [path.name for path in paths]
    ['gradcam.png', 'excitations.png', 'class_specificity.png', 'excitations.json']
    """
    from keras_se._validation import check_choice, check_positive_int
    from keras_se.viz import plots
    from keras_se.viz._graph import check_graph_model, inline, is_se_layer
    from keras_se.viz.excitation import excitations
    from keras_se.viz.saliency import find_target_layer, heatmaps

    check_choice("method", method, tuple(METHOD_FILES))
    check_positive_int("samples", samples)
    check_positive_int("batch_size", batch_size)
    check_graph_model(model, "`write_explanations`")
    x = np.asarray(x)
    if y is not None:
        y = np.asarray(y).reshape(-1)
        if len(y) != len(x):
            raise ValueError(
                "`x` and `y` must hold the same number of samples. Received: "
                f"{len(x)} inputs and {len(y)} labels"
            )
    out_dir = Path(out_dir)
    paths = []
    if x.ndim == 4:
        pool = slice(0, samples * POOL_PER_SAMPLE)
        scores = model.predict(x[pool], batch_size=batch_size, verbose=0)
        predicted = np.argmax(scores, axis=-1)
        truth = None if y is None else y[pool]
        picked = _pick(predicted if truth is None else truth, predicted, samples)
        target = None if method == "saliency" else layer or find_target_layer(model)
        maps = heatmaps(
            model,
            x[picked],
            classes=predicted[picked],
            method=method,
            layer=target,
            batch_size=batch_size,
        )
        where = "" if target is None else f", layer {target!r}"
        paths.append(
            plots.plot_heatmaps(
                x[picked],
                maps,
                out_dir / METHOD_FILES[method],
                true=None if truth is None else truth[picked],
                predicted=predicted[picked],
                confidence=scores[picked, predicted[picked]],
                class_names=class_names,
                title=f"{METHOD_LABELS[method]} of {model.name}{where}, "
                "for the predicted class",
            )
        )
    has_se = any(is_se_layer(layer) for layer in inline(model).layers)
    if has_se:
        blocks = excitations(model, x, y, batch_size=batch_size, verbose=verbose)
        grouped = "true" if y is not None else "predicted"
        paths.append(
            plots.plot_excitations(
                blocks,
                out_dir / "excitations.png",
                class_names=class_names,
                title=f"Mean SE excitation per channel of {model.name}, by "
                f"{grouped} class ({len(x)} samples)",
            )
        )
        paths.append(
            plots.plot_class_specificity(
                blocks,
                out_dir / "class_specificity.png",
                class_names=class_names,
                title=f"Class-specificity of the SE blocks of {model.name}",
            )
        )
        summary = _summary(model, blocks, grouped, class_names)
        text = json.dumps(summary, indent=2) + "\n"
        paths.append(
            plots.write_atomically(out_dir / "excitations.json", text.encode())
        )
    return paths


def add_explain_parser(subparsers) -> None:
    """Adds the `explain` command to an argparse subparsers object.

    Args:
        subparsers: what `ArgumentParser.add_subparsers()` returned.
    """
    from keras_se.cli import positive_int

    explain = subparsers.add_parser(
        "explain",
        help="Grad-CAM and SE excitation plots of a .keras model",
        description=(
            "Write a grid of Grad-CAM (or Grad-CAM++, saliency) heatmaps with "
            "the true and predicted classes, and the mean excitation of every "
            "SE block per class and channel (the SE paper's figures 6 and 7), "
            "as PNGs."
        ),
    )
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
    explain.set_defaults(handler=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    """Runs `keras-se explain`; returns the exit status."""
    from rich.console import Console

    import keras_se
    from keras_se.errors import KerasSEError

    console = Console()
    try:
        model = keras_se.load_model(args.model, compile=False)
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
        message = " ".join(str(error).split())
        Console(stderr=True).print(
            f"keras-se explain: error: {message}", soft_wrap=True, markup=False
        )
        return 1
    summary_path = next((p for p in paths if p.suffix == ".json"), None)
    if summary_path is not None:
        console.print(_specificity_table(json.loads(summary_path.read_text())))
    for path in paths:
        console.print(f"Wrote {path}", soft_wrap=True, markup=False)
    return 0


def _load_data(args):
    if args.data:
        with np.load(args.data, allow_pickle=False) as data:
            x = data["x"]
            y = data["y"] if "y" in data.files else None
            names = data["class_names"].tolist() if "class_names" in data else None
        return x, y, names
    from keras_se.data import DIGITS_CLASSES, load_digits

    _, test = load_digits(seed=args.seed)
    return test.x, test.y, [str(c) for c in range(DIGITS_CLASSES)]


def _pick(classes: np.ndarray, predicted: np.ndarray, count: int) -> np.ndarray:
    """Indices of `count` samples: round the classes, some misclassified."""
    wrong = np.flatnonzero(classes != predicted)[: count // 4]
    right = [
        np.flatnonzero((classes == c) & (classes == predicted))
        for c in np.unique(classes)
    ]
    chosen: list[int] = []
    depth = 0
    while len(chosen) < count - len(wrong) and any(depth < len(r) for r in right):
        chosen.extend(int(r[depth]) for r in right if depth < len(r))
        depth += 1
    chosen = chosen[: count - len(wrong)] + [int(i) for i in wrong]
    return np.array(sorted(chosen, key=lambda i: (classes[i], i)), dtype=int)


def _summary(model, blocks, grouped, class_names) -> dict:
    def clean(values):
        return [None if math.isnan(v) else float(f"{v:.6g}") for v in values]

    return {
        "model": model.name,
        "classes_from": f"{grouped} labels",
        "class_names": None if class_names is None else list(class_names),
        "class_specificity": "mean over channels of the std across classes "
        "of the per-class mean gate (gate_scale included)",
        "blocks": [
            {
                "name": block.name,
                "channels": block.channels,
                "gate_scale": block.gate_scale,
                "class_specificity": clean([block.class_specificity])[0],
                "class_deviation": clean(block.class_deviation),
                "samples_per_class": block.counts.tolist(),
            }
            for block in blocks
        ],
    }


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
