"""`keras-se tune --workers N`: a chief and N workers on 127.0.0.1, supervised."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_environment(tuner_id: str, port: int, threads: int) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        KERASTUNER_TUNER_ID=tuner_id,
        KERASTUNER_ORACLE_IP="127.0.0.1",
        KERASTUNER_ORACLE_PORT=str(port),
        # Each process gets its share of the cores, so they do not fight.
        KERAS_SE_THREADS=str(threads),
        TF_CPP_MIN_LOG_LEVEL=environment.get("TF_CPP_MIN_LOG_LEVEL", "3"),
    )
    return environment


def launch_local(
    tune_argv: Sequence[str],
    workers: int,
    max_restarts: int = 3,
    poll_seconds: float = 0.5,
    command: Sequence[str] | None = None,
    threads: int | None = None,
    pin: bool = True,
) -> int:
    """Runs the chief and `workers` workers of `keras-se tune` as subprocesses.

    A worker that dies (killed, crashed) is started again under the same
    tuner id, up to `max_restarts` times each; its trial goes back to the
    queue once its lease runs out, or it picks it up again itself. Returns the
    chief's exit code. `command` replaces `python -m keras_se.cli tune`;
    `threads` (default: the cores divided among the workers) caps each
    process's TensorFlow threads; with `pin` (Linux), worker `i` is also bound
    to its own `threads` cores, since TensorFlow and Python use more threads
    than the cap and would otherwise spill onto the other workers' cores.
    """
    port = free_port()
    threads = threads or max(1, (os.cpu_count() or 1) // workers)
    command = [*(command or [sys.executable, "-m", "keras_se.cli", "tune"]), *tune_argv]

    def start(tuner_id: str) -> subprocess.Popen:
        cores = _cores_of(tuner_id, threads) if pin else None
        return subprocess.Popen(
            command,
            env=child_environment(tuner_id, port, threads),
            preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores else None,
        )

    chief = start("chief")
    running = {f"worker{i}": start(f"worker{i}") for i in range(workers)}
    restarts = dict.fromkeys(running, 0)
    try:
        while chief.poll() is None:
            time.sleep(poll_seconds)
            for tuner_id, process in list(running.items()):
                code = process.poll()
                if code is None:
                    continue
                if code == 0 or restarts[tuner_id] >= max_restarts:
                    running.pop(tuner_id)
                    continue
                restarts[tuner_id] += 1
                print(
                    f"[keras-se tune] {tuner_id} exited with code {code}; "
                    f"restarting it ({restarts[tuner_id]}/{max_restarts})",
                    flush=True,
                )
                running[tuner_id] = start(tuner_id)
    finally:
        for process in running.values():
            if process.poll() is None:
                process.terminate()
        for process in running.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if chief.poll() is None:
            chief.terminate()
            chief.wait()
    return chief.returncode


def _cores_of(tuner_id: str, threads: int) -> set[int] | None:
    """Worker `i`'s own cores; None for the chief or where pinning is not possible."""
    if not tuner_id.startswith("worker") or not hasattr(os, "sched_setaffinity"):
        return None
    available = sorted(os.sched_getaffinity(0))
    index = int(tuner_id.removeprefix("worker"))
    cores = available[index * threads : (index + 1) * threads]
    return set(cores) or None
