"""Helpers the benchmark scripts share: the machine line, interleaved timing,
medians and spreads, and printing a table as rich or Markdown.

The scripts run from the repository root (`python benchmarks/<script>.py`),
which puts this folder first on `sys.path`: they `import common`.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Hashable, Mapping
from datetime import date

import keras
from rich.console import Console
from rich.table import Table

import keras_se
from keras_se.demo.devices import list_gpus

Times = dict[Hashable, list[float]]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """One line: CPU, cores, GPU, versions, load average and date."""
    backend = keras.backend.backend()
    gpus = list_gpus()
    device = f"{len(gpus)} GPU(s): {gpus[0].name}" if gpus else "no GPU"
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, {device}; Python "
        f"{platform.python_version()}, Keras {keras.__version__} on {backend} "
        f"{importlib.metadata.version(backend)}, keras_se {keras_se.__version__}; "
        f"load average {os.getloadavg()[0]:.2f}; {date.today().isoformat()}"
    )


def progress(message: str, start: float) -> None:
    """A line on stderr with the seconds since `start`: tables stay on stdout."""
    print(f"[{time.perf_counter() - start:5.0f} s] {message}", file=sys.stderr)


def time_interleaved(
    tasks: Mapping[Hashable, Callable[[], object]], repeats: int, warmup: int
) -> Times:
    """Milliseconds per call of each task, `repeats` calls each.

    Each task must wait for its own result. Every repeat runs every task once,
    in a fresh random order, so machine drift hits them all alike and none
    always follows the same predecessor (whose leftovers in the caches would
    bias it).
    """
    for task in tasks.values():
        for _ in range(warmup):
            task()
    keys = list(tasks)
    times: Times = {key: [] for key in keys}
    order_rng = random.Random(0)
    for _ in range(repeats):
        order_rng.shuffle(keys)
        for key in keys:
            start = time.perf_counter()
            tasks[key]()
            times[key].append((time.perf_counter() - start) * 1e3)
    return times


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def iqr(samples: list[float]) -> float:
    """The interquartile range, in the samples' unit."""
    if len(samples) < 2:
        return 0.0
    q1, _, q3 = statistics.quantiles(samples, n=4)
    return q3 - q1


def print_table(
    header: list[str], rows: list[list[str]], title: str, markdown: bool
) -> None:
    """The first column left-aligned, the others right-aligned."""
    if markdown:
        print(f"{title}\n")
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(["---", *["---:"] * (len(header) - 1)]) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print()
        return
    table = Table(title=title)
    for index, column in enumerate(header):
        table.add_column(column, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console = Console()
    if not console.is_terminal:
        console.width = 200
    console.print(table)
