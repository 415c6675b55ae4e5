"""What every subcommand shares: its declaration, argument types, error line."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def subcommand(name: str, *, help: str, description: str):
    """Declares a subcommand: decorates the function that adds its arguments.

    The decorated function takes the subcommand's parser; what the decorator
    returns takes what `add_subparsers()` returned, adds the parser `name`
    with its `help` (the line in `keras-se --help`) and `description` (the
    text of `keras-se NAME --help`), and passes it to the function.
    """

    def declare(add_arguments: Callable[[argparse.ArgumentParser], None]):
        def add_parser(commands) -> argparse.ArgumentParser:
            parser = commands.add_parser(name, help=help, description=description)
            add_arguments(parser)
            return parser

        add_parser.__doc__ = (
            f"Adds the `{name}` subcommand to what `add_subparsers()` returned."
        )
        return add_parser

    return declare


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


def attention_list(text: str) -> tuple[str, ...]:
    """An argparse type: comma-separated names or aliases of the attention registry.

    Aliases become the names they stand for (`keras_se.layers.ATTENTION_REGISTRY`).
    """
    from keras_se.layers.attention import ALIASES, ATTENTION_REGISTRY

    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in ATTENTION_REGISTRY and n not in ALIASES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            "must be comma-separated names among "
            f"{', '.join(ATTENTION_REGISTRY)}; got {text!r}"
        )
    return tuple(dict.fromkeys(ALIASES.get(n, n) for n in names))


def attention_help(action: str, default: str) -> str:
    """The `--attention` help: what the names do, the registry's names, the default."""
    from keras_se.layers.attention import ATTENTION_REGISTRY

    return (
        f"comma-separated attentions to {action}, among "
        f"{','.join(ATTENTION_REGISTRY)} or their aliases (default: {default})"
    )


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
