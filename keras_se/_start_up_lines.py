"""TensorFlow's start-up lines, kept off the `keras-se` command line.

Importing TensorFlow on a machine without a GPU writes lines such as
``E0000 ... failed call to cuInit`` to the process's standard error, from C++
and before absl's logging is set up, so neither `TF_CPP_MIN_LOG_LEVEL` nor
Python's logging reaches them all (level 3 hides the cuInit line, and every
real C++ error with it). On the command line, standard error instead goes
through a small relay process that drops the lines matching `START_UP_NOISE`
and passes everything else on unchanged, tracebacks and real C++ errors
included. The relay outlives a crash of the command, so nothing written
before the crash is lost. Library users' imports are left alone.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

# Each pattern matches one whole line that TensorFlow writes at start-up
# on a machine without a GPU, and nothing else.
START_UP_NOISE = tuple(
    re.compile(pattern)
    for pattern in (
        r"WARNING: All log messages before absl::InitializeLog\(\) is called"
        r" are written to STDERR",
        r"[IW]\d{4} [\d:. ]+\d+ cudart_stub\.cc:\d+\] Could not find cuda drivers"
        r" on your machine, GPU will not be used\.",
        r"E\d{4} [\d:. ]+\d+ cuda_platform\.cc:\d+\] failed call to cuInit: .*",
        r"[IW]\d{4} [\d:. ]+\d+ cpu_feature_guard\.cc:\d+\] This TensorFlow binary"
        r" is optimized to use available CPU instructions in performance-critical"
        r" operations\.",
        r"To enable the following instructions: .*, in other operations, rebuild"
        r" TensorFlow with the appropriate compiler flags\.",
        r"[IW]\d{4} [\d:. ]+\d+ port\.cc:\d+\] oneDNN custom operations are on\..*",
    )
)
COMMAND_NAMES = ("keras-se", "keras-se.exe", "keras-se-script.py")


def is_start_up_noise(line: str) -> bool:
    """Whether `line` (without its newline) is one of TensorFlow's start-up lines."""
    return any(pattern.fullmatch(line) for pattern in START_UP_NOISE)


def started_as_command_line(argv: list[str] | None = None) -> bool:
    """Whether this process is the `keras-se` console script."""
    argv = sys.argv if argv is None else argv
    return bool(argv) and Path(argv[0]).name in COMMAND_NAMES


def relay(source: int, target: int) -> None:
    """Copies lines from the file descriptor `source` to `target` until EOF,
    dropping start-up noise; a last line without a newline is passed on too."""
    pending = b""
    while chunk := os.read(source, 65536):
        *lines, pending = (pending + chunk).split(b"\n")
        kept = [
            line + b"\n"
            for line in lines
            if not is_start_up_noise(line.decode("utf-8", "replace"))
        ]
        if kept:
            os.write(target, b"".join(kept))
    if pending and not is_start_up_noise(pending.decode("utf-8", "replace")):
        os.write(target, pending)


def quiet_start_up_lines() -> None:
    """Routes this process's standard error through a filtering relay process.

    Call it before TensorFlow is imported. Where processes cannot fork
    (Windows), standard error is left as it is.
    """
    # Warnings and errors still reach the relay; only INFO lines are dropped.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    if not hasattr(os, "fork"):  # pragma: no cover (Windows)
        return
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    # The relay reads until every writer has exited. It ends in os._exit, so
    # coverage.py keeps none of its lines; `relay` is tested in-process.
    if os.fork() == 0:  # pragma: no cover
        os.close(write_end)
        os.closerange(0, 2)  # the command's stdin and stdout are not the relay's
        # Ctrl-C stops the command, whose traceback the relay still passes on.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            relay(read_end, 2)
        finally:
            os._exit(0)
    os.close(read_end)
    os.dup2(write_end, 2)
    os.close(write_end)
