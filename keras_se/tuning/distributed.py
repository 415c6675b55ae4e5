"""Running a search as KerasTuner's chief or worker, with leases.

The roles are KerasTuner's own: `KERASTUNER_TUNER_ID` (`chief` for the
oracle's process, any other unique id for a worker), `KERASTUNER_ORACLE_IP`
and `KERASTUNER_ORACLE_PORT` (where the chief listens), and a directory all
processes share.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent import futures
from pathlib import Path

import keras_tuner

from keras_se.errors import SearchRunningError
from keras_se.tuning.compat import (
    add_oracle_servicer,
    check_internals,
    servicer_stop_requested,
    set_worker_stub,
    silence_condition_prints,
    tuner_state_file,
    worker_stub,
)
from keras_se.tuning.leases import (
    FINISHED,
    Heartbeat,
    add_leases,
    drop_finished_from_retry_queue,
    live_processes,
    read_saved_state,
)

ROLE_VARIABLE = "KERASTUNER_TUNER_ID"
CHIEF = "chief"


def role() -> str:
    """This process's part in a search, from KerasTuner's environment variables.

    Returns:
        `"single"` without `KERASTUNER_ORACLE_IP` (no distribution),
        `"chief"` when `KERASTUNER_TUNER_ID` names the chief, else `"worker"`.
    """
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return "single"
    if CHIEF in os.environ.get(ROLE_VARIABLE, ""):
        return "chief"
    return "worker"


def make_tuner(
    tuner_class: type[keras_tuner.Tuner],
    hypermodel: keras_tuner.HyperModel,
    *,
    directory: str | os.PathLike,
    project_name: str,
    overwrite: bool = False,
    lease_seconds: float = 30.0,
    project_dir_of: Callable[[str, str], Path] | None = None,
    **tuner_kwargs,
) -> keras_tuner.Tuner:
    """Builds the tuner for this process's role; the chief's oracle gets leases.

    Every process of a search calls it with the same arguments. Workers never
    overwrite (they would empty the shared directory); a chief started with
    `overwrite=False` resumes, keeping running trials with their workers. A
    single process (no oracle address) on the folder of a distributed search
    reloads the chief's saved search, unless it has saved state of its own:
    KerasTuner keys that state by tuner id, so the tuner takes the chief's id.
    A single process refuses a folder whose chief or workers still run.
    In a distributed search, KerasTuner's stray print of a condition's value
    on every gRPC call is silenced (`compat.silence_condition_prints`).

    Args:
        tuner_class: a KerasTuner tuner, e.g. `keras_tuner.RandomSearch`.
        hypermodel: what the tuner searches, e.g. an `SEHyperModel`.
        directory: the folder all processes share.
        project_name: the search's folder inside `directory`.
        overwrite: start afresh instead of resuming.
        lease_seconds: how long a worker may go without a heartbeat before
            the chief gives its trial to another.
        project_dir_of: where the project lives, from `directory` and
            `project_name`; by default `directory/project_name`, as in
            KerasTuner.
        **tuner_kwargs: passed to `tuner_class` (`objective`, `max_trials`...).

    Returns:
        The tuner, for `run_search`.

    Raises:
        KerasTunerInternalsError: in a distributed search, when the installed
            KerasTuner lacks an internal the leases need.
        SearchRunningError: in a single process, when another process of
            the search beat within `lease_seconds`; before anything is
            written.

    Example:

    >>> from keras_se.demo.model import build_digits_cnn
    >>> from keras_se.tuning import SEHyperModel, make_tuner
    >>> tuner = make_tuner(
    ...     keras_tuner.RandomSearch,
    ...     SEHyperModel(lambda: build_digits_cnn(se=False)),
    ...     directory=tmp_dir,
    ...     project_name="search",
    ...     objective="val_accuracy",
    ...     max_trials=2,
    ... )
    >>> type(tuner).__name__
    'RandomSearch'
    """
    current = role()
    if current != "single":
        check_internals()
        # Before the tuner sends its space to the chief.
        silence_condition_prints()
    overwrite = overwrite and current != "worker"
    project_dir = (project_dir_of or _project_dir)(directory, project_name)
    if current == "single":
        _refuse_a_running_search(project_dir, lease_seconds)
    saved = None
    if current == "chief" and not overwrite:
        saved = read_saved_state(project_dir)
    tuner = tuner_class(
        hypermodel,
        directory=directory,
        project_name=project_name,
        overwrite=overwrite,
        **tuner_kwargs,
    )
    if current == "chief":
        add_leases(tuner.oracle, lease_seconds, project_dir)
        if saved is not None:
            tuner.oracle.restore_leases(saved)
    if current == "single" and not overwrite:
        _reload_chiefs_search(tuner)
    return tuner


def _refuse_a_running_search(project_dir: Path, lease_seconds: float) -> None:
    # Its own id counts too: another single process may be searching there,
    # and a run killed within the lease cannot be told from a live one.
    running = live_processes(project_dir, lease_seconds)
    if not running:
        return
    beats = ", ".join(f"{name} {age:.0f} s ago" for name, age in running.items())
    raise SearchRunningError(
        f"The search in {project_dir} is still running: its processes beat "
        f"within lease_seconds={lease_seconds:g} ({beats}). Join it as a worker "
        "(KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP, KERASTUNER_ORACLE_PORT), "
        "or start this process again once the search has ended (a process "
        "killed mid-search counts as running until `lease_seconds` after its "
        "last heartbeat)."
    )


def _reload_chiefs_search(tuner: keras_tuner.Tuner) -> None:
    """Reloads the chief's saved search into a single process's fresh tuner.

    KerasTuner reloads only the state saved under the tuner's own id
    (`KERASTUNER_TUNER_ID`, `tuner0` by default). A tuner with none of its own,
    on a folder that holds the chief's, takes the chief's id and reloads: the
    oracle's state is the project's, whichever process saved it. Trials the
    chief saw running go back to the queue, as in any KerasTuner reload,
    but for those whose own `trial.json` says they finished.
    """
    chiefs = tuner_state_file(tuner, CHIEF)
    if tuner_state_file(tuner, tuner.tuner_id).exists() or not chiefs.exists():
        return
    print(f"Reloading Tuner from {chiefs} (the chief's search)")
    tuner.tuner_id = CHIEF
    tuner.reload()
    # The chief's state may list as running a trial that has since finished.
    drop_finished_from_retry_queue(tuner.oracle)


def _project_dir(directory, project_name: str) -> Path:
    return Path(directory) / project_name


def serve_chief(tuner, poll_seconds: float = 0.5) -> None:
    """Serves the oracle to the workers until every trial has ended.

    KerasTuner's `start_server` is not used: it checks for the end only every
    20 seconds and has no hook to expire the leases of dead workers. The
    gRPC servicer is KerasTuner's own.
    """
    import grpc

    oracle = tuner.oracle
    tuner.save()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = add_oracle_servicer(server, oracle)
    address = (
        f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
    )
    server.add_insecure_port(address)
    server.start()
    try:
        while True:
            time.sleep(poll_seconds)
            for trial_id in oracle.expire_dead_leases():
                print(f"[chief] worker lost: trial {trial_id} queued again", flush=True)
            if (
                servicer_stop_requested(servicer) or _all_trials_ended(oracle)
            ) and oracle.is_done():
                break
    finally:
        server.stop(grace=2)


def _all_trials_ended(oracle) -> bool:
    # Hyperband's oracle has no `max_trials`: only the servicer tells its end.
    ended = sum(t.status in FINISHED for t in oracle.trials.values())
    return bool(oracle.max_trials) and ended >= oracle.max_trials


def run_search(
    tuner: keras_tuner.Tuner,
    project_dir: str | os.PathLike | None = None,
    heartbeat_seconds: float = 2.0,
    **search_kwargs,
) -> None:
    """Runs this process's part of a search made by `make_tuner`.

    The chief serves the oracle until every trial has ended; a worker (or a
    single process) runs trials with `tuner.search(**search_kwargs)`. Each
    keeps its heartbeat going all the while (the chief's tells a single
    process started on the folder that the search is running).

    Args:
        tuner: what `make_tuner` returned.
        project_dir: the search's folder; by default the tuner's.
        heartbeat_seconds: how often a process shows it is alive; well below
            the chief's `lease_seconds`.
        **search_kwargs: passed to `tuner.search` (`x`, `y`, `epochs`...).
            The chief, which serves instead of searching, takes `verbose`
            for its oracle's display, the "Search: Running Trial" tables
            (KerasTuner shows them on the chief alone); `verbose=0` silences
            every process's progress output, not its errors.
    """
    project_dir = Path(project_dir if project_dir is not None else tuner.project_dir)
    tuner_id = os.environ.get(ROLE_VARIABLE, "tuner0")
    if role() == "chief":
        if "verbose" in search_kwargs:
            # What `tuner.search(verbose=...)` would set on the chief.
            tuner.oracle.verbose = search_kwargs["verbose"]
        with Heartbeat(project_dir, tuner_id, heartbeat_seconds):
            serve_chief(tuner)
        return
    if role() == "worker":
        set_worker_stub(tuner.oracle, RetryingStub(worker_stub(tuner.oracle)))
    with Heartbeat(project_dir, tuner_id, heartbeat_seconds):
        tuner.search(**search_kwargs)


class RetryingStub:
    """A worker's gRPC stub that waits out a chief restart.

    KerasTuner's client waits for the chief to be ready before a call, but a
    call already under way when the chief dies fails (UNAVAILABLE), and the
    tuner then marks the worker's trial FAILED. Every oracle call is safe to
    repeat here: creating a trial returns the tuner's ongoing one, ending a
    trial is idempotent, the others only read or overwrite a metric.
    """

    def __init__(self, stub, patience_seconds: float = 600.0):
        self._stub = stub
        self._patience = patience_seconds

    def __getattr__(self, name):
        call = getattr(self._stub, name)

        def retrying(*args, **kwargs):
            import grpc

            deadline = time.monotonic() + self._patience
            while True:
                try:
                    return call(*args, **kwargs)
                except grpc.RpcError as error:
                    if error.code() != grpc.StatusCode.UNAVAILABLE:
                        raise
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)

        return retrying


TUNERS = {
    "random": keras_tuner.RandomSearch,
    "bayesian": keras_tuner.BayesianOptimization,
    "hyperband": keras_tuner.Hyperband,
}
