"""The training flags of the examples and `keras-se train`: strategy, precision, XLA.

`add_training_flags` adds `--strategy`, `--mixed-precision` and `--xla` to a
parser; `apply_training_flags` creates the strategy and sets the dtype policy
they ask for. Call it before any other work: a multi-worker strategy must
precede the TensorFlow runtime's start. Nothing here imports TensorFlow unless
a `tf.distribute` strategy is asked for.
"""

from __future__ import annotations

import argparse
from typing import Any

import keras

from keras_se.demo.devices import list_gpus
from keras_se.demo.distribute import STRATEGIES, Log, choose_strategy


def _strategy_uses_gpu(strategy: Any) -> bool:
    has_gpu = bool(list_gpus())
    if strategy is None or not has_gpu:
        return has_gpu
    mesh = getattr(strategy, "device_mesh", None)  # keras.distribution
    if mesh is not None:
        devices = [str(device).lower() for device in mesh.devices.flat]
        return any("gpu" in device or "cuda" in device for device in devices)
    try:
        devices = strategy.extended.worker_devices
    except (AttributeError, RuntimeError, NotImplementedError):
        # The default strategy: TensorFlow places the work on GPU 0.
        return has_gpu
    return any("GPU" in device.upper() for device in devices)


def _gpus_support_float16() -> bool:
    return all((gpu.compute_capability or (0,)) >= (7, 0) for gpu in list_gpus())


def configure_precision(
    mixed_precision: bool | None,
    strategy: Any = None,
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

    >>> keras_se.demo.flags.configure_precision(False)
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
    >>> parser = keras_se.demo.flags.add_training_flags(argparse.ArgumentParser())
    >>> args = parser.parse_args(["--strategy", "cpu", "--xla"])
    >>> args.strategy, args.mixed_precision, args.xla
    ('cpu', None, True)
    """
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="auto",
        help="how to use several devices: auto (TensorFlow: multiworker if "
        "TF_CONFIG has a cluster, mirrored with 2+ GPUs; JAX: data-parallel with "
        "2+ GPUs; else one device), data-parallel (keras.distribution, JAX), "
        "and the tf.distribute ones (TensorFlow): mirrored (all local GPUs), "
        "multiworker (TF_CONFIG), cpu",
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
) -> tuple[Any, bool | str]:
    """Creates the strategy and sets the precision that the flags ask for.

    Args:
        args: parsed arguments with `strategy`, `mixed_precision` and `xla`
            (see `add_training_flags`).
        log: called with the one-line notices (CPU fallback, float16 on CPU).

    Returns:
        `(strategy, jit_compile)`: build and compile the model in
        `keras_se.demo.distribute.strategy_scope(strategy)` and pass
        `jit_compile` to `model.compile`. The strategy is a
        `tf.distribute.Strategy`, a `keras.distribution.DataParallel` or
        `None` (see `keras_se.demo.distribute.choose_strategy`).

    Example:

    >>> import argparse
    >>> from keras_se.demo import distribute, flags
    >>> args = argparse.Namespace(strategy="auto", mixed_precision=False, xla=True)
    >>> strategy, jit_compile = flags.apply_training_flags(args, log=None)
    >>> distribute.num_replicas(strategy), jit_compile, keras.config.dtype_policy().name
    (1, True, 'float32')
    """
    strategy = choose_strategy(args.strategy, log=log)
    configure_precision(args.mixed_precision, strategy, log=log)
    return strategy, "auto" if args.xla is None else bool(args.xla)
