"""Cost-aware search on the digits: the Pareto front of accuracy, size and latency.

The programmatic version of `keras-se tune --objectives ...`: a `ParetoSearch`
(NSGA-II on KerasTuner's oracle) over the attention type, its ratio and its
placement. Every trial reports `val_accuracy`, `params` and `latency_ms`
(measured after training, in the process that trained it). The front is
printed, written to `pareto.csv` and `pareto.png`, and one member is reloaded
by its trial id.

    python tuning/search_pareto.py --max-trials 24 --epochs 5
    python tuning/search_pareto.py --target latency_ms=0.5   # MnasNet: one best model
"""

from __future__ import annotations

import argparse
from pathlib import Path

import keras
from rich.console import Console

from keras_se.demo.data import load_digits
from keras_se.demo.model import build_digits_cnn
from keras_se.tuning import ParetoSearch, SEHyperModel
from keras_se.tuning.front import (
    front_rows,
    front_table,
    load_trial_model,
    write_front,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objectives", default="val_accuracy,params,latency_ms")
    parser.add_argument("--target", default=None, help="e.g. latency_ms=0.5")
    parser.add_argument("--attention", default="se,eca,cbam")
    parser.add_argument("--max-trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--latency-batch-size", type=int, default=1)
    parser.add_argument("--directory", default="keras_se_tuning")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    train, _ = load_digits()
    hypermodel = SEHyperModel(
        lambda: build_digits_cnn(se=False),
        attentions=args.attention.split(","),
        latency_batch_size=args.latency_batch_size,
    )
    tuner = ParetoSearch(
        hypermodel,
        objectives=args.objectives,
        target=args.target,
        max_trials=args.max_trials,
        directory=args.directory,
        project_name="digits_pareto",
        overwrite=args.overwrite,
        seed=1,
    )
    tuner.search(
        train.x, train.y, validation_split=0.2, epochs=args.epochs,
        batch_size=32, verbose=0,
    )  # fmt: skip
    oracle = tuner.oracle
    rows = front_rows(oracle)
    Console().print(front_table(oracle, rows))
    for path in write_front(oracle, Path(tuner.project_dir), args.latency_batch_size):
        print(f"wrote {path}")
    if args.target:
        best = oracle.get_best_trials(1)[0]
        print(f"best by MnasNet reward: trial {best.trial_id}, {best.score:.4f}")
    member = rows[0]["trial"]
    model = load_trial_model(tuner, member)
    print(f"reloaded trial {member}: {model.count_params():,} parameters")


if __name__ == "__main__":
    main()
