"""keras-se: Squeeze-and-Excitation channel attention for Keras 3.

Importing `keras_se` registers every layer with Keras, so models that use
them load with `keras.saving.load_model(path)` and `safe_mode=True`, with no
`custom_objects`.
"""

from keras_se import layers
from keras_se.io import save_model
from keras_se.layers import (
    SqueezeExcite1D,
    SqueezeExcite2D,
    SqueezeExcite3D,
    SqueezeExciteConv2D,
)
from keras_se.surgery import describe, wrap_with_se

__version__ = "0.1.0"

__all__ = [
    "SqueezeExcite1D",
    "SqueezeExcite2D",
    "SqueezeExcite3D",
    "SqueezeExciteConv2D",
    "__version__",
    "describe",
    "layers",
    "save_model",
    "wrap_with_se",
]
