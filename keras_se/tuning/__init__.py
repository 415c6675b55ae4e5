"""KerasTuner search over SE placement, shape and attention, on one machine or many.

`SEHyperModel` works with any KerasTuner tuner. For a search spread over a
chief and workers (KerasTuner's `KERASTUNER_*` variables), every process
builds its tuner with `make_tuner` and runs its part with `run_search`;
`role()` tells a script which part it plays. `ParetoSearch` searches for
the Pareto front of several objectives (accuracy, parameters, measured
latency) with NSGA-II on KerasTuner's oracle. The leases that make that search
survive a dead worker or chief live in `keras_se.tuning.leases`, and the
KerasTuner internals they need in `keras_se.tuning.compat`.
"""

from keras_se.tuning.distributed import make_tuner, role, run_search
from keras_se.tuning.hypermodel import (
    HP_ATTENTION,
    HP_GATE,
    HP_LEARNING_RATE,
    HP_PLACEMENT,
    HP_POSITION,
    HP_RATIO,
    HP_STAGES,
    PARAMS_ADDED,
    SEHyperModel,
)
from keras_se.tuning.pareto_search import ParetoOracle, ParetoSearch

__all__ = [
    "HP_ATTENTION",
    "HP_GATE",
    "HP_LEARNING_RATE",
    "HP_PLACEMENT",
    "HP_POSITION",
    "HP_RATIO",
    "HP_STAGES",
    "PARAMS_ADDED",
    "ParetoOracle",
    "ParetoSearch",
    "SEHyperModel",
    "make_tuner",
    "role",
    "run_search",
]
