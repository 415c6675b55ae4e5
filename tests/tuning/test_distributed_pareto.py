"""The NSGA-II search with a chief and two workers: a killed worker, a restarted
chief, the same front."""

from __future__ import annotations

import csv

import keras
import pytest

from keras_se.tuning.pareto import non_dominated
from tests.tuning.processes import (
    Search,
    assert_every_trial_ran_once,
    rerun_plainly,
)

pytestmark = pytest.mark.extra_large

OBJECTIVES = ["val_accuracy", "params", "latency_ms"]


@pytest.fixture
def search(tmp_path):
    search = Search(
        tmp_path,
        epochs=1,
        extra=["--objectives", ",".join(OBJECTIVES), "--population-size", "2"],
    )
    yield search
    search.stop_all()


def read_front(search: Search) -> list[dict]:
    with (search.project / "pareto.csv").open() as handle:
        return list(csv.DictReader(handle))


def brute_force_front(trials: dict[str, dict]) -> list[str]:
    """The ids of the trials no other trial dominates, from their `trial.json`."""
    ids = sorted(trials)
    points = [
        [trials[i]["metrics"]["metrics"][name]["observations"][-1]["value"][0]
         for name in OBJECTIVES]
        for i in ids
    ]  # fmt: skip
    on_front = non_dominated(points, ["max", "min", "min"])
    return [i for i, on in zip(ids, on_front, strict=True) if on]


def test_two_workers_find_the_one_process_front_and_rerun_a_lost_trial(
    search, monkeypatch, capsys
):
    search.start_chief_and_two_workers()
    lost_trial = search.kill_worker_mid_trial("worker1")
    assert search.finish() == 0
    trials = assert_every_trial_ran_once(search)
    assert f"trial {lost_trial} queued again" in search.all_logs(tail=None)
    # The front is what the trials' own records say.
    front = read_front(search)
    assert [row["trial"] for row in front] == brute_force_front(trials)
    # A plain `keras-se tune` on the folder (no KERASTUNER_* variables)
    # reloads the chief's finished search: it writes the same front from the
    # same trials, runs nothing, and reloads a member by its id.
    (search.project / "pareto.csv").unlink()
    member = front[0]["trial"]
    rerun_plainly(search, monkeypatch, "--load-trial", member)
    assert "Reloading Tuner from" in capsys.readouterr().out
    assert read_front(search) == front
    assert_every_trial_ran_once(search)
    model = keras.saving.load_model(search.project / f"trial_{member}.keras")
    assert model.count_params() == int(float(front[0]["params"]))


def test_a_restarted_chief_keeps_the_front_and_runs_each_trial_once(search):
    search.start_chief_and_two_workers()
    search.restart_chief_mid_search()
    assert search.finish() == 0
    trials = assert_every_trial_ran_once(search)
    assert [row["trial"] for row in read_front(search)] == brute_force_front(trials)
