"""Add SE blocks to a KerasHub image classifier and fine-tune it.

1. `keras_hub.models.ImageClassifier.from_preset(--preset, num_classes=N)`:
   the preset's pretrained backbone, its preprocessor (resizing and scaling,
   so the images go in as they are) and a new head for the folder's N
   classes. Train the head with the backbone frozen (`--head-epochs`).
2. `keras_se.wrap_with_se(classifier)`: the same classifier class around a
   copy of the backbone with SE blocks that start as the identity, so the
   accuracy right after wrapping is the accuracy before (both printed).
3. Train the SE blocks and the head with the rest frozen (`--se-epochs`),
   then everything but the BatchNormalization layers at a low learning rate
   (`--finetune-epochs`), and print the accuracy. The classifier is saved as
   a `.keras` file that `keras.saving.load_model` reads back after
   `import keras_se` (and keras_hub).

    python examples/finetune_keras_hub.py --data-dir flowers/ \\
        --preset resnet_50_imagenet                 # a download (Kaggle)
    python examples/finetune_keras_hub.py --data-dir flowers/ \\
        --preset ~/presets/resnet_50_imagenet       # a preset folder, offline
    python examples/finetune_keras_hub.py --data-dir tiny/ \\
        --backbone-config tiny_resnet.json --image-size 32   # random init

`--backbone-config` names a JSON file `{"class_name": "ResNetBackbone",
"config": {...}}`: a `keras_hub.models` backbone class and its constructor
arguments (what `backbone.get_config()` returns), built with random weights
and no download; the classifier and preprocessor are the backbone's own
`ImageClassifier` class, resizing to `--image-size`.

The folder holds one subfolder of images per class; `--validation-split` of
them are held out to measure the accuracy (or pass `--test-dir`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))


class PresetUnavailableError(RuntimeError):
    """The preset or backbone config could not be loaded."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data-dir", required=True, help="one subfolder of images per class"
    )
    parser.add_argument("--test-dir", help="a separate folder to measure accuracy on")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--preset",
        default="resnet_50_imagenet",
        help="a KerasHub image classifier preset name, or a local preset folder",
    )
    source.add_argument(
        "--backbone-config",
        help="a JSON file {class_name, config} of a keras_hub.models backbone: "
        "random weights, no download",
    )
    parser.add_argument(
        "--image-size",
        type=int,
        default=224,
        help="the size images are loaded at (and, with --backbone-config, "
        "resized to by the preprocessor)",
    )
    parser.add_argument("--validation-split", type=float, default=0.2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--ratio", type=int, default=16, help="SE reduction")
    parser.add_argument(
        "--placement", default="auto", help="wrap_with_se placement (auto, ...)"
    )
    parser.add_argument("--head-epochs", type=int, default=2)
    parser.add_argument("--se-epochs", type=int, default=3)
    parser.add_argument("--finetune-epochs", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--finetune-learning-rate", type=float, default=1e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default="runs/finetune_keras_hub")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    return parser.parse_args(argv)


def classifier_from_config(path: str, num_classes: int, image_size: int):
    """The backbone of a JSON config, random init, in its own classifier."""
    import keras_hub

    try:
        spec = json.loads(Path(path).read_text())
        backbone_class = getattr(keras_hub.models, spec["class_name"])
        backbone = backbone_class(**spec["config"])
    except (OSError, ValueError, KeyError, AttributeError, TypeError) as error:
        raise PresetUnavailableError(
            f"Could not build a backbone from {path}: {error}. The file must hold "
            '{"class_name": "<a keras_hub.models backbone>", "config": {...}}.'
        ) from error
    tasks = [
        task
        for task in vars(keras_hub.models).values()
        if isinstance(task, type)
        and issubclass(task, keras_hub.models.ImageClassifier)
        and task.backbone_cls is backbone_class
    ]
    if not tasks:
        raise PresetUnavailableError(
            f"KerasHub has no ImageClassifier for {backbone_class.__name__}."
        )
    task = tasks[0]
    converter = task.preprocessor_cls.image_converter_cls(
        image_size=(image_size, image_size), scale=1 / 255
    )
    return task(
        backbone=backbone,
        num_classes=num_classes,
        preprocessor=task.preprocessor_cls(image_converter=converter),
    )


def classifier_from_preset(preset: str, num_classes: int):
    import keras_hub

    try:
        return keras_hub.models.ImageClassifier.from_preset(
            preset, num_classes=num_classes
        )
    except Exception as error:  # downloads fail with many error types offline
        raise PresetUnavailableError(
            f"Could not load the KerasHub preset {preset!r} (no network, or no "
            f"such preset?): {' '.join(str(error).split())[:200]}. Pass a local "
            "preset folder as `--preset DIR` (one saved with "
            "`classifier.save_to_preset(DIR)` or downloaded beforehand), or "
            "`--backbone-config FILE` for a random-init backbone."
        ) from error


def set_trainable(classifier, phase: str) -> None:
    """`"head"`: only the head; `"se"`: SE blocks and head; `"all"`: all.

    BatchNormalization layers stay frozen (inference-mode statistics)
    throughout, as Keras recommends for fine-tuning.
    """
    import keras

    import keras_se

    classifier.backbone.trainable = True
    for layer in classifier.backbone.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
        elif phase == "se":
            layer.trainable = isinstance(layer, keras_se.SqueezeExcite2D)
        else:
            layer.trainable = phase == "all"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import keras
    import numpy as np
    import tensorflow as tf
    from example_data import DatasetUnavailableError, load_folder_splits, make_pipeline

    import keras_se

    tf.get_logger().setLevel("ERROR")
    keras.utils.set_random_seed(args.seed)
    try:
        splits = load_folder_splits(
            args.data_dir,
            args.image_size,
            args.validation_split,
            args.seed,
            args.test_dir,
            scale=False,  # the classifier's preprocessor scales
        )
    except DatasetUnavailableError as error:
        print(f"finetune_keras_hub.py: error: {error}", file=sys.stderr)
        return 2
    num_classes = len(splits.class_names)
    train_ds = make_pipeline(splits.train, args.batch_size, True, seed=args.seed)
    test_ds = make_pipeline(splits.test, args.batch_size, False)
    verbose = 0 if args.quiet else 2
    fit = dict(validation_data=test_ds, verbose=verbose, shuffle=False)
    try:
        if args.backbone_config:
            classifier = classifier_from_config(
                args.backbone_config, num_classes, args.image_size
            )
        else:
            classifier = classifier_from_preset(args.preset, num_classes)
    except PresetUnavailableError as error:
        print(f"finetune_keras_hub.py: error: {error}", file=sys.stderr)
        return 2
    print(
        f"{num_classes} classes; {type(classifier).__name__} on "
        f"{type(classifier.backbone).__name__}"
    )

    set_trainable(classifier, "head")
    classifier.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    if args.head_epochs:
        print(f"Training the head, backbone frozen: {args.head_epochs} epoch(s).")
        classifier.fit(train_ds, epochs=args.head_epochs, **fit)
    _, before = classifier.evaluate(test_ds, verbose=0)
    predictions = classifier.predict(test_ds, verbose=0)

    wrapped = keras_se.wrap_with_se(
        classifier, ratio=args.ratio, placement=args.placement, identity_init=True
    )
    set_trainable(wrapped, "se")
    wrapped.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    _, right_after = wrapped.evaluate(test_ds, verbose=0)
    difference = float(
        np.max(np.abs(wrapped.predict(test_ds, verbose=0) - predictions))
    )
    blocks = len(keras_se.describe(wrapped))
    print(
        f"Wrapped {classifier.backbone.name} with {blocks} SE blocks: "
        f"{classifier.count_params():,} -> {wrapped.count_params():,} params."
    )
    print(f"accuracy before wrapping: {before:.4f}")
    print(f"accuracy right after wrapping: {right_after:.4f}")
    print(f"max abs difference of the predictions: {difference:.3g}")

    if args.se_epochs:
        print(f"Training the SE blocks and the head: {args.se_epochs} epoch(s).")
        wrapped.fit(train_ds, epochs=args.se_epochs, **fit)
    if args.finetune_epochs:
        print(f"Fine-tuning everything: {args.finetune_epochs} epoch(s).")
        set_trainable(wrapped, "all")
        wrapped.compile(optimizer=keras.optimizers.Adam(args.finetune_learning_rate))
        total = args.se_epochs + args.finetune_epochs
        wrapped.fit(train_ds, epochs=total, initial_epoch=args.se_epochs, **fit)
    _, after = wrapped.evaluate(test_ds, verbose=0)
    print(f"accuracy after fine-tuning: {after:.4f}")

    output_dir = Path(args.output_dir)
    path = keras_se.save_model(
        wrapped, output_dir / f"{wrapped.backbone.name}_se.keras"
    )
    results = dict(
        source=args.backbone_config or args.preset,
        classifier=type(wrapped).__name__,
        se_blocks=blocks,
        accuracy_before_wrapping=float(before),
        accuracy_right_after_wrapping=float(right_after),
        max_abs_difference=difference,
        accuracy_after_finetuning=float(after),
    )
    (output_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"Saved the classifier to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
