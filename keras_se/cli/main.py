"""`keras-se`: the parser and the entry point."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from keras_se.cli import convert, explain, export, train, tune

# TensorFlow's C++ INFO lines are noise on a command line; its warnings and
# errors are not. An environment setting still wins. (The `keras-se` script
# also drops the start-up lines: keras_se/_start_up_lines.py.)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

SUBCOMMANDS = (train, export, tune, explain, convert)


def build_parser() -> argparse.ArgumentParser:
    """The `keras-se` parser, with one subparser per subcommand module."""
    parser = argparse.ArgumentParser(
        prog="keras-se",
        description="Squeeze-and-Excitation channel attention for Keras 3.",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for subcommand in SUBCOMMANDS:
        subcommand.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs `keras-se` with `argv` (default: `sys.argv[1:]`); returns the status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check = getattr(args, "check", None)
    if check is not None:
        check(parser, args)
    return args.handler(args)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"keras-se {version('keras-se')}"
    except PackageNotFoundError:
        return "keras-se (not installed)"


if __name__ == "__main__":
    sys.exit(main())
