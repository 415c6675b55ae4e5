"""How much faster is a distributed SE search with 2 workers than with 1?

Runs the same `keras-se tune` search (the embedded digits, random search) as a
chief and 1 worker, then as a chief and 2 workers, on 127.0.0.1, each worker
capped at the same number of TensorFlow threads and (on Linux) bound to its
own cores, so that the workers do not fight over cores, and prints trials per
minute and the speedup. The search's
wall time is measured from the launch to the chief's exit, start-up included;
the trials' span from the first trial's start to the last trial's end.

    python benchmarks/tuning_scale.py
    python benchmarks/tuning_scale.py --trials 8 --epochs 4 --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path


def run_search(
    workers: int, trials: int, epochs: int, threads: int, pin: bool
) -> tuple[float, float]:
    """Returns the wall time and the trials' own span (first start to last end)."""
    directory = tempfile.mkdtemp(prefix="keras_se_scale_")
    command = [
        sys.executable, "-c",
        "import sys; from keras_se.tuning.launcher import launch_local; "
        f"sys.exit(launch_local(sys.argv[1:], {workers}, "
        f"threads={threads}, pin={pin}))",
        "--max-trials", str(trials), "--epochs", str(epochs), "--quiet",
        "--directory", directory, "--overwrite",
    ]  # fmt: skip
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    start = time.perf_counter()
    subprocess.run(command, env=environment, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    span = trials_span(Path(directory) / "se_search")
    shutil.rmtree(directory, ignore_errors=True)
    return seconds, span


def trials_span(project: Path) -> float:
    """From the first trial's start (the oracle's record) to the last trial's end."""
    state = json.loads((project / "oracle.json").read_text())
    starts = [
        datetime.fromisoformat(value).timestamp()
        for value in state["display"]["trial_start"].values()
    ]
    ends = [path.stat().st_mtime for path in project.glob("trial_*/trial.json")]
    return max(ends) - min(starts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="per worker")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--no-pin", action="store_true", help="do not bind each worker to its own cores"
    )
    args = parser.parse_args()

    runs: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    for _ in range(args.repeats):
        for workers in (1, 2):
            runs[workers].append(
                run_search(
                    workers, args.trials, args.epochs, args.threads, not args.no_pin
                )
            )
    wall = {w: statistics.median(run[0] for run in runs[w]) for w in (1, 2)}
    span = {w: statistics.median(run[1] for run in runs[w]) for w in (1, 2)}
    print(
        f"{platform.machine()}, {os.cpu_count()} cores; {args.trials} trials of "
        f"{args.epochs} epochs, {args.threads} thread(s) per worker, "
        f"{'not ' if args.no_pin else ''}pinned to its own cores, median of "
        f"{args.repeats} run(s)\n"
    )
    print("| workers | wall time | trials/min | trials' span | trials/min |")
    print("|---:|---:|---:|---:|---:|")
    for workers in (1, 2):
        per_minute = args.trials * 60 / wall[workers]
        per_minute_span = args.trials * 60 / span[workers]
        print(
            f"| {workers} | {wall[workers]:.1f} s | {per_minute:.2f} "
            f"| {span[workers]:.1f} s | {per_minute_span:.2f} |"
        )
    print(
        f"\nspeedup with 2 workers: {wall[1] / wall[2]:.2f}x wall time (start-up "
        f"included), {span[1] / span[2]:.2f}x over the trials' span"
    )


if __name__ == "__main__":
    main()
