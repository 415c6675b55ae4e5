"""Checks of `wrap_with_se`'s model and arguments, made before any work."""

from __future__ import annotations

import keras

from keras_se._validation import check_positive_int


def check_model(model) -> None:
    if not isinstance(model, keras.Model):
        raise TypeError(
            "`model` must be a keras.Model (Functional or Sequential). "
            f"Received: model={model!r} of type {type(model).__name__}"
        )
    if isinstance(model, keras.Sequential):
        if not model.built or not model.inputs:
            raise ValueError(
                f"Sequential model '{model.name}' has no input shape yet: start it "
                "with `keras.Input(shape)` or call `model.build(input_shape)` first."
            )
        return
    if not is_functional(model):
        raise TypeError(
            f"wrap_with_se cannot rewrite '{model.name}', a subclassed model "
            f"({type(model).__name__}): its call() is Python code, not a graph of "
            "layers. Supported: Functional and Sequential models (and models "
            "nested in them). Instead, add `keras_se.SqueezeExcite2D` layers in "
            "your call(), or rebuild the model with the Functional API."
        )


def is_functional(model: keras.Model) -> bool:
    # Functional models (and keras.applications) carry their graph; subclassed
    # ones do not.
    return hasattr(model, "_nodes_by_depth") and bool(getattr(model, "inputs", None))


def check_stages(stages):
    if stages is None:
        return None
    if isinstance(stages, int) and not isinstance(stages, bool):
        stages = (stages,)
    if not isinstance(stages, (list, tuple, set)) or not stages:
        raise ValueError(
            "`stages` must be None or a non-empty list of positive stage "
            f"numbers (1 = the first resolution stage). Received: stages={stages!r}"
        )
    for stage in stages:
        check_positive_int("stages", stage)
    return tuple(sorted(set(stages)))


def check_stage_range(stages, count):
    if count and max(stages) > count:
        raise ValueError(
            f"`stages` must be between 1 and {count}: this placement finds "
            f"{count} resolution stage(s). Received: stages={list(stages)}"
        )
