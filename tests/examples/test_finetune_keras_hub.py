"""examples/finetune_keras_hub.py: KerasHub classifier -> wrap_with_se -> fine-tune."""

from __future__ import annotations

import importlib.util
import json

import keras
import numpy as np
import pytest

import keras_se
from tests.examples.conftest import (
    EXAMPLES,
    OFFLINE,
    example_env,
    number_after,
    run_example,
    succeeded,
)

keras_hub = pytest.importorskip("keras_hub")

TINY_RESNET = {
    "class_name": "ResNetBackbone",
    "config": {
        "input_conv_filters": [8],
        "input_conv_kernel_sizes": [3],
        "stackwise_num_filters": [64, 16],
        "stackwise_num_blocks": [2, 1],
        "stackwise_num_strides": [1, 2],
        "block_type": "bottleneck_block",
        "image_shape": [32, 32, 3],
    },
}
QUICK = (
    "--image-size",
    32,
    "--validation-split",
    0.25,
    "--batch-size",
    4,
    "--head-epochs",
    1,
    "--se-epochs",
    1,
    "--finetune-epochs",
    1,
    "--quiet",
)


def example_module():
    spec = importlib.util.spec_from_file_location(
        "finetune_keras_hub", EXAMPLES / "finetune_keras_hub.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.extra_large
def test_random_init_backbone_wraps_with_the_same_accuracy(tmp_path, image_folder):
    config = tmp_path / "tiny_resnet.json"
    config.write_text(json.dumps(TINY_RESNET))
    out = tmp_path / "run"
    printed = succeeded(
        run_example(
            "finetune_keras_hub.py",
            "--data-dir",
            image_folder,
            "--backbone-config",
            config,
            "--output-dir",
            out,
            *QUICK,
        )
    )
    assert "ResNetImageClassifier on ResNetBackbone" in printed
    assert "with 3 SE blocks" in printed  # one per bottleneck unit
    before = number_after("accuracy before wrapping", printed)
    assert number_after("accuracy right after wrapping", printed) == before
    assert number_after("max abs difference of the predictions", printed) <= 1e-5
    assert 0.0 <= number_after("accuracy after fine-tuning", printed) <= 1.0

    results = json.loads((out / "results.json").read_text())
    assert results["classifier"] == "ResNetImageClassifier"
    assert results["se_blocks"] == 3
    loaded = keras.saving.load_model(out / "res_net_backbone_se.keras", safe_mode=True)
    assert type(loaded) is keras_hub.models.ResNetImageClassifier
    blocks = [
        b for b in loaded.backbone.layers if isinstance(b, keras_se.SqueezeExcite2D)
    ]
    assert len(blocks) == 3 and all(block.gate_scale == 2.0 for block in blocks)
    images = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3))
    assert loaded.predict(images, verbose=0).shape == (2, 2)


@pytest.mark.extra_large
def test_a_local_preset_folder_loads_offline(tmp_path, image_folder):
    keras.utils.set_random_seed(0)
    converter = keras_hub.layers.ResNetImageConverter(
        image_size=(32, 32), scale=1 / 255
    )
    classifier = keras_hub.models.ResNetImageClassifier(
        backbone=keras_hub.models.ResNetBackbone(**TINY_RESNET["config"]),
        num_classes=5,
        preprocessor=keras_hub.models.ResNetImageClassifierPreprocessor(
            image_converter=converter
        ),
    )
    preset = tmp_path / "tiny_resnet_preset"
    classifier.save_to_preset(str(preset))
    env = example_env(KERAS_HOME=str(tmp_path / "keras_home"), **OFFLINE)
    printed = succeeded(
        run_example(
            "finetune_keras_hub.py",
            "--data-dir",
            image_folder,
            "--preset",
            preset,
            "--output-dir",
            tmp_path / "run",
            *QUICK,
            env=env,
        )
    )
    assert "with 3 SE blocks" in printed
    before = number_after("accuracy before wrapping", printed)
    assert number_after("accuracy right after wrapping", printed) == before


@pytest.mark.extra_large
def test_preset_download_offline_names_the_alternatives(tmp_path, image_folder):
    env = example_env(
        KERAS_HOME=str(tmp_path / "keras_home"),
        KAGGLEHUB_CACHE=str(tmp_path / "kagglehub"),
        **OFFLINE,
    )
    completed = run_example(
        "finetune_keras_hub.py",
        "--data-dir",
        image_folder,
        "--preset",
        "resnet_50_imagenet",
        "--output-dir",
        tmp_path,
        env=env,
    )
    assert completed.returncode == 2
    message = completed.stderr.strip().splitlines()[-1]
    assert "Could not load the KerasHub preset 'resnet_50_imagenet'" in message
    assert "--preset DIR" in message and "--backbone-config FILE" in message


def test_bad_backbone_config_names_the_file_and_format(tmp_path):
    module = example_module()
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"class_name": "NoSuchBackbone", "config": {}}))
    with pytest.raises(module.PresetUnavailableError) as error:
        module.classifier_from_config(str(config), 2, 32)
    assert f"Could not build a backbone from {config}" in str(error.value)
    assert '"class_name"' in str(error.value)


def test_phases_train_what_they_say():
    module = example_module()
    classifier = keras_hub.models.ResNetImageClassifier(
        backbone=keras_hub.models.ResNetBackbone(**TINY_RESNET["config"]),
        num_classes=2,
        preprocessor=None,
    )
    wrapped = keras_se.wrap_with_se(classifier)
    head = {w.path for w in wrapped.trainable_weights} - {
        w.path for w in wrapped.backbone.weights
    }
    assert head  # the pooler has none; the Dense layer's kernel and bias

    def trainable():
        return {w.path for w in wrapped.trainable_weights}

    se = {
        w.path
        for layer in wrapped.backbone.layers
        if isinstance(layer, keras_se.SqueezeExcite2D)
        for w in layer.weights
    }
    module.set_trainable(wrapped, "head")
    assert trainable() == head
    module.set_trainable(wrapped, "se")
    assert trainable() == head | se
    module.set_trainable(wrapped, "all")
    norms = {
        w.path
        for layer in wrapped.backbone.layers
        if isinstance(layer, keras.layers.BatchNormalization)
        for w in layer.weights
    }
    backbone = {w.path for w in wrapped.backbone.weights}
    assert trainable() == head | (backbone - norms)
