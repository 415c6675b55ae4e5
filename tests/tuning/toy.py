"""A hyperparameter space and made-up metrics that drive an oracle without training."""

from __future__ import annotations

import keras_tuner

from keras_se.tuning import ParetoSearch


class Toy(keras_tuner.HyperModel):
    """Two integers and a choice whose second value has a conditional integer."""

    def build(self, hp):
        hp.Int("a", 0, 20)
        hp.Int("b", 0, 20)
        kind = hp.Choice("kind", ["plain", "extra"])
        with hp.conditional_scope("kind", ["extra"]):
            hp.Int("c", 1, 4)
        return kind


def toy_metrics(values: dict) -> dict:
    # Accuracy grows with a and b, the cost with a only: the front is b = 20.
    return {
        "val_accuracy": (values["a"] + values["b"]) / 40,
        "params": float(values["a"]),
        "latency_ms": 1.0 + values.get("c", 0),
    }


def run(tuner, trials: int, metrics=toy_metrics) -> list[dict]:
    """Creates and ends `trials` trials with the made-up metrics, as a tuner would."""
    oracle, proposed = tuner.oracle, []
    for _ in range(trials):
        trial = oracle.create_trial("tuner0")
        if trial.status != "RUNNING":
            break
        values = dict(trial.hyperparameters.values)
        proposed.append(values)
        oracle.update_trial(trial.trial_id, metrics(values))
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return proposed


def pareto(tmp_path, objectives="val_accuracy,params", **kwargs):
    return ParetoSearch(
        Toy(), objectives=objectives, directory=tmp_path, project_name="p", **kwargs
    )
