"""Fault tolerance for KerasTuner's chief/worker search, without forking it.

KerasTuner 1.4.8's distributed search keeps a trial RUNNING forever when its
worker dies, so the chief never finishes; a restarted chief re-runs trials
that were running or had just finished (the oracle's state is saved before a
trial leaves the running list), and a trial run twice can lose its score.

Here every worker holds a *lease*: it touches a heartbeat file in the shared
project directory every `heartbeat_seconds`, and the chief hands a dead
worker's trial (no heartbeat for `lease_seconds`) to the next free worker.
Ending a trial is idempotent (the first result counts; a late duplicate is
dropped), and a restarted chief keeps the running trials leased to their
workers instead of queueing them again, and never re-runs a finished one.
A trial that started just before a chief restart can also end: KerasTuner's
display, whose start times were saved too early to include it, would fail.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import keras_tuner

from keras_se.tuning.compat import (
    ensure_display_knows_trial,
    mix_into_oracle,
    retry_queue,
)

HEARTBEAT_FOLDER = "heartbeats"
FINISHED = ("COMPLETED", "FAILED")


class LeasedOracleMixin:
    """Adds worker leases and idempotent trial ends to a KerasTuner oracle."""

    def init_leases(self, lease_seconds: float, heartbeat_dir: Path) -> None:
        self.lease_seconds = lease_seconds
        self.heartbeat_dir = Path(heartbeat_dir)
        self.heartbeat_dir.mkdir(parents=True, exist_ok=True)
        self.lease_start: dict[str, float] = {}
        self.requeued: list[str] = []

    @keras_tuner.synchronized
    def create_trial(self, tuner_id):
        self._drop_finished_from_retry_queue()
        trial = super().create_trial(tuner_id)
        if trial.status == "RUNNING":
            self.lease_start[tuner_id] = time.time()
        return trial

    @keras_tuner.synchronized
    def end_trial(self, trial):
        known = self.trials.get(trial.trial_id)
        if known is not None and known.status in FINISHED:
            # A second report of a finished trial (its first worker was
            # presumed dead, or the chief restarted): the first result counts.
            self._release(trial.trial_id)
            self.save()
            return
        # A trial started before a chief restart may be missing from the
        # display's state (KerasTuner saves before it records the start), and
        # the display would then fail the end of the trial half-way.
        ensure_display_knows_trial(self, trial.trial_id, len(self.trials))
        super().end_trial(trial)
        self._release(trial.trial_id)
        # KerasTuner saves before the trial leaves the running list; save again.
        self.save()

    def _release(self, trial_id: str) -> None:
        for tuner_id, ongoing in list(self.ongoing_trials.items()):
            if ongoing.trial_id == trial_id:
                self.ongoing_trials.pop(tuner_id)
        queue = retry_queue(self)
        if trial_id in queue and self.trials[trial_id].status in FINISHED:
            queue.remove(trial_id)

    def _drop_finished_from_retry_queue(self) -> None:
        drop_finished_from_retry_queue(self)

    def last_heartbeat(self, tuner_id: str) -> float:
        path = self.heartbeat_dir / tuner_id
        beat = path.stat().st_mtime if path.exists() else 0.0
        return max(beat, self.lease_start.get(tuner_id, 0.0))

    def is_alive(self, tuner_id: str) -> bool:
        return time.time() - self.last_heartbeat(tuner_id) <= self.lease_seconds

    @keras_tuner.synchronized
    def expire_dead_leases(self) -> list[str]:
        """Queues again the trials of workers whose heartbeat stopped."""
        expired = []
        queue = retry_queue(self)
        for tuner_id, trial in list(self.ongoing_trials.items()):
            if self.is_alive(tuner_id):
                continue
            self.ongoing_trials.pop(tuner_id)
            self.tuner_ids.discard(tuner_id)
            if trial.status not in FINISHED and trial.trial_id not in queue:
                queue.append(trial.trial_id)
                expired.append(trial.trial_id)
        for tuner_id in list(self.tuner_ids):
            if not self.is_alive(tuner_id):
                self.tuner_ids.discard(tuner_id)
        if expired:
            self.requeued.extend(expired)
            self.save()
        return expired

    @keras_tuner.synchronized
    def is_done(self) -> bool:
        return (
            not self.ongoing_trials
            and not retry_queue(self)
            and not any(self.is_alive(tuner_id) for tuner_id in self.tuner_ids)
        )

    @keras_tuner.synchronized
    def restore_leases(self, saved_state: dict) -> None:
        """After a chief restart: running trials stay with their workers.

        `saved_state` is the oracle's `oracle.json` as it was before the
        tuner reloaded it (KerasTuner's reload queues every running trial
        again). Trials whose own `trial.json` says they finished are not run
        again, whatever the oracle's state said.
        """
        now = time.time()
        queue = retry_queue(self)
        for tuner_id, trial_id in saved_state.get("ongoing_trials", {}).items():
            trial = self.trials.get(trial_id)
            if trial is None:
                continue
            if trial_id in queue:
                queue.remove(trial_id)
            if trial.status in FINISHED:
                if trial_id not in self.end_order:
                    self.end_order.append(trial_id)
                continue
            trial.status = "RUNNING"
            self.ongoing_trials[tuner_id] = trial
            self.tuner_ids.add(tuner_id)
            self.lease_start[tuner_id] = now
        self._drop_finished_from_retry_queue()
        self.save()


def drop_finished_from_retry_queue(oracle) -> None:
    """Keeps only the trials that have not finished in the oracle's retry queue.

    A reloaded oracle queues every trial its saved state lists as running,
    also one that finished after that state was saved (its `trial.json`
    says so); such a trial must not run again.
    """
    queue = retry_queue(oracle)
    queue[:] = [
        trial_id for trial_id in queue if oracle.trials[trial_id].status not in FINISHED
    ]


def add_leases(oracle, lease_seconds: float, project_dir: Path) -> None:
    """Gives a chief's oracle leases, in place, whatever its search algorithm.

    The oracle's class becomes a subclass of itself with `LeasedOracleMixin`,
    so RandomSearch, BayesianOptimization and Hyperband oracles all get it.
    """
    mix_into_oracle(oracle, LeasedOracleMixin)
    oracle.init_leases(lease_seconds, Path(project_dir) / HEARTBEAT_FOLDER)


def live_processes(project_dir: Path, within_seconds: float) -> dict[str, float]:
    """The search's processes that beat within `within_seconds`, with the age.

    Returns:
        The age in seconds of each live process's last heartbeat, by tuner id.
    """
    folder = Path(project_dir) / HEARTBEAT_FOLDER
    now = time.time()
    ages = {}
    for path in sorted(folder.iterdir()) if folder.is_dir() else ():
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:  # the process has just left the search
            continue
        if age <= within_seconds:
            ages[path.name] = age
    return ages


def read_saved_state(project_dir: Path) -> dict | None:
    """The oracle state on disk, read before a tuner reloads (and alters) it."""
    path = Path(project_dir) / "oracle.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


class Heartbeat:
    """Touches `<project>/heartbeats/<tuner_id>` every `seconds`, in a thread.

    The file is removed when the process leaves the search (also on an
    exception), so a file left behind is a process that is still running or
    one that was killed; its age (time since its last beat) tells the two
    apart after `lease_seconds`.
    """

    def __init__(self, project_dir: Path, tuner_id: str, seconds: float = 1.0):
        self.path = Path(project_dir) / HEARTBEAT_FOLDER / tuner_id
        self.seconds = seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Heartbeat:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.beat()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self.path.unlink(missing_ok=True)

    def beat(self) -> None:
        # The chief may have just emptied the project folder (overwrite=True).
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        os.utime(self.path)

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            self.beat()
