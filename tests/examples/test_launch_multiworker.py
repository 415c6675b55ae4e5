"""examples/launch_multiworker.py: N workers on 127.0.0.1, and failures."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import time

import pytest

import keras_se
from tests.examples.conftest import EXAMPLES, example_env, run_example, succeeded


def load_launcher():
    spec = importlib.util.spec_from_file_location(
        "launch_multiworker", EXAMPLES / "launch_multiworker.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.extra_large
@pytest.mark.tensorflow  # MultiWorkerMirroredStrategy
def test_two_workers_train_in_sync_and_only_the_chief_writes(tmp_path):
    out, scratch = tmp_path / "run", tmp_path / "scratch"
    scratch.mkdir()
    completed = run_example(
        "launch_multiworker.py",
        "--workers",
        2,
        "--timeout",
        240,
        "--",
        sys.executable,
        EXAMPLES / "train.py",
        "--strategy",
        "multiworker",
        "--epochs",
        1,
        "--batch-size",
        32,
        "--output-dir",
        out,
        env=example_env(TMPDIR=str(scratch)),
    )
    printed = succeeded(completed)
    assert "Strategy: MultiWorkerMirroredStrategy (2 replica(s), 2 worker(s))" in (
        printed
    )
    # Gradients are all-reduced: both workers end with the same weights.
    checksums = dict(
        re.findall(r"^\[worker (\d)\] trainable weights checksum: (\S+)", printed, re.M)
    )
    assert set(checksums) == {"0", "1"} and checksums["0"] == checksums["1"]
    # Only the chief reports and writes; worker 1's temporary folder is gone.
    assert "[worker 0] Saved the model to" in printed
    assert not re.search(r"^\[worker 1\] (Saved|test accuracy)", printed, re.M)
    assert not list(scratch.iterdir())
    results = json.loads((out / "results.json").read_text())
    assert results["workers"] == 2 and results["replicas"] == 2
    assert (out / "checkpoints" / "epoch_001.keras").is_file()
    model = keras_se.load_model(out / "model.keras")
    assert len(model.trainable_weights) > 0


def test_a_failing_worker_stops_the_others(tmp_path):
    worker = (
        "import json, os, sys, time\n"
        "index = json.loads(os.environ['TF_CONFIG'])['task']['index']\n"
        "print('started', index, flush=True)\n"
        "time.sleep(0.5)\n"
        "sys.exit(3) if index == 1 else time.sleep(120)\n"
    )
    start = time.monotonic()
    completed = run_example(
        "launch_multiworker.py", "--workers", 3, "--", sys.executable, "-c", worker
    )
    assert completed.returncode == 3
    assert time.monotonic() - start < 60
    for index in range(3):
        assert f"[worker {index}] started {index}" in completed.stdout
    assert "[launcher] worker 1 exited with code 3" in completed.stdout


def test_timeout_stops_all_with_124():
    completed = run_example(
        "launch_multiworker.py",
        "--workers",
        2,
        "--timeout",
        1,
        "--",
        sys.executable,
        "-c",
        "import time; time.sleep(120)",
    )
    assert completed.returncode == 124
    assert "[launcher] timed out after 1 s" in completed.stdout


def test_tf_config_ports_and_devices():
    launcher = load_launcher()
    ports = launcher.free_ports(4)
    assert len(set(ports)) == 4
    config = json.loads(launcher.tf_config(["a:1", "b:2"], 1))
    assert config == {
        "cluster": {"worker": ["a:1", "b:2"]},
        "task": {"type": "worker", "index": 1},
    }
    assert launcher.worker_env("{}", 1, "cpu")["CUDA_VISIBLE_DEVICES"] == ""
    assert launcher.worker_env("{}", 1, "gpu")["CUDA_VISIBLE_DEVICES"] == "1"
    args = launcher.parse_args(["--hosts", "a:1,b:2", "--index", "1", "--", "x"])
    assert args.command == ["x"] and args.devices == "all"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--hosts", "a:1,b:2", "--", "x"], "--hosts needs --index between 0 and 1"),
        (["--workers", "2"], "give the command to run after `--`"),
        (["--workers", "0", "--", "x"], "--workers must be at least 1"),
    ],
)
def test_bad_arguments(argv, message, capsys):
    launcher = load_launcher()
    with pytest.raises(SystemExit) as exit_info:
        launcher.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
