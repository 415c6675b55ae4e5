"""NSGA-II's variation over KerasTuner hyperparameters: selection, crossover, mutation.

What `ParetoOracle` uses to propose a child from ranked parents: a binary
tournament by Deb's crowded comparison, then a uniform crossover of the two
parents' values with mutation, walking the search space so that conditional
hyperparameters are set only where the child's own values make them active.
"""

from __future__ import annotations

import random

import keras_tuner


def tournament(parents: list[tuple[int, float, dict]], rng: random.Random) -> dict:
    """Binary tournament by Deb's crowded comparison: lower rank, then less crowded.

    Args:
        parents: `(rank, -crowding, values)` of each parent.
        rng: the random source.

    Returns:
        The winner's hyperparameter values.
    """
    first, second = rng.choice(parents), rng.choice(parents)
    return min(first, second, key=lambda parent: parent[:2])[2]


def crossover(
    first: dict,
    second: dict,
    hyperparameters: keras_tuner.HyperParameters,
    mutation_rate: float | None,
    rng: random.Random,
) -> dict:
    """A child of two parents' values: uniform crossover, then mutation.

    Each hyperparameter active under the child's own values comes from one
    parent, chosen at random, or, with probability `mutation_rate` (by
    default one over the size of the space), is drawn anew.

    Args:
        first, second: the parents' hyperparameter values.
        hyperparameters: the search space.
        mutation_rate: the probability of a fresh draw; `None` for the default.
        rng: the random source.

    Returns:
        The child's values.
    """
    space = hyperparameters.space
    rate = mutation_rate or 1.0 / max(1, len(space))
    child = keras_tuner.HyperParameters()
    for hp in space:
        child.merge([hp])
        if not child.is_active(hp):
            continue
        parent = first if rng.random() < 0.5 else second
        if hp.name in parent and rng.random() >= rate:
            child.values[hp.name] = parent[hp.name]
        else:
            child.values[hp.name] = hp.random_sample(rng.randrange(2**31))
    return dict(child.values)


def values_key(values: dict) -> tuple:
    """A hashable key of a trial's values, to tell a child already tried."""
    return tuple(sorted((name, str(value)) for name, value in values.items()))
