"""How much faster is a distributed SE search with 2 workers than with 1?

Runs the same `keras-se tune` search (the embedded digits, random search) as a
chief and 1 worker, then as a chief and 2 workers, on 127.0.0.1, each worker
capped at the same number of TensorFlow threads and (on Linux) bound to its
own cores, so that the workers do not fight over cores, and prints trials per
minute and the speedup. The search's
wall time is measured from the launch to the chief's exit, start-up included.

    python benchmarks/tuning_scale.py
    python benchmarks/tuning_scale.py --trials 8 --epochs 4 --threads 1
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def run_search(
    workers: int, trials: int, epochs: int, threads: int, pin: bool
) -> float:
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
    shutil.rmtree(directory, ignore_errors=True)
    return seconds


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

    seconds: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.repeats):
        for workers in (1, 2):
            seconds[workers].append(
                run_search(
                    workers, args.trials, args.epochs, args.threads, not args.no_pin
                )
            )
    one, two = (statistics.median(seconds[w]) for w in (1, 2))
    print(
        f"{platform.machine()}, {os.cpu_count()} cores; {args.trials} trials of "
        f"{args.epochs} epochs, {args.threads} thread(s) per worker, "
        f"{'not ' if args.no_pin else ''}pinned to its own cores, median of "
        f"{args.repeats} run(s)\n"
    )
    print("| workers | wall time | trials / minute |")
    print("|---:|---:|---:|")
    for workers, wall in ((1, one), (2, two)):
        print(f"| {workers} | {wall:.1f} s | {args.trials / wall * 60:.2f} |")
    print(f"\nspeedup with 2 workers: {one / two:.2f}x")


if __name__ == "__main__":
    main()
