"""Train an SE model on one device, several GPUs or several machines.

The model gets its Squeeze-and-Excitation blocks from the keras_se layers
(`--se layers`) or from `keras_se.wrap_with_se` (`--se wrap`). Training runs
on one device, under a `tf.distribute` strategy (`--strategy mirrored`,
`multiworker`, `cpu`) or, on JAX, under Keras's own
`keras.distribution.DataParallel` (`--strategy data-parallel`), optionally
with mixed precision (`--mixed-precision`) and XLA (`--xla`); on a machine
without a GPU it falls back to the CPU and says so. The data pipeline is
`tf.data` (the `keras-se[tensorflow]` extra), whatever the Keras backend.
Every epoch writes a `.keras` checkpoint (`--resume` continues from the
newest) and TensorBoard logs; the end prints the test accuracy.

    python examples/train.py                                   # digits, offline
    python examples/train.py --dataset cifar10 --model resnet --epochs 30
    python examples/train.py --data-dir photos/ --model MobileNetV2 --se wrap
    python examples/train.py --mixed-precision --xla --batch-size 256
    KERAS_BACKEND=jax python examples/train.py --strategy data-parallel
    python examples/launch_multiworker.py --workers 2 -- \\
        python examples/train.py --strategy multiworker

Outputs go to `--output-dir` (default `runs/train`): `checkpoints/`,
`logs/` (`tensorboard --logdir runs/train/logs`), `model.keras` and
`results.json`. In a multi-worker run only the chief (worker 0) writes
there; the other workers write to temporary folders, removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from keras_se.demo.flags import add_training_flags

    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", choices=("digits", "cifar10"), default="digits")
    data.add_argument(
        "--data-dir",
        help="a folder of images, one subfolder per class (replaces --dataset)",
    )
    data.add_argument("--test-dir", help="with --data-dir: a separate test folder")
    data.add_argument("--image-size", type=positive_int, help="resize images to NxN")
    data.add_argument("--validation-split", type=float, default=0.1)
    data.add_argument(
        "--cache", default="memory", help="'memory', 'none' or a file prefix"
    )
    data.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="random flips and shifts (default: on, except for the digits)",
    )
    model = parser.add_argument_group("model")
    model.add_argument(
        "--model",
        default="cnn",
        help="cnn, resnet, or a keras.applications name such as ResNet50",
    )
    model.add_argument(
        "--se",
        choices=("layers", "wrap", "none"),
        default=None,
        help="SE from the layers, from wrap_with_se, or none (default: layers "
        "for cnn/resnet, wrap for keras.applications models)",
    )
    model.add_argument("--ratio", type=positive_int, default=8, help="SE reduction")
    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=positive_int, default=10)
    train.add_argument(
        "--batch-size", type=positive_int, default=64, help="per replica"
    )
    train.add_argument("--learning-rate", type=float, default=1e-3)
    train.add_argument("--seed", type=int, default=0)
    add_training_flags(train)
    out = parser.add_argument_group("output")
    out.add_argument("--output-dir", default="runs/train")
    out.add_argument(
        "--resume", action="store_true", help="continue from the newest checkpoint"
    )
    out.add_argument("--keep-checkpoints", type=positive_int, default=3)
    out.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    from example_models import OWN_MODELS, application_names

    if args.model not in OWN_MODELS and args.model not in application_names():
        parser.error(
            f"--model must be cnn, resnet or a keras.applications name such as "
            f"ResNet50, got {args.model!r}"
        )
    if args.se == "layers" and args.model not in OWN_MODELS:
        parser.error(
            f"--se layers needs --model cnn or resnet; {args.model} is "
            "a keras.applications model: use --se wrap"
        )
    return args


def progress(quiet: bool) -> int:
    """`fit`'s verbosity: a progress bar on a terminal, a line per epoch else."""
    if quiet:
        return 0
    return 1 if sys.stdout.isatty() else 2


def build_or_resume(args, splits, jit_compile, checkpoint_dir: Path, chief, log):
    """Returns `(model, initial_epoch, resumed_from)`; call in the scope."""
    import keras
    from checkpointing import checkpoint_policy, checkpoints
    from example_models import OWN_MODELS, build_model

    import keras_se

    found = checkpoints(checkpoint_dir)
    if args.resume and found:
        epoch, path = found[-1]
        # The optimizer state loads only into the same optimizer: with a loss
        # scale (mixed_float16) or without. The checkpoint decides.
        policy = checkpoint_policy(path)
        if policy != keras.config.dtype_policy().name:
            log(f"The checkpoint was trained with {policy}: resuming with it.")
        keras.config.set_dtype_policy(policy)
        model = keras_se.load_model(path)
        if jit_compile != "auto":
            model.jit_compile = jit_compile
        step = int(model.optimizer.iterations.numpy())
        log(f"Resumed from {path} (epoch {epoch}, optimizer step {step}).")
        return model, epoch, str(path)
    if args.resume:
        log(f"No checkpoint in {checkpoint_dir}: starting from scratch.")
    elif found and chief:
        log(f"Starting over: removing {len(found)} checkpoint(s) of an earlier run.")
        for _, path in found:
            path.unlink()
    se = args.se or ("layers" if args.model in OWN_MODELS else "wrap")
    model = build_model(args.model, se, splits.image_shape, splits.num_classes)
    model.compile(
        optimizer=keras.optimizers.Adam(args.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )
    return model, 0, None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The strategy comes first: a multi-worker one must precede any TF work.
    from keras_se.demo import distribute, flags
    from keras_se.errors import MissingDependencyError

    try:
        strategy, jit_compile = flags.apply_training_flags(args)
        from example_data import DatasetUnavailableError, load_splits, make_pipeline
    except (MissingDependencyError, ValueError) as error:
        print(f"train.py: error: {error}", file=sys.stderr)
        return 2
    import keras
    import numpy as np
    from checkpointing import EpochCheckpoint

    import keras_se
    from keras_se.demo.training import EpochTimer

    chief = distribute.is_chief(strategy)
    log = print if chief else (lambda message: None)
    workers = distribute.num_workers(strategy)
    keras.utils.set_random_seed(args.seed)
    try:
        splits = load_splits(
            args.dataset,
            args.data_dir,
            args.image_size,
            args.validation_split,
            args.seed,
            args.test_dir,
        )
    except DatasetUnavailableError as error:
        print(f"train.py: error: {error}", file=sys.stderr)
        return 2
    image_size = args.image_size
    shape = splits.image_shape
    if image_size is not None:
        shape = (image_size, image_size, shape[-1])
    splits.image_shape = shape
    augment = args.augment if args.augment is not None else splits.name != "digits"
    batch_size = distribute.global_batch_size(args.batch_size, strategy)
    pipeline = dict(image_size=image_size, seed=args.seed, cache=args.cache)
    train_ds = make_pipeline(
        splits.train,
        batch_size,
        True,
        augment=augment,
        # One batch shape: XLA compiles once, and no worker runs out first.
        drop_remainder=int(splits.train.cardinality()) >= batch_size,
        **pipeline,
    )
    val_ds = make_pipeline(splits.validation, batch_size, False, **pipeline)
    test_ds = make_pipeline(splits.test, batch_size, False, **pipeline)
    output_dir = Path(args.output_dir)
    with distribute.chief_dir(output_dir, strategy) as write_dir:
        try:
            with distribute.strategy_scope(strategy):
                model, initial_epoch, resumed_from = build_or_resume(
                    args, splits, jit_compile, output_dir / "checkpoints", chief, log
                )
        except ValueError as error:  # e.g. images too small for the model
            hint = " Resize them with --image-size." if "at least" in str(error) else ""
            print(f"train.py: error: {error}{hint}", file=sys.stderr)
            return 2
        log(f"Devices: {distribute.describe_devices()}")
        log(
            f"Strategy: {distribute.strategy_name(strategy)} "
            f"({distribute.num_replicas(strategy)} replica(s), {workers} worker(s)); "
            f"precision: {keras.config.dtype_policy().name}; XLA: {jit_compile}; "
            f"global batch size: {batch_size}"
        )
        se_blocks = sum(
            isinstance(layer, keras_se.SqueezeExcite2D) for layer in model.layers
        )
        log(
            f"Model: {model.name}, {model.count_params():,} params, "
            f"{se_blocks} SE blocks"
        )
        timer = EpochTimer()
        callbacks = [
            EpochCheckpoint(write_dir / "checkpoints", args.keep_checkpoints),
            keras.callbacks.TensorBoard(str(write_dir / "logs")),
            timer,
        ]
        model.fit(
            train_ds,
            validation_data=val_ds,
            epochs=args.epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            shuffle=False,  # the pipeline shuffles
            verbose=progress(args.quiet or not chief),
        )
        _, accuracy = model.evaluate(test_ds, verbose=0)
        model_path = keras_se.save_model(model, write_dir / "model.keras")
        if workers > 1:
            # Gradients are all-reduced, so the trainable weights agree; the
            # BatchNormalization moving statistics are each worker's own.
            weights = [v.numpy() for v in model.trainable_weights]
            checksum = sum(float(np.abs(w).astype("float64").sum()) for w in weights)
            print(f"trainable weights checksum: {checksum:.6f} (same on every worker)")
    log(f"test accuracy: {accuracy:.4f}")
    if not chief:
        return 0
    results = {
        "dataset": splits.name,
        "model": model.name,
        "params": model.count_params(),
        "test_accuracy": float(accuracy),
        "epochs": args.epochs,
        "initial_epoch": initial_epoch,
        "resumed_from": resumed_from,
        "seconds_per_epoch": statistics.median(timer.seconds)
        if timer.seconds
        else None,
        "strategy": distribute.strategy_name(strategy),
        "replicas": distribute.num_replicas(strategy),
        "workers": workers,
        "precision": keras.config.dtype_policy().name,
        "jit_compile": model.jit_compile,
    }
    (output_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"Saved the model to {model_path}")
    print(f"Saved the results to {output_dir / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
