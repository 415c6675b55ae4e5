"""The pictures `keras-se explain` and `keras-se train` write.

A heatmap grid and the excitation plots of a model, and their summary.
"""

from __future__ import annotations

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
# The Grad-CAM grid is chosen from this many samples per image shown, so a
# large dataset is not predicted in full just to pick 16 images.
POOL_PER_SAMPLE = 50


def write_explanations(
    model,
    x: np.ndarray,
    y: np.ndarray | None,
    out_dir: str | os.PathLike,
    class_names: Sequence[str] | None = None,
    method: str | None = "gradcam",
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
        method: `"gradcam"`, `"gradcam++"` or `"saliency"` (through
            tf-keras-vis: the TensorFlow backend and `keras-se[tensorflow]`),
            or `None` for no heatmap grid (the excitation plots need
            neither).
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

    >>> from keras_se.demo.model import build_digits_cnn
    >>> _, test = keras_se.demo.data.load_digits()
    >>> paths = keras_se.viz.write_explanations(
    ...     build_digits_cnn(), test.x, test.y, tmp_dir, verbose=0)
    >>> [path.name for path in paths]
    ['gradcam.png', 'excitations.png', 'class_specificity.png', 'excitations.json']
    """
    from keras_se._validation import check_choice, check_positive_int
    from keras_se.saving.atomic import write_bytes_atomically
    from keras_se.viz import plots
    from keras_se.viz._graph import check_graph_model, inline, is_se_layer
    from keras_se.viz.excitation import excitations
    from keras_se.viz.saliency import find_target_layer, heatmaps

    if method is not None:
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
    if x.ndim == 4 and method is not None:
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
            write_bytes_atomically(out_dir / "excitations.json", text.encode())
        )
    return paths


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
