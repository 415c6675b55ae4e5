"""Looks inside model and weights files before Keras does, to explain failures.

Keras reports a text file named `model.keras` as "File not found", a missing
class as a `TypeError` that dumps the whole config, and a truncated weights
file as an HDF5 error. These checks say which file, what is wrong and what to
do, in one line.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import keras

from keras_se._version import __version__
from keras_se.errors import ModelFileError, ModelFileNotFoundError

ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
# Entries of a Keras config that are values, not classes to look up.
VALUE_CLASSES = {
    "__tensor__",
    "__numpy__",
    "__bytes__",
    "__typespec__",
    "__lambda__",
    "__ellipsis__",
    "__slice__",
}
# Packages that Keras itself imports while loading, in safe mode too.
KERAS_FAMILY = {"keras", "keras_hub", "keras_cv", "keras_nlp"}


def check_exists(path: Path, what: str) -> None:
    """Raises `ModelFileNotFoundError` if `path` does not exist."""
    if not path.exists():
        raise ModelFileNotFoundError(f"{what} not found: {path}", path)


def read_archive_config(path: Path) -> dict:
    """Checks that `path` is a sound `.keras` archive; returns its config.

    Raises:
        ModelFileError: naming the path and what is wrong with it.
    """
    check_exists(path, "Model file")
    if path.is_dir():
        if (path / "saved_model.pb").exists():
            raise ModelFileError(
                f"{path} is a TensorFlow SavedModel folder, not a .keras archive: "
                f"reload it for inference with keras.layers.TFSMLayer({str(path)!r})"
                " or tf.saved_model.load.",
                path,
            )
        raise ModelFileError(f"{path} is a folder, not a .keras archive.", path)
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} {_describe_non_zip(path)}", path)
    try:
        with zipfile.ZipFile(path) as archive:
            if "config.json" not in archive.namelist():
                raise ModelFileError(
                    f"{path} is a zip file but not a Keras model archive "
                    "(it has no config.json).",
                    path,
                )
            damaged = archive.testzip()
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, zlib.error, EOFError, UnicodeDecodeError) as error:
        raise _corrupt(path, str(error)) from error
    except json.JSONDecodeError as error:
        raise _corrupt(path, f"its config.json is not valid JSON ({error})") from error
    if damaged is not None:
        raise _corrupt(path, f"the checksum of {damaged!r} inside it does not match")
    if not isinstance(config, dict) or "class_name" not in config:
        raise _corrupt(path, "its config.json does not describe a Keras object")
    if path.suffix != ".keras":
        raise ModelFileError(
            f"{path} is a Keras archive, but Keras only reads it under a name "
            "ending in .keras: rename it.",
            path,
        )
    return config


def check_weights_file(path: Path) -> None:
    """Checks that `path` is a readable `.weights.h5` file."""
    import h5py

    check_exists(path, "Weights file")
    if not path.name.endswith(".weights.h5"):
        raise ModelFileError(
            f"{path}: weights files end in .weights.h5 (what "
            "keras_se.save_weights and model.save_weights write).",
            path,
        )
    if path.is_dir() or not _head(path).startswith(HDF5_MAGIC):
        raise ModelFileError(f"{path} {_describe_non_hdf5(path)}", path)
    try:
        with h5py.File(path, "r"):
            pass
    except OSError as error:
        raise _corrupt(path, str(error).split(" (")[0]) from error


def weight_shapes(path: str | Path) -> dict[str, tuple[int, ...]]:
    """The shape of every variable in a `.weights.h5` file, by its path."""
    import h5py

    shapes = {}
    with h5py.File(path, "r") as weights:

        def visit(name, item):
            if isinstance(item, h5py.Dataset):
                shapes[name] = tuple(item.shape)

        weights.visititems(visit)
    return shapes


def find_lambdas(config: Any) -> list[str]:
    """The layers whose config holds Python bytecode (a `__lambda__` entry)."""
    found = []

    def walk(node, owner):
        if isinstance(node, dict):
            if node.get("class_name") == "__lambda__":
                found.append(owner)
                return
            inner = node.get("config")
            if "class_name" in node and isinstance(inner, dict) and "name" in inner:
                owner = f"{inner['name']!r} ({node['class_name']})"
            for value in node.values():
                walk(value, owner)
        elif isinstance(node, list):
            for value in node:
                walk(value, owner)

    walk(config, "the model")
    return sorted(set(found))


def find_unknown_classes(
    config: Any, custom_objects: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The classes and functions of `config` that cannot be resolved here.

    Returns:
        A dict from the name as the file spells it to a hint at what may
        provide it.
    """
    custom_objects = custom_objects or {}
    unknown = {}
    for node in _serialized_objects(config):
        class_name = node["class_name"]
        name = node.get("config") if class_name == "function" else class_name
        registered = node.get("registered_name") or name
        if not isinstance(name, str) or class_name in VALUE_CLASSES:
            continue
        if name in custom_objects or registered in custom_objects:
            continue
        if keras.saving.get_registered_object(registered) is not None:
            continue
        module = node.get("module")
        if module == "builtins" or _resolves_in_keras(module, name):
            continue
        label = registered if ">" in registered else f"{module}.{name}"
        unknown[label] = _provider_hint(registered, module)
    return unknown


def _serialized_objects(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        if isinstance(node.get("class_name"), str) and "module" in node:
            yield node
        for value in node.values():
            yield from _serialized_objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _serialized_objects(value)


def _resolves_in_keras(module: str | None, name: str) -> bool:
    if not module or module.split(".")[0] not in KERAS_FAMILY:
        return False
    if importlib.util.find_spec(module.split(".")[0]) is None:
        return False
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


def _provider_hint(registered: str, module: str | None) -> str:
    package = module.split(".")[0] if module else None
    if registered.startswith("keras_se>") or package == "keras_se":
        return f"keras_se {__version__} has no such class: a newer keras-se may"
    if package == "keras":
        return f"Keras {keras.__version__} has no such class: a newer Keras may"
    if package and package != "__main__":
        installed = importlib.util.find_spec(package) is not None
        if installed:
            return f"from the package {package!r}: import it before loading"
        pip_name = package.replace("_", "-")
        return f"from the package {package!r}, not installed (pip install {pip_name})"
    owner = registered.split(">")[0] if ">" in registered else None
    where = f" under the package name {owner!r}" if owner else ""
    return (
        f"registered{where} by a script, not an importable module: run the code "
        "that defines it first, or pass it in custom_objects"
    )


def _head(path: Path, size: int = 16) -> bytes:
    with open(path, "rb") as file:
        return file.read(size)


def _describe_non_zip(path: Path) -> str:
    head = _head(path)
    if not head:
        return "is empty, not a .keras archive."
    if head.startswith(ZIP_MAGIC):
        return (
            "is a truncated or corrupt .keras archive: it starts like a zip "
            "file but its end is missing. Save the model again."
        )
    if head.startswith(HDF5_MAGIC):
        return (
            "is an HDF5 file (weights, or a legacy .h5 model), not a .keras "
            "archive: build the model in code and call "
            "keras_se.load_weights(model, path)."
        )
    if head[4:8] == b"TFL3":
        return "is a TFLite model, not a .keras archive: run it with LiteRT."
    return "is not a .keras archive (not a zip file)."


def _describe_non_hdf5(path: Path) -> str:
    if path.is_dir():
        return "is a folder, not a weights file."
    head = _head(path)
    if not head:
        return "is empty, not a weights file."
    if head.startswith(ZIP_MAGIC):
        return (
            "is a zip file (a whole .keras model?), not a weights file: use "
            "keras_se.load_model, and name .keras archives *.keras."
        )
    return "is not an HDF5 weights file."


def _corrupt(path: Path, detail: str) -> ModelFileError:
    return ModelFileError(
        f"{path} is a corrupt or truncated file: {detail}. Save it again, or "
        "restore it from a copy.",
        path,
    )
