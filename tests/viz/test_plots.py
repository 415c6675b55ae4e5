"""The PNGs: written whole, of the size asked for, readable."""

from __future__ import annotations

import os
import stat

import matplotlib.image
import numpy as np
import pytest

from keras_se.viz import (
    BlockExcitation,
    excitation_plots,
    plot_class_specificity,
    plot_excitations,
    plot_heatmaps,
    plots,
)
from tests.viz.conftest import random_images


def block(name, channels, classes=4, seed=0, empty=()):
    rng = np.random.default_rng(seed)
    per_class = rng.uniform(0, 1, (classes, channels))
    counts = np.full(classes, 5)
    for c in empty:
        per_class[c] = np.nan
        counts[c] = 0
    deviation = np.mean(np.abs(per_class - np.nanmean(per_class, 0)), axis=1)
    return BlockExcitation(
        name=name,
        channels=channels,
        gate_scale=1.0,
        per_class=per_class,
        overall=np.nanmean(per_class, 0),
        counts=counts,
        class_specificity=float(np.mean(np.nanstd(per_class, 0))),
        class_deviation=deviation,
    )


def pixels(path):
    image = matplotlib.image.imread(path)
    return image.shape[:2]


@pytest.mark.parametrize("channels", [1, 3])
def test_heatmap_grid_has_the_size_asked_for(tmp_path, channels):
    images = random_images(6, (8, 8, channels))
    maps = random_images(6, (8, 8))
    path = plot_heatmaps(
        images,
        maps,
        tmp_path / "grid.png",
        true=[0, 1, 2, 0, 1, 2],
        predicted=[0, 1, 1, 0, 1, 2],
        confidence=np.full(6, 0.9),
        class_names=["zero", "one", "two"],
        title="test",
        columns=3,
        figsize=(6, 3),
        dpi=50,
    )
    assert path == tmp_path / "grid.png"
    assert pixels(path) == (150, 300)


def test_heatmap_grid_default_size_grows_with_the_images(tmp_path):
    path = plot_heatmaps(random_images(5), random_images(5, (8, 8)), tmp_path / "a.png")
    # 4 columns, 2 rows: (3.2 * 4 + 0.8) x (1.7 * 2 + 0.6) inches at 100 dpi.
    assert pixels(path) == (400, 1360)


def test_excitation_plots_have_the_size_asked_for(tmp_path):
    blocks = [block(f"se{i}", 8 * (i + 1), seed=i, empty=(2,)) for i in range(14)]
    lines = plot_excitations(blocks, tmp_path / "e.png", figsize=(8, 4), dpi=40)
    table = plot_class_specificity(blocks, tmp_path / "s.png", figsize=(9, 5), dpi=30)
    assert pixels(lines) == (160, 320)
    assert pixels(table) == (150, 270)
    assert sorted(os.listdir(tmp_path)) == ["e.png", "s.png"]


def test_excitations_picks_evenly_spaced_blocks():
    blocks = [block(f"se{i}", 4) for i in range(30)]
    shown = excitation_plots._spread(blocks, 12)
    assert len(shown) == 12
    assert shown[0].name == "se0" and shown[-1].name == "se29"


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "e.png"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(plots.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        plot_excitations([block("se", 4)], target)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["e.png"]

    monkeypatch.undo()
    plot_excitations([block("se", 4)], target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Replacing a file keeps its permissions; a new file is readable by all.
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    fresh = plot_excitations([block("se", 4)], tmp_path / "new" / "f.png")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
