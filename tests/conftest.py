"""Shared fixtures and factories for the keras_se tests."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# JAX compiles each computation once for every process of the run (the
# workers, the fresh interpreters of the tests) and every run after: its
# persistent cache keeps what any of them compiled. XLA (JAX, and TensorFlow's
# jit_compile) compiles without LLVM's costly optimizations: the tests' graphs
# are small and compiled once each, so compiling dominates running, and
# optimizing cost a third more CPU time (the layer contract and the surgery
# tests on JAX: 166 s against 114 s). Set before JAX's and TensorFlow's import.
for key, value in {
    "XLA_FLAGS": "--xla_backend_optimization_level=0 "
    "--xla_llvm_disable_expensive_passes=true",
    "JAX_COMPILATION_CACHE_DIR": str(REPO_ROOT / ".pytest_cache" / "jax"),
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
}.items():
    os.environ.setdefault(key, value)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def tensorflow_missing() -> str | None:
    """Why a test marked `tensorflow` cannot run here; `None` if it can."""
    if importlib.util.find_spec("tensorflow") is None:
        return "needs TensorFlow: pip install 'keras-se[tensorflow]'"
    if keras.backend.backend() != "tensorflow":
        return f"needs KERAS_BACKEND=tensorflow (this is {keras.backend.backend()!r})"
    return None


# The tiers, as keras-hub has them: the default run is what a contributor runs
# after each edit (under 4 minutes on 2 CPU cores); CI runs every tier.
TIERS = {
    "large": "seconds each: a keras.applications or KerasHub net, an export, "
    "a fresh interpreter, a short search",
    "extra_large": "tens of seconds each: several processes (distributed "
    "searches, kill tests), every layer on the other backends",
}


def tier_option(tier: str) -> str:
    return f"--run-{tier.replace('_', '-')}"


def pytest_addoption(parser):
    group = parser.getgroup("keras_se", "keras-se test tiers")
    for tier, what in TIERS.items():
        group.addoption(
            tier_option(tier),
            action="store_true",
            default=False,
            help=f"also run the tests marked {tier} ({what})",
        )


def pytest_collection_modifyitems(config, items):
    """Leaves out the tiers not asked for (reported as deselected), and puts
    the files with the heaviest tier first: `--dist loadfile` hands files to
    the workers in this order, so the long ones do not start last."""
    left_out = {tier for tier in TIERS if not config.getoption(tier_option(tier))}
    kept, deselected, weight = [], [], {}
    for item in items:
        marks = {mark.name for mark in item.iter_markers()}
        if marks & left_out:
            deselected.append(item)
            continue
        kept.append(item)
        tier = 2 if "extra_large" in marks else 1 if "large" in marks else 0
        weight[item.path] = max(weight.get(item.path, 0), tier)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = sorted(kept, key=lambda item: -weight[item.path])


def pytest_runtest_setup(item):
    if item.get_closest_marker("tensorflow") and (reason := tensorflow_missing()):
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def fixed_seed():
    keras.utils.set_random_seed(1234)
    yield
    keras.config.set_dtype_policy("float32")


def random_inputs(shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype("float32")


def run_python(
    code: str,
    backend: str | None = None,
    timeout: int = 300,
    env: dict[str, str] | None = None,
) -> dict:
    """Runs `code` in a fresh interpreter; returns the JSON it prints last.

    A fresh process proves what is on disk is enough: nothing registered or
    cached in this test process can help it.
    """
    quiet = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO_ROOT)}
    env = {**os.environ, **quiet, **(env or {})}
    if backend is not None:
        env["KERAS_BACKEND"] = backend
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(
            f"subprocess failed ({completed.returncode}):\n{completed.stderr[-4000:]}"
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])
