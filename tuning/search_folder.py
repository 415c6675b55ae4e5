"""Search SE placement and shape on a folder of images (one subfolder per class).

python tuning/search_folder.py path/to/images --image-size 64 --max-trials 10
"""

from __future__ import annotations

import argparse

import keras
import keras_tuner

from keras_se.demo.model import build_digits_cnn
from keras_se.tuning import SEHyperModel


def load_folder(folder: str, image_size: int, seed: int = 0):
    common = dict(
        image_size=(image_size, image_size),
        validation_split=0.2,
        seed=seed,
        batch_size=32,
    )
    train = keras.utils.image_dataset_from_directory(
        folder, subset="training", **common
    )
    validation = keras.utils.image_dataset_from_directory(
        folder, subset="validation", **common
    )
    classes = len(train.class_names)
    rescale = keras.layers.Rescaling(1 / 255)
    prepared = [
        split.map(lambda x, y: (rescale(x), y)).cache().prefetch(2)
        for split in (train, validation)
    ]
    return prepared[0], prepared[1], classes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--max-trials", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--directory", default="keras_se_tuning")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    train, validation, classes = load_folder(args.folder, args.image_size)
    shape = (args.image_size, args.image_size, 3)
    hypermodel = SEHyperModel(lambda: build_digits_cnn(shape, classes, se=False))
    tuner = keras_tuner.RandomSearch(
        hypermodel,
        objective="val_accuracy",
        max_trials=args.max_trials,
        directory=args.directory,
        project_name="folder",
        overwrite=args.overwrite,
        seed=0,
    )
    tuner.search(train, validation_data=validation, epochs=args.epochs, verbose=0)
    print("best hyperparameters:", tuner.get_best_hyperparameters(1)[0].values)


if __name__ == "__main__":
    main()
