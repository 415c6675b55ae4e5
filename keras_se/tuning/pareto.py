"""Pareto fronts in NumPy: dominance, non-dominated sorting, crowding, MnasNet's reward.

No Keras and no KerasTuner here: the points are a `(n, m)` array, one row per
trial and one column per objective, and `directions` says for each column
whether more (`"max"`) or less (`"min"`) is better.

References:
    Deb, Pratap, Agarwal and Meyarivan, "A fast and elitist multiobjective
    genetic algorithm: NSGA-II", IEEE Transactions on Evolutionary
    Computation 6(2), 2002 (the sorting and the crowding distance).
    Tan et al., "MnasNet: Platform-Aware Neural Architecture Search for
    Mobile", CVPR 2019 (the reward `acc * (cost / target) ** w`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DIRECTIONS = ("min", "max")
# MnasNet's soft constraint: alpha = beta = -0.07 (Section 3).
MNASNET_EXPONENT = -0.07


def _as_minimised(points, directions: Sequence[str]) -> np.ndarray:
    """The points with every column turned into one to minimise."""
    points = np.asarray(points, dtype=float)
    if points.ndim != 2:
        raise ValueError(
            f"`points` must be a 2D array (trials, objectives). "
            f"Received: shape={points.shape}"
        )
    if len(directions) != points.shape[1]:
        raise ValueError(
            f"`directions` must have one entry per objective ({points.shape[1]}). "
            f"Received: directions={list(directions)}"
        )
    for direction in directions:
        if direction not in DIRECTIONS:
            raise ValueError(
                f"Each direction must be 'min' or 'max'. Received: {direction!r}"
            )
    signs = np.array([1.0 if d == "min" else -1.0 for d in directions])
    return points * signs


def dominates(a, b, directions: Sequence[str]) -> bool:
    """Whether `a` is at least as good as `b` everywhere and better somewhere."""
    a, b = _as_minimised([a, b], directions)
    return bool(np.all(a <= b) and np.any(a < b))


def _domination_matrix(minimised: np.ndarray) -> np.ndarray:
    """`[i, j]` is True when point i dominates point j."""
    no_worse = np.all(minimised[:, None, :] <= minimised[None, :, :], axis=-1)
    better = np.any(minimised[:, None, :] < minimised[None, :, :], axis=-1)
    return no_worse & better


def non_dominated(points, directions: Sequence[str]) -> np.ndarray:
    """A boolean mask of the points no other point dominates.

    Equal points do not dominate each other, so they are on the front
    together; a point with a NaN is never on it.

    Example:

    >>> from keras_se.tuning.pareto import non_dominated
    >>> non_dominated([[0.9, 100], [0.8, 50], [0.7, 60]], ["max", "min"]).tolist()
    [True, True, False]
    """
    return non_dominated_sort(points, directions) == 0


def non_dominated_sort(points, directions: Sequence[str]) -> np.ndarray:
    """The front each point is on: 0 for the non-dominated, 1 for the next...

    Deb et al.'s fast non-dominated sort: the points of front k+1 are those
    dominated only by points of fronts 0..k. Points with a NaN get the last
    rank, after every front.
    """
    minimised = _as_minimised(points, directions)
    count = len(minimised)
    ranks = np.full(count, -1, dtype=int)
    valid = ~np.isnan(minimised).any(axis=1)
    dominated_by = _domination_matrix(np.where(valid[:, None], minimised, 0.0))
    dominated_by &= valid[:, None] & valid[None, :]
    remaining = valid.copy()
    rank = 0
    while remaining.any():
        # Dominated by none of the points still unranked.
        current = remaining & ~(dominated_by & remaining[:, None]).any(axis=0)
        ranks[current] = rank
        remaining &= ~current
        rank += 1
    ranks[~valid] = rank
    return ranks


def crowding_distance(points) -> np.ndarray:
    """Deb et al.'s crowding distance of each point within its own front.

    Per objective, the gap between a point's two neighbours divided by the
    objective's range, summed; the ends of each objective get infinity.
    Pass one front's points. Equal points share a neighbourhood.
    """
    points = np.asarray(points, dtype=float)
    count = len(points)
    distance = np.zeros(count)
    if count <= 2:
        return np.full(count, np.inf)
    for column in points.T:
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        span = ordered[-1] - ordered[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span > 0:
            distance[order[1:-1]] += (ordered[2:] - ordered[:-2]) / span
    return distance


def mnasnet_reward(
    accuracy, cost, target: float, exponent: float = MNASNET_EXPONENT
) -> np.ndarray:
    """MnasNet's scalar reward `accuracy * (cost / target) ** exponent`.

    With a negative `exponent` a model cheaper than `target` gains a little
    and a dearer one loses a little (the soft constraint, w = -0.07).

    Example:

    >>> from keras_se.tuning.pareto import mnasnet_reward
    >>> round(float(mnasnet_reward(0.9, 1.0, 2.0)), 4)
    0.9447
    """
    if not target > 0:
        raise ValueError(f"`target` must be positive. Received: target={target!r}")
    cost = np.asarray(cost, dtype=float)
    return np.asarray(accuracy, dtype=float) * (cost / target) ** exponent
