"""Training set-up: a `tf.distribute` strategy, mixed precision and XLA.

Shared by the examples and `keras-se train` through three flags: `--strategy`,
`--mixed-precision` and `--xla`. Create the strategy before any other
TensorFlow work: a multi-worker strategy must precede the runtime's start.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import keras
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

    >>> strategy = keras_se.distribute.choose_strategy("cpu")
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


def _strategy_uses_gpu(strategy: tf.distribute.Strategy | None) -> bool:
    has_gpu = bool(tf.config.list_physical_devices("GPU"))
    if strategy is None or not has_gpu:
        return has_gpu
    try:
        devices = strategy.extended.worker_devices
    except (AttributeError, RuntimeError, NotImplementedError):
        # The default strategy: TensorFlow places the work on GPU 0.
        return has_gpu
    return any("GPU" in device.upper() for device in devices)


def _gpus_support_float16() -> bool:
    details = map(
        tf.config.experimental.get_device_details,
        tf.config.list_physical_devices("GPU"),
    )
    return all(tuple(d.get("compute_capability") or (0,)) >= (7, 0) for d in details)


def configure_precision(
    mixed_precision: bool | None,
    strategy: tf.distribute.Strategy | None = None,
    log: Log = print,
) -> str:
    """Sets Keras's global dtype policy for training; returns its name.

    Args:
        mixed_precision: `True` for `"mixed_float16"`, `False` for
            `"float32"`, `None` to decide: mixed precision on GPUs with
            float16 tensor cores (compute capability 7.0 or more), float32
            on the CPU.
        strategy: the strategy the model will train under; it tells whether
            training runs on GPUs. `None`: any visible GPU counts.
        log: called with a one-line note when mixed precision is asked for on
            the CPU (it works there, but is usually slower than float32).

    Returns:
        `"mixed_float16"` or `"float32"`. Layers created afterwards use it;
        `model.compile` then scales the loss by itself.

    Example:

    >>> keras_se.distribute.configure_precision(False)
    'float32'
    """
    on_gpu = _strategy_uses_gpu(strategy)
    if mixed_precision is None:
        mixed_precision = on_gpu and _gpus_support_float16()
    elif mixed_precision and not on_gpu and log is not None:
        log("mixed_float16 on the CPU: it works, but is usually slower than float32.")
    policy = "mixed_float16" if mixed_precision else "float32"
    keras.config.set_dtype_policy(policy)
    return policy


def add_training_flags(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Adds `--strategy`, `--mixed-precision` and `--xla` to `parser`.

    `--mixed-precision`/`--no-mixed-precision` and `--xla`/`--no-xla` default
    to `None`, "decide by the hardware": mixed precision on recent GPUs,
    and Keras's own `jit_compile="auto"` (XLA on one GPU, off on the CPU and
    under `tf.distribute`).

    Args:
        parser: the parser (or argument group) to add the flags to.

    Returns:
        `parser`.

    Example:

    >>> import argparse
    >>> parser = keras_se.distribute.add_training_flags(argparse.ArgumentParser())
    >>> args = parser.parse_args(["--strategy", "cpu", "--xla"])
    >>> args.strategy, args.mixed_precision, args.xla
    ('cpu', None, True)
    """
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="auto",
        help="tf.distribute strategy: auto (multi-worker if TF_CONFIG has a "
        "cluster, mirrored with 2+ GPUs, else one device), mirrored (all local "
        "GPUs), multiworker (TF_CONFIG), cpu",
    )
    parser.add_argument(
        "--mixed-precision",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="compute in float16 with float32 weights (mixed_float16); "
        "default: on with a GPU of compute capability 7.0+, off on the CPU",
    )
    parser.add_argument(
        "--xla",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="compile the train step with XLA (jit_compile=True); default: "
        "Keras's 'auto'",
    )
    return parser


def apply_training_flags(
    args: argparse.Namespace, log: Log = print
) -> tuple[tf.distribute.Strategy, bool | str]:
    """Creates the strategy and sets the precision that the flags ask for.

    Args:
        args: parsed arguments with `strategy`, `mixed_precision` and `xla`
            (see `add_training_flags`).
        log: called with the one-line notices (CPU fallback, float16 on CPU).

    Returns:
        `(strategy, jit_compile)`: build and compile the model in
        `strategy.scope()` and pass `jit_compile` to `model.compile`.

    Example:

    >>> import argparse
    >>> args = argparse.Namespace(strategy="cpu", mixed_precision=False, xla=True)
    >>> strategy, jit_compile = keras_se.distribute.apply_training_flags(args)
    >>> type(strategy).__name__, jit_compile, keras.config.dtype_policy().name
    ('OneDeviceStrategy', True, 'float32')
    """
    strategy = choose_strategy(args.strategy, log=log)
    configure_precision(args.mixed_precision, strategy, log=log)
    return strategy, "auto" if args.xla is None else bool(args.xla)


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

    >>> keras_se.distribute.is_chief(keras_se.distribute.choose_strategy("cpu"))
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

    >>> with keras_se.distribute.chief_dir(tmp_dir / "run") as folder:
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
