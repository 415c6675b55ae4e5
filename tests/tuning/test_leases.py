"""Leases on a real oracle, in one process: expiry, requeue, idempotent ends."""

from __future__ import annotations

import copy
import os
import time

import keras
import keras_tuner
import pytest

from keras_se.tuning.compat import retry_queue
from keras_se.tuning.leases import (
    HEARTBEAT_FOLDER,
    Heartbeat,
    LeasedOracleMixin,
    add_leases,
    read_saved_state,
)


def tiny_model(hp):
    hp.Int("units", 1, 8)
    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])


@pytest.fixture
def oracle(tmp_path):
    tuner = keras_tuner.RandomSearch(
        tiny_model,
        objective="val_loss",
        max_trials=3,
        directory=tmp_path,
        project_name="search",
        seed=1,
    )
    add_leases(tuner.oracle, lease_seconds=60, project_dir=tmp_path / "search")
    return tuner.oracle


def beat(oracle, tuner_id, seconds_ago=0.0):
    path = oracle.heartbeat_dir / tuner_id
    path.touch()
    then = time.time() - seconds_ago
    os.utime(path, (then, then))


def finish(oracle, trial, loss=0.5):
    """Ends `trial` as a worker does: with its own copy of the trial."""
    oracle.update_trial(trial.trial_id, {"val_loss": loss})
    report = copy.deepcopy(trial)
    report.status = "COMPLETED"
    oracle.end_trial(report)


def test_any_oracle_gets_leases_once(oracle, tmp_path):
    assert isinstance(oracle, LeasedOracleMixin)
    assert isinstance(oracle, keras_tuner.oracles.RandomSearchOracle)
    add_leases(oracle, lease_seconds=5, project_dir=tmp_path / "search")
    assert type(oracle).__name__ == "LeasedRandomSearchOracle"
    assert oracle.lease_seconds == 5
    assert oracle.heartbeat_dir == tmp_path / "search" / HEARTBEAT_FOLDER


def test_a_silent_workers_trial_goes_to_the_next_worker(oracle):
    lost = oracle.create_trial("worker0")
    beat(oracle, "worker0", seconds_ago=0)
    assert oracle.expire_dead_leases() == []
    beat(oracle, "worker0", seconds_ago=120)
    oracle.lease_start["worker0"] = 0.0
    assert oracle.expire_dead_leases() == [lost.trial_id]
    assert retry_queue(oracle) == [lost.trial_id]
    assert "worker0" not in oracle.ongoing_trials
    taken = oracle.create_trial("worker1")
    assert taken.trial_id == lost.trial_id and taken.status == "RUNNING"
    assert retry_queue(oracle) == []


def test_a_late_second_end_is_dropped(oracle):
    trial = oracle.create_trial("worker0")
    finish(oracle, trial, loss=0.5)
    finish(oracle, trial, loss=0.1)  # its first worker was presumed dead
    assert oracle.end_order == [trial.trial_id]
    assert oracle.get_state()["run_times"] == {trial.trial_id: 1}
    assert oracle.trials[trial.trial_id].score == 0.5


def test_a_finished_trial_leaves_the_retry_queue(oracle):
    trial = oracle.create_trial("worker0")
    retry_queue(oracle).append(trial.trial_id)
    finish(oracle, trial)
    assert retry_queue(oracle) == []
    assert not oracle.ongoing_trials


def test_a_restarted_chief_keeps_running_trials_leased(oracle, tmp_path):
    running = oracle.create_trial("worker0")
    done = oracle.create_trial("worker1")
    finish(oracle, done)
    saved = read_saved_state(tmp_path / "search")
    assert saved["ongoing_trials"] == {"worker0": running.trial_id}
    # What KerasTuner's reload does to a running trial: queue it again.
    oracle.ongoing_trials.clear()
    retry_queue(oracle).append(running.trial_id)
    oracle.restore_leases(saved)
    assert oracle.ongoing_trials["worker0"].trial_id == running.trial_id
    assert retry_queue(oracle) == []
    assert oracle.create_trial("worker0").trial_id == running.trial_id


def test_the_heartbeat_file_is_touched(tmp_path):
    with Heartbeat(tmp_path, "worker0", seconds=0.05) as heartbeat:
        first = heartbeat.path.stat().st_mtime_ns
        deadline = time.monotonic() + 5
        while heartbeat.path.stat().st_mtime_ns == first:
            assert time.monotonic() < deadline, "no second heartbeat"
            time.sleep(0.02)
    assert heartbeat.path == tmp_path / HEARTBEAT_FOLDER / "worker0"
