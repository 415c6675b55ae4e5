"""The main job: the same small CNN trained with and without SE blocks."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from keras_se._validation import check_positive_int
from keras_se.demo.data import DIGITS_CLASSES, DIGITS_SHAPE, load_digits
from keras_se.demo.distribute import chief_dir
from keras_se.demo.model import build_digits_cnn
from keras_se.saving.save_load import save_model


@dataclass(frozen=True)
class TrainingResult:
    """What one trained model scored and cost."""

    name: str
    params: int
    test_accuracy: float
    seconds_per_epoch: float
    model: keras.Model


class EpochTimer(keras.callbacks.Callback):
    """Records the wall time of every epoch."""

    def on_train_begin(self, logs=None):
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def train_digits_model(
    se: bool,
    epochs: int = 30,
    batch_size: int = 32,
    ratio: int = 8,
    seed: int = 0,
    verbose: int | str = "auto",
    strategy: tf.distribute.Strategy | None = None,
    jit_compile: bool | str = "auto",
) -> TrainingResult:
    """Trains the digits CNN once and evaluates it on the held-out split.

    Args:
        se: whether the CNN has SE blocks.
        epochs: positive int, passes over the training split.
        batch_size: positive int, the global batch (all replicas together).
        ratio: positive int, the SE reduction ratio.
        seed: the seed of the weights, the shuffle and the split.
        verbose: passed to `model.fit` (1 shows a Keras progress bar).
        strategy: the `tf.distribute` strategy to build and train the model
            under (`keras_se.demo.distribute.choose_strategy`); `None`: the
            current one. The dtype policy in force when this is called (see
            `keras_se.demo.flags.configure_precision`) applies to the model.
        jit_compile: passed to `model.compile` (`True`: XLA).

    Returns:
        A `TrainingResult`; `seconds_per_epoch` is the median epoch time, so
        the first epoch's tracing does not count.
    """
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    check_positive_int("ratio", ratio)
    train, test = load_digits(seed=seed)
    keras.utils.set_random_seed(seed)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = build_digits_cnn(DIGITS_SHAPE, DIGITS_CLASSES, se=se, ratio=ratio)
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=jit_compile,
        )
    timer = EpochTimer()
    model.fit(
        train.x,
        train.y,
        epochs=epochs,
        batch_size=batch_size,
        validation_split=0.1,
        callbacks=[timer],
        verbose=verbose,
    )
    _, accuracy = model.evaluate(test.x, test.y, batch_size=256, verbose=0)
    return TrainingResult(
        name=model.name,
        params=model.count_params(),
        test_accuracy=float(accuracy),
        seconds_per_epoch=statistics.median(timer.seconds),
        model=model,
    )


def compare_se_on_digits(
    output_dir: str | Path,
    strategy: tf.distribute.Strategy | None = None,
    **settings: Any,
) -> tuple[list[TrainingResult], Path]:
    """Trains the digits CNN without and with SE blocks; saves the SE model.

    Args:
        output_dir: where `digits_se_cnn.keras` is written (atomically). In a
            multi-worker run only the chief writes there; the other workers
            save to a temporary folder, removed before this returns.
        strategy: as in `train_digits_model`.
        **settings: `epochs`, `batch_size`, `ratio`, `seed`, `verbose` and
            `jit_compile`, as in `train_digits_model`.

    Returns:
        `([plain_result, se_result], saved_model_path)`.

    Example:

    >>> from keras_se.demo.training import compare_se_on_digits
    >>> results, path = compare_se_on_digits("out", epochs=1, verbose=0)
    >>> [result.name for result in results]
    ['digits_cnn', 'digits_se_cnn']
    """
    plain = train_digits_model(se=False, strategy=strategy, **settings)
    with_se = train_digits_model(se=True, strategy=strategy, **settings)
    # Every worker saves (saving may run collective ops); the chief's is kept.
    with chief_dir(output_dir, strategy) as folder:
        path = save_model(with_se.model, folder / f"{with_se.name}.keras")
    return [plain, with_se], path
