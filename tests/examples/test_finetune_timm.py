"""examples/finetune_timm.py: timm's SE-ResNet-50, frozen, a new head on the digits."""

from __future__ import annotations

import json

import pytest

from tests.examples.conftest import OFFLINE, example_env, run_example, succeeded


@pytest.mark.large
def test_random_weights_train_a_head_on_the_upscaled_digits():
    out = succeeded(
        run_example(
            "finetune_timm.py",
            "--weights",
            "none",
            "--image-size",
            32,
            "--samples",
            96,
            "--epochs",
            1,
            "--quiet",
        )
    )
    # The backbone is frozen: only the 2048 x 10 head trains.
    assert "trainable parameters: 20490" in out
    assert json.loads(out.strip().splitlines()[-1])["weights"] == "none"


@pytest.mark.large
def test_offline_a_hub_name_fails_with_one_line_naming_the_local_file():
    pytest.importorskip("huggingface_hub")
    completed = run_example(
        "finetune_timm.py",
        "--weights",
        "seresnet50.ra2_in1k",
        env=example_env(**OFFLINE, HF_HUB_OFFLINE="1"),
    )
    assert completed.returncode == 1
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith("finetune_timm.py: error: Could not download")
    assert "weights='path/to/model.safetensors'" in last
