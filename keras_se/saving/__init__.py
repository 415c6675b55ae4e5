"""Saving, loading and exporting models with keras_se layers, safely.

`save_model` and `save_weights` write atomically (a staging file renamed over
the target, see `keras_se.saving.atomic`, the writer every keras_se module
that writes files uses); `load_model` always loads with `safe_mode=True` and
turns Keras's errors into one line naming the file; `export_model` writes
SavedModel, TFLite or ONNX and checks the export against Keras first.
"""

from keras_se.saving.calibration import AccuracyCheck
from keras_se.saving.conversion import EXPORT_FORMATS, QUANTIZATIONS
from keras_se.saving.export import ExportResult, export_model
from keras_se.saving.save_load import load_model, load_weights, save_model, save_weights

__all__ = [
    "EXPORT_FORMATS",
    "QUANTIZATIONS",
    "AccuracyCheck",
    "ExportResult",
    "export_model",
    "load_model",
    "load_weights",
    "save_model",
    "save_weights",
]
