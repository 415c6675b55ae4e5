"""Helpers for running the example scripts as a user would: subprocesses."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples"
# A proxy that refuses every connection: downloads fail at once, as offline.
OFFLINE = {
    key: "http://127.0.0.1:9"
    for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")
}


def example_env(**extra: str) -> dict[str, str]:
    """The environment of an example run: this checkout, the CPU, quiet TF."""
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO_ROOT),
        TF_CPP_MIN_LOG_LEVEL="3",
        CUDA_VISIBLE_DEVICES="",
        NO_PROXY="",
        no_proxy="",
    )
    env.update(extra)
    return env


def run_example(*args, env=None, timeout=300) -> subprocess.CompletedProcess:
    """Runs `python examples/<args[0]> <args[1:]>` and returns the result."""
    script, *rest = args
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *map(str, rest)],
        capture_output=True,
        text=True,
        env=env or example_env(),
        timeout=timeout,
        check=False,
    )


def succeeded(completed: subprocess.CompletedProcess) -> str:
    """The run's stdout; a readable failure if it exited non-zero."""
    if completed.returncode != 0:
        raise AssertionError(
            f"exit code {completed.returncode}\nstdout:\n{completed.stdout[-3000:]}"
            f"\nstderr:\n{completed.stderr[-3000:]}"
        )
    return completed.stdout


def number_after(label: str, text: str) -> float:
    """The number printed after `label: ` in `text`."""
    match = re.search(rf"^{re.escape(label)}: ([0-9.e+-]+)", text, re.M)
    assert match, f"no '{label}: <number>' line in:\n{text[-2000:]}"
    return float(match.group(1))


@pytest.fixture
def image_folder(tmp_path):
    """Two classes of 8 tiny PNGs each: reddish and greenish noise."""
    import keras

    root = tmp_path / "shapes"
    rng = np.random.default_rng(0)
    for channel, name in enumerate(("red", "green")):
        (root / name).mkdir(parents=True)
        for index in range(8):
            image = rng.uniform(0, 80, (16, 16, 3))
            image[..., channel] += 150
            keras.utils.save_img(
                root / name / f"{index}.png", image.astype("uint8"), scale=False
            )
    return root
