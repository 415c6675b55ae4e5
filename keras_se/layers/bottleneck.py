"""How wide the SE bottleneck is, from the channel count and the arguments."""

from __future__ import annotations

import math


def make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """Rounds `value` to the nearest multiple of `divisor`, never below it.

    The rounding of timm's `make_divisible` and TF Model Garden's
    `make_divisible`/`divisible_by` (and `keras.applications.MobileNetV3`'s
    `_depth`): nearest multiple, at least `min_value` (default `divisor`), and
    bumped up one step when rounding down would lose more than 10%.
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def bottleneck_units(
    channels: int, ratio: int, units: int | None = None, divisor: int = 1
) -> int:
    """Returns the number of units of the SE bottleneck.

    Args:
        channels: the channel count of the tensor the block gates.
        ratio: the reduction ratio `r` of the paper.
        units: an absolute width; when given it overrides `ratio` and is
            used as is.
        divisor: with `divisor=1` the width is `channels // ratio`, the
            paper's `C / r`, and at least 1: a block never has a 0-wide
            bottleneck (e.g. 8 channels with `ratio=16` give 1 unit). With
            `divisor > 1` the width is `channels / ratio` rounded by
            `make_divisible`, which reproduces the SE blocks of MobileNetV3
            and EfficientNet-style models.

    Returns:
        The bottleneck width, a positive integer.
    """
    if units is not None:
        return units
    if divisor == 1:
        return max(1, math.floor(channels / ratio))
    return make_divisible(channels / ratio, divisor)
