"""PNG pictures of the excitations: per channel and class, and class-specificity.

The figures of `keras_se.viz.excitations`' results, drawn the way
`keras_se.viz.plots` draws (matplotlib's object API, no pyplot).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from keras_se.viz._figures import class_label, save_png
from keras_se.viz.excitation import BlockExcitation

MAX_LINE_CLASSES = 10


# The end of the excitation plots' docstrings: `dpi`, what they return, and
# their example's first lines.
EXCITATIONS_EXAMPLE = """dpi: dots per inch: the PNG is `figsize * dpi` pixels.

    Returns:
        The path written.

    Example:

    >>> from keras_se.demo.model import build_digits_cnn
    >>> _, test = keras_se.demo.data.load_digits()
    >>> blocks = keras_se.viz.excitations(build_digits_cnn(), test.x, test.y, verbose=0)
""".rstrip()


def plot_excitations(
    blocks: Sequence[BlockExcitation],
    path: str | os.PathLike,
    classes: Sequence[int] | None = None,
    class_names: Sequence[str] | None = None,
    max_blocks: int = 12,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: int = 100,
) -> Path:
    """Writes the mean excitation per channel, per class, for each attention block.

    The SE paper's figures 6 and 7: one panel per block, channels on the x
    axis, one line per class and a dashed black line for all samples. Where
    the class lines lie on top of each other the block treats every class
    alike; where they part it is class-specific.

    Args:
        blocks: from `keras_se.viz.excitations`.
        path: the PNG to write; its folder is created.
        classes: the classes to draw; default all (at most 10; beyond that
            the 10 with the most samples).
        class_names: names for the class indices; default the indices.
        max_blocks: with more blocks, that many evenly spaced ones, the
            first and the last included.
        title: the figure's title.
        figsize: `(width, height)` in inches; default 4.2 x 2.6 per panel.
        {excitations_example}
    >>> keras_se.viz.plot_excitations(blocks, tmp_dir / "excitations.png").name
    'excitations.png'
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    shown = _spread(list(blocks), max_blocks)
    if classes is None:
        counts = shown[0].counts
        classes = np.argsort(-counts, kind="stable")[
            : min(MAX_LINE_CLASSES, counts.size)
        ]
        classes = sorted(int(c) for c in classes if counts[c] > 0)
    columns = min(3, len(shown))
    rows = math.ceil(len(shown) / columns)
    figsize = figsize or (4.2 * columns + 1.4, 2.6 * rows + 0.7)
    fig = Figure(figsize=figsize, layout="constrained")
    axes = np.array(fig.subplots(rows, columns, squeeze=False))
    palette = colormaps["tab10" if len(classes) <= 10 else "tab20"]
    for ax, block in zip(axes.flat, shown, strict=False):
        channels = np.arange(block.channels)
        width = 0.8 if block.channels > 256 else 1.2
        for number, label in enumerate(classes):
            ax.plot(
                channels,
                block.per_class[label],
                color=palette(number % palette.N),
                linewidth=width,
                label=class_label(label, class_names),
            )
        ax.plot(channels, block.overall, "k--", linewidth=1.0, label="all")
        ax.set_title(
            f"{block.name} ({block.channels} ch), "
            f"specificity {block.class_specificity:.3g}",
            fontsize=9,
        )
        ax.set_xlabel("channel")
        ax.set_ylabel("mean excitation")
        ax.set_xlim(0, max(block.channels - 1, 1))
    for ax in list(axes.flat)[len(shown) :]:
        ax.set_axis_off()
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", title="class")
    fig.suptitle(title or "Mean excitation per channel, by class")
    return save_png(fig, path, dpi)


plot_excitations.__doc__ = plot_excitations.__doc__.format(
    excitations_example=EXCITATIONS_EXAMPLE
)


def plot_class_specificity(
    blocks: Sequence[BlockExcitation],
    path: str | os.PathLike,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: int = 100,
) -> Path:
    """Writes a blocks x classes heatmap of class-specificity, with a bar chart.

    Left: for each block (rows, in graph order) and class (columns), the
    class's `class_deviation`: how far its mean gates lie from the mean over
    classes. Right: each block's `class_specificity`.

    Args:
        blocks: from `keras_se.viz.excitations`.
        path: the PNG to write; its folder is created.
        class_names: names for the class indices; default the indices.
        title: the figure's title.
        figsize: `(width, height)` in inches; default grows with the blocks.
        {excitations_example}
    >>> keras_se.viz.plot_class_specificity(blocks, tmp_dir / "specificity.png").name
    'specificity.png'
    """
    from matplotlib.figure import Figure

    blocks = list(blocks)
    table = np.array([block.class_deviation for block in blocks])
    names = [block.name for block in blocks]
    classes = table.shape[1]
    figsize = figsize or (10.0, max(3.0, 1.2 + 0.3 * len(blocks)))
    fig = Figure(figsize=figsize, layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[3, 1], sharey=True)
    finite = table[np.isfinite(table)]
    high = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    image = left.imshow(
        table, aspect="auto", cmap="viridis", vmin=0, vmax=high, interpolation="nearest"
    )
    bar = fig.colorbar(image, ax=left, fraction=0.05)
    bar.set_label("class deviation:\nmean |class gate - mean|", fontsize=8)
    left.set_yticks(range(len(blocks)), names, fontsize=8)
    left.set_ylabel("attention block (input to output)")
    left.set_xlabel("class")
    if classes <= 30:
        left.set_xticks(
            range(classes), [class_label(c, class_names) for c in range(classes)]
        )
    if table.size <= 300:
        for (row, column), value in np.ndenumerate(table):
            if np.isfinite(value):
                color = "black" if value > 0.6 * high else "white"
                left.text(
                    column,
                    row,
                    f"{value:.2g}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color=color,
                )
    scores = [block.class_specificity for block in blocks]
    right.barh(range(len(blocks)), scores, color="tab:blue")
    right.set_xlabel("class specificity\n(mean std across classes)")
    right.tick_params(axis="y", left=False)
    for row, score in enumerate(scores):
        right.text(score, row, f" {score:.3g}", va="center", fontsize=7)
    right.set_xlim(
        0, (np.nanmax(scores) if np.isfinite(scores).any() else 1) * 1.35 or 1
    )
    fig.suptitle(title or "How class-specific each attention block's gates are")
    return save_png(fig, path, dpi)


plot_class_specificity.__doc__ = plot_class_specificity.__doc__.format(
    excitations_example=EXCITATIONS_EXAMPLE
)


def _spread(blocks: list, limit: int) -> list:
    if len(blocks) <= limit:
        return blocks
    picks = np.unique(np.linspace(0, len(blocks) - 1, limit).round().astype(int))
    return [blocks[i] for i in picks]
