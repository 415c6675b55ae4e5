"""Accuracy over seeds: mean, spread, and whether a difference exceeds the spread."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSummary:
    """One model of the main job, over its seeds.

    Attributes:
        name: the model's name (`"digits_cnn"`, `"digits_se_cnn"`, ...).
        params: its parameter count.
        accuracies: its test accuracy with each seed.
        seconds_per_epoch: the median over seeds of each run's median epoch.
        difference: mean accuracy minus the plain CNN's; `None` for the
            plain CNN itself.
        spread: the half-width of the 95% confidence interval of that
            difference, Welch's: `t(0.975, df) * sqrt(s_a**2/n_a + s_p**2/n_p)`
            with the Welch-Satterthwaite `df`. A difference inside it is
            within what the seeds alone produce.
        p_value: Welch's two-sided t-test of the two sets of accuracies
            (SciPy): below 0.05 exactly when the difference exceeds the
            spread. `None` with fewer than two seeds, or when both sets are
            constant.
    """

    name: str
    params: int
    accuracies: tuple[float, ...]
    seconds_per_epoch: float
    difference: float | None = None
    spread: float | None = None
    p_value: float | None = None

    @property
    def mean(self) -> float:
        return statistics.fmean(self.accuracies)

    @property
    def std(self) -> float:
        """The sample standard deviation over seeds (0 for one seed)."""
        if len(self.accuracies) < 2:
            return 0.0
        return statistics.stdev(self.accuracies)

    @property
    def exceeds_spread(self) -> bool | None:
        """Whether the difference to the plain CNN exceeds the seed spread.

        `None` for the plain CNN and for a single seed (no spread to compare
        with).
        """
        if self.difference is None or len(self.accuracies) < 2:
            return None
        return abs(self.difference) > self.spread


def summarize(
    runs: dict[str, tuple[int, Sequence[float], Sequence[float]]],
) -> list[ModelSummary]:
    """Summarizes each model's runs and compares each with the first (plain) one.

    Args:
        runs: `{name: (params, accuracies, seconds_per_epoch)}`, the plain
            model first; one accuracy and one epoch time per seed.

    Returns:
        One `ModelSummary` per model, in the same order.

    Example:

    >>> from keras_se.demo.statistics import summarize
    >>> plain, se = summarize({
    ...     "plain": (100, [0.90, 0.91, 0.92], [1.0, 1.0, 1.0]),
    ...     "se": (120, [0.95, 0.96, 0.97], [1.2, 1.1, 1.3]),
    ... })
    >>> round(se.difference, 4), se.exceeds_spread
    (0.05, True)
    """
    summaries = []
    plain_accuracies = None
    for name, (params, accuracies, seconds) in runs.items():
        accuracies = tuple(float(a) for a in accuracies)
        summary = ModelSummary(
            name=name,
            params=int(params),
            accuracies=accuracies,
            seconds_per_epoch=statistics.median(seconds),
        )
        if plain_accuracies is None:
            plain_accuracies = accuracies
        else:
            summary = _compared(summary, plain_accuracies)
        summaries.append(summary)
    return summaries


def _compared(summary: ModelSummary, plain: tuple[float, ...]) -> ModelSummary:
    from scipy import stats

    ours = summary.accuracies
    difference = statistics.fmean(ours) - statistics.fmean(plain)
    spread, p_value = 0.0, None
    if len(ours) > 1 and len(plain) > 1:
        parts = [statistics.variance(v) / len(v) for v in (ours, plain)]
        if sum(parts) > 0:
            # Welch-Satterthwaite degrees of freedom; a term is 0 for a
            # constant set, which then adds nothing.
            df = sum(parts) ** 2 / sum(
                part**2 / (len(v) - 1)
                for part, v in zip(parts, (ours, plain), strict=True)
            )
            spread = float(stats.t.ppf(0.975, df)) * math.sqrt(sum(parts))
            p_value = float(stats.ttest_ind(ours, plain, equal_var=False).pvalue)
    return ModelSummary(
        name=summary.name,
        params=summary.params,
        accuracies=ours,
        seconds_per_epoch=summary.seconds_per_epoch,
        difference=difference,
        spread=spread,
        p_value=p_value,
    )
