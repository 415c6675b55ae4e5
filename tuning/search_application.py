"""Search SE placement in a `keras.applications` model you already have.

Every trial wraps the same base (`wrap_with_se(..., identity_init=True)`, so
each starts exactly where the base is) and fine-tunes it. The base's weights
come from a file (`--weights path.weights.h5`), `imagenet` when online, or
`none` (random, for trying the script).

    python tuning/search_application.py images/ --model MobileNetV2 --weights none
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import keras
import keras_tuner

sys.path.insert(0, str(Path(__file__).parent))
from search_folder import load_folder

from keras_se.tuning import SEHyperModel


def build_classifier(model_name: str, weights: str, image_size: int, classes: int):
    shape = (image_size, image_size, 3)
    application = getattr(keras.applications, model_name)
    source = None if weights in ("none", "imagenet") else weights
    base = application(
        weights="imagenet" if weights == "imagenet" else None,
        include_top=False,
        input_shape=shape,
    )
    if source is not None:
        base.load_weights(source)
    inputs = keras.Input(shape)
    features = keras.layers.GlobalAveragePooling2D()(base(inputs))
    outputs = keras.layers.Dense(classes, activation="softmax")(features)
    return keras.Model(inputs, outputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--model", default="MobileNetV2")
    parser.add_argument("--weights", default="none", help="a file, imagenet or none")
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--max-trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--directory", default="keras_se_tuning")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    train, validation, classes = load_folder(args.folder, args.image_size)
    base = build_classifier(args.model, args.weights, args.image_size, classes)
    tuner = keras_tuner.RandomSearch(
        SEHyperModel(base, learning_rate=1e-4, identity_init=True),
        objective="val_accuracy",
        max_trials=args.max_trials,
        directory=args.directory,
        project_name=f"{args.model.lower()}_se",
        overwrite=args.overwrite,
        seed=0,
    )
    tuner.search(train, validation_data=validation, epochs=args.epochs, verbose=0)
    print("best hyperparameters:", tuner.get_best_hyperparameters(1)[0].values)


if __name__ == "__main__":
    main()
