"""The `keras-se` command line: one module per subcommand.

Nothing in the library imports this package; it sits on top of
`keras_se.layers`, `surgery`, `tuning`, `viz`, `saving` and `demo`.
"""

from keras_se.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
