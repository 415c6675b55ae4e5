"""The main job: the same small CNN, plain and with each attention, over seeds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras

from keras_se._validation import check_positive_int
from keras_se.demo.data import DIGITS_CLASSES, DIGITS_SHAPE, load_digits
from keras_se.demo.distribute import chief_dir, strategy_scope
from keras_se.demo.model import build_digits_cnn
from keras_se.demo.statistics import ModelSummary, summarize
from keras_se.layers.attention import attention_entry, check_attentions
from keras_se.saving.save_load import save_model

# What `keras-se train` compares with the plain CNN unless told otherwise.
DEFAULT_ATTENTIONS = ("se", "eca", "cbam")


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
    attention: str | None = "se",
    epochs: int = 30,
    batch_size: int = 32,
    ratio: int | None = None,
    seed: int = 0,
    verbose: int | str = "auto",
    strategy: Any = None,
    jit_compile: bool | str = "auto",
) -> TrainingResult:
    """Trains the digits CNN once and evaluates it on the held-out split.

    Args:
        attention: the attention block after each stage, a name in
            `keras_se.layers.ATTENTIONS`; `None` for the plain CNN.
        epochs: positive int, passes over the training split.
        batch_size: positive int, the global batch (all replicas together).
        ratio: positive int, the reduction ratio of the attentions that
            have one, a preset's replaced; `None`: the attention's own (see
            `keras_se.demo.model.digits_ratio`).
        seed: the seed of the weights, the shuffle and the split.
        verbose: passed to `model.fit` (1 shows a Keras progress bar).
        strategy: a `tf.distribute` strategy to build and train the model
            under, or a `keras.distribution.DataParallel` (JAX), as
            `keras_se.demo.distribute.choose_strategy` returns them; `None`:
            no scope (a distribution set globally with
            `keras.distribution.set_distribution` still applies). The dtype
            policy in force when this is called (see
            `keras_se.demo.flags.configure_precision`) applies to the model.
        jit_compile: passed to `model.compile` (`True`: XLA).

    Returns:
        A `TrainingResult`; `seconds_per_epoch` is the median epoch time, so
        the first epoch's tracing does not count.
    """
    if attention is not None:
        attention_entry(attention)
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    check_positive_int("ratio", ratio, allow_none=True)
    train, test = load_digits(seed=seed)
    keras.utils.set_random_seed(seed)
    with strategy_scope(strategy):
        model = build_digits_cnn(
            DIGITS_SHAPE,
            DIGITS_CLASSES,
            se=attention is not None,
            ratio=ratio,
            attention=attention or "se",
        )
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


@dataclass(frozen=True)
class Comparison:
    """The main job's outcome: one summary per model, the best one saved.

    Attributes:
        summaries: the plain CNN's first, then one per attention, in the
            order asked; accuracy as mean and standard deviation over seeds,
            each compared with the plain CNN's.
        best: the attention model (trained with the first seed) whose mean
            accuracy is highest.
        path: where `best` was saved, `<output_dir>/<best.name>.keras`.
    """

    summaries: list[ModelSummary]
    best: TrainingResult
    path: Path


def compare_attentions_on_digits(
    output_dir: str | Path,
    attentions: Sequence[str] = DEFAULT_ATTENTIONS,
    seeds: int = 3,
    seed: int = 0,
    strategy: Any = None,
    **settings: Any,
) -> Comparison:
    """Trains the digits CNN plain and with each attention, over several seeds.

    Every model is trained `seeds` times, with seeds `seed`, `seed + 1`, ...
    (each seed draws its own weights, shuffle and train/test split, the same
    for every model). The best attention model, by mean test accuracy, is
    saved: the one trained with the first seed.

    Args:
        output_dir: where the best model is written (atomically). In a
            multi-worker run only the chief writes there; the other workers
            save to a temporary folder, removed before this returns.
        attentions: names in `keras_se.layers.ATTENTIONS`, compared with the
            plain CNN.
        seeds: positive int, how many seeds each model is trained with.
        seed: the first seed.
        strategy: as in `train_digits_model`.
        **settings: `epochs`, `batch_size`, `ratio`, `verbose` and
            `jit_compile`, as in `train_digits_model`.

    Returns:
        A `Comparison`.

    Raises:
        ValueError: for an unknown attention, or none (repeats are dropped).

    Example:

    >>> from keras_se.demo.training import compare_attentions_on_digits
    >>> comparison = compare_attentions_on_digits(
    ...     "out", ["se"], seeds=1, epochs=1, verbose=0)
    >>> [summary.name for summary in comparison.summaries]
    ['digits_cnn', 'digits_se_cnn']
    """
    attentions = check_attentions(attentions)
    check_positive_int("seeds", seeds)
    runs: dict[str | None, list[TrainingResult]] = {
        name: [
            train_digits_model(name, seed=seed + offset, strategy=strategy, **settings)
            for offset in range(seeds)
        ]
        for name in (None, *attentions)
    }
    summaries = summarize(
        {
            results[0].name: (
                results[0].params,
                [result.test_accuracy for result in results],
                [result.seconds_per_epoch for result in results],
            )
            for results in runs.values()
        }
    )
    best_name = max(
        attentions,
        key=lambda name: statistics.fmean(r.test_accuracy for r in runs[name]),
    )
    best = runs[best_name][0]
    # Every worker saves (saving may run collective ops); the chief's is kept.
    with chief_dir(output_dir, strategy) as folder:
        path = save_model(best.model, folder / f"{best.name}.keras")
    return Comparison(summaries=summaries, best=best, path=path)
