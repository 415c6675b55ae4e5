"""examples/finetune_pretrained.py: pretrained -> wrap_with_se -> fine-tune."""

from __future__ import annotations

import json

import keras
import pytest

import keras_se
from tests.examples.conftest import (
    OFFLINE,
    example_env,
    number_after,
    run_example,
    succeeded,
)


@pytest.mark.extra_large
@pytest.mark.tensorflow  # tf.data and tf.distribute
def test_wrapping_keeps_the_accuracy_then_finetunes(tmp_path, image_folder):
    # "Pretrained" weights from a local file, as offline users pass them.
    base = keras.applications.MobileNetV2(
        weights=None, include_top=False, input_shape=(32, 32, 3), pooling="avg"
    )
    weights = tmp_path / "mobilenetv2_notop.weights.h5"
    base.save_weights(weights)
    out = tmp_path / "run"
    printed = succeeded(
        run_example(
            "finetune_pretrained.py",
            "--data-dir",
            image_folder,
            "--model",
            "MobileNetV2",
            "--weights",
            weights,
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
            "--output-dir",
            out,
            "--quiet",
        )
    )
    before = number_after("accuracy before wrapping", printed)
    right_after = number_after("accuracy right after wrapping", printed)
    assert right_after == before
    assert number_after("max abs difference of the predictions", printed) <= 1e-5
    after = number_after("accuracy after fine-tuning", printed)
    assert 0.0 <= after <= 1.0
    # MobileNetV2 has 10 residual units: one block each.
    assert "with 10 SE blocks" in printed

    results = json.loads((out / "results.json").read_text())
    assert (
        results["accuracy_before_wrapping"] == results["accuracy_right_after_wrapping"]
    )
    saved = list(out.glob("*_se.keras"))
    assert len(saved) == 1
    model = keras_se.load_model(saved[0])
    blocks = [x for x in model.layers if isinstance(x, keras_se.SqueezeExcite2D)]
    assert len(blocks) == 10 and all(block.gate_scale == 2.0 for block in blocks)


@pytest.mark.large
@pytest.mark.tensorflow  # tf.data and tf.distribute
def test_imagenet_weights_offline_name_the_alternatives(tmp_path, image_folder):
    env = example_env(KERAS_HOME=str(tmp_path / "keras_home"), **OFFLINE)
    completed = run_example(
        "finetune_pretrained.py",
        "--data-dir",
        image_folder,
        "--model",
        "MobileNetV2",
        "--image-size",
        32,
        "--output-dir",
        tmp_path,
        env=env,
    )
    assert completed.returncode == 2
    message = completed.stderr.strip().splitlines()[-1]
    assert "Could not download the ImageNet weights of MobileNetV2" in message
    assert "--weights FILE" in message and "--weights none" in message
