"""A KerasTuner search for the Pareto front of several objectives (NSGA-II).

KerasTuner's `MultiObjective` adds its objectives into one number and keeps
no front. `ParetoOracle` keeps KerasTuner's machinery (trials, retries,
saving, the chief/worker gRPC service, our leases) and changes two public
hooks: `populate_space`, which proposes the next trial, and, in the scalar
search, `update_trial`, which adds the reward to a trial's metrics.

The proposal is steady-state NSGA-II (Deb, Pratap, Agarwal and Meyarivan,
"A fast and elitist multiobjective genetic algorithm: NSGA-II", IEEE TEVC
6(2), 2002): until `population_size` trials have finished, KerasTuner's
random search; then the finished trials are ranked by non-dominated sorting
and crowding distance, the best `population_size` are the parents, two are
picked by binary tournament on (rank, crowding), and the child takes each
hyperparameter from one of them (uniform crossover), or a random value with
probability `mutation_rate` (by default one over the number of
hyperparameters). A child already tried is drawn again; after 20 draws the
oracle falls back to a random trial.

With one objective and no target it is exactly KerasTuner's random search.
With a `target` it is MnasNet's scalar search: each trial records the
metric `mnasnet_reward`, `accuracy * (cost / target) ** exponent` (Tan et
al., CVPR 2019), which is the oracle's objective and each trial's score; the
parents are ranked by it, and `get_best_trials` returns the best.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import keras_tuner
import numpy as np

from keras_se.tuning.evolution import crossover, tournament, values_key
from keras_se.tuning.objectives import (
    check_logged,
    check_target,
    parse_objectives,
    parse_target,
    training_objective,
)
from keras_se.tuning.pareto import (
    MNASNET_EXPONENT,
    crowding_distance,
    mnasnet_reward,
    non_dominated,
    non_dominated_sort,
)
from keras_se.tuning.reward import MNASNET_REWARD, RewardHyperModel, reward_objective

_DRAWS = 20
ORACLE_OPTIONS = (
    "population_size",
    "mutation_rate",
    "target",
    "exponent",
    "hyperparameters",
    "tune_new_entries",
    "allow_new_entries",
    "max_retries_per_trial",
    "max_consecutive_failed_trials",
)


class ParetoOracle(keras_tuner.oracles.RandomSearchOracle):
    """An oracle that searches towards the Pareto front of `objectives`.

    Args:
        objectives: `"val_accuracy,params,latency_ms"` or a list of names,
            `"name:max"` strings and `keras_tuner.Objective`s.
        max_trials: trials in all.
        population_size: random trials before the evolution starts, and the
            parents it keeps; by default a third of `max_trials`, at least 2.
        mutation_rate: the chance of a random value per hyperparameter; by
            default one over their number.
        target: `(cost, value)` or `"cost=value"`: the scalar MnasNet search.
        exponent: MnasNet's `w` (-0.07, its soft constraint).
        seed: the random seed of the proposals.
        **kwargs: passed to `keras_tuner.oracles.RandomSearchOracle`.
    """

    def __init__(
        self,
        objectives: str | Sequence = "val_accuracy",
        max_trials: int = 10,
        population_size: int | None = None,
        mutation_rate: float | None = None,
        target: str | tuple[str, float] | None = None,
        exponent: float = MNASNET_EXPONENT,
        seed: int | None = None,
        **kwargs,
    ):
        self.objectives = parse_objectives(objectives)
        self.target = None if target is None else parse_target(target)
        if self.target is not None:
            check_target(self.objectives, self.target)
        self.training_objective = training_objective(self.objectives)
        super().__init__(
            objective=(
                self.training_objective if self.target is None else reward_objective()
            ),
            max_trials=max_trials,
            seed=seed,
            **kwargs,
        )
        self.population_size = population_size or max(2, (max_trials or 6) // 3)
        self.mutation_rate = mutation_rate
        self.exponent = exponent

    @property
    def evolves(self) -> bool:
        return len(self.objectives) > 1 or self.target is not None

    def point(self, trial) -> list[float]:
        """The trial's last value of each objective (NaN where missing)."""
        values = []
        for objective in self.objectives:
            value = None
            if trial.metrics.exists(objective.name):
                value = trial.metrics.get_last_value(objective.name)
            values.append(np.nan if value is None else float(value))
        return values

    def completed_trials(self) -> list:
        return [
            trial
            for _, trial in sorted(self.trials.items())
            if trial.status == "COMPLETED"
        ]

    def front(self) -> list:
        """The completed trials no other completed trial dominates."""
        trials = self.completed_trials()
        if not trials:
            return []
        points = [self.point(trial) for trial in trials]
        directions = [objective.direction for objective in self.objectives]
        mask = non_dominated(points, directions)
        return [trial for trial, on in zip(trials, mask, strict=True) if on]

    @keras_tuner.synchronized
    def end_trial(self, trial):
        super().end_trial(trial)
        # KerasTuner saves before the trial leaves the running list, so a
        # resumed search would run the last finished trial again.
        self.save()

    def update_trial(self, trial_id: str, metrics: dict, step: int = 0):
        if self.target is not None:
            metrics = self.with_reward(metrics)
        return super().update_trial(trial_id, metrics, step=step)

    def with_reward(self, metrics: dict) -> dict:
        """`metrics` and, with a target, MnasNet's reward as `mnasnet_reward`.

        The reward is left out where the accuracy or the cost is missing.

        Example:

        >>> from keras_se.tuning import ParetoOracle
        >>> oracle = ParetoOracle("val_accuracy,latency_ms", target="latency_ms=2")
        >>> oracle.objective.name
        'mnasnet_reward'
        >>> metrics = oracle.with_reward({"val_accuracy": 0.9, "latency_ms": 1.0})
        >>> round(metrics["mnasnet_reward"], 4)
        0.9447
        """
        accuracy, cost = self.training_objective.name, self.target[0]
        if accuracy not in metrics or cost not in metrics:
            return dict(metrics)
        point = [metrics.get(objective.name, np.nan) for objective in self.objectives]
        return {**metrics, MNASNET_REWARD: float(self._reward([point])[0])}

    def _reward(self, points) -> np.ndarray:
        names = [objective.name for objective in self.objectives]
        points = np.asarray(points, dtype=float)
        accuracy = points[:, names.index(self.training_objective.name)]
        cost = points[:, names.index(self.target[0])]
        return mnasnet_reward(accuracy, cost, self.target[1], self.exponent)

    def populate_space(self, trial_id):
        trials = self.completed_trials()
        if not self.evolves or len(trials) < self.population_size:
            return super().populate_space(trial_id)
        rng = random.Random(f"{self.seed}:{trial_id}")
        parents = self._parents(trials)
        tried = {
            values_key(trial.hyperparameters.values) for trial in self.trials.values()
        }
        for _ in range(_DRAWS):
            first, second = tournament(parents, rng), tournament(parents, rng)
            values = crossover(
                first, second, self.hyperparameters, self.mutation_rate, rng
            )
            if values_key(values) not in tried:
                return {"status": "RUNNING", "values": values}
        return super().populate_space(trial_id)

    def _parents(self, trials) -> list[tuple[int, float, dict]]:
        """The best `population_size` trials as (rank, -crowding, values)."""
        points = np.array([self.point(trial) for trial in trials])
        if self.target is not None:
            points = self._reward(points)[:, None]
            directions = ["max"]
        else:
            directions = [objective.direction for objective in self.objectives]
        ranks = non_dominated_sort(points, directions)
        crowding = np.zeros(len(trials))
        for rank in np.unique(ranks):
            members = ranks == rank
            crowding[members] = crowding_distance(np.nan_to_num(points[members]))
        ranked = sorted(
            (
                (int(rank), -float(crowd), trial.hyperparameters.values)
                for rank, crowd, trial in zip(ranks, crowding, trials, strict=True)
            ),
            key=lambda parent: parent[:2],
        )
        return ranked[: self.population_size]


class ParetoSearch(keras_tuner.Tuner):
    """A KerasTuner tuner with a `ParetoOracle`: NSGA-II over the hypermodel.

    Args:
        hypermodel: what is searched, e.g. an `SEHyperModel`.
        objectives: passed to `ParetoOracle`.
        max_trials: passed to `ParetoOracle`.
        seed: passed to `ParetoOracle`.
        **kwargs: `ParetoOracle`'s options (`ORACLE_OPTIONS`:
            `population_size`, `mutation_rate`, `target`, `exponent`,
            `max_retries_per_trial`...), the rest to `keras_tuner.Tuner`
            (`directory`, `project_name`, `overwrite`...).

    Example:

    >>> from keras_se.demo.model import build_digits_cnn
    >>> from keras_se.tuning import ParetoSearch, SEHyperModel
    >>> tuner = ParetoSearch(
    ...     SEHyperModel(lambda: build_digits_cnn(se=False)),
    ...     objectives="val_accuracy,params,latency_ms",
    ...     max_trials=6,
    ...     directory=tmp_dir,
    ... )
    >>> [o.direction for o in tuner.objectives]
    ['max', 'min', 'min']
    """

    def __init__(
        self,
        hypermodel=None,
        objectives: str | Sequence = "val_accuracy",
        max_trials: int = 10,
        seed: int | None = None,
        **kwargs,
    ):
        oracle_kwargs = {
            name: kwargs.pop(name) for name in ORACLE_OPTIONS if name in kwargs
        }
        oracle = ParetoOracle(
            objectives, max_trials=max_trials, seed=seed, **oracle_kwargs
        )
        # A worker's oracle becomes a gRPC client that knows only the main
        # objective: the tuner keeps the whole list.
        self.objectives = oracle.objectives
        if oracle.target is not None and hypermodel is not None:
            # KerasTuner checks that what `fit` returns holds the objective.
            hypermodel = RewardHyperModel(hypermodel, oracle.with_reward)
        super().__init__(oracle, hypermodel, **kwargs)

    def search(self, *fit_args, **fit_kwargs):
        """Checks the objectives against what the hypermodel logs, then searches.

        Raises:
            ObjectiveError: before the first trial, for an objective the
                hypermodel never logs (when it can tell: `SEHyperModel`).
        """
        logged_metrics = getattr(self.hypermodel, "logged_metrics", None)
        if logged_metrics is not None:
            validation = fit_kwargs.get("validation_data") is not None or bool(
                fit_kwargs.get("validation_split")
            )
            check_logged(self.objectives, logged_metrics(validation))
        return super().search(*fit_args, **fit_kwargs)

    def run_trial(self, trial, *args, **kwargs):
        results = super().run_trial(trial, *args, **kwargs)
        for result in results if isinstance(results, list) else [results]:
            if not isinstance(result, dict):
                continue
            missing = [o.name for o in self.objectives if o.name not in result]
            if missing:
                raise keras_tuner.errors.FatalValueError(
                    f"Trial {trial.trial_id} did not report the objectives "
                    f"{missing}; it reported {sorted(result)}."
                )
        return results
