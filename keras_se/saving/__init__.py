"""Saving and loading models with keras_se layers, safely, in the `.keras` format.

`save_model` and `save_weights` write atomically (a staging file renamed over
the target, see `keras_se.saving.atomic`, the writer every keras_se module
that writes files uses); `load_model` always loads with `safe_mode=True` and
turns Keras's errors into one line naming the file. Export for deployment
(SavedModel, TFLite, ONNX) lives in `keras_se.export`; its names are still
reachable here, as before.
"""

import importlib

from keras_se.saving.save_load import load_model, load_weights, save_model, save_weights

__all__ = [
    "load_model",
    "load_weights",
    "save_model",
    "save_weights",
]

# Names that moved to keras_se.export, looked up there on first use: export
# imports this room's atomic writer, so importing it here would point upward.
MOVED_TO_EXPORT = (
    "EXPORT_FORMATS",
    "QUANTIZATIONS",
    "AccuracyCheck",
    "ExportResult",
    "export_model",
)


def __getattr__(name: str):
    if name in MOVED_TO_EXPORT:
        return getattr(importlib.import_module("keras_se.export"), name)
    raise AttributeError(f"module 'keras_se.saving' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *MOVED_TO_EXPORT])
