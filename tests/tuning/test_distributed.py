"""Chief and workers as real processes: completion, a killed worker, a killed chief."""

from __future__ import annotations

import pytest

from tests.tuning.processes import (
    TRIALS,
    Search,
    assert_every_trial_ran_once,
    rerun_plainly,
)

pytestmark = pytest.mark.extra_large


@pytest.fixture
def search(tmp_path):
    search = Search(tmp_path)
    yield search
    search.stop_all()


def test_chief_and_two_workers_complete_every_trial(search, monkeypatch, capsys):
    search.start_chief_and_two_workers()
    assert search.finish() == 0
    assert_every_trial_ran_once(search)
    chief_log = search.all_logs()
    assert "Best: trial" in chief_log and "se_ratio" in chief_log
    assert search.oracle_state()["ongoing_trials"] == {}
    # The same command without KerasTuner's variables reloads the finished
    # search and reports the same results.
    results = (search.project / "results.json").read_text()
    rerun_plainly(search, monkeypatch)
    printed = capsys.readouterr().out
    assert f"Reloading Tuner from {search.project / 'chief.json'}" in printed
    assert "Best: trial" in printed
    assert (search.project / "results.json").read_text() == results
    assert_every_trial_ran_once(search)


def test_killed_worker_trial_is_run_by_another(search):
    search.start_chief_and_two_workers()
    lost_trial = search.kill_worker_mid_trial("worker1")
    assert search.finish() == 0
    assert_every_trial_ran_once(search)
    # The whole logs: the chief's results table after the search can push the
    # line out of a log's tail.
    assert f"trial {lost_trial} queued again" in search.all_logs(tail=None)


def test_restarted_chief_resumes_without_rerunning(search):
    search.start_chief_and_two_workers()
    done_before = search.restart_chief_mid_search()
    assert search.finish() == 0
    trials = assert_every_trial_ran_once(search)
    assert len(trials) == TRIALS
    for trial_id in done_before:
        assert search.oracle_state()["run_times"][trial_id] == 1
