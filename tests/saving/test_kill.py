"""SIGKILL in the middle of saves: the target is always one whole model."""

from __future__ import annotations

import os
import random
import selectors
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

import keras_se
from tests.conftest import REPO_ROOT
from tests.saving.helpers import randomize

# Saves model A, then model B, then A... over the same target until killed.
WORKER = """
import pathlib, sys, tempfile
import keras_se

models = [keras_se.load_model(path) for path in sys.argv[1:3]]
with tempfile.TemporaryDirectory() as scratch:
    # The first save of a process imports TensorFlow's file I/O: not timed.
    keras_se.save_model(models[0], pathlib.Path(scratch) / "warm.keras")
print("ready", flush=True)
while True:
    for name, model in zip("AB", models):
        keras_se.save_model(model, sys.argv[3])
        print(name, flush=True)
"""


def big_se_model(seed):
    """About 25 MB of weights (a save takes about 0.1 s), with SE layers."""
    inputs = keras.Input((8, 8, 32))
    x = keras.layers.Conv2D(256, 3, padding="same")(inputs)
    x = keras_se.SqueezeExcite2D(ratio=4)(x)
    x = keras_se.SqueezeExciteConv2D(64, ratio=4)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(1024)(x)
    x = keras.layers.Dense(2048)(x)
    x = keras.layers.Dense(2048)(x)
    return randomize(keras.Model(inputs, x, name="big"), seed, scale=0.1)


def start_worker(a, b, target):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO_ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(a), str(b), str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_until_ready(worker):
    with selectors.DefaultSelector() as selector:
        selector.register(worker.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout=120) and worker.stdout.readline()
    if ready != "ready\n":
        worker.kill()
        raise AssertionError(f"the worker did not start:\n{worker.stderr.read()}")


def which_model(path, candidates):
    weights = keras_se.load_model(path).get_weights()
    return [
        name
        for name, expected in candidates.items()
        if all(np.array_equal(a, b) for a, b in zip(weights, expected, strict=True))
    ]


@pytest.mark.parametrize(
    "rounds",
    # Two workers per round: 8 kills in the large tier, 30 in the extra_large one.
    [
        pytest.param(4, marks=pytest.mark.large),
        pytest.param(15, marks=pytest.mark.extra_large),
    ],
)
def test_sigkill_during_saves_leaves_the_old_or_the_new_model(rounds, tmp_path):
    models = {"A": big_se_model(seed=0), "B": big_se_model(seed=1)}
    references = [
        keras_se.save_model(model, tmp_path / "references" / f"{name}.keras")
        for name, model in models.items()
    ]
    weights = {name: model.get_weights() for name, model in models.items()}
    folder = tmp_path / "target"
    target = keras_se.save_model(models["A"], folder / "model.keras")
    assert target.stat().st_size > 20_000_000
    moments = random.Random(20240601)
    saves, killed_mid_save, seen = 0, 0, []
    for _ in range(rounds):
        # Two processes save over the same target at once, and each is killed
        # at its own random moment.
        workers = [start_worker(*references, target) for _ in range(2)]
        for worker in workers:
            wait_until_ready(worker)
        started = time.monotonic()
        for worker, moment in zip(
            workers, sorted(moments.uniform(0.0, 0.6) for _ in workers), strict=True
        ):
            time.sleep(max(0.0, started + moment - time.monotonic()))
            os.kill(worker.pid, signal.SIGKILL)
        for worker in workers:
            out, err = worker.communicate(timeout=60)
            assert worker.returncode == -signal.SIGKILL, err
            saves += len(out.split())
        # The target loads, and it is model A or model B, whole.
        matched = which_model(target, weights)
        assert matched in (["A"], ["B"])
        seen += matched
        killed_mid_save += any(p.name != "model.keras" for p in folder.iterdir())
    print(f"{2 * rounds} kills, {saves} saves done, targets {''.join(seen)}")
    # The kills landed inside saves, and the next save cleans up after them.
    assert killed_mid_save >= 1
    keras_se.save_model(models["B"], target)
    assert [p.name for p in folder.iterdir()] == ["model.keras"]
    assert which_model(target, weights) == ["B"]
