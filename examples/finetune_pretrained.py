"""Add SE blocks to a pretrained keras.applications model and fine-tune it.

1. Load a `keras.applications` model (ImageNet weights, or a local weights
   file) without its top, add a classifier for the folder's classes and
   train that classifier with the base frozen (`--head-epochs`).
2. `keras_se.wrap_with_se(model, identity_init=True)`: every SE block starts
   as the identity, so the wrapped model predicts exactly what the model
   did. The accuracy is printed before and right after wrapping: the same.
3. Train the SE blocks and the classifier with the base frozen
   (`--se-epochs`), then everything but the BatchNormalization layers at a
   low learning rate (`--finetune-epochs`), and print the accuracy.

    python examples/finetune_pretrained.py --data-dir flowers/ --model ResNet50
    python examples/finetune_pretrained.py --data-dir flowers/ \\
        --weights ~/resnet50_notop.h5          # offline: a local weights file
    python examples/finetune_pretrained.py --data-dir tiny/ --weights none \\
        --model MobileNetV2 --image-size 32    # random weights, a quick try

The folder holds one subfolder of images per class; `--validation-split`
of them are held out to measure the accuracy (or pass `--test-dir`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import types
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))


class WeightsUnavailableError(RuntimeError):
    """The pretrained weights could not be loaded."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from keras_se.demo.flags import add_training_flags

    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data-dir", required=True, help="one subfolder of images per class"
    )
    parser.add_argument("--test-dir", help="a separate folder to measure accuracy on")
    parser.add_argument("--model", default="ResNet50", help="a keras.applications name")
    parser.add_argument(
        "--weights",
        default="imagenet",
        help="'imagenet' (a download), a local weights file of the model without "
        "its top, or 'none' (random weights)",
    )
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--validation-split", type=float, default=0.2)
    parser.add_argument("--batch-size", type=int, default=32, help="per replica")
    parser.add_argument("--ratio", type=int, default=16, help="SE reduction")
    parser.add_argument(
        "--placement", default="auto", help="wrap_with_se placement (auto, ...)"
    )
    parser.add_argument("--head-epochs", type=int, default=2)
    parser.add_argument("--se-epochs", type=int, default=3)
    parser.add_argument("--finetune-epochs", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--finetune-learning-rate", type=float, default=1e-5)
    parser.add_argument(
        "--augment", action=argparse.BooleanOptionalAction, default=True
    )
    parser.add_argument("--cache", default="memory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default="runs/finetune")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    add_training_flags(parser)
    return parser.parse_args(argv)


def preprocessing_for(name: str):
    """The `preprocess_input` of the `keras.applications` module of `name`."""
    import keras

    constructor = getattr(keras.applications, name)
    for module in vars(keras.applications).values():
        if (
            isinstance(module, types.ModuleType)
            and getattr(module, name, None) is constructor
            and hasattr(module, "preprocess_input")
        ):
            return module.preprocess_input
    raise ValueError(f"No preprocess_input found for keras.applications.{name}.")


def build_classifier(name: str, weights: str, shape, num_classes: int):
    """`(model, base_layer_names)`: the pretrained base with a new head."""
    import keras

    if weights not in ("imagenet", "none") and not Path(weights).is_file():
        raise WeightsUnavailableError(f"No such weights file: {weights}")
    try:
        base = getattr(keras.applications, name)(
            weights=None if weights == "none" else weights,
            include_top=False,
            input_shape=shape,
            pooling="avg",
        )
    except Exception as error:  # get_file raises a bare Exception offline.
        if weights != "imagenet":
            raise
        raise WeightsUnavailableError(
            f"Could not download the ImageNet weights of {name} (no network?): "
            f"{' '.join(str(error).split())[:200]}. Pass `--weights FILE` (the "
            "model's weights without its top, e.g. a .h5 from "
            "https://storage.googleapis.com/tensorflow/keras-applications/) or "
            "`--weights none`."
        ) from error
    x = keras.layers.Dropout(0.2, name="head_dropout")(base.output)
    outputs = keras.layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="classes"
    )(x)
    model = keras.Model(base.inputs, outputs, name=f"{base.name}_classifier")
    return model, {layer.name for layer in base.layers}


def set_trainable(model, base_names: set[str], base: bool) -> None:
    """Freezes the base (or only its BatchNormalization layers, if `base`)."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False  # inference-mode statistics, always
        else:
            layer.trainable = base or layer.name not in base_names


def compile_model(model, learning_rate: float, jit_compile) -> None:
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from keras_se.demo import distribute, flags

    strategy, jit_compile = flags.apply_training_flags(args)
    import keras
    import numpy as np
    import tensorflow as tf
    from example_data import DatasetUnavailableError, load_folder_splits, make_pipeline

    import keras_se

    # Each phase compiles anew, which TensorFlow would warn about as retracing.
    tf.get_logger().setLevel("ERROR")
    chief = distribute.is_chief(strategy)
    log = print if chief else (lambda message: None)
    keras.utils.set_random_seed(args.seed)
    try:
        splits = load_folder_splits(
            args.data_dir,
            args.image_size,
            args.validation_split,
            args.seed,
            args.test_dir,
            scale=False,
        )
    except DatasetUnavailableError as error:
        print(f"finetune_pretrained.py: error: {error}", file=sys.stderr)
        return 2
    batch_size = distribute.global_batch_size(args.batch_size, strategy)
    options = dict(seed=args.seed, cache=args.cache)
    options["map_fn"] = preprocessing_for(args.model)
    train_ds = make_pipeline(
        splits.train, batch_size, True, augment=args.augment, **options
    )
    test_ds = make_pipeline(splits.test, batch_size, False, **options)
    log(f"Devices: {distribute.describe_devices()}")
    log(
        f"{splits.num_classes} classes; "
        f"strategy: {distribute.strategy_name(strategy)}; "
        f"precision: {keras.config.dtype_policy().name}; XLA: {jit_compile}"
    )
    verbose = 0 if args.quiet or not chief else 2
    fit = dict(validation_data=test_ds, verbose=verbose, shuffle=False)

    with strategy.scope():
        try:
            model, base_names = build_classifier(
                args.model, args.weights, splits.image_shape, splits.num_classes
            )
        except WeightsUnavailableError as error:
            print(f"finetune_pretrained.py: error: {error}", file=sys.stderr)
            return 2
        set_trainable(model, base_names, base=False)
        compile_model(model, args.learning_rate, jit_compile)
    if args.head_epochs:
        log(f"Training the classifier, base frozen: {args.head_epochs} epoch(s).")
        model.fit(train_ds, epochs=args.head_epochs, **fit)
    _, before = model.evaluate(test_ds, verbose=0)
    predictions = model.predict(test_ds, verbose=0)

    with strategy.scope():
        wrapped = keras_se.wrap_with_se(
            model, ratio=args.ratio, placement=args.placement, identity_init=True
        )
        set_trainable(wrapped, base_names, base=False)
        compile_model(wrapped, args.learning_rate, jit_compile)
    _, right_after = wrapped.evaluate(test_ds, verbose=0)
    wrapped_predictions = wrapped.predict(test_ds, verbose=0)
    difference = float(np.max(np.abs(wrapped_predictions - predictions)))
    blocks = sum(isinstance(x, keras_se.SqueezeExcite2D) for x in wrapped.layers)
    log(
        f"Wrapped {model.name} with {blocks} SE blocks: {model.count_params():,} -> "
        f"{wrapped.count_params():,} params."
    )
    log(f"accuracy before wrapping: {before:.4f}")
    log(f"accuracy right after wrapping: {right_after:.4f}")
    log(f"max abs difference of the predictions: {difference:.3g}")

    if args.se_epochs:
        log(f"Training the SE blocks and the classifier: {args.se_epochs} epoch(s).")
        wrapped.fit(train_ds, epochs=args.se_epochs, **fit)
    if args.finetune_epochs:
        log(f"Fine-tuning everything: {args.finetune_epochs} epoch(s).")
        with strategy.scope():
            set_trainable(wrapped, base_names, base=True)
            compile_model(wrapped, args.finetune_learning_rate, jit_compile)
        total = args.se_epochs + args.finetune_epochs
        wrapped.fit(train_ds, epochs=total, initial_epoch=args.se_epochs, **fit)
    _, after = wrapped.evaluate(test_ds, verbose=0)
    log(f"accuracy after fine-tuning: {after:.4f}")

    output_dir = Path(args.output_dir)
    with distribute.chief_dir(output_dir, strategy) as write_dir:
        path = keras_se.save_model(wrapped, write_dir / f"{wrapped.name}_se.keras")
    if chief:
        results = dict(
            model=args.model,
            weights=args.weights,
            se_blocks=blocks,
            accuracy_before_wrapping=float(before),
            accuracy_right_after_wrapping=float(right_after),
            max_abs_difference=difference,
            accuracy_after_finetuning=float(after),
        )
        (output_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        print(f"Saved the model to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
