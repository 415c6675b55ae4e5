"""keras-se: Squeeze-and-Excitation channel attention for Keras 3.

Importing `keras_se` registers every layer with Keras, so models that use
them load with `keras.saving.load_model(path)` and `safe_mode=True`, with no
`custom_objects`.
"""

from keras_se import errors, layers
from keras_se.export import ExportResult, export_model
from keras_se.io import load_model, load_weights, save_model, save_weights
from keras_se.layers import (
    SqueezeExcite1D,
    SqueezeExcite2D,
    SqueezeExcite3D,
    SqueezeExciteConv2D,
)
from keras_se.surgery import describe, wrap_with_se

__version__ = "0.1.0"

__all__ = [
    "ExportResult",
    "SqueezeExcite1D",
    "SqueezeExcite2D",
    "SqueezeExcite3D",
    "SqueezeExciteConv2D",
    "__version__",
    "describe",
    "errors",
    "export_model",
    "layers",
    "load_model",
    "load_weights",
    "save_model",
    "save_weights",
    "wrap_with_se",
]

from keras_se import viz as viz  # Grad-CAM and excitation analysis
