"""The `keras-se` command's first screen is its own: TensorFlow's start-up
lines are dropped, every other line of standard error is kept."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from keras_se import _start_up_lines
from tests.conftest import REPO_ROOT

# What `import tensorflow` and a first op wrote on a CPU machine (TF 2.21).
TENSORFLOW_START_UP = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796397758.030189    7315 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
I0000 00:00:1796397758.089750    7315 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU instructions in performance-critical operations.
To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.
E0000 00:00:1796397767.885100    7315 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)
"""  # noqa: E501
REAL_LINES = [
    "E0000 00:00:1796397767.885100    7315 op_kernel.cc:1857] OP_REQUIRES failed",
    "W0000 00:00:1796397767.885100    7315 cuda_platform.cc:52] something else",
    "Traceback (most recent call last):",
    "ValueError: `ratio` must be a positive number. Received: ratio=0",
    "failed call to cuInit",  # not TensorFlow's line: no log prefix
]


def test_tensorflow_start_up_lines_are_noise_and_real_lines_are_not():
    for line in TENSORFLOW_START_UP.splitlines():
        assert _start_up_lines.is_start_up_noise(line), line
    for line in REAL_LINES:
        assert not _start_up_lines.is_start_up_noise(line), line


def test_the_relay_drops_only_the_noise_and_keeps_the_order(tmp_path):
    written = TENSORFLOW_START_UP + "\n".join(REAL_LINES) + "\nno newline at the end"
    source_read, source_write = os.pipe()
    target = tmp_path / "stderr.txt"
    with target.open("wb") as out:
        os.write(source_write, written.encode())
        os.close(source_write)
        _start_up_lines.relay(source_read, out.fileno())
        os.close(source_read)
    assert target.read_text() == "\n".join(REAL_LINES) + "\nno newline at the end"


@pytest.mark.parametrize(
    ("argv0", "expected"),
    [
        ("/venv/bin/keras-se", True),
        ("keras-se", True),
        ("-m", False),
        ("/venv/lib/python3.11/site-packages/pytest/__main__.py", False),
        ("", False),
    ],
)
def test_only_the_console_script_is_quieted(argv0, expected):
    assert _start_up_lines.started_as_command_line([argv0]) is expected


@pytest.mark.large
def test_console_script_help_has_a_quiet_first_screen():
    script = Path(sys.executable).parent / "keras-se"
    if not script.exists():
        pytest.skip(f"the console script is not installed beside {sys.executable}")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    completed = subprocess.run(
        [str(script), "train", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "PYTHONPATH": str(REPO_ROOT)},
    )
    for flag in ("--epochs", "--batch-size", "--ratio", "--output-dir", "--seed",
                 "--seeds", "--attention"):  # fmt: skip
        assert flag in completed.stdout
    for flag in ("--strategy", "--mixed-precision", "--xla"):
        assert flag in completed.stdout
    assert completed.stderr == ""


def test_python_dash_m_runs_the_same_command(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["keras_se.cli", "--version"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("keras_se.cli", run_name="__main__")
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("keras-se ")
