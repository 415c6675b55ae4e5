"""The Pareto front in NumPy against brute force, ties, and the MnasNet reward."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_se.tuning.pareto import (
    crowding_distance,
    dominates,
    mnasnet_reward,
    non_dominated,
    non_dominated_sort,
)


def brute_force_front(points, directions) -> list[bool]:
    """A point is on the front when no other point is as good everywhere and
    better somewhere: every pair compared in plain Python."""
    signs = [1 if d == "min" else -1 for d in directions]

    def beats(a, b):
        a = [s * v for s, v in zip(signs, a, strict=True)]
        b = [s * v for s, v in zip(signs, b, strict=True)]
        no_worse = all(x <= y for x, y in zip(a, b, strict=True))
        return no_worse and any(x < y for x, y in zip(a, b, strict=True))

    return [
        not any(beats(other, point) for j, other in enumerate(points) if j != i)
        for i, point in enumerate(points)
    ]


# Small integers make ties and equal points common.
point_sets = st.integers(1, 4).flatmap(
    lambda m: st.tuples(
        st.lists(
            st.lists(st.integers(0, 5), min_size=m, max_size=m),
            min_size=1,
            max_size=25,
        ),
        st.lists(st.sampled_from(["min", "max"]), min_size=m, max_size=m),
    )
)


@settings(max_examples=200, deadline=None)
@given(point_sets)
def test_front_matches_brute_force(case):
    points, directions = case
    assert non_dominated(points, directions).tolist() == brute_force_front(
        points, directions
    )


@settings(max_examples=100, deadline=None)
@given(point_sets)
def test_sorted_fronts_peel_off_one_by_one(case):
    points, directions = case
    ranks = non_dominated_sort(points, directions)
    remaining = list(range(len(points)))
    for rank in range(ranks.max() + 1):
        front = brute_force_front([points[i] for i in remaining], directions)
        expected = {i for i, on in zip(remaining, front, strict=True) if on}
        assert set(np.flatnonzero(ranks == rank)) == expected
        remaining = [i for i in remaining if i not in expected]
    assert not remaining


def test_equal_points_are_on_the_front_together():
    points = [[0.9, 10.0], [0.9, 10.0], [0.8, 10.0], [0.9, 12.0]]
    assert non_dominated(points, ["max", "min"]).tolist() == [True, True, False, False]
    assert not dominates(points[0], points[1], ["max", "min"])


def test_a_tie_in_one_objective_is_broken_by_the_other():
    # Same accuracy: the smaller model wins; same size: the more accurate.
    points = [[0.9, 100], [0.9, 50], [0.95, 50]]
    assert non_dominated(points, ["max", "min"]).tolist() == [False, False, True]


def test_one_objective_is_the_best_value_and_its_ties():
    accuracy = [[0.5], [0.9], [0.7], [0.9]]
    assert non_dominated(accuracy, ["max"]).tolist() == [False, True, False, True]
    assert non_dominated_sort(accuracy, ["max"]).tolist() == [2, 0, 1, 0]


def test_nan_is_never_on_the_front():
    points = [[np.nan, 1.0], [0.5, 2.0]]
    assert non_dominated_sort(points, ["max", "min"]).tolist() == [1, 0]


def test_crowding_distance_ends_are_infinite_and_inner_points_scaled():
    points = np.array([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0]])
    distance = crowding_distance(points)
    assert np.isinf(distance[[0, 3]]).all()
    # (3 - 0) / 4 + (4 - 1) / 4 and (4 - 1) / 4 + (2 - 0) / 4.
    np.testing.assert_allclose(distance[1:3], [1.5, 1.25])
    assert np.isinf(crowding_distance(points[:2])).all()


def test_mnasnet_reward_is_accuracy_at_the_target_and_soft_around_it():
    np.testing.assert_allclose(mnasnet_reward(0.8, 5.0, 5.0), 0.8)
    cheaper, dearer = mnasnet_reward(0.8, [2.5, 10.0], 5.0)
    np.testing.assert_allclose([cheaper, dearer], [0.8 * 2**0.07, 0.8 * 2**-0.07])
    # w = 0 ignores the cost.
    np.testing.assert_allclose(mnasnet_reward(0.8, 10.0, 5.0, exponent=0.0), 0.8)


@pytest.mark.parametrize(
    ("points", "directions"),
    [
        ([1.0, 2.0], ["min"]),
        ([[1.0, 2.0]], ["min"]),
        ([[1.0]], ["up"]),
    ],
)
def test_bad_points_or_directions_are_refused(points, directions):
    with pytest.raises(ValueError, match="must"):
        non_dominated(points, directions)


def test_bad_target_is_refused():
    with pytest.raises(ValueError, match="target"):
        mnasnet_reward(0.9, 1.0, 0.0)


def test_domination_is_a_strict_partial_order():
    points = list(itertools.product([0, 1, 2], repeat=2))
    directions = ["min", "max"]
    for a, b in itertools.product(points, repeat=2):
        assert not (dominates(a, b, directions) and dominates(b, a, directions))
    for a, b, c in itertools.product(points, repeat=3):
        if dominates(a, b, directions) and dominates(b, c, directions):
            assert dominates(a, c, directions)
