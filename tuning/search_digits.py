"""Search SE placement and shape for a small CNN on the embedded digits.

The programmatic version of `keras-se tune`: a KerasTuner tuner driven by
`keras_se.tuning.SEHyperModel`. Copy it and swap in your own base model and
data.

    python tuning/search_digits.py --max-trials 10 --epochs 5
"""

from __future__ import annotations

import argparse

import keras
import keras_tuner

import keras_se
from keras_se.demo.data import load_digits
from keras_se.demo.model import build_digits_cnn
from keras_se.tuning import SEHyperModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuner", choices=("random", "bayesian"), default="random")
    parser.add_argument("--max-trials", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--directory", default="keras_se_tuning")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    train, test = load_digits()
    hypermodel = SEHyperModel(
        lambda: build_digits_cnn(se=False), tune_learning_rate=True
    )
    tuner_class = {
        "random": keras_tuner.RandomSearch,
        "bayesian": keras_tuner.BayesianOptimization,
    }[args.tuner]
    tuner = tuner_class(
        hypermodel,
        objective="val_accuracy",
        max_trials=args.max_trials,
        directory=args.directory,
        project_name="digits",
        overwrite=args.overwrite,
        seed=0,
    )
    tuner.search(
        train.x,
        train.y,
        validation_split=0.2,
        epochs=args.epochs,
        batch_size=32,
        verbose=0,
    )
    best_hp = tuner.get_best_hyperparameters(1)[0]
    print("best hyperparameters:", best_hp.values)
    model = tuner.hypermodel.build(best_hp)
    model.fit(train.x, train.y, epochs=args.epochs, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(test.x, test.y, verbose=0)
    print(f"test accuracy of the best configuration, retrained: {accuracy:.4f}")
    keras_se.describe(model, print_table=True)


if __name__ == "__main__":
    main()
