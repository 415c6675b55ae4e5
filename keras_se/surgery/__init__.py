"""Inserting SE blocks into models that already exist: a plan, then an apply."""

from keras_se.surgery.apply import apply_plan
from keras_se.surgery.placement import PLACEMENTS, POSITIONS
from keras_se.surgery.plan import PlannedBlock, WrapPlan, plan_se
from keras_se.surgery.report import describe
from keras_se.surgery.wrap import wrap_with_se

__all__ = [
    "PLACEMENTS",
    "POSITIONS",
    "PlannedBlock",
    "WrapPlan",
    "apply_plan",
    "describe",
    "plan_se",
    "wrap_with_se",
]
