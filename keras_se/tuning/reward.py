"""MnasNet's scalar reward as a metric of each trial, under its own name.

In the scalar search (`ParetoOracle(..., target=...)`) the oracle's
objective is `MNASNET_REWARD`, to maximize: KerasTuner's progress lines
(`mnasnet_reward: ...`, `Best mnasnet_reward So Far: ...`), its best trials
and the saved `trial.json` files all name the reward as what it is, while
the accuracy and the costs keep their own names.

KerasTuner checks that a trial's results hold the objective, on the process
that trains it, so `RewardHyperModel` adds the reward to what the hypermodel's
`fit` returns; the oracle computes it again from the reported metrics, so it
is the same number whoever reports them. The reward is not known before the
cost is measured, after training, so KerasTuner keeps each trial's last epoch
as its checkpoint: the epoch whose metrics the trial reports.
"""

from __future__ import annotations

from collections.abc import Callable

import keras_tuner

MNASNET_REWARD = "mnasnet_reward"


def reward_objective() -> keras_tuner.Objective:
    """The objective of the scalar search: `MNASNET_REWARD`, to maximize."""
    return keras_tuner.Objective(MNASNET_REWARD, "max")


class RewardHyperModel(keras_tuner.HyperModel):
    """A hypermodel whose `fit` results also hold MnasNet's reward.

    Args:
        hypermodel: the `keras_tuner.HyperModel`, or a function of `hp` that
            builds a model, whose search is scored by the reward.
        with_reward: a function from a trial's metrics to the same metrics
            with the reward added (`ParetoOracle.with_reward`).

    Any other attribute is the wrapped hypermodel's, e.g. an
    `SEHyperModel`'s `logged_metrics`.
    """

    def __init__(
        self,
        hypermodel: keras_tuner.HyperModel | Callable,
        with_reward: Callable[[dict], dict],
    ):
        if isinstance(hypermodel, keras_tuner.HyperModel):
            super().__init__(name=hypermodel.name, tunable=hypermodel.tunable)
        else:
            super().__init__()
        self.hypermodel = hypermodel
        self.with_reward = with_reward

    def declare_hyperparameters(self, hp) -> None:
        if isinstance(self.hypermodel, keras_tuner.HyperModel):
            self.hypermodel.declare_hyperparameters(hp)

    def build(self, hp):
        if isinstance(self.hypermodel, keras_tuner.HyperModel):
            return self.hypermodel.build(hp)
        return self.hypermodel(hp)

    def fit(self, hp, model, *args, **kwargs):
        if isinstance(self.hypermodel, keras_tuner.HyperModel):
            results = self.hypermodel.fit(hp, model, *args, **kwargs)
        else:
            results = super().fit(hp, model, *args, **kwargs)
        if isinstance(results, list):
            return [self._rewarded(result) for result in results]
        return self._rewarded(results)

    def _rewarded(self, results):
        return self.with_reward(results) if isinstance(results, dict) else results

    def __getattr__(self, name: str):
        if name == "hypermodel":
            raise AttributeError(name)
        return getattr(self.hypermodel, name)
