"""keras_se.demo.distribute and flags: the strategy, precision and XLA flags.

The tests not marked `tensorflow` run on any backend without TensorFlow. The
multi-worker strategy itself is exercised by `test_launch_multiworker.py`: it
can only be created in a fresh process.
"""

from __future__ import annotations

import argparse
import importlib.util

import keras
import numpy as np
import pytest

import keras_se
from keras_se.demo import distribute, flags
from keras_se.errors import MissingDependencyError
from tests.conftest import run_python


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(distribute, "list_gpus", list)
    monkeypatch.setattr(flags, "list_gpus", list)


def parse(argv):
    return flags.add_training_flags(argparse.ArgumentParser()).parse_args(argv)


def test_flags_default_to_deciding_by_the_hardware():
    args = parse([])
    assert (args.strategy, args.mixed_precision, args.xla) == ("auto", None, None)
    args = parse(["--strategy", "data-parallel", "--no-mixed-precision", "--no-xla"])
    assert (args.strategy, args.mixed_precision, args.xla) == (
        "data-parallel",
        False,
        False,
    )


def test_auto_without_gpu_falls_back_to_the_cpu_in_one_line(no_gpu):
    lines = []
    strategy, jit_compile = flags.apply_training_flags(parse(["--xla"]), lines.append)
    assert lines == [distribute.CPU_FALLBACK]
    assert distribute.strategy_name(strategy) == "default" and jit_compile is True
    assert distribute.num_replicas(strategy) == 1
    assert distribute.global_batch_size(32, strategy) == 32
    assert keras.config.dtype_policy().name == "float32"


def test_mixed_precision_on_the_cpu_only_when_asked(no_gpu):
    lines = []
    assert flags.configure_precision(None, None, log=lines.append) == "float32"
    assert lines == []
    assert flags.configure_precision(True, None, log=lines.append) == "mixed_float16"
    assert keras.config.dtype_policy().name == "mixed_float16"
    assert len(lines) == 1 and "slower than float32" in lines[0]


def test_mixed_precision_by_default_only_on_tensor_core_gpus(monkeypatch):
    from keras_se.demo.devices import Gpu

    old = [Gpu("P100", (6, 0))]
    new = [Gpu("H100", (9, 0)), Gpu("A100", (8, 0))]
    for gpus, policy in ((old, "float32"), (new, "mixed_float16")):
        monkeypatch.setattr(flags, "list_gpus", lambda gpus=gpus: gpus)
        assert flags.configure_precision(None, None, log=None) == policy


def test_describe_devices_names_the_gpus(monkeypatch):
    from keras_se.demo.devices import Gpu

    monkeypatch.setattr(distribute, "list_gpus", lambda: [Gpu("H100", (9, 0))])
    monkeypatch.setattr(distribute.os, "cpu_count", lambda: 16)
    assert distribute.describe_devices() == (
        "1 GPU: H100 (compute capability 9.0); 16 CPU cores"
    )


def test_unknown_strategy_and_bad_tf_config(monkeypatch):
    with pytest.raises(ValueError, match="`name` must be one of"):
        distribute.choose_strategy("tpu")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="`TF_CONFIG` must be JSON"):
        distribute.cluster_size()
    cluster = '{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"index": 0}}'
    monkeypatch.setenv("TF_CONFIG", cluster)
    assert distribute.cluster_size() == 2


def test_data_parallel_off_jax_says_what_to_use(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    with pytest.raises(ValueError) as info:
        distribute.choose_strategy("data-parallel")
    message = str(info.value)
    assert "KERAS_BACKEND=jax (this is 'torch')" in message
    assert "--strategy mirrored" in message and "\n" not in message


@pytest.mark.parametrize("name", distribute.TF_STRATEGIES)
def test_tf_distribute_strategies_off_tensorflow_fail_in_one_line(name, monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    expected = ValueError
    if importlib.util.find_spec("tensorflow") is None:
        expected = MissingDependencyError
    with pytest.raises(expected) as info:
        distribute.choose_strategy(name)
    message = str(info.value)
    assert "\n" not in message
    if expected is MissingDependencyError:
        assert "pip install 'keras-se[tensorflow]'" in message
    else:
        assert "KERAS_BACKEND=tensorflow (this is 'jax')" in message


class _ClusterSpec:
    def __init__(self, cluster):
        self._cluster = cluster

    def as_dict(self):
        return self._cluster


class _Resolver:
    def __init__(self, task_type, task_id, cluster):
        self.task_type, self.task_id, self._cluster = task_type, task_id, cluster

    def cluster_spec(self):
        return _ClusterSpec(self._cluster)


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


@pytest.mark.tensorflow
def test_training_under_the_cpu_strategy_with_xla():
    strategy, jit_compile = flags.apply_training_flags(
        parse(["--strategy", "cpu", "--xla", "--no-mixed-precision"]), log=None
    )
    assert distribute.strategy_name(strategy) == "OneDeviceStrategy"
    assert distribute.num_replicas(strategy) == 1
    with distribute.strategy_scope(strategy):
        model = keras.Sequential(
            [keras.Input((4, 4, 8)), keras_se.SqueezeExcite2D(ratio=4)]
        )
        model.compile("sgd", "mse", jit_compile=jit_compile)
    x = np.random.default_rng(0).random((8, 4, 4, 8), "float32")
    model.fit(x, x, batch_size=4, epochs=1, verbose=0)
    assert model.jit_compile is True
    assert model.distribute_strategy is strategy


DATA_PARALLEL = """
import json
import keras
import numpy as np
import keras_se
from keras_se.demo import distribute

rng = np.random.default_rng(0)
x = rng.random((16, 4, 4, 8), "float32")
y = rng.random((16, 2), "float32")


def train(strategy):
    keras.utils.set_random_seed(0)
    with distribute.strategy_scope(strategy):
        model = keras.Sequential([
            keras.Input((4, 4, 8)),
            keras_se.SqueezeExcite2D(ratio=4),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2),
        ])
        model.compile(keras.optimizers.SGD(0.5), "mse")
    start = [np.asarray(w) for w in model.get_weights()]
    model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    return model, start


def largest_difference(a, b):
    pairs = zip(a, b)
    return max(float(np.max(np.abs(np.asarray(u) - np.asarray(v)))) for u, v in pairs)


one, start = train(None)
lines = []
strategy = distribute.choose_strategy("data-parallel", log=lines.append)
two, _ = train(strategy)
print(json.dumps({
    "name": distribute.strategy_name(strategy),
    "replicas": distribute.num_replicas(strategy),
    "global_batch": distribute.global_batch_size(4, strategy),
    "lines": lines,
    "kernel_devices": len(two.layers[0].weights[0].value.sharding.device_set),
    "moved": largest_difference(start, one.get_weights()),
    "difference": largest_difference(one.get_weights(), two.get_weights()),
}))
"""


@pytest.mark.large
@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="needs JAX: pip install jax"
)
def test_data_parallel_on_two_jax_cpu_devices_trains_like_one_device():
    result = run_python(
        DATA_PARALLEL,
        backend="jax",
        env={
            "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
            "CUDA_VISIBLE_DEVICES": "",
        },
    )
    assert result["name"] == "DataParallel" and result["replicas"] == 2
    assert result["global_batch"] == 8 and result["kernel_devices"] == 2
    assert result["lines"] == [distribute.CPU_FALLBACK]
    # Each batch of 8 is split 4 + 4 across the devices and the gradients are
    # combined: the weights end where one device's training ends.
    assert result["moved"] > 1e-2
    assert result["difference"] < 1e-5
