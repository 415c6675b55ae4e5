"""The errors keras_se raises.

Each one also subclasses the builtin error a caller would catch without
knowing keras_se: a bad model file is a `ValueError` (a missing one a
`FileNotFoundError` too), a failed export a `RuntimeError`, a missing optional
package an `ImportError`.
"""

from __future__ import annotations

import os


class KerasSEError(Exception):
    """The base class of every error keras_se raises."""


class ModelFileError(KerasSEError, ValueError):
    """A model or weights file that cannot be used.

    It is not a Keras file, it is truncated or corrupt, or its contents do not
    fit. The message names the path, says what is wrong and what to do.

    Args:
        message: the whole message, path included.
        path: the file in question.
    """

    def __init__(self, message: str, path: str | os.PathLike):
        super().__init__(message)
        self.path = path


class ModelFileNotFoundError(ModelFileError, FileNotFoundError):
    """A model or weights file that does not exist."""


class UnknownClassError(ModelFileError):
    """A model file whose config names classes that are not available.

    Args:
        message: the whole message, path included.
        path: the file in question.
        classes: the names that could not be resolved, as the file spells
            them (`"package>ClassName"` or `"module.ClassName"`).
    """

    def __init__(self, message: str, path: str | os.PathLike, classes: tuple[str, ...]):
        super().__init__(message, path)
        self.classes = classes


class UnsafeModelError(ModelFileError):
    """A model file that would run code stored in it (a Python `lambda`)."""


class ExportError(KerasSEError, RuntimeError):
    """An export that failed, or whose outputs differ from the Keras model's.

    Args:
        message: the whole message.
        max_abs_diff: the difference measured, when the check ran.
        tolerance: the difference that would have been accepted.
    """

    def __init__(
        self,
        message: str,
        max_abs_diff: float | None = None,
        tolerance: float | None = None,
    ):
        super().__init__(message)
        self.max_abs_diff = max_abs_diff
        self.tolerance = tolerance


class MissingDependencyError(KerasSEError, ImportError):
    """An optional package that a feature needs is not installed."""


class KerasTunerInternalsError(KerasSEError, RuntimeError):
    """A KerasTuner internal that the distributed search needs is missing or changed.

    Raised when the installed keras-tuner is outside the range keras_se was
    checked against (see `keras_se.tuning.compat`).

    Args:
        message: the whole message.
        internal: the name of the internal in question.
    """

    def __init__(self, message: str, internal: str):
        super().__init__(message)
        self.internal = internal


class SearchRunningError(KerasSEError, RuntimeError):
    """A single process was started on a search that other processes still run.

    Its chief or workers showed they are alive (a heartbeat within the lease);
    the single process would compete with them for trials, or empty their
    folder.
    """


class CheckpointError(KerasSEError, ValueError):
    """A timm checkpoint that does not fit the network it is loaded into.

    A wrong architecture, a missing or extra key, a wrong shape, or a hub
    name that cannot be downloaded. The message names the key or the name;
    nothing was loaded.
    """


class ObjectiveError(KerasSEError, ValueError):
    """A search objective that cannot be used, found before the first trial.

    An unknown name, a direction that contradicts the metric's own, an
    objective given twice, or a metric the model never logs.
    """
