"""Exporting models for inference: SavedModel, TFLite (LiteRT) and ONNX, checked.

One module per format (`saved_model`, `litert`, `onnx`), each owning its
checks, writing, running and quantization; `export_model` writes any of them
atomically (through `keras_se.saving.atomic`) after comparing the export's
outputs with Keras's on sample inputs, and with `validation_data` its
accuracy. The `.keras` format stays in `keras_se.saving`.
"""

from keras_se.export.calibration import AccuracyCheck
from keras_se.export.checked import ExportResult, export_model
from keras_se.export.formats import EXPORT_FORMATS, QUANTIZATIONS

__all__ = [
    "EXPORT_FORMATS",
    "QUANTIZATIONS",
    "AccuracyCheck",
    "ExportResult",
    "export_model",
]
