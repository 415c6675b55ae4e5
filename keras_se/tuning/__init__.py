"""KerasTuner search over SE placement and shape, on one machine or many."""

from keras_se.tuning.hypermodel import (
    HP_GATE,
    HP_LEARNING_RATE,
    HP_PLACEMENT,
    HP_POSITION,
    HP_RATIO,
    HP_STAGES,
    PARAMS_ADDED,
    SEHyperModel,
)
from keras_se.tuning.leases import Heartbeat, LeasedOracleMixin, add_leases

__all__ = [
    "HP_GATE",
    "HP_LEARNING_RATE",
    "HP_PLACEMENT",
    "HP_POSITION",
    "HP_RATIO",
    "HP_STAGES",
    "PARAMS_ADDED",
    "Heartbeat",
    "LeasedOracleMixin",
    "SEHyperModel",
    "add_leases",
]
