"""keras-se: Squeeze-and-Excitation channel attention for Keras 3.

Importing `keras_se` registers every layer with Keras, so models that use
them load with `keras.saving.load_model(path)` and `safe_mode=True`, with no
`custom_objects`.

Each name has one home, the subpackage whose `__all__` lists it:
`keras_se.layers`, `keras_se.models`, `keras_se.surgery`, `keras_se.saving`,
`keras_se.export`,
`keras_se.viz`, `keras_se.errors` (attached here), and `keras_se.tuning` and
`keras_se.demo` (imported by name: they pull in KerasTuner and the demo's
data). The top level re-exports the everyday API from those homes: the
layers, `wrap_with_se`, `describe`, and saving, loading and export.
"""

from keras_se import _start_up_lines

if _start_up_lines.started_as_command_line():  # before TensorFlow's import
    _start_up_lines.quiet_start_up_lines()

from keras_se import errors, export, layers, models, saving, surgery, viz
from keras_se._version import __version__
from keras_se.export import ExportResult, export_model
from keras_se.layers import (
    CBAM2D,
    EffectiveSqueezeExcite1D,
    EffectiveSqueezeExcite2D,
    EffectiveSqueezeExcite3D,
    EfficientChannelAttention1D,
    EfficientChannelAttention2D,
    EfficientChannelAttention3D,
    GatherExcite2D,
    GlobalContext2D,
    SqueezeExcite1D,
    SqueezeExcite2D,
    SqueezeExcite3D,
    SqueezeExciteConv2D,
)
from keras_se.saving import (
    load_model,
    load_weights,
    save_model,
    save_weights,
)
from keras_se.surgery import describe, plan_se, wrap_with_se

__all__ = [
    "CBAM2D",
    "EffectiveSqueezeExcite1D",
    "EffectiveSqueezeExcite2D",
    "EffectiveSqueezeExcite3D",
    "EfficientChannelAttention1D",
    "EfficientChannelAttention2D",
    "EfficientChannelAttention3D",
    "ExportResult",
    "GatherExcite2D",
    "GlobalContext2D",
    "SqueezeExcite1D",
    "SqueezeExcite2D",
    "SqueezeExcite3D",
    "SqueezeExciteConv2D",
    "__version__",
    "describe",
    "errors",
    "export",
    "export_model",
    "layers",
    "load_model",
    "load_weights",
    "models",
    "plan_se",
    "save_model",
    "save_weights",
    "saving",
    "surgery",
    "viz",
    "wrap_with_se",
]
