"""Training on several devices for the examples and `keras-se train`.

Two ways, picked by `--strategy`: Keras 3's own `keras.distribution.DataParallel`
(`"data-parallel"`, on the JAX backend, no TensorFlow needed), and the
`tf.distribute` strategies (`"mirrored"`, `"multiworker"`, `"cpu"`, on the
TensorFlow backend, from the `keras-se[tensorflow]` extra). `"auto"` picks by
the backend and the hardware. Also: telling the chief from the other workers,
and where each writes. Create the strategy before any other work: a
multi-worker strategy must precede the TensorFlow runtime's start.

A "strategy" here is a `tf.distribute.Strategy`, a
`keras.distribution.DataParallel`, or `None` (one device, nothing to set up);
the functions below take any of the three.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keras

from keras_se._optional import import_optional
from keras_se._validation import check_choice
from keras_se.demo.devices import list_gpus

STRATEGIES = ("auto", "data-parallel", "mirrored", "multiworker", "cpu")
TF_STRATEGIES = ("mirrored", "multiworker", "cpu")
CPU_FALLBACK = (
    "No GPU found: training on the CPU (mixed precision stays off unless asked for)."
)
Log = Callable[[str], None] | None


def _tensorflow(feature: str):
    return import_optional("tensorflow", feature)


def _multi_worker_strategy():
    """`MultiWorkerMirroredStrategy` with the two reductions `Model.fit` needs.

    Keras 3 (up to 3.15 at least, keras-team/keras#20585) calls
    `strategy.reduce` on a whole `(x, y)` batch before training, and with
    `axis=0` on the scalar losses and metrics of every step. The collective
    strategy reduces one value at a time and along existing axes only, so
    both fail across workers. This reduces a nested value leaf by leaf and a
    scalar along no axis; every other call is the stock one.
    """
    tf = _tensorflow("--strategy multiworker (tf.distribute)")

    class MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        def reduce(self, reduce_op, value, axis):
            if tf.nest.is_nested(value):
                return tf.nest.map_structure(
                    lambda leaf: self.reduce(reduce_op, leaf, axis), value
                )
            local = self.experimental_local_results(value)[0]
            if axis is not None and local.shape == ():
                axis = None
            return super().reduce(reduce_op, value, axis)

    return MultiWorkerMirroredStrategy()


def cluster_size() -> int:
    """The number of tasks in the cluster `TF_CONFIG` describes; 0 if unset.

    Raises:
        ValueError: if `TF_CONFIG` is set but is not JSON.
    """
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return 0
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            '`TF_CONFIG` must be JSON, e.g. {"cluster": {"worker": ["host1:port", '
            f'"host2:port"]}}, "task": {{"type": "worker", "index": 0}}}}. '
            f"Received: TF_CONFIG={text!r}"
        ) from error
    return sum(len(tasks) for tasks in config.get("cluster", {}).values())


def describe_devices() -> str:
    """The GPUs and CPU cores training can use, in one line.

    e.g. `"1 GPU: NVIDIA H100 (compute capability 9.0); 16 CPU cores"`.
    """
    gpus = list_gpus()
    cores = f"{os.cpu_count()} CPU cores"
    if not gpus:
        return f"no GPU; {cores}"
    names = []
    for gpu in gpus:
        name = gpu.name
        if gpu.compute_capability:
            name += " (compute capability {}.{})".format(*gpu.compute_capability)
        names.append(name)
    label = "GPU" if len(gpus) == 1 else "GPUs"
    return f"{len(gpus)} {label}: {', '.join(names)}; {cores}"


def _data_parallel(log: Log) -> keras.distribution.DataParallel:
    backend = keras.backend.backend()
    if backend != "jax":
        raise ValueError(
            "`--strategy data-parallel` (keras.distribution) runs on the JAX "
            f"backend: set KERAS_BACKEND=jax (this is {backend!r}), or use "
            "`--strategy mirrored` on TensorFlow."
        )
    if not list_gpus() and log is not None:
        log(CPU_FALLBACK)
    distribution = keras.distribution.DataParallel(
        devices=keras.distribution.list_devices()
    )
    # Global, not only a scope: `fit` shards each batch by the current one.
    keras.distribution.set_distribution(distribution)
    return distribution


def choose_strategy(name: str = "auto", log: Log = print) -> Any:
    """Returns the strategy called `name`: what spreads training over devices.

    - `"auto"`: on TensorFlow, `MultiWorkerMirroredStrategy` when `TF_CONFIG`
      describes a cluster of more than one task, `MirroredStrategy` with two
      or more GPUs, else the default strategy; on JAX, `"data-parallel"` with
      two or more GPUs; else `None` (one device).
    - `"data-parallel"`: `keras.distribution.DataParallel` over every local
      device (JAX only), set as the current distribution. On the CPU,
      `XLA_FLAGS=--xla_force_host_platform_device_count=N` makes N devices.
    - `"mirrored"`: `tf.distribute.MirroredStrategy` over every local GPU.
    - `"multiworker"`: `MultiWorkerMirroredStrategy`, its cluster read from
      `TF_CONFIG` (one worker when it is unset).
    - `"cpu"`: `tf.distribute.OneDeviceStrategy("/cpu:0")`, even with a GPU.

    The last three are `tf.distribute`: they need the TensorFlow backend.
    With no GPU, `"auto"`, `"data-parallel"` and `"mirrored"` run on the CPU
    and say so in one line through `log`.

    Args:
        name: one of `STRATEGIES`.
        log: called with the one-line CPU fallback notice; `None` for silence.

    Returns:
        A `tf.distribute.Strategy`, a `keras.distribution.DataParallel` or
        `None`; build and compile the model in `strategy_scope(strategy)`.

    Raises:
        ValueError: for an unknown `name`, a `TF_CONFIG` that is not JSON, or
            a strategy the current Keras backend cannot run.
        MissingDependencyError: for a `tf.distribute` strategy without
            TensorFlow installed.

    Example:

    >>> strategy = keras_se.demo.distribute.choose_strategy("auto", log=None)
    >>> keras_se.demo.distribute.num_replicas(strategy)
    1
    """
    check_choice("name", name, STRATEGIES)
    backend = keras.backend.backend()
    multiworker = name == "multiworker" or (
        name == "auto" and backend == "tensorflow" and cluster_size() > 1
    )
    if name in TF_STRATEGIES or multiworker:
        tf = _tensorflow(f"--strategy {name} (tf.distribute)")
        if backend != "tensorflow":
            raise ValueError(
                f"`--strategy {name}` is a tf.distribute strategy: it needs "
                f"KERAS_BACKEND=tensorflow (this is {backend!r}). On JAX, use "
                "`--strategy data-parallel`."
            )
    if name == "data-parallel" or (
        name == "auto" and backend == "jax" and len(list_gpus()) > 1
    ):
        return _data_parallel(log)
    if multiworker:
        return _multi_worker_strategy()
    if name == "cpu":
        return tf.distribute.OneDeviceStrategy("/cpu:0")
    gpus = list_gpus()
    if not gpus and log is not None:
        log(CPU_FALLBACK)
    if backend != "tensorflow":
        return None
    tf = _tensorflow("tf.distribute")
    if gpus and (name == "mirrored" or len(gpus) > 1):
        return tf.distribute.MirroredStrategy()
    # One GPU or none: the default strategy keeps Keras's own choices (XLA too).
    return tf.distribute.get_strategy()


def strategy_scope(strategy: Any) -> contextlib.AbstractContextManager:
    """The scope to build and compile the model in; nothing for `None`."""
    return contextlib.nullcontext() if strategy is None else strategy.scope()


def strategy_name(strategy: Any) -> str:
    """A short name: `"MirroredStrategy"`, `"DataParallel"`, `"default"`, ..."""
    if strategy is None:
        return "default"
    if "MultiWorkerMirroredStrategy" in {c.__name__ for c in type(strategy).__mro__}:
        return "MultiWorkerMirroredStrategy"
    name = type(strategy).__name__
    return "default" if name == "_DefaultDistributionStrategy" else name


def num_replicas(strategy: Any) -> int:
    """How many copies of the model train together (one per device)."""
    if strategy is None:
        return 1
    mesh = getattr(strategy, "device_mesh", None)  # keras.distribution
    if mesh is not None:
        return int(mesh.devices.size)
    return int(strategy.num_replicas_in_sync)


def num_workers(strategy: Any = None) -> int:
    """The number of processes training together; 1 outside a cluster."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return int(getattr(strategy, "num_processes", 1))
    spec = resolver.cluster_spec().as_dict()
    return max(1, sum(len(spec.get(kind, ())) for kind in ("chief", "worker")))


def is_chief(strategy: Any = None) -> bool:
    """Whether this process writes the real checkpoints, logs and results.

    In a `tf.distribute` multi-worker cluster that is the `"chief"` task, or
    worker 0 when the cluster has no chief; outside one, always `True`.

    Example:

    >>> keras_se.demo.distribute.is_chief(None)
    True
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type is None:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


@contextlib.contextmanager
def chief_dir(path: str | os.PathLike, strategy: Any = None) -> Iterator[Path]:
    """Yields where this worker writes: `path` on the chief, else a temp dir.

    Every worker of a multi-worker run must save (saving can involve
    collective operations), but only the chief's files are kept: the
    others write to a temporary folder that is removed on exit.

    Example:

    >>> with keras_se.demo.distribute.chief_dir(tmp_dir / "run") as folder:
    ...     folder == tmp_dir / "run"
    True
    """
    if is_chief(strategy):
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    task_id = strategy.cluster_resolver.task_id
    folder = Path(tempfile.mkdtemp(prefix=f"keras_se_worker{task_id}_"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def global_batch_size(per_replica: int, strategy: Any) -> int:
    """The batch size to feed `model.fit`: `per_replica` times the replicas."""
    return per_replica * num_replicas(strategy)
