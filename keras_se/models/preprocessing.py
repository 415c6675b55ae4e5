"""timm's evaluation preprocessing in one call: resize, center crop, normalize."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import keras
from keras import ops

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_DEFAULT = {
    "mean": IMAGENET_MEAN,
    "std": IMAGENET_STD,
    "input_size": (3, 224, 224),
    "crop_pct": 0.875,
    "crop_mode": "center",
    "interpolation": "bicubic",
}
# The `pretrained_cfg` of each architecture's default checkpoint in timm
# 1.0 (`timm.create_model(name).pretrained_cfg`); a downloaded or local
# folder's config.json has the exact one of its tag.
PRETRAINED_CFGS = {
    "seresnet50": {**_DEFAULT, "crop_pct": 0.95},
    "seresnet101": _DEFAULT,
    "seresnet152": _DEFAULT,
    "seresnext50_32x4d": _DEFAULT,
    "seresnext101_32x4d": _DEFAULT,
    "ecaresnet50d": _DEFAULT,
    "ecaresnet101d": _DEFAULT,
    "gcresnet50t": {**_DEFAULT, "input_size": (3, 256, 256), "crop_pct": 0.9},
    "resnet50d": _DEFAULT,
}
INTERPOLATIONS = ("bilinear", "bicubic", "nearest")


def timm_preprocessing(source: str | os.PathLike | dict) -> dict:
    """timm's preprocessing settings of a checkpoint or an architecture.

    Args:
        source: a folder with timm's `config.json` (its `pretrained_cfg`),
            a `config.json` file, a timm hub name or architecture
            (`"seresnet50.ra2_in1k"`, `"seresnet50"`: timm's defaults for
            the architecture), or a dict with timm's keys.

    Returns:
        A dict with `mean`, `std`, `input_size` (C, H, W), `crop_pct`,
        `crop_mode` and `interpolation`.

    Raises:
        ValueError: for an unknown architecture.

    Example:

    >>> keras_se.models.timm_preprocessing("gcresnet50t")["input_size"]
    (3, 256, 256)
    """
    if isinstance(source, dict):
        return {**_DEFAULT, **source}
    path = Path(source)
    if path.is_dir():
        path = path / "config.json"
    if path.is_file():
        config = json.loads(path.read_text())
        return {**_DEFAULT, **config.get("pretrained_cfg", {})}
    architecture = str(source).split(":")[-1].split("/")[-1].split(".")[0]
    if architecture not in PRETRAINED_CFGS:
        raise ValueError(
            f"No timm preprocessing for {str(source)!r}: pass a folder with "
            f"config.json or one of {sorted(PRETRAINED_CFGS)}."
        )
    return dict(PRETRAINED_CFGS[architecture])


def preprocess_images(
    images,
    source: str | os.PathLike | dict,
    data_format: str | None = None,
):
    """timm's evaluation transform on a batch of RGB images in [0, 255].

    As timm's `resolve_data_config` + `create_transform(is_training=False)`:
    the shorter side is resized to `floor(size / crop_pct)` with the
    checkpoint's interpolation (antialiased, as PIL's), the center
    `size x size` is cropped, then `(x / 255 - mean) / std`. PIL and
    `keras.ops.image.resize` interpolate slightly differently: identical
    model inputs need identical preprocessing, not these images through PIL.

    Args:
        images: `(batch, height, width, 3)`, channels last, values 0-255.
        source: what `timm_preprocessing` takes, or its result.
        data_format: the layout of the result; `None` means
            `keras.config.image_data_format()`.

    Returns:
        A float32 tensor of shape `(batch, size, size, 3)` (or channels
        first), ready for the network.

    Example:

    >>> images = np.random.randint(0, 256, (2, 300, 400, 3)).astype("uint8")
    >>> x = keras_se.models.preprocess_images(images, "seresnet50", "channels_last")
    >>> tuple(x.shape)
    (2, 224, 224, 3)
    """
    config = source if isinstance(source, dict) else timm_preprocessing(source)
    config = {**_DEFAULT, **config}
    data_format = data_format or keras.config.image_data_format()
    interpolation = config["interpolation"]
    if interpolation not in INTERPOLATIONS:
        interpolation = "bilinear"
    _, height, width = config["input_size"]
    images = ops.cast(ops.convert_to_tensor(images), "float32")
    in_height, in_width = images.shape[1], images.shape[2]
    scale_size = math.floor(max(height, width) / config["crop_pct"])
    if in_height <= in_width:
        size = (scale_size, int(scale_size * in_width / in_height))
    else:
        size = (int(scale_size * in_height / in_width), scale_size)
    images = ops.image.resize(
        images,
        size,
        interpolation=interpolation,
        antialias=True,
        data_format="channels_last",
    )
    # torchvision's CenterCrop rounds the offsets, Python's half-to-even.
    top = round((size[0] - height) / 2)
    left = round((size[1] - width) / 2)
    images = images[:, top : top + height, left : left + width, :]
    mean = ops.convert_to_tensor(config["mean"], "float32") * 255.0
    std = ops.convert_to_tensor(config["std"], "float32") * 255.0
    images = (images - mean) / std
    if data_format == "channels_first":
        images = ops.transpose(images, (0, 3, 1, 2))
    return images
