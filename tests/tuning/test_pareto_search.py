"""The NSGA-II oracle on KerasTuner, driven with made-up metrics: no training."""

from __future__ import annotations

import keras
import keras_tuner
import numpy as np
import pytest

from keras_se.demo.model import build_digits_cnn
from keras_se.errors import ObjectiveError
from keras_se.tuning import ParetoSearch, SEHyperModel
from keras_se.tuning.pareto import mnasnet_reward, non_dominated
from tests.tuning.toy import Toy, pareto, run, toy_metrics


def test_one_objective_is_todays_random_search(tmp_path):
    ours = pareto(tmp_path / "ours", "val_accuracy", max_trials=8, seed=3)
    random_search = keras_tuner.RandomSearch(
        Toy(), objective="val_accuracy", max_trials=8, seed=3,
        directory=tmp_path / "theirs", project_name="p",
    )  # fmt: skip
    assert run(ours, 8) == run(random_search, 8)
    best = random_search.oracle.get_best_trials(1)[0]
    front = ours.oracle.front()
    assert best.trial_id in {t.trial_id for t in front}
    assert {t.score for t in front} == {best.score}


def test_the_front_is_the_non_dominated_trials(tmp_path):
    tuner = pareto(tmp_path, "val_accuracy,params,latency_ms", max_trials=12, seed=1)
    proposed = run(tuner, 12)
    points = [list(toy_metrics(v).values()) for v in proposed]
    expected = non_dominated(points, ["max", "min", "min"])
    assert [t.trial_id for t in tuner.oracle.front()] == [
        f"{i:02d}" for i in np.flatnonzero(expected)
    ]


def test_the_evolution_moves_towards_the_front(tmp_path):
    # Only b = 20 is on the toy's front. After the random population, the
    # children of the best parents have larger b than random trials have,
    # on average over four seeds (one seed's front can lean to small a instead).
    # Seed 0 is no seed to KerasTuner: it draws one.
    evolved_b, random_b = [], []
    for seed in range(1, 5):
        evolved = run(
            pareto(tmp_path / f"e{seed}", max_trials=30, population_size=6, seed=seed),
            30,
        )
        random_search = keras_tuner.RandomSearch(
            Toy(), objective="val_accuracy", max_trials=30, seed=seed,
            directory=tmp_path / f"r{seed}", project_name="p",
        )  # fmt: skip
        randomly = run(random_search, 30)
        assert evolved[:6] == randomly[:6]  # the population is KerasTuner's random
        evolved_b += [v["b"] for v in evolved[6:]]
        random_b += [v["b"] for v in randomly[6:]]
        # No trial is proposed twice; a child has `c` exactly when it is "extra".
        keys = [tuple(sorted(v.items())) for v in evolved]
        assert len(set(keys)) == len(keys)
        assert all(("c" in v) == (v["kind"] == "extra") for v in evolved)
    assert np.mean(evolved_b) > np.mean(random_b) + 2


def test_a_resumed_search_keeps_its_front_and_goes_on(tmp_path):
    first = pareto(tmp_path, max_trials=10, population_size=3, seed=5)
    first.save()  # as `search` does before its first trial
    run(first, 6)
    front = [t.trial_id for t in first.oracle.front()]
    resumed = pareto(tmp_path, max_trials=10, population_size=3, seed=5)
    assert [t.trial_id for t in resumed.oracle.front()] == front
    more = run(resumed, 10)
    # The finished trials are not run again (KerasTuner alone re-runs the last).
    assert len(more) == 4 and sorted(resumed.oracle.trials) == [
        f"{i:02d}" for i in range(10)
    ]


def test_a_target_scores_trials_with_mnasnet_reward(tmp_path):
    tuner = pareto(
        tmp_path, "val_accuracy,latency_ms", target="latency_ms=2", max_trials=6, seed=0
    )
    proposed = run(tuner, 6)
    for values, trial in zip(proposed, tuner.oracle.completed_trials(), strict=True):
        metrics = toy_metrics(values)
        expected = mnasnet_reward(metrics["val_accuracy"], metrics["latency_ms"], 2.0)
        assert trial.score == pytest.approx(float(expected))
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score == max(t.score for t in tuner.oracle.completed_trials())


def _dear_accuracy(values: dict) -> dict:
    # The most accurate trials are the slowest, so the reward ranks otherwise.
    return {
        "val_accuracy": (values["a"] + values["b"]) / 40,
        "latency_ms": 1.0 + values["a"],
    }


def _reward(metrics: dict, exponent: float = -0.07) -> float:
    accuracy, latency = metrics["val_accuracy"], metrics["latency_ms"]
    return float(mnasnet_reward(accuracy, latency, 2.0, exponent))


def test_a_target_names_its_score_mnasnet_reward(tmp_path, capsys):
    options = dict(target="latency_ms=2", exponent=-1.0, max_trials=8, seed=4)
    tuner = pareto(tmp_path, "val_accuracy,latency_ms", **options)
    tuner.save()  # as `search` does before its first trial
    tuner.oracle.verbose = 1
    proposed = run(tuner, 8, metrics=_dear_accuracy)
    printed = capsys.readouterr().out
    oracle = tuner.oracle
    assert (oracle.objective.name, oracle.objective.direction) == (
        "mnasnet_reward",
        "max",
    )
    trials = oracle.completed_trials()
    for values, trial in zip(proposed, trials, strict=True):
        metrics = _dear_accuracy(values)
        reward = _reward(metrics, exponent=-1.0)
        assert trial.metrics.get_last_value("mnasnet_reward") == pytest.approx(reward)
        assert trial.score == pytest.approx(reward)
        assert trial.metrics.get_last_value("val_accuracy") == metrics["val_accuracy"]
        assert trial.metrics.get_last_value("latency_ms") == metrics["latency_ms"]
    best = oracle.get_best_trials(1)[0]
    most_accurate = max(trials, key=lambda t: t.metrics.get_last_value("val_accuracy"))
    assert best.score == max(t.score for t in trials)
    assert best.trial_id != most_accurate.trial_id
    assert f"mnasnet_reward: {trials[-1].score}" in printed
    assert f"Best mnasnet_reward So Far: {best.score}" in printed
    assert "val_accuracy" not in printed
    # The saved trials and a resumed search name and rank it the same way.
    saved = keras_tuner.engine.trial.Trial.load(
        str(tmp_path / "p" / f"trial_{best.trial_id}" / "trial.json")
    )
    assert saved.metrics.get_last_value("mnasnet_reward") == pytest.approx(best.score)
    resumed = pareto(tmp_path, "val_accuracy,latency_ms", **options)
    assert resumed.oracle.objective.name == "mnasnet_reward"
    assert resumed.oracle.get_best_trials(1)[0].trial_id == best.trial_id
    assert len(run(resumed, 8, metrics=_dear_accuracy)) == 0


def test_without_a_target_the_objective_is_the_training_metric(tmp_path):
    for objectives in ("val_accuracy", "val_accuracy,params,latency_ms"):
        tuner = pareto(tmp_path / objectives, objectives, max_trials=3, seed=1)
        run(tuner, 3)
        assert tuner.oracle.objective.name == "val_accuracy"
        for trial in tuner.oracle.completed_trials():
            assert not trial.metrics.exists("mnasnet_reward")
            assert trial.score == trial.metrics.get_last_value("val_accuracy")


class _Measured(Toy):
    """The toy space on a one-layer model; `fit` reports made-up metrics."""

    def build(self, hp):
        super().build(hp)
        return keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])

    def fit(self, hp, model, *args, **kwargs):
        return _dear_accuracy(hp.values)


def test_a_searched_trial_reports_its_reward_to_kerastuner(tmp_path):
    tuner = ParetoSearch(
        _Measured(), objectives="val_accuracy,latency_ms", target="latency_ms=2",
        max_trials=3, seed=2, directory=tmp_path, project_name="p",
    )  # fmt: skip
    tuner.search(verbose=0)
    trials = tuner.oracle.completed_trials()
    assert len(trials) == 3
    for trial in trials:
        metrics = _dear_accuracy(trial.hyperparameters.values)
        reward = _reward(metrics)
        assert trial.metrics.get_last_value("mnasnet_reward") == pytest.approx(reward)
        assert trial.metrics.get_last_value("val_accuracy") == metrics["val_accuracy"]
    built = tuner.hypermodel.build(trials[0].hyperparameters)
    assert isinstance(built, keras.Model)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"objectives": "val_accuracy,params", "target": "latency_ms=2"}, "one of"),
        ({"objectives": "val_loss,params", "target": "params=9"}, "minimized"),
        ({"objectives": "params,latency_ms"}, "not only costs"),
        ({"objectives": "val_accuracy,flops"}, "Unknown objective"),
    ],
)
def test_bad_objectives_fail_when_the_tuner_is_made(tmp_path, kwargs, message):
    with pytest.raises(ObjectiveError, match=message):
        ParetoSearch(Toy(), directory=tmp_path, **kwargs)


def test_an_objective_the_model_never_logs_fails_before_the_first_trial(tmp_path):
    tuner = ParetoSearch(
        SEHyperModel(lambda: build_digits_cnn(se=False)),
        objectives="val_accuracy,params,val_f2:max",
        directory=tmp_path,
        max_trials=2,
    )
    with pytest.raises(ObjectiveError, match=r"never logs \['val_f2'\]"):
        tuner.search(np.zeros((2, 8, 8, 1)), np.zeros(2), validation_split=0.5)
    assert tuner.oracle.trials == {}
    tuner = ParetoSearch(
        SEHyperModel(lambda: build_digits_cnn(se=False)),
        objectives="val_accuracy,params",
        directory=tmp_path,
        max_trials=2,
    )
    with pytest.raises(ObjectiveError, match="validation data"):
        tuner.search(np.zeros((2, 8, 8, 1)), np.zeros(2))
