"""Argument checks shared by the layers and the model surgery.

Every check raises a `ValueError` whose message names the argument, the value
received and what is allowed, in the Keras style:
"`divisor` must be a positive integer. Received: divisor=0".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras

DATA_FORMATS = ("channels_last", "channels_first")


def check_positive_int(name: str, value: Any, allow_none: bool = False) -> Any:
    """Returns `value` if it is a positive `int` (bools are refused)."""
    if value is None and allow_none:
        return value
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if not is_int or value < 1:
        allowed = "a positive integer" + (" or None" if allow_none else "")
        raise ValueError(f"`{name}` must be {allowed}. Received: {name}={value!r}")
    return value


def check_positive_number(name: str, value: Any) -> float:
    """Returns `value` as a float if it is a positive int or float."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not is_number or not value > 0 or value == float("inf"):
        raise ValueError(
            f"`{name}` must be a positive number. Received: {name}={value!r}"
        )
    return float(value)


def check_fraction(name: str, value: Any) -> float:
    """Returns `value` as a float if it is a number in [0, 1)."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not is_number or not 0 <= value < 1:
        raise ValueError(
            f"`{name}` must be a number in [0, 1). Received: {name}={value!r}"
        )
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    """Returns `value` if it is `True` or `False`."""
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return value


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Returns `value` if it is one of the `allowed` strings."""
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            f"`{name}` must be one of {allowed}. Received: {name}={value!r}"
        )
    return value


def resolve_data_format(data_format: str | None) -> str:
    """Resolves `None` to `keras.config.image_data_format()`, once."""
    if data_format is None:
        return keras.config.image_data_format()
    return check_choice("data_format", data_format, DATA_FORMATS)


KERAS_GETTERS = {
    "activation": (keras.activations, "an activation such as 'relu' or 'swish'"),
    "initializer": (keras.initializers, "an initializer such as 'glorot_uniform'"),
    "regularizer": (keras.regularizers, "a regularizer such as 'l2', or None"),
    "constraint": (keras.constraints, "a constraint such as 'non_neg', or None"),
}


def get_keras_object(name: str, value: Any) -> Any:
    """Resolves argument `name` with the Keras getter its name ends with.

    `kernel_initializer` goes through `keras.initializers.get`, `activation`
    through `keras.activations.get`, and so on. Keras's own message does not
    say which argument was wrong; this one does.
    """
    kind = name.rsplit("_", 1)[-1]
    module, example = KERAS_GETTERS[kind]
    try:
        return module.get(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"`{name}` must be {example}: a name or object that "
            f"`keras.{kind}s.get` accepts. Received: {name}={value!r}"
        ) from error
