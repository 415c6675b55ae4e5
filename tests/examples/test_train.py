"""examples/train.py end to end, with tiny settings, on the CPU."""

from __future__ import annotations

import importlib.util
import json
import runpy
import sys

import keras
import numpy as np
import pytest

import keras_se
from keras_se.demo.data import load_digits
from keras_se.demo.distribute import CPU_FALLBACK
from tests.examples.conftest import (
    EXAMPLES,
    OFFLINE,
    example_env,
    number_after,
    run_example,
    succeeded,
)


@pytest.mark.parametrize(
    "script, flags",
    [
        (
            "train.py",
            ["--strategy", "data-parallel", "--mixed-precision", "--xla", "--resume"],
        ),
        ("finetune_pretrained.py", ["--weights", "--data-dir", "--se-epochs"]),
        ("launch_multiworker.py", ["--workers", "--hosts", "--index", "--timeout"]),
    ],
)
def test_help(script, flags, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [script, "--help"])
    monkeypatch.setattr(sys, "path", list(sys.path))
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    for flag in flags:
        assert flag in printed


@pytest.mark.extra_large
@pytest.mark.tensorflow
def test_mixed_precision_xla_checkpoints_logs_then_resume(tmp_path):
    out = tmp_path / "run"
    common = ["--output-dir", out, "--batch-size", 64, "--quiet"]
    first = succeeded(
        run_example("train.py", "--epochs", 1, "--mixed-precision", "--xla", *common)
    )
    # With no GPU: one line saying so, and one about float16 on the CPU.
    assert first.count(CPU_FALLBACK) == 1
    assert "mixed_float16 on the CPU" in first
    assert "precision: mixed_float16; XLA: True" in first
    assert (out / "checkpoints" / "epoch_001.keras").is_file()
    assert list((out / "logs" / "train").glob("events.out.tfevents.*"))
    results = json.loads((out / "results.json").read_text())
    assert results["precision"] == "mixed_float16" and results["jit_compile"] is True

    second = succeeded(run_example("train.py", "--epochs", 2, "--resume", *common))
    checkpoint = out / "checkpoints" / "epoch_001.keras"
    # 1,293 training images in batches of 64, the remainder dropped: 20 steps.
    assert f"Resumed from {checkpoint} (epoch 1, optimizer step 20)." in second
    assert (out / "checkpoints" / "epoch_002.keras").is_file()
    results = json.loads((out / "results.json").read_text())
    assert results["initial_epoch"] == 1 and results["resumed_from"] == str(checkpoint)

    # A loss-scale optimizer's state loads only under the policy it was made in.
    keras.config.set_dtype_policy("mixed_float16")
    model = keras_se.load_model(out / "model.keras")
    blocks = [x for x in model.layers if isinstance(x, keras_se.SqueezeExcite2D)]
    assert len(blocks) == 3
    assert blocks[0].dtype_policy.name == "mixed_float16"
    assert int(model.optimizer.iterations.numpy()) == 40
    _, test = load_digits(seed=0)
    accuracy = np.mean(np.argmax(model.predict(test.x, verbose=0), -1) == test.y)
    printed = number_after("test accuracy", second)
    assert printed == pytest.approx(results["test_accuracy"], abs=1e-4)
    # float16 sums may round differently batch to batch: one image at most.
    assert accuracy == pytest.approx(printed, abs=1.5 / len(test.y))


@pytest.mark.extra_large
@pytest.mark.tensorflow
def test_image_folder_with_wrap_with_se_on_one_cpu(tmp_path, image_folder):
    out = tmp_path / "run"
    printed = succeeded(
        run_example(
            "train.py",
            "--data-dir",
            image_folder,
            "--model",
            "resnet",
            "--se",
            "wrap",
            "--image-size",
            16,
            "--validation-split",
            0.25,
            "--epochs",
            1,
            "--batch-size",
            4,
            "--strategy",
            "cpu",
            "--output-dir",
            out,
            "--quiet",
        )
    )
    assert CPU_FALLBACK not in printed  # the CPU was asked for
    assert "Strategy: OneDeviceStrategy (1 replica(s), 1 worker(s))" in printed
    # wrap_with_se finds the 3 residual units and puts one block in each.
    assert "Model: resnet, " in printed and ", 3 SE blocks" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["dataset"] == "shapes" and results["workers"] == 1
    assert 0.0 <= number_after("test accuracy", printed) <= 1.0
    model = keras_se.load_model(out / "model.keras")
    assert model.input_shape == (None, 16, 16, 3)
    assert model.get_layer("stage3_se").ratio == 8


@pytest.mark.large
@pytest.mark.tensorflow
def test_cifar10_offline_fails_fast_and_names_the_alternatives(tmp_path):
    env = example_env(KERAS_HOME=str(tmp_path / "keras_home"), **OFFLINE)
    completed = run_example(
        "train.py", "--dataset", "cifar10", "--output-dir", tmp_path, env=env
    )
    assert completed.returncode == 2
    message = completed.stderr.strip().splitlines()[-1]
    assert message.startswith("train.py: error: Could not download CIFAR-10")
    assert "--dataset digits" in message and "--data-dir" in message
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--model", "NoSuchNet"], "--model must be cnn, resnet or"),
        (["--model", "ResNet50", "--se", "layers"], "--se layers needs --model"),
        (["--strategy", "tpu"], "invalid choice: 'tpu'"),
    ],
)
def test_bad_flags_exit_2_with_a_message(flags, message, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["train.py", *flags])
    monkeypatch.setattr(sys, "path", list(sys.path))
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(EXAMPLES / "train.py"), run_name="__main__")
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    keras.config.set_dtype_policy("float32")


@pytest.mark.extra_large
@pytest.mark.skipif(
    not all(importlib.util.find_spec(name) for name in ("jax", "tensorflow")),
    reason="needs JAX, and TensorFlow for tf.data",
)
def test_data_parallel_on_two_jax_cpu_devices(tmp_path):
    out = tmp_path / "run"
    env = example_env(
        KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2"
    )
    printed = succeeded(
        run_example(
            "train.py",
            "--strategy",
            "data-parallel",
            "--epochs",
            1,
            "--batch-size",
            16,
            "--output-dir",
            out,
            "--quiet",
            env=env,
            timeout=600,
        )
    )
    assert printed.count(CPU_FALLBACK) == 1
    assert "Strategy: DataParallel (2 replica(s), 1 worker(s))" in printed
    assert "global batch size: 32" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["strategy"] == "DataParallel" and results["replicas"] == 2
    # The model trained on two devices saves as usual and loads on another backend.
    model = keras_se.load_model(out / "model.keras")
    _, test = load_digits(seed=0)
    accuracy = np.mean(np.argmax(model.predict(test.x, verbose=0), -1) == test.y)
    assert accuracy == pytest.approx(results["test_accuracy"], abs=1.5 / len(test.y))
