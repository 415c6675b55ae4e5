"""The end of `.ci/run`: each step's time and executed tests, then coverage.

Usage: python .ci/summary.py REPORT_FOLDER

REPORT_FOLDER holds `steps.tsv` (step name, seconds), `junit.tsv` (step name,
JUnit file) and the JUnit files. Standard library only.
"""

from __future__ import annotations

import csv
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

# The tests the CI of 4f80e95 executed (passed or failed; skips not counted),
# by venv and backend: the default run and `-m slow` on TensorFlow, the
# KerasHub file on JAX and PyTorch, the core list without TensorFlow.
EXECUTED_BEFORE = {
    "TensorFlow venv, TensorFlow backend": 1636 + 227,
    "TensorFlow venv, KerasHub on JAX": 19,
    "TensorFlow venv, KerasHub on PyTorch": 19,
    "TensorFlow-free venv, core on JAX": 1247,
    "TensorFlow-free venv, core on PyTorch": 1351,
}
# Which group of EXECUTED_BEFORE each step's tests count towards.
GROUPS = {
    "default tests": "TensorFlow venv, TensorFlow backend",
    "large and extra_large tiers": "TensorFlow venv, TensorFlow backend",
    "KerasHub on jax": "TensorFlow venv, KerasHub on JAX",
    "KerasHub on torch": "TensorFlow venv, KerasHub on PyTorch",
    "core tests on jax": "TensorFlow-free venv, core on JAX",
    "core tests on torch": "TensorFlow-free venv, core on PyTorch",
}


def read_tsv(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    with path.open() as handle:
        return list(csv.reader(handle, delimiter="\t"))


def outcomes(junit: Path) -> Counter:
    """Executed (passed or failed) and skipped test cases of a JUnit file."""
    return Counter(
        "skipped" if case.find("skipped") is not None else "executed"
        for case in ET.parse(junit).getroot().iter("testcase")
    )


def main(report: Path) -> None:
    junit = dict(read_tsv(report / "junit.tsv"))
    rows, total, groups = [], 0, Counter()
    for name, seconds in read_tsv(report / "steps.tsv"):
        total += int(seconds)
        counts = outcomes(report / junit[name]) if name in junit else Counter()
        if name in GROUPS:
            groups[GROUPS[name]] += counts["executed"]
        tests = f"{counts['executed']:>6} {counts['skipped']:>7}" if counts else ""
        rows.append(f"{name:<45} {seconds:>6} {tests}")
    print(f"{'step':<45} {'s':>6} {'tests':>6} {'skipped':>7}")
    print("\n".join(rows))
    print(f"{'total':<45} {total:>6}  ({total / 60:.1f} min)")
    print()
    print(f"{'executed tests':<45} {'before':>6} {'now':>6}")
    for group, before in EXECUTED_BEFORE.items():
        print(f"{group:<45} {before:>6} {groups[group]:>6}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
