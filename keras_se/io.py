"""Saving models without ever leaving a half-written file behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import keras


def save_model(model: keras.Model, path: str | os.PathLike) -> Path:
    """Saves `model` as a `.keras` archive, atomically.

    The archive is written to a temporary file in the target's directory,
    flushed to disk, then renamed over `path`: a process stopped at any
    moment leaves either the previous file or the new one, never a broken
    archive.

    Args:
        model: the model to save.
        path: the target, ending in `.keras`. Missing parent directories are
            created.

    Returns:
        The target path.

    Raises:
        ValueError: if `path` does not end in `.keras`.

    Example:

    >>> model = keras.Sequential([keras.Input((8, 8, 4)), keras_se.SqueezeExcite2D(2)])
    >>> keras_se.save_model(model, tmp_dir / "se.keras").name
    'se.keras'
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(
            f"`path` must end in '.keras' (the Keras v3 archive format). "
            f"Received: path={str(path)!r}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=".keras.tmp", dir=path.parent
    )
    os.close(descriptor)
    try:
        # Keras insists on the .keras suffix, so write through a name that has it.
        staging = temporary[: -len(".tmp")]
        os.replace(temporary, staging)
        temporary = staging
        keras.saving.save_model(model, temporary)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _fsync_directory(path.parent)
    return path


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
