"""Optional dependencies: imported where a feature needs them, named when missing.

The core of keras_se (the layers, `wrap_with_se`, `.keras` saving, the
excitation plots, the KerasTuner search, `keras-se train`) runs on any Keras
backend without TensorFlow. Features only TensorFlow has (`tf.distribute`,
SavedModel/TFLite/ONNX export, Grad-CAM through tf-keras-vis) and KerasHub
sit behind extras; without them they fail with one line naming the extra.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from keras_se.errors import MissingDependencyError

# The extra of pyproject.toml that installs each optional top-level module.
EXTRAS = {
    "tensorflow": "tensorflow",
    "tf_keras_vis": "tensorflow",
    "tf2onnx": "onnx",
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "keras_hub": "hub",
    "huggingface_hub": "pretrained",
    "torch": "backends",
}


def import_optional(module: str, feature: str) -> ModuleType:
    """Imports `module`, or says which extra installs it.

    Args:
        module: the module to import, e.g. `"tensorflow"` or
            `"tf_keras_vis.gradcam"`.
        feature: what needs it, for the message, e.g. `"TFLite export"`.

    Returns:
        The imported module.

    Raises:
        MissingDependencyError: if the module is not installed; the message
            names the extra to install.

    Example:

    >>> from keras_se._optional import import_optional
    >>> import_optional("json", "this example").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        top = module.split(".", 1)[0]
        extra = EXTRAS.get(top)
        hint = f"pip install 'keras-se[{extra}]'" if extra else f"pip install {top}"
        raise MissingDependencyError(
            f"{feature} needs `{top}`, which is not installed: {hint}"
        ) from error
