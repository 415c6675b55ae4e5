"""PNG pictures of heatmaps and excitations, written atomically.

Figures are built with matplotlib's object API (`matplotlib.figure.Figure`),
not pyplot: no global backend is switched, nothing stays open, and it works
on machines without a display. A PNG is `figsize * dpi` pixels: no tight
bounding box trims it. The excitation plots are drawn in
`keras_se.viz.excitation_plots`, and can be imported from here too.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from keras_se.viz._figures import class_label, save_png
from keras_se.viz.excitation_plots import (
    EXCITATIONS_EXAMPLE,
    MAX_LINE_CLASSES,
    plot_class_specificity,
    plot_excitations,
)

__all__ = [
    "EXCITATIONS_EXAMPLE",
    "MAX_LINE_CLASSES",
    "plot_class_specificity",
    "plot_excitations",
    "plot_heatmaps",
]


def plot_heatmaps(
    images: np.ndarray,
    maps: np.ndarray,
    path: str | os.PathLike,
    true: Sequence[int] | None = None,
    predicted: Sequence[int] | None = None,
    confidence: Sequence[float] | None = None,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    columns: int = 4,
    figsize: tuple[float, float] | None = None,
    dpi: int = 100,
) -> Path:
    """Writes a grid of images, each beside its heatmap overlay, as a PNG.

    Args:
        images: `(n, height, width, channels)` (1 channel: grey; 3: RGB,
            min-max scaled for display) or `(n, height, width)`.
        maps: `(n, height, width)` heatmaps in [0, 1], e.g. from
            `keras_se.viz.heatmaps`.
        path: the PNG to write; its folder is created.
        true: the true class of each image, or `None`.
        predicted: the predicted class of each image, or `None`; shown in
            green when it equals `true`, else red.
        confidence: the predicted class's probability, or `None`.
        class_names: names for the class indices; default the indices.
        title: the figure's title.
        columns: images per row (each takes two panels).
        figsize: `(width, height)` in inches; default 3.2 x 1.7 per image.
        dpi: dots per inch: the PNG is `figsize * dpi` pixels.

    Returns:
        The path written.

    Example:

    >>> from keras_se.demo.model import build_digits_cnn
    >>> images = np.random.rand(4, 8, 8, 1).astype("float32")
    >>> maps = keras_se.viz.heatmaps(build_digits_cnn(), images)
    >>> keras_se.viz.plot_heatmaps(images, maps, tmp_dir / "grid.png").name
    'grid.png'
    """
    from matplotlib.figure import Figure

    count = len(images)
    columns = max(1, min(columns, count))
    rows = max(1, math.ceil(count / columns))
    figsize = figsize or (3.2 * columns + 0.8, 1.7 * rows + 0.6)
    fig = Figure(figsize=figsize, layout="constrained")
    axes = np.array(fig.subplots(rows, 2 * columns, squeeze=False))
    overlay = None
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        panel = index % 2
        sample = (index // (2 * columns)) * columns + (index % (2 * columns)) // 2
        if sample >= count:
            continue
        shown = _displayable(images[sample])
        ax.imshow(shown, cmap="gray", interpolation="nearest")
        if panel == 0:
            label = (
                "" if true is None else f"true {class_label(true[sample], class_names)}"
            )
            ax.set_title(label, fontsize=9)
            continue
        overlay = ax.imshow(
            maps[sample],
            cmap="jet",
            alpha=0.5,
            vmin=0,
            vmax=1,
            interpolation="bilinear",
        )
        if predicted is not None:
            text = f"pred {class_label(predicted[sample], class_names)}"
            if confidence is not None:
                text += f" {confidence[sample]:.0%}"
            right = true is None or predicted[sample] == true[sample]
            ax.set_title(text, fontsize=9, color="tab:green" if right else "tab:red")
    if overlay is not None:
        bar = fig.colorbar(overlay, ax=axes, shrink=0.8, fraction=0.03)
        bar.set_label("heatmap (0 = no evidence, 1 = most)")
    if title:
        fig.suptitle(title)
    return save_png(fig, path, dpi)


def _displayable(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype="float64")
    if image.ndim == 3 and image.shape[-1] != 3:
        image = image.mean(axis=-1)
    low, high = np.nanmin(image), np.nanmax(image)
    return (image - low) / (high - low) if high > low else np.zeros_like(image)
