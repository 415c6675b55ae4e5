"""The runnable searches in tuning/, with tiny settings."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.large


def image_folder(root, classes=2, per_class=8, size=16):
    import keras

    rng = np.random.default_rng(0)
    for label in range(classes):
        folder = root / f"class_{label}"
        folder.mkdir(parents=True)
        for index in range(per_class):
            image = rng.integers(0, 255, (size, size, 3)).astype("uint8")
            image[..., label] = 255  # each class has its own colour
            keras.utils.save_img(folder / f"{index}.png", image)
    return root


def run_script(name, *args, cwd):
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO_ROOT))
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tuning" / name), *args],
        cwd=cwd, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def test_search_digits(tmp_path):
    out = run_script(
        "search_digits.py", "--max-trials", "1", "--epochs", "1", cwd=tmp_path
    )
    assert "best hyperparameters: {" in out and "test accuracy" in out


@pytest.mark.tensorflow  # image_dataset_from_directory: tf.data
def test_search_folder(tmp_path):
    folder = image_folder(tmp_path / "images")
    out = run_script(
        "search_folder.py", str(folder), "--image-size", "16", "--max-trials", "1",
        "--epochs", "1", cwd=tmp_path,
    )  # fmt: skip
    assert "best hyperparameters: {" in out


@pytest.mark.extra_large
def test_search_application(tmp_path):
    folder = image_folder(tmp_path / "images", size=32)
    out = run_script(
        "search_application.py", str(folder), "--model", "MobileNetV2", "--image-size",
        "32", "--max-trials", "1", "--epochs", "1", cwd=tmp_path,
    )  # fmt: skip
    assert "best hyperparameters: {" in out


def test_search_pareto(tmp_path):
    out = run_script(
        "search_pareto.py", "--max-trials", "2", "--epochs", "1", cwd=tmp_path
    )
    assert "Pareto front" in out and "pareto.csv" in out and "reloaded trial" in out
    assert (tmp_path / "keras_se_tuning" / "digits_pareto" / "pareto.png").exists()
