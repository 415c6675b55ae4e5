"""Saving and loading: atomic writes, safe loads, clear errors."""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras

from keras_se.errors import ModelFileError, UnknownClassError, UnsafeModelError
from keras_se.saving.archive import (
    check_weights_file,
    find_lambdas,
    find_unknown_classes,
    read_archive_config,
    weight_shapes,
)
from keras_se.saving.atomic import write_atomically

LOAD_ERRORS = (TypeError, ValueError, KeyError, OSError, zipfile.BadZipFile)


def save_model(model: keras.Model, path: str | os.PathLike) -> Path:
    """Saves `model` as a `.keras` archive, atomically.

    The archive is written to a temporary file in the target's folder,
    flushed to disk, then renamed over `path`: a process killed at any moment
    leaves either the previous file or the new one, never a broken archive.
    A save that succeeds also removes the temporary files that killed saves
    of the same target left behind.

    Args:
        model: the model to save.
        path: the target, ending in `.keras`. Missing parent folders are
            created; a symlink is followed.

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
    return write_atomically(
        path, ".keras", lambda staging: keras.saving.save_model(model, staging)
    )


def load_model(
    path: str | os.PathLike,
    custom_objects: Mapping[str, Any] | None = None,
    compile: bool = True,
) -> keras.Model:
    """Loads a `.keras` archive in safe mode, with clear errors.

    Every keras_se layer loads without `custom_objects`. The archive is
    checked first: a file that is missing, not a `.keras` archive, truncated
    or corrupt, or that holds Python bytecode (a `Lambda` layer made from a
    `lambda`) is refused before Keras reads it. The bytecode check holds even
    after `keras.config.enable_unsafe_deserialization()`.

    Args:
        path: a `.keras` archive.
        custom_objects: your own classes or functions, by the name they were
            saved under, for those that are not registered with
            `@keras.saving.register_keras_serializable()`.
        compile: whether to compile the model as it was saved.

    Returns:
        The model.

    Raises:
        ModelFileNotFoundError: if there is no such file.
        UnsafeModelError: if loading would run code stored in the file.
        UnknownClassError: if the file needs classes that are not available;
            the message names them and what may provide them.
        ModelFileError: if the file is not a sound `.keras` archive.

    Example:

    >>> model = keras.Sequential([keras.Input((8, 8, 4)), keras_se.SqueezeExcite2D(2)])
    >>> path = keras_se.save_model(model, tmp_dir / "se.keras")
    >>> type(keras_se.load_model(path).layers[0]).__name__
    'SqueezeExcite2D'
    """
    path = Path(path)
    config = read_archive_config(path)
    lambdas = find_lambdas(config)
    if lambdas:
        raise UnsafeModelError(
            f"{path} was refused: {', '.join(lambdas)} holds Python bytecode (a "
            "`lambda`), and loading it would run that code. keras_se.load_model "
            "always loads in safe mode. Do not turn safe mode off for a file you "
            "did not make yourself; rebuild the model with a registered layer "
            "in place of the Lambda layer, which loads safely.",
            path,
        )
    try:
        return keras.saving.load_model(
            path, custom_objects=custom_objects, compile=compile, safe_mode=True
        )
    except LOAD_ERRORS as error:
        raise _explain(path, config, custom_objects, error) from error


def save_weights(model: keras.Model, path: str | os.PathLike) -> Path:
    """Saves the weights of `model` to a `.weights.h5` file, atomically.

    Like `model.save_weights(path)`, but written to a temporary file in the
    same folder and renamed over `path`, as `keras_se.save_model` does.

    Args:
        model: the model whose weights to save.
        path: the target, ending in `.weights.h5`.

    Returns:
        The target path.

    Raises:
        ValueError: if `path` does not end in `.weights.h5`.

    Example:

    >>> model = keras.Sequential([keras.Input((8, 8, 4)), keras_se.SqueezeExcite2D(2)])
    >>> keras_se.save_weights(model, tmp_dir / "se.weights.h5").name
    'se.weights.h5'
    """
    path = Path(path)
    if not path.name.endswith(".weights.h5"):
        raise ValueError(
            "`path` must end in '.weights.h5' (the Keras weights format). "
            f"Received: path={str(path)!r}"
        )
    return write_atomically(path, ".weights.h5", model.save_weights)


def load_weights(model: keras.Model, path: str | os.PathLike) -> None:
    """Loads a `.weights.h5` file into `model`, all of it or nothing.

    `model.load_weights` skips, without a word, the variables of a file that
    the model lacks: the weights of a model wrapped with SE load into the
    unwrapped model and its SE weights are lost. This checks first that the
    file holds exactly the model's variables, with the same shapes, and
    leaves the model unchanged if not.

    Args:
        model: a built model with the architecture the weights were saved
            from (for `keras_se.wrap_with_se` models: wrapped the same way).
        path: a `.weights.h5` file.

    Raises:
        ModelFileNotFoundError: if there is no such file.
        ModelFileError: if the file is not a sound weights file, or does not
            fit `model`; the message lists the variables that differ.

    Example:

    >>> model = keras.Sequential([keras.Input((8, 8, 4)), keras_se.SqueezeExcite2D(2)])
    >>> path = keras_se.save_weights(model, tmp_dir / "se.weights.h5")
    >>> copy = keras.Sequential([keras.Input((8, 8, 4)), keras_se.SqueezeExcite2D(2)])
    >>> keras_se.load_weights(copy, path)
    >>> [np.array_equal(a, b) for a, b in zip(model.get_weights(), copy.get_weights())]
    [True, True, True, True]
    """
    path = Path(path)
    check_weights_file(path)
    with tempfile.TemporaryDirectory() as folder:
        own = Path(folder) / "model.weights.h5"
        model.save_weights(own)
        expected = weight_shapes(own)
    found = weight_shapes(path)
    mismatch = _describe_mismatch(expected, found)
    if mismatch:
        raise ModelFileError(
            f"{path} does not fit the model {model.name!r}: {mismatch}. It was "
            "saved from another architecture (for a keras_se.wrap_with_se model: "
            "wrap a fresh copy with the same arguments, then load). The model "
            "was left unchanged.",
            path,
        )
    previous = model.get_weights()
    try:
        model.load_weights(path)
    except LOAD_ERRORS as error:
        model.set_weights(previous)
        raise ModelFileError(
            f"{path} could not be loaded into {model.name!r}: {_first_line(error)}",
            path,
        ) from error


def _describe_mismatch(expected: dict, found: dict) -> str:
    parts = []
    for owner, other, names in (
        ("the model", "the file", sorted(set(expected) - set(found))),
        ("the file", "the model", sorted(set(found) - set(expected))),
    ):
        if names:
            parts.append(
                f"{owner} has {len(names)} variable(s) that {other} lacks "
                f"(e.g. {names[0]})"
            )
    shapes = sorted(
        name for name in set(expected) & set(found) if expected[name] != found[name]
    )
    if shapes:
        name = shapes[0]
        parts.append(
            f"{len(shapes)} shape(s) differ (e.g. {name}: {found[name]} in the "
            f"file, {expected[name]} in the model)"
        )
    return "; ".join(parts)


def _explain(path, config, custom_objects, error) -> ModelFileError:
    message = str(error)
    if "safe_mode" in message or "security" in message:
        return UnsafeModelError(
            f"{path} was refused in safe mode: {_first_line(error)} Do not "
            "turn safe mode off for a file you did not make yourself.",
            path,
        )
    unknown = find_unknown_classes(config, custom_objects)
    if unknown:
        listed = "; ".join(f"{name!r} ({hint})" for name, hint in unknown.items())
        return UnknownClassError(
            f"{path} needs classes that are not available here: {listed}.",
            path,
            tuple(unknown),
        )
    return ModelFileError(f"{path} could not be loaded: {_first_line(error)}", path)


def _first_line(error: BaseException) -> str:
    # Keras appends whole configs and tensors to its messages.
    line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return (line[:300] + "...") if len(line) > 300 else line or type(error).__name__
