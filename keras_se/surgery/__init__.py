"""Inserting SE blocks into models that already exist."""

from keras_se.surgery.placement import PLACEMENTS, POSITIONS
from keras_se.surgery.report import describe
from keras_se.surgery.wrap import wrap_with_se

__all__ = ["PLACEMENTS", "POSITIONS", "describe", "wrap_with_se"]
