"""Pretrained SE-family networks: timm's ResNets built from keras_se's layers.

`SEResNet50(weights="seresnet50.ra2_in1k")` and family take
`keras.applications`' arguments and load timm's checkpoints (a hub name, a
`.safetensors`/`.pth`/`.bin` file or a folder); `preprocess_images` is timm's
evaluation transform. The attention blocks are keras_se layers, so
`keras_se.describe` and the excitation plots work on these networks.

With the `hub` extra, `SEResNetBackbone` (a KerasHub `Backbone` with
presets), `SEResNetImageClassifier`, `SEResNetImageClassifierPreprocessor` and
`SEResNetImageConverter` are here too: imported on first use, or with
`keras_se` when KerasHub was imported before it, so that `import
keras_se.models` does not import KerasHub (they are not in `__all__`).
"""

import importlib
import importlib.util
import sys

from keras_se.models.applications import (
    BUILDERS,
    CONFIGS,
    ECAResNet50d,
    ECAResNet101d,
    GCResNet50t,
    ResNet50d,
    SEResNet50,
    SEResNet101,
    SEResNet152,
    SEResNeXt50_32x4d,
    SEResNeXt101_32x4d,
    from_timm,
    load_timm_weights,
)
from keras_se.models.checkpoints import read_checkpoint, read_safetensors
from keras_se.models.convert import load_timm_state_dict
from keras_se.models.preprocessing import preprocess_images, timm_preprocessing
from keras_se.models.resnet import ResNetConfig, build_resnet

__all__ = [
    "BUILDERS",
    "CONFIGS",
    "ECAResNet50d",
    "ECAResNet101d",
    "GCResNet50t",
    "ResNet50d",
    "ResNetConfig",
    "SEResNeXt50_32x4d",
    "SEResNeXt101_32x4d",
    "SEResNet50",
    "SEResNet101",
    "SEResNet152",
    "build_resnet",
    "from_timm",
    "load_timm_state_dict",
    "load_timm_weights",
    "preprocess_images",
    "read_checkpoint",
    "read_safetensors",
    "timm_preprocessing",
]

# The KerasHub classes and their modules, imported on first use.
HUB_CLASSES = {
    "SEResNetBackbone": "keras_se.models.hub_backbone",
    "SEResNetImageClassifier": "keras_se.models.hub_classifier",
    "SEResNetImageClassifierPreprocessor": "keras_se.models.hub_classifier",
    "SEResNetImageConverter": "keras_se.models.hub_classifier",
}


def __getattr__(name: str):
    if name in HUB_CLASSES:
        # Both modules, so that every class a preset may name is registered.
        importlib.import_module("keras_se.models.hub_classifier")
        return getattr(importlib.import_module(HUB_CLASSES[name]), name)
    raise AttributeError(f"module 'keras_se.models' has no attribute {name!r}")


def __dir__():
    # The KerasHub classes where KerasHub is installed: `dir` lists only what
    # `getattr` can give.
    hub = HUB_CLASSES if importlib.util.find_spec("keras_hub") else {}
    return sorted([*globals(), *hub])


if sys.modules.get("keras_hub") is not None:
    # KerasHub is loaded already: register the classes its presets name, so
    # that `keras_hub.models.Backbone.from_preset` finds them with no more ado.
    importlib.import_module("keras_se.models.hub_classifier")
