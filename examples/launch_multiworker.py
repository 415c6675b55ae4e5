"""Run a training command as the workers of a `MultiWorkerMirroredStrategy`.

Each worker is its own process with its own `TF_CONFIG`. On one machine,
`--workers N` starts all N on free ports of 127.0.0.1:

    python examples/launch_multiworker.py --workers 2 -- \\
        python examples/train.py --strategy multiworker --epochs 5

On N machines, run the same line on each one with the list of all hosts
and this machine's place in it (`--index`, 0 on the chief):

    python examples/launch_multiworker.py --hosts 10.0.0.1:12345,10.0.0.2:12345 \\
        --index 0 -- python examples/train.py --strategy multiworker

Every line a worker prints is prefixed with `[worker I]`. If one worker
fails, the others are stopped and the launcher exits with its code; past
`--timeout` seconds all are stopped and it exits with 124. By default the
workers see no GPU (`--devices cpu`); `--devices gpu` gives worker I the
I-th GPU of this machine, `--devices all` leaves the GPUs as they are.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

TIMEOUT_EXIT = 124


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports that were free on 127.0.0.1 a moment ago."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def tf_config(hosts: Sequence[str], index: int) -> str:
    """The `TF_CONFIG` of worker `index` in a cluster of `hosts`."""
    cluster = {"cluster": {"worker": list(hosts)}}
    return json.dumps({**cluster, "task": {"type": "worker", "index": index}})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
        usage="%(prog)s (--workers N | --hosts H:P,... --index I) [options] "
        "-- COMMAND ...",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--workers", type=int, help="N workers on this machine")
    where.add_argument("--hosts", help="host:port of every worker, comma-separated")
    parser.add_argument(
        "--index", type=int, help="with --hosts: this machine's worker index"
    )
    parser.add_argument(
        "--devices",
        choices=("cpu", "gpu", "all"),
        help="cpu: hide GPUs; gpu: the I-th worker started here gets GPU I; "
        "all: leave as is (default: cpu with --workers, all with --hosts)",
    )
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds before all are stopped"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        parser.error("give the command to run after `--`")
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.devices is None:
        args.devices = "cpu" if args.workers is not None else "all"
    if args.hosts is not None:
        count = len(args.hosts.split(","))
        if args.index is None or not 0 <= args.index < count:
            parser.error(f"--hosts needs --index between 0 and {count - 1}")
    return args


def worker_env(config: str, position: int, devices: str) -> dict[str, str]:
    """The environment of the `position`-th worker started on this machine."""
    env = dict(os.environ, TF_CONFIG=config, PYTHONUNBUFFERED="1")
    if devices == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    elif devices == "gpu":
        env["CUDA_VISIBLE_DEVICES"] = str(position)
    return env


def stream(process: subprocess.Popen, prefix: str, lock: threading.Lock) -> None:
    for line in process.stdout:
        with lock:
            sys.stdout.write(f"{prefix}{line}")
            sys.stdout.flush()


def stop(processes: Sequence[subprocess.Popen], grace: float = 5.0) -> None:
    """Terminates the processes still running; kills those that linger."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def launch(
    command: Sequence[str],
    configs: Sequence[tuple[int, str]],
    devices: str = "cpu",
    timeout: float | None = None,
) -> int:
    """Starts one process per `(index, TF_CONFIG)`; returns the exit code.

    0 when all succeed; else the first failure's code, after stopping the
    others; `TIMEOUT_EXIT` when `timeout` passes first.
    """
    lock = threading.Lock()
    processes, threads = [], []
    for position, (index, config) in enumerate(configs):
        process = subprocess.Popen(
            list(command),
            env=worker_env(config, position, devices),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        thread = threading.Thread(
            target=stream, args=(process, f"[worker {index}] ", lock), daemon=True
        )
        thread.start()
        processes.append((index, process))
        threads.append(thread)
    start = time.monotonic()
    code = 0
    try:
        while True:
            running = [(i, p) for i, p in processes if p.poll() is None]
            failed = [(i, p) for i, p in processes if p.poll() not in (None, 0)]
            if failed:
                index, process = failed[0]
                code = process.returncode
                print(
                    f"[launcher] worker {index} exited with code {code}; "
                    "stopping the others.",
                    flush=True,
                )
                break
            if not running:
                break
            if timeout is not None and time.monotonic() - start > timeout:
                print(f"[launcher] timed out after {timeout:g} s; stopping all.")
                code = TIMEOUT_EXIT
                break
            time.sleep(0.1)
    except KeyboardInterrupt:
        code = 130
    finally:
        stop([process for _, process in processes])
        for thread in threads:
            thread.join(timeout=5)
    return code


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.workers is not None:
        hosts = [f"127.0.0.1:{port}" for port in free_ports(args.workers)]
        indices = range(args.workers)
    else:
        hosts = [host.strip() for host in args.hosts.split(",")]
        indices = [args.index]
    configs = [(index, tf_config(hosts, index)) for index in indices]
    print(f"[launcher] cluster: {', '.join(hosts)}", flush=True)
    return launch(args.command, configs, args.devices, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
