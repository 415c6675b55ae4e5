"""`make_tuner`, `run_search` and `role` in one process, for each role."""

from __future__ import annotations

import json
import os
import time

import keras
import keras_tuner
import numpy as np
import pytest

import keras_se.tuning
from keras_se.errors import SearchRunningError
from keras_se.tuning import make_tuner, role, run_search
from keras_se.tuning.compat import retry_queue
from keras_se.tuning.distributed import RetryingStub
from keras_se.tuning.leases import HEARTBEAT_FOLDER, LeasedOracleMixin
from tests.tuning.toy import run


def tiny_model(hp):
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(hp.Int("units", 1, 4)),
            keras.layers.Dense(1),
        ]
    )
    model.compile(loss="mse")
    return model


@pytest.fixture
def as_role(monkeypatch):
    def set_role(tuner_id):
        monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
        monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "1")
        monkeypatch.setenv("KERASTUNER_TUNER_ID", tuner_id)

    monkeypatch.delenv("KERASTUNER_ORACLE_IP", raising=False)
    monkeypatch.delenv("KERASTUNER_TUNER_ID", raising=False)
    return set_role


def build(tmp_path, overwrite=False):
    return make_tuner(
        keras_tuner.RandomSearch,
        tiny_model,
        directory=tmp_path,
        project_name="search",
        overwrite=overwrite,
        lease_seconds=7.0,
        objective="val_loss",
        max_trials=1,
    )


def test_the_public_surface_leaves_the_lease_machinery_out():
    assert {"SEHyperModel", "make_tuner", "run_search", "role"} <= set(
        keras_se.tuning.__all__
    )
    for name in ("Heartbeat", "LeasedOracleMixin", "add_leases", "RetryingStub"):
        assert name not in keras_se.tuning.__all__


@pytest.mark.parametrize(
    ("tuner_id", "expected"),
    [(None, "single"), ("chief", "chief"), ("worker3", "worker")],
)
def test_role_follows_kerastuners_variables(as_role, tuner_id, expected):
    if tuner_id is not None:
        as_role(tuner_id)
    assert role() == expected


@pytest.mark.large
def test_a_single_process_searches_with_a_heartbeat(as_role, tmp_path):
    tuner = build(tmp_path)
    assert not isinstance(tuner.oracle, LeasedOracleMixin)
    x = np.zeros((8, 2), "float32")
    beat = tmp_path / "search" / HEARTBEAT_FOLDER / "tuner0"
    seen = []
    during = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda *_: seen.append(beat.exists())
    )
    run_search(
        tuner,
        x=x,
        y=x[:, :1],
        validation_data=(x, x[:, :1]),
        epochs=1,
        verbose=0,
        callbacks=[during],
    )
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"]
    # Beating while it searched; gone once it left the search.
    assert seen == [True] and not beat.exists()


def test_the_chief_gets_leases_and_resumes(as_role, tmp_path):
    as_role("chief")
    tuner = build(tmp_path, overwrite=True)
    assert isinstance(tuner.oracle, LeasedOracleMixin)
    assert tuner.oracle.lease_seconds == 7.0
    trial = tuner.oracle.create_trial("worker0")
    tuner.save()
    resumed = build(tmp_path)
    assert resumed.oracle.ongoing_trials["worker0"].trial_id == trial.trial_id


def units_as_loss(values):
    return {"val_loss": float(values["units"])}


def chiefs_search_on_disk(tmp_path, monkeypatch, trials: int):
    """What a chief leaves on disk: its state under its id, the oracle's, the
    trials; then this process is a single one again. Returns the chief's tuner."""
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    chief = build(tmp_path)
    run(chief, trials, units_as_loss)
    chief.save()
    monkeypatch.delenv("KERASTUNER_TUNER_ID")
    return chief


def test_one_process_reloads_the_chiefs_search_unless_it_has_its_own(
    as_role, tmp_path, monkeypatch
):
    """`as_role` clears KerasTuner's variables: this is one process."""
    chiefs_search_on_disk(tmp_path, monkeypatch, trials=1)
    # KerasTuner alone would start a new search under the id `tuner0`.
    single = build(tmp_path)
    assert single.tuner_id == "chief"
    assert {i: t.status for i, t in single.oracle.trials.items()} == {"0": "COMPLETED"}
    assert single.oracle.create_trial(single.tuner_id).status == "STOPPED"
    fresh = build(tmp_path, overwrite=True)
    assert (fresh.tuner_id, fresh.oracle.trials) == ("tuner0", {})
    # A project with a single process's own state resumes that, as before.
    run(fresh, 1, units_as_loss)
    fresh.save()
    (tmp_path / "search" / "chief.json").write_text("{}")
    resumed = build(tmp_path)
    assert resumed.tuner_id == "tuner0"
    assert list(resumed.oracle.trials) == ["0"]


@pytest.mark.parametrize("overwrite", [False, True])
def test_one_process_refuses_a_search_that_still_runs(as_role, tmp_path, overwrite):
    folder = tmp_path / "search" / HEARTBEAT_FOLDER
    folder.mkdir(parents=True)
    for tuner_id, age in (("chief", 1.0), ("worker0", 3.0), ("worker1", 60.0)):
        (folder / tuner_id).touch()
        then = time.time() - age
        os.utime(folder / tuner_id, (then, then))
    (tmp_path / "search" / "kept").touch()
    # worker1's last beat is older than the lease (7 s): it is dead.
    with pytest.raises(
        SearchRunningError,
        match=r"still running: its processes beat within lease_seconds=7 "
        r"\(chief [0-9] s ago, worker0 [0-9] s ago\)",
    ):
        build(tmp_path, overwrite=overwrite)
    assert (tmp_path / "search" / "kept").exists()  # nothing emptied
    # Another single process under the same id is refused too.
    for tuner_id in ("chief", "worker0"):
        os.utime(folder / tuner_id, (0, 0))
    (folder / "tuner0").touch()
    with pytest.raises(SearchRunningError, match=r"\(tuner0 [0-9] s ago\)"):
        build(tmp_path, overwrite=overwrite)
    # Once every lease has run out, the folder is free.
    os.utime(folder / "tuner0", (0, 0))
    assert build(tmp_path, overwrite=overwrite).tuner_id == "tuner0"


def test_a_reloaded_chiefs_search_runs_no_finished_trial_again(
    as_role, tmp_path, monkeypatch
):
    chief = chiefs_search_on_disk(tmp_path, monkeypatch, trials=2)
    finished = sorted(chief.oracle.trials)
    # What a chief killed between a trial's end and its next save leaves: the
    # oracle's state lists the finished trial as running.
    state_file = tmp_path / "search" / "oracle.json"
    state = json.loads(state_file.read_text())
    state["ongoing_trials"] = {"worker0": finished[-1]}
    state_file.write_text(json.dumps(state))
    single = build(tmp_path)
    assert single.tuner_id == "chief"
    assert single.oracle.trials[finished[-1]].status == "COMPLETED"
    assert retry_queue(single.oracle) == []
    assert single.oracle.create_trial(single.tuner_id).trial_id not in finished


def test_a_worker_never_empties_the_shared_folder(as_role, tmp_path):
    as_role("worker0")
    kept = tmp_path / "search" / "kept"
    kept.parent.mkdir()
    kept.touch()
    tuner = build(tmp_path, overwrite=True)
    assert kept.exists()
    assert not isinstance(tuner.oracle, LeasedOracleMixin)
    assert hasattr(tuner.oracle.stub, "CreateTrial")


def test_a_workers_calls_are_retried(as_role, tmp_path, monkeypatch):
    as_role("worker0")
    tuner = build(tmp_path)
    monkeypatch.setattr(tuner, "search", lambda **kwargs: None)
    run_search(tuner, tmp_path / "search", heartbeat_seconds=0.05)
    assert isinstance(tuner.oracle.stub, RetryingStub)


@pytest.mark.parametrize(("verbose", "shown"), [(0, 0), ("auto", 1), (None, 1)])
def test_the_chief_shows_trials_as_verbose_says(
    as_role, tmp_path, monkeypatch, capsys, verbose, shown
):
    """The chief serves instead of searching: `verbose` still reaches its display."""
    as_role("chief")
    tuner = build(tmp_path, overwrite=True)
    served = []
    monkeypatch.setattr(
        keras_se.tuning.distributed, "serve_chief", lambda t: served.append(t)
    )
    kwargs = {} if verbose is None else {"verbose": verbose}
    run_search(tuner, tmp_path / "search", heartbeat_seconds=0.05, **kwargs)
    assert served == [tuner] and tuner.oracle.verbose == shown
    capsys.readouterr()
    trial = tuner.oracle.create_trial("worker0")
    tuner.oracle.update_trial(trial.trial_id, {"val_loss": 1.0})
    tuner.oracle.end_trial(trial)
    printed = capsys.readouterr().out
    assert ("Search: Running Trial" in printed) is bool(shown)
