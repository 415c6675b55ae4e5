"""Real chief and worker processes of `keras-se tune` on 127.0.0.1."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from keras_se.cli import main
from keras_se.tuning.launcher import child_environment, free_port
from tests.conftest import REPO_ROOT

TRIALS = 4


class Search:
    """A chief and workers sharing `directory`, started and killed by the tests."""

    def __init__(self, directory: Path, epochs: int = 2, extra: list[str] = ()):
        self.directory = directory
        self.extra = list(extra)
        self.project = directory / "se_search"
        self.port = free_port()
        self.epochs = epochs
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def argv(self, overwrite: bool) -> list[str]:
        argv = [
            sys.executable, "-m", "keras_se.cli", "tune", "--max-trials", str(TRIALS),
            "--epochs", str(self.epochs), "--batch-size", "64",
            "--directory", str(self.directory), "--lease-seconds", "4",
            "--heartbeat-seconds", "0.5", "--quiet", *self.extra,
        ]  # fmt: skip
        return [*argv, "--overwrite"] if overwrite else argv

    def start(self, tuner_id: str, overwrite: bool = False) -> None:
        environment = child_environment(tuner_id, self.port, threads=1)
        environment["PYTHONPATH"] = str(REPO_ROOT)
        log = self.directory / f"{tuner_id}.{len(self.logs)}.log"
        self.logs[f"{tuner_id}.{len(self.logs)}"] = log
        self.processes[tuner_id] = subprocess.Popen(
            self.argv(overwrite),
            env=environment,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )

    def kill(self, tuner_id: str) -> None:
        process = self.processes[tuner_id]
        process.send_signal(signal.SIGKILL)
        process.wait()

    def wait_for(self, condition, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting; logs:\n{self.all_logs()}")

    def start_chief_and_two_workers(self) -> None:
        self.start("chief", overwrite=True)
        self.start("worker0")
        self.start("worker1")

    def kill_worker_mid_trial(self, tuner_id: str = "worker1") -> str:
        """SIGKILLs `tuner_id` once it runs a trial; returns that trial's id."""

        def mid_trial():
            return tuner_id in self.oracle_state().get("ongoing_trials", {})

        self.wait_for(mid_trial)
        lost_trial = self.oracle_state()["ongoing_trials"][tuner_id]
        self.kill(tuner_id)
        return lost_trial

    def restart_chief_mid_search(self) -> list[str]:
        """SIGKILLs the chief once a trial has ended and another runs, then starts
        it again without `--overwrite` (it resumes); returns the ended trials."""

        def one_done_and_one_running():
            state = self.oracle_state()
            return len(state.get("end_order", [])) >= 1 and state.get("ongoing_trials")

        self.wait_for(one_done_and_one_running)
        done_before = list(self.oracle_state()["end_order"])
        self.kill("chief")
        self.start("chief")
        return done_before

    def oracle_state(self) -> dict:
        path = self.project / "oracle.json"
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def trials(self) -> dict[str, dict]:
        trials = {}
        for path in self.project.glob("trial_*/trial.json"):
            trial = json.loads(path.read_text())
            trials[trial["trial_id"]] = trial
        return trials

    def trials_written(self) -> dict[str, int]:
        """When each trial's `trial.json` was last written (nanoseconds)."""
        return {
            path.parent.name: path.stat().st_mtime_ns
            for path in self.project.glob("trial_*/trial.json")
        }

    def finish(self, timeout: float = 240.0) -> int:
        chief = self.processes["chief"]
        try:
            code = chief.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop_all()
            raise AssertionError(
                f"chief did not finish; logs:\n{self.all_logs()}"
            ) from None
        for process in self.processes.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        return code

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()

    def all_logs(self, tail: int | None = 3000) -> str:
        """Every log, each cut to its last `tail` characters (`None`: whole)."""
        return "\n".join(
            f"--- {name}\n{path.read_text()[-tail if tail else 0 :]}"
            for name, path in self.logs.items()
            if path.exists()
        )


def assert_every_trial_ran_once(search: Search) -> dict:
    trials = search.trials()
    assert sorted(trials) == [str(i) for i in range(TRIALS)], search.all_logs()
    assert {t["status"] for t in trials.values()} == {"COMPLETED"}, search.all_logs()
    run_times = search.oracle_state()["run_times"]
    assert run_times == {str(i): 1 for i in range(TRIALS)}, search.all_logs()
    results = json.loads((search.project / "results.json").read_text())
    assert [row["trial"] for row in results] == [str(i) for i in range(TRIALS)]
    assert all(row["val_accuracy"] is not None for row in results)
    return trials


def rerun_plainly(search: Search, monkeypatch, *extra: str) -> None:
    """Runs the search's command again in this process as a plain `keras-se
    tune` (no KERASTUNER_* variables), with `extra` flags, and checks that it
    reloaded the chief's search: it runs no trial and saves no state of its own."""
    for name in ("TUNER_ID", "ORACLE_IP", "ORACLE_PORT"):
        monkeypatch.delenv(f"KERASTUNER_{name}", raising=False)
    written = search.trials_written()
    assert main([*search.argv(overwrite=False)[3:], *extra]) == 0
    assert search.trials_written() == written
    assert not (search.project / "tuner0.json").exists()
