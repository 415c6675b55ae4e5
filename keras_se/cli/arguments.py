"""What every subcommand shares: argument types and the one-line error."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """An argparse type: a positive integer, with a clear message otherwise."""
    return _positive(text, int, "integer")


def positive_float(text: str) -> float:
    """An argparse type: a positive number, with a clear message otherwise."""
    return _positive(text, float, "number")


def _positive(text: str, convert, kind: str):
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a positive {kind}, got {text!r}"
        ) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive {kind}, got {value}")
    return value


def print_error(command: str, error: BaseException) -> int:
    """Prints `keras-se COMMAND: error: ...` on one line to stderr; returns 1."""
    from rich.console import Console

    message = " ".join(str(error).split())
    Console(stderr=True).print(
        f"keras-se {command}: error: {message}", soft_wrap=True, markup=False
    )
    return 1


def print_path(console, text: str) -> None:
    """Prints a line holding a path, unwrapped so that it can be copied."""
    console.print(text, soft_wrap=True, markup=False)
