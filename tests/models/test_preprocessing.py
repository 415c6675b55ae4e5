"""timm's evaluation preprocessing: settings per checkpoint, resize, crop, normalize."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from keras_se.models import preprocess_images, timm_preprocessing
from keras_se.models.preprocessing import PRETRAINED_CFGS
from tests.models.references import REFERENCES, outputs


def test_settings_of_an_architecture_a_hub_name_and_a_folder(tmp_path):
    assert timm_preprocessing("seresnet50")["crop_pct"] == 0.95
    assert timm_preprocessing("gcresnet50t.ra2_in1k")["input_size"] == (3, 256, 256)
    assert timm_preprocessing("timm/ecaresnet50d")["interpolation"] == "bicubic"
    cfg = {"pretrained_cfg": {"input_size": [3, 160, 160], "crop_pct": 1.0}}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    settings = timm_preprocessing(tmp_path)
    assert settings["input_size"] == [3, 160, 160]
    assert settings["mean"] == (0.485, 0.456, 0.406)
    with pytest.raises(ValueError, match="No timm preprocessing for 'vit_base'"):
        timm_preprocessing("vit_base")


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_a_constant_image_becomes_its_normalized_value(data_format):
    images = np.full((1, 300, 200, 3), 128, "uint8")
    x = keras.ops.convert_to_numpy(preprocess_images(images, "resnet50d", data_format))
    expected = (128 / 255 - np.array([0.485, 0.456, 0.406])) / [0.229, 0.224, 0.225]
    if data_format == "channels_first":
        assert x.shape == (1, 3, 224, 224)
        x = x.transpose(0, 2, 3, 1)
    assert x.shape == (1, 224, 224, 3)
    np.testing.assert_allclose(x[0, 100, 100], expected, rtol=1e-5)


def test_the_crop_is_the_center_of_the_resized_shorter_side():
    # Shorter side 200 -> floor(224 / 0.875) = 256, the longer 300 -> 384;
    # the 224 crop starts at (16, 80): the edge at column 192 lands at 112.
    images = np.zeros((1, 200, 300, 3), "float32")
    images[:, :, 150:] = 255.0
    x = keras.ops.convert_to_numpy(
        preprocess_images(
            images, {"mean": (0, 0, 0), "std": (1, 1, 1)}, "channels_last"
        )
    )
    column = 256 * 300 // 200 // 2 - (256 * 300 // 200 - 224) // 2
    assert x[0, 112, column - 8, 0] < 0.05 and x[0, 112, column + 8, 0] > 0.95


def test_the_settings_are_timms_resolve_data_config():
    stored = json.loads((REFERENCES / "pretrained_cfgs.json").read_text())
    assert sorted(stored) == sorted(PRETRAINED_CFGS)
    for name, cfg in stored.items():
        ours = timm_preprocessing(name)
        for key, value in cfg.items():
            mine = list(ours[key]) if isinstance(value, list) else ours[key]
            assert mine == value, (name, key)


def test_the_transform_is_close_to_timms_through_pil():
    image = outputs()["preprocess/image"]
    expected = outputs()["preprocess/output"]
    settings = {"input_size": (3, 32, 32), "crop_pct": 0.875}
    x = preprocess_images(image[None], settings, "channels_first")
    x = keras.ops.convert_to_numpy(x)[0]
    assert x.shape == expected.shape
    # PIL's bicubic and keras.ops.image.resize's antialiased bicubic differ a
    # little at each pixel (measured: 0.006 mean, 0.25 at most, in units of
    # std); the resize sizes, the crop and the normalization are the same.
    difference = np.abs(x - expected)
    assert difference.mean() < 0.02 and difference.max() < 0.5
