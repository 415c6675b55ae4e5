"""keras_se.demo.distribute: the strategy, precision and XLA flags of the examples.

The multi-worker strategy itself is exercised by
`test_launch_multiworker.py`: it can only be created in a fresh process.
"""

from __future__ import annotations

import argparse

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_se
from keras_se.demo import distribute, flags


@pytest.fixture
def no_gpu(monkeypatch):
    real = tf.config.list_physical_devices
    monkeypatch.setattr(
        tf.config,
        "list_physical_devices",
        lambda kind=None: [] if kind == "GPU" else real(kind),
    )


def parse(argv):
    return flags.add_training_flags(argparse.ArgumentParser()).parse_args(argv)


def test_flags_default_to_deciding_by_the_hardware():
    args = parse([])
    assert (args.strategy, args.mixed_precision, args.xla) == ("auto", None, None)
    args = parse(["--strategy", "mirrored", "--no-mixed-precision", "--no-xla"])
    assert (args.strategy, args.mixed_precision, args.xla) == ("mirrored", False, False)


def test_auto_without_gpu_falls_back_to_the_cpu_in_one_line(no_gpu):
    lines = []
    args = parse(["--xla"])
    strategy, jit_compile = flags.apply_training_flags(args, log=lines.append)
    assert lines == [distribute.CPU_FALLBACK]
    assert distribute.strategy_name(strategy) == "default" and jit_compile is True
    assert keras.config.dtype_policy().name == "float32"


def test_mixed_precision_on_the_cpu_only_when_asked(no_gpu):
    lines = []
    strategy = distribute.choose_strategy("cpu", log=lines.append)
    assert lines == [] and distribute.strategy_name(strategy) == "OneDeviceStrategy"
    assert flags.configure_precision(None, strategy, log=lines.append) == "float32"
    assert flags.configure_precision(True, strategy, log=lines.append) == (
        "mixed_float16"
    )
    assert keras.config.dtype_policy().name == "mixed_float16"
    assert len(lines) == 1 and "slower than float32" in lines[0]


def test_unknown_strategy_and_bad_tf_config(monkeypatch):
    with pytest.raises(ValueError, match="`name` must be one of"):
        distribute.choose_strategy("tpu")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="`TF_CONFIG` must be JSON"):
        distribute.cluster_size()
    cluster = '{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"index": 0}}'
    monkeypatch.setenv("TF_CONFIG", cluster)
    assert distribute.cluster_size() == 2


class _Resolver:
    def __init__(self, task_type, task_id, cluster):
        self.task_type, self.task_id, self._cluster = task_type, task_id, cluster

    def cluster_spec(self):
        return tf.train.ClusterSpec(self._cluster)


class _Strategy:
    def __init__(self, task_type, task_id, cluster):
        self.cluster_resolver = _Resolver(task_type, task_id, cluster)


@pytest.mark.parametrize(
    "task_type, task_id, cluster, chief",
    [
        ("worker", 0, {"worker": ["a:1", "b:2"]}, True),
        ("worker", 1, {"worker": ["a:1", "b:2"]}, False),
        ("chief", 0, {"chief": ["a:1"], "worker": ["b:2"]}, True),
        ("worker", 0, {"chief": ["a:1"], "worker": ["b:2"]}, False),
    ],
)
def test_only_the_chief_writes_to_the_real_folder(
    tmp_path, task_type, task_id, cluster, chief
):
    strategy = _Strategy(task_type, task_id, cluster)
    assert distribute.is_chief(strategy) is chief
    assert distribute.num_workers(strategy) == 2
    target = tmp_path / "run"
    with distribute.chief_dir(target, strategy) as folder:
        (folder / "model.keras").write_text("x")
        assert (folder == target) is chief
    assert target.is_dir() is chief
    assert folder.exists() is chief


def test_training_under_the_cpu_strategy_with_xla():
    strategy, jit_compile = flags.apply_training_flags(
        parse(["--strategy", "cpu", "--xla", "--no-mixed-precision"]), log=None
    )
    with strategy.scope():
        model = keras.Sequential(
            [keras.Input((4, 4, 8)), keras_se.SqueezeExcite2D(ratio=4)]
        )
        model.compile("sgd", "mse", jit_compile=jit_compile)
    x = np.random.default_rng(0).random((8, 4, 4, 8), "float32")
    model.fit(x, x, batch_size=4, epochs=1, verbose=0)
    assert model.jit_compile is True
    assert model.distribute_strategy is strategy
