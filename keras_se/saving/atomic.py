"""Atomic writes: build the new file (or folder) beside the target, then rename.

A save writes to a staging name in the target's folder, flushes it to disk and
renames it over the target, so the target is always the previous complete
file or the new one. Each save holds a lock file while it runs. A save that
succeeds removes what killed saves of the same target left behind (their
staging and lock files) and leaves alone those of saves still running, whose
locks are held.

For the target `model.keras` the names are `.model.<8 hex>.keras` (staging),
`.model.<8 hex>.lock`, and `.model.<8 characters>.keras.tmp` from keras-se
0.1.0.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows has no flock: the age of a leftover decides.
    fcntl = None

# Without locks, only leftovers this old are taken for stale: no save runs a day.
STALE_AFTER_S = 24 * 3600.0


def write_atomically(
    path: str | os.PathLike, suffix: str, write: Callable[[Path], None]
) -> Path:
    """Calls `write(staging)`, then moves `staging` over `path`.

    Args:
        path: the target file or folder. A symlink is followed: the file it
            points to is replaced and the link kept.
        suffix: the end of the name that the writer insists on (`".keras"`,
            `".weights.h5"`, `".tflite"`), or `""`.
        write: writes the new file or folder at the path it is given. If it
            raises, its output is removed and `path` is left as it was.

    Returns:
        The target path.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    base = _base_name(path, suffix)
    descriptor, token = _take_lock(folder, base)
    staging = folder / f".{base}.{token}{suffix}"
    try:
        try:
            write(staging)
            if path.is_file() and staging.is_file():
                os.chmod(staging, stat.S_IMODE(path.stat().st_mode))
            _sync_tree(staging)
            _replace(staging, path, folder / f".{base}.{token}.old")
        except BaseException:
            _remove(staging)
            raise
        _sync_directory(folder)
        # Best effort: the save itself has succeeded.
        with contextlib.suppress(OSError):
            remove_leftovers(path, suffix)
    finally:
        _remove(_lock_path(folder, base, token))
        os.close(descriptor)
    return path


def write_bytes_atomically(path: str | os.PathLike, data: bytes) -> Path:
    """Writes `data` to `path` atomically (see `write_atomically`)."""
    return write_atomically(path, "", lambda staging: staging.write_bytes(data))


def remove_leftovers(path: Path, suffix: str) -> list[Path]:
    """Removes the staging and lock files that killed saves of `path` left."""
    folder, base = path.parent, _base_name(path, suffix)
    name = re.escape(f".{base}.")
    ours = re.compile(rf"{name}([0-9a-f]{{8}})(?:{re.escape(suffix)}|\.lock|\.old)")
    legacy = re.compile(rf"{name}([0-9a-z_]{{8}}){re.escape(suffix)}\.tmp")
    groups: dict[str, list[Path]] = {}
    for entry in folder.iterdir():
        match = ours.fullmatch(entry.name) or legacy.fullmatch(entry.name)
        if match:
            groups.setdefault(match.group(1), []).append(entry)
    removed = []
    for token, entries in groups.items():
        with _locked_if_stale(_lock_path(folder, base, token), entries) as stale:
            if stale:
                for entry in entries:
                    _remove(entry)
                removed.extend(entries)
    return removed


def _base_name(path: Path, suffix: str) -> str:
    return path.name[: len(path.name) - len(suffix)] if suffix else path.name


def _lock_path(folder: Path, base: str, token: str) -> Path:
    return folder / f".{base}.{token}.lock"


def _take_lock(folder: Path, base: str) -> tuple[int, str]:
    while True:
        token = secrets.token_hex(4)
        lock = _lock_path(folder, base, token)
        try:
            descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            continue
        if fcntl is None:
            return descriptor, token
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        # Between the two calls another save may have found this lock free,
        # taken it for a dead save's and removed it: then start again.
        try:
            if os.path.samestat(os.fstat(descriptor), os.stat(lock)):
                return descriptor, token
        except FileNotFoundError:
            pass
        os.close(descriptor)


@contextlib.contextmanager
def _locked_if_stale(lock: Path, entries: list[Path]) -> Iterator[bool]:
    if fcntl is None:
        now = time.time()
        yield all(now - _mtime(entry) > STALE_AFTER_S for entry in entries)
        return
    try:
        descriptor = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        # Saves take their lock first and drop it last: no lock, no save.
        yield True
        return
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)


def _replace(staging: Path, path: Path, old: Path) -> None:
    if not (staging.is_dir() and path.exists()):
        os.replace(staging, path)
        return
    # A folder cannot be renamed over a non-empty one: move the old one aside
    # first. Should the process die in between, it stays there as `old`.
    os.replace(path, old)
    try:
        os.replace(staging, path)
    except BaseException:
        os.replace(old, path)
        raise
    _remove(old)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            os.remove(path)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _sync_tree(path: Path) -> None:
    if path.is_file():
        _sync_file(path)
        return
    for root, _, files in os.walk(path):
        for name in files:
            _sync_file(Path(root) / name)
        _sync_directory(Path(root))


def _sync_file(path: Path) -> None:
    with open(path, "rb") as written:
        os.fsync(written.fileno())


def _sync_directory(directory: Path) -> None:
    # A rename is durable only once the directory entry is on disk.
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
