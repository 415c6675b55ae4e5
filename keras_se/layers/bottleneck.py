"""How wide the SE bottleneck is, from the channel count and the arguments."""

from __future__ import annotations

import math
from typing import Any

from keras_se._validation import check_positive_int, check_positive_number

DEFAULT_ROUND_LIMIT = 0.9
# The widest bottleneck a block may have, in multiples of its input's
# channels. SE blocks narrow their input (r = 16) or widen it a few times at
# most; a width past this is a typo (`ratio=1e-9`, `units=10**10`) that
# would try to allocate billions of weights.
MAX_EXPANSION = 64


def check_ratio(ratio: Any) -> float:
    """Returns `ratio` if it is a number of at least `1 / MAX_EXPANSION`.

    Checked before any division, so that a ratio such as 1e-320 fails with
    this message rather than overflowing.

    Raises:
        ValueError: for a non-number, a ratio that is not positive and
            finite, or one below `1 / MAX_EXPANSION`.
    """
    check_positive_number("ratio", ratio)
    if ratio < 1 / MAX_EXPANSION:
        raise ValueError(
            f"`ratio` must be at least 1/{MAX_EXPANSION}: the bottleneck is "
            f"`channels / ratio` wide, at most {MAX_EXPANSION} times the "
            f"channels. Received: ratio={ratio!r}"
        )
    return ratio


def set_width_arguments(layer, ratio: Any, units: Any, divisor: Any) -> None:
    """Checks the width arguments of a block and stores them on `layer`.

    `ratio` (see `check_ratio`) is stored as passed, so that an int ratio
    stays an int in the config; `units` is a positive int or `None`,
    `divisor` a positive int.
    """
    check_ratio(ratio)
    layer.ratio = ratio
    layer.units = check_positive_int("units", units, allow_none=True)
    layer.divisor = check_positive_int("divisor", divisor)


def check_width(width: int, channels: int, units: int | None, divisor: int) -> int:
    """Returns `width` if it is at most `MAX_EXPANSION` times `channels`.

    The message names what made the width: `units` when given, else
    `divisor` (a ratio of at least `1 / MAX_EXPANSION` only goes past the
    limit through the rounding to a multiple of `divisor`).

    Raises:
        ValueError: if the bottleneck would be wider.
    """
    limit = MAX_EXPANSION * channels
    if width <= limit:
        return width
    name, value = ("units", units) if units is not None else ("divisor", divisor)
    raise ValueError(
        f"`{name}` gives a bottleneck of {width} units for an input of "
        f"{channels} channels; it may be at most {MAX_EXPANSION} times the "
        f"channels ({limit} units). Received: {name}={value!r}"
    )


def make_divisible(
    value: float,
    divisor: int,
    min_value: int | None = None,
    round_limit: float = DEFAULT_ROUND_LIMIT,
) -> int:
    """Rounds `value` to a multiple of `divisor`, never below `min_value`.

    The rule of timm's `make_divisible` (TF Model Garden's
    `make_divisible`/`divisible_by` and `keras.applications.MobileNetV3`'s
    `_depth` are the same rule with `round_limit=0.9`):

    1. `rounded` is the multiple of `divisor` nearest to `value` (halves round
       up), `int(value + divisor / 2) // divisor * divisor`;
    2. `rounded` is raised to `min_value` if below it;
    3. if `rounded < round_limit * value`, one `divisor` is added.

    With the default `round_limit=0.9`, step 3 bumps the width up one step
    when rounding down would lose more than 10% (EfficientNet, MobileNetV3).
    With `round_limit=0.0` step 3 never applies: that is the rounding of
    timm's `SEModule` (`make_divisible(channels * rd_ratio, rd_divisor,
    round_limit=0.)`).

    Args:
        value: the width to round, e.g. `channels / ratio`.
        divisor: positive int, the result is a multiple of it.
        min_value: the smallest result; `None` means `divisor`.
        round_limit: number in [0, 1), the threshold of step 3.
            Defaults to 0.9.

    Returns:
        The rounded width, a positive multiple of `divisor`.

    Example:

    >>> keras_se.layers.make_divisible(9.0, 8)
    16
    >>> keras_se.layers.make_divisible(9.0, 8, round_limit=0.0)
    8
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < round_limit * value:
        rounded += divisor
    return rounded


def bottleneck_units(
    channels: int,
    ratio: float,
    units: int | None = None,
    divisor: int = 1,
    round_limit: float = DEFAULT_ROUND_LIMIT,
) -> int:
    """Returns the number of units of the SE bottleneck.

    Args:
        channels: the channel count of the tensor the block gates.
        ratio: positive number, the reduction ratio `r` of the paper: the
            width is `channels / ratio` before rounding. A float is allowed
            (`ratio=0.5` doubles the width); a quotient within float
            rounding (1e-9, relative) of an integer counts as that integer,
            so 3 channels with `ratio=0.1` give 30 units, not 29.
        units: an absolute width; when given it overrides `ratio` and is
            used as is (at most `MAX_EXPANSION` times `channels`).
        divisor: with `divisor=1` the width is `floor(channels / ratio)`,
            the paper's `C / r` (`channels // ratio` for an int `ratio`),
            and at least 1: a block never has a 0-wide bottleneck (e.g. 8
            channels with `ratio=16` give 1 unit). With `divisor > 1` the
            width is `make_divisible(channels / ratio, divisor,
            round_limit=round_limit)`: the multiple of `divisor` nearest to
            `channels / ratio` (halves round up), at least `divisor`, plus
            one `divisor` when that is below `round_limit * channels / ratio`.
        round_limit: number in [0, 1), used only with `divisor > 1`. The
            default 0.9 reproduces the SE blocks of MobileNetV3 and
            EfficientNet-style models; 0.0 reproduces timm's `SEModule`
            (whose default `rd_divisor` is 8). With `rd_divisor=1` timm
            rounds `channels * rd_ratio` to the nearest integer where
            `divisor=1` here floors it: pass `units` to match it there.

    Returns:
        The bottleneck width, a positive integer.

    Raises:
        ValueError: if `ratio` is below `1 / MAX_EXPANSION` (1/64), or the
            width is more than `MAX_EXPANSION` times `channels`: a wider
            bottleneck cannot be meant.

    Example:

    >>> keras_se.layers.bottleneck_units(36, 4, divisor=8)
    16
    >>> keras_se.layers.bottleneck_units(36, 4, divisor=8, round_limit=0.0)
    8
    """
    return check_width(
        _bottleneck_width(channels, ratio, units, divisor, round_limit),
        channels,
        units,
        divisor,
    )


def _bottleneck_width(channels, ratio, units, divisor, round_limit) -> int:
    if units is not None:
        return units
    check_ratio(ratio)
    if divisor == 1 and isinstance(ratio, int):
        return max(1, channels // ratio)
    width = channels / ratio
    nearest = round(width)
    if math.isclose(width, nearest, rel_tol=1e-9):
        width = nearest
    if divisor == 1:
        return max(1, math.floor(width))
    return make_divisible(width, divisor, round_limit=round_limit)
