"""`tf.distribute` for the examples and `keras-se train`: strategies and workers.

Choosing a strategy (with a CPU fallback), telling the chief from the other
workers, and where each writes. Create the strategy before any other
TensorFlow work: a multi-worker strategy must precede the runtime's start.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import tensorflow as tf

from keras_se._validation import check_choice

STRATEGIES = ("auto", "mirrored", "multiworker", "cpu")
CPU_FALLBACK = (
    "No GPU found: training on the CPU (mixed precision stays off unless asked for)."
)
Log = Callable[[str], None] | None


class _MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """`MultiWorkerMirroredStrategy` with the two reductions `Model.fit` needs.

    Keras 3 (up to 3.15 at least, keras-team/keras#20585) calls
    `strategy.reduce` on a whole `(x, y)` batch before training, and with
    `axis=0` on the scalar losses and metrics of every step. The collective
    strategy reduces one value at a time and along existing axes only, so
    both fail across workers. This reduces a nested value leaf by leaf and a
    scalar along no axis; every other call is the stock one.
    """

    def reduce(self, reduce_op, value, axis):
        if tf.nest.is_nested(value):
            return tf.nest.map_structure(
                lambda leaf: self.reduce(reduce_op, leaf, axis), value
            )
        if axis is not None and self.experimental_local_results(value)[0].shape == ():
            axis = None
        return super().reduce(reduce_op, value, axis)


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
    """The GPUs and CPU cores TensorFlow sees, in one line.

    e.g. `"1 GPU: NVIDIA H100 (compute capability 9.0); 16 CPU cores"`.
    """
    gpus = tf.config.list_physical_devices("GPU")
    cores = f"{os.cpu_count()} CPU cores"
    if not gpus:
        return f"no GPU; {cores}"
    names = []
    for gpu in gpus:
        details = tf.config.experimental.get_device_details(gpu)
        name = details.get("device_name", gpu.name)
        capability = details.get("compute_capability")
        if capability:
            name += f" (compute capability {capability[0]}.{capability[1]})"
        names.append(name)
    label = "GPU" if len(gpus) == 1 else "GPUs"
    return f"{len(gpus)} {label}: {', '.join(names)}; {cores}"


def choose_strategy(name: str = "auto", log: Log = print) -> tf.distribute.Strategy:
    """Returns the `tf.distribute` strategy called `name`.

    - `"auto"`: `MultiWorkerMirroredStrategy` when `TF_CONFIG` describes a
      cluster of more than one task, `MirroredStrategy` with two or more
      GPUs, else the default strategy (one GPU, or the CPU).
    - `"mirrored"`: `MirroredStrategy` over every local GPU.
    - `"multiworker"`: `MultiWorkerMirroredStrategy`, its cluster read from
      `TF_CONFIG` (one worker when it is unset).
    - `"cpu"`: `OneDeviceStrategy("/cpu:0")`, even where a GPU is present.

    With no GPU, `"auto"` and `"mirrored"` fall back to the CPU and say so
    in one line through `log`. Call this first: a multi-worker strategy must
    be created before the TensorFlow runtime starts.

    Args:
        name: one of `"auto"`, `"mirrored"`, `"multiworker"`, `"cpu"`.
        log: called with the one-line CPU fallback notice; `None` for silence.

    Returns:
        The strategy; build and compile the model in its `scope()`.

    Raises:
        ValueError: for an unknown `name` or a `TF_CONFIG` that is not JSON.

    Example:

    >>> strategy = keras_se.demo.distribute.choose_strategy("cpu")
    >>> strategy.num_replicas_in_sync
    1
    """
    check_choice("name", name, STRATEGIES)
    if name == "multiworker" or (name == "auto" and cluster_size() > 1):
        return _MultiWorkerMirroredStrategy()
    if name == "cpu":
        return tf.distribute.OneDeviceStrategy("/cpu:0")
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        if log is not None:
            log(CPU_FALLBACK)
        return tf.distribute.get_strategy()
    if name == "mirrored" or len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    # One GPU: the default strategy keeps Keras's own choices (XLA included).
    return tf.distribute.get_strategy()


def strategy_name(strategy: tf.distribute.Strategy) -> str:
    """A short name: `"MirroredStrategy"`, ..., `"default"` for no strategy."""
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return "MultiWorkerMirroredStrategy"
    name = type(strategy).__name__
    return "default" if name == "_DefaultDistributionStrategy" else name


def num_workers(strategy: tf.distribute.Strategy | None = None) -> int:
    """The number of processes training together; 1 outside a cluster."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return 1
    spec = resolver.cluster_spec().as_dict()
    return max(1, sum(len(spec.get(kind, ())) for kind in ("chief", "worker")))


def is_chief(strategy: tf.distribute.Strategy | None = None) -> bool:
    """Whether this process writes the real checkpoints, logs and results.

    In a multi-worker cluster that is the `"chief"` task, or worker 0 when
    the cluster has no chief; outside one, always `True`.

    Example:

    >>> from keras_se.demo import distribute
    >>> distribute.is_chief(distribute.choose_strategy("cpu"))
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
def chief_dir(
    path: str | os.PathLike, strategy: tf.distribute.Strategy | None = None
) -> Iterator[Path]:
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


def global_batch_size(per_replica: int, strategy: tf.distribute.Strategy) -> int:
    """The batch size to feed `model.fit`: `per_replica` times the replicas."""
    return per_replica * strategy.num_replicas_in_sync
