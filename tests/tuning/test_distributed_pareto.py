"""The NSGA-II search with a chief and two workers: a killed worker, the same front."""

from __future__ import annotations

import csv
import json

import pytest

from keras_se.cli import main
from keras_se.tuning.pareto import non_dominated
from tests.tuning.processes import Search, assert_every_trial_ran_once

pytestmark = pytest.mark.extra_large

OBJECTIVES = ["val_accuracy", "params", "latency_ms"]


def read_front(search: Search) -> list[dict]:
    with (search.project / "pareto.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_two_workers_find_the_one_process_front_and_rerun_a_lost_trial(
    tmp_path, monkeypatch
):
    search = Search(
        tmp_path,
        epochs=1,
        extra=["--objectives", ",".join(OBJECTIVES), "--population-size", "2"],
    )
    try:
        search.start_chief_and_two_workers()
        lost_trial = search.kill_worker_mid_trial("worker1")
        assert search.finish() == 0
    finally:
        search.stop_all()
    trials = assert_every_trial_ran_once(search)
    assert f"trial {lost_trial} queued again" in search.all_logs(tail=None)
    front = read_front(search)
    # The front is what the trials' own records say: brute force over trial.json.
    ids = sorted(trials)
    points = [
        [trials[i]["metrics"]["metrics"][name]["observations"][-1]["value"][0]
         for name in OBJECTIVES]
        for i in ids
    ]  # fmt: skip
    on_front = non_dominated(points, ["max", "min", "min"])
    assert [row["trial"] for row in front] == [
        i for i, on in zip(ids, on_front, strict=True) if on
    ]
    # One process reading the same trials writes the same front: the chief's
    # search resumed without workers (KerasTuner keys a project's state by
    # the tuner id); it is finished, so it runs nothing.
    (search.project / "pareto.csv").unlink()
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    assert main(search.argv(overwrite=False)[3:]) == 0
    assert read_front(search) == front
    assert json.loads((search.project / "oracle.json").read_text())["run_times"] == {
        i: 1 for i in ids
    }
