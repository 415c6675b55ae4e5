"""The stored timm references (tests/models/make_timm_references.py writes them)."""

from __future__ import annotations

import functools
import gzip
import json

import keras
import numpy as np

from keras_se.models import ResNetConfig, build_resnet, read_safetensors
from tests.conftest import REPO_ROOT

REFERENCES = REPO_ROOT / "tests" / "models" / "references"
TINY_CLASSES = 10


@functools.cache
def tiny_configs() -> dict[str, ResNetConfig]:
    configs = json.loads((REFERENCES / "tiny_configs.json").read_text())
    return {
        name: ResNetConfig(
            **{
                **config,
                "layers": tuple(config["layers"]),
                "channels": tuple(config["channels"]),
            },
            timm_name=name,
        )
        for name, config in configs.items()
    }


@functools.cache
def outputs() -> dict[str, np.ndarray]:
    with np.load(REFERENCES / "outputs.npz") as stored:
        return dict(stored)


@functools.cache
def full_size_keys() -> dict[str, dict]:
    with gzip.open(REFERENCES / "key_shapes.json.gz", "rt") as file:
        return json.load(file)


def checkpoint(name: str):
    return REFERENCES / f"{name}.safetensors"


def state_dict(name: str) -> dict[str, np.ndarray]:
    return read_safetensors(checkpoint(name))


def images(data_format: str = "channels_last", odd: bool = False) -> np.ndarray:
    """The input batch timm ran; `odd=True`: the 36x36 one (odd map sizes)."""
    batch = outputs()["odd_input" if odd else "input"]
    return batch if data_format == "channels_first" else batch.transpose(0, 2, 3, 1)


def tiny_model(name: str, data_format: str = "channels_last", **kwargs):
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format(data_format)
    try:
        arguments = {"classes": TINY_CLASSES, "classifier_activation": None}
        return build_resnet(tiny_configs()[name], **{**arguments, **kwargs})
    finally:
        keras.config.set_image_data_format(previous)
