"""Running a search as KerasTuner's chief or worker, with leases.

The roles are KerasTuner's own: `KERASTUNER_TUNER_ID` (`chief` for the
oracle's process, any other unique id for a worker), `KERASTUNER_ORACLE_IP`
and `KERASTUNER_ORACLE_PORT` (where the chief listens), and a directory all
processes share.
"""

from __future__ import annotations

import os
import time
from concurrent import futures
from pathlib import Path

import keras_tuner

from keras_se.tuning.leases import Heartbeat, add_leases, read_saved_state

ROLE_VARIABLE = "KERASTUNER_TUNER_ID"


def role() -> str:
    """`"chief"`, `"worker"` or `"single"` (no distribution), from the environment."""
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return "single"
    if "chief" in os.environ.get(ROLE_VARIABLE, ""):
        return "chief"
    return "worker"


def make_tuner(
    tuner_class, hypermodel, project_dir_of, overwrite, lease_seconds, **kwargs
):
    """Builds the tuner for this process's role; the chief's oracle gets leases.

    Workers never overwrite (they would empty the shared directory); a chief
    started with `overwrite=False` resumes, keeping running trials with their
    workers.
    """
    current = role()
    overwrite = overwrite and current != "worker"
    project_dir = project_dir_of(kwargs["directory"], kwargs["project_name"])
    saved = None if overwrite else read_saved_state(project_dir)
    tuner = tuner_class(hypermodel, overwrite=overwrite, **kwargs)
    if current == "chief":
        add_leases(tuner.oracle, lease_seconds, project_dir)
        if saved is not None:
            tuner.oracle.restore_leases(saved)
    return tuner


def serve_chief(tuner, poll_seconds: float = 0.5) -> None:
    """Serves the oracle to the workers until every trial has ended.

    KerasTuner's `start_server` is not used: it checks for the end only every
    20 seconds and has no hook to expire the leases of dead workers. The
    gRPC servicer is KerasTuner's own.
    """
    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    oracle = tuner.oracle
    tuner.save()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = OracleServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
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
            finished = sum(
                t.status in ("COMPLETED", "FAILED") for t in oracle.trials.values()
            )
            if (
                servicer.stop_triggered or finished >= oracle.max_trials
            ) and oracle.is_done():
                break
    finally:
        server.stop(grace=2)


def _all_trials_ended(oracle) -> bool:
    ended = sum(t.status in ("COMPLETED", "FAILED") for t in oracle.trials.values())
    return bool(oracle.max_trials) and ended >= oracle.max_trials


def run_search(
    tuner, project_dir: Path, heartbeat_seconds: float, **search_kwargs
) -> None:
    """Runs this process's part of the search: serve (chief) or trials (others)."""
    if role() == "chief":
        serve_chief(tuner)
        return
    tuner_id = os.environ.get(ROLE_VARIABLE, "tuner0")
    if role() == "worker":
        tuner.oracle.stub = RetryingStub(tuner.oracle.stub)
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
