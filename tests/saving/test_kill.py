"""SIGKILL in the middle of saves: the target is always one whole model."""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time

import keras
import numpy as np
import pytest

import keras_se
from tests.conftest import REPO_ROOT
from tests.saving.helpers import randomize

# One process loads both models once, then forks a saver for each request.
# A saver saves model A, then model B, then A... over the same target until
# it is killed. The forked savers start in milliseconds, where a fresh
# interpreter each took seconds; the NumPy backend keeps the parent free of
# the thread pools that make a fork unsafe (the property is the atomic writer's,
# the same on every backend).
SAVERS = """
import os, pathlib, sys, tempfile
import keras_se

models = [keras_se.load_model(path) for path in sys.argv[1:3]]
with tempfile.TemporaryDirectory() as scratch:
    # The first save of a process imports the archive writers: not timed.
    keras_se.save_model(models[0], pathlib.Path(scratch) / "warm.keras")
print("ready", flush=True)
for request in sys.stdin:
    if request.startswith("wait "):
        pid = int(request.split()[1])
        _, status = os.waitpid(pid, 0)
        signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        print(f"exit {pid} {signal}", flush=True)
        continue
    pid = os.fork()
    if pid:
        print(f"saver {pid}", flush=True)
        continue
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


class Savers:
    """The forking process, and the lines its savers print."""

    def __init__(self, a, b, target):
        env = dict(os.environ, KERAS_BACKEND="numpy", PYTHONPATH=str(REPO_ROOT))
        self.process = subprocess.Popen(
            [sys.executable, "-c", SAVERS, str(a), str(b), str(target)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.saves = 0
        # A thread reads the lines: the savers print while the test waits.
        self.lines = queue.Queue()
        threading.Thread(target=self.read_lines, daemon=True).start()
        if self.next_line(timeout=120) != "ready":
            self.process.kill()
            raise AssertionError(
                f"the savers did not start:\n{self.process.stderr.read()}"
            )

    def next_line(self, timeout=60):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            self.process.kill()
            raise AssertionError(
                f"the savers stopped:\n{self.process.stderr.read()}"
            ) from None

    def read_lines(self):
        for line in self.process.stdout:
            self.lines.put(line.strip())

    def ask(self, request, answer):
        """Sends `request`; returns the answer's words, counting saves before it."""
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        while not (line := self.next_line()).startswith(answer):
            self.saves += line in ("A", "B")
        return line.split()[1:]

    def start(self):
        return int(self.ask("fork", "saver")[0])

    def exit_signal(self, pid):
        return int(self.ask(f"wait {pid}", f"exit {pid}")[1])

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


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
    savers = Savers(*references, target)
    killed_mid_save, seen = 0, []
    for _ in range(rounds):
        # Two processes save over the same target at once, and each is killed
        # at its own random moment.
        pids = [savers.start() for _ in range(2)]
        started = time.monotonic()
        for pid, moment in zip(
            pids, sorted(moments.uniform(0.0, 0.6) for _ in pids), strict=True
        ):
            time.sleep(max(0.0, started + moment - time.monotonic()))
            os.kill(pid, signal.SIGKILL)
        for pid in pids:
            assert savers.exit_signal(pid) == signal.SIGKILL
        # The target loads, and it is model A or model B, whole.
        matched = which_model(target, weights)
        assert matched in (["A"], ["B"])
        seen += matched
        killed_mid_save += any(p.name != "model.keras" for p in folder.iterdir())
    savers.close()
    saves = savers.saves
    print(f"{2 * rounds} kills, {saves} saves done, targets {''.join(seen)}")
    # The kills landed inside saves, and the next save cleans up after them.
    assert killed_mid_save >= 1
    keras_se.save_model(models["B"], target)
    assert [p.name for p in folder.iterdir()] == ["model.keras"]
    assert which_model(target, weights) == ["B"]
