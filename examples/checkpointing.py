"""Per-epoch `.keras` checkpoints for `train.py`, and what `--resume` needs."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import keras

import keras_se

CHECKPOINT = re.compile(r"epoch_(\d+)\.keras$")


def checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """`(epoch, path)` of the checkpoints in `folder`, oldest first."""
    if not folder.is_dir():
        return []
    found = [(CHECKPOINT.search(p.name), p) for p in folder.glob("epoch_*.keras")]
    return sorted((int(match.group(1)), path) for match, path in found if match)


def checkpoint_policy(path: Path) -> str:
    """The dtype policy a `.keras` checkpoint's layers were built with."""
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    for layer in config["config"]["layers"]:
        dtype = layer["config"].get("dtype")
        if isinstance(dtype, dict) and dtype["config"]["name"].startswith("mixed"):
            return dtype["config"]["name"]
    return "float32"


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves `epoch_NNN.keras` atomically after each epoch; keeps the last `keep`."""

    def __init__(self, folder: Path, keep: int = 3):
        super().__init__()
        self.folder, self.keep = Path(folder), keep

    def on_epoch_end(self, epoch, logs=None):
        keras_se.save_model(self.model, self.folder / f"epoch_{epoch + 1:03d}.keras")
        for _, old in checkpoints(self.folder)[: -self.keep]:
            old.unlink(missing_ok=True)
