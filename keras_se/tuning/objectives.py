"""The objectives of a search, each with its direction, checked before any trial.

An objective is a `keras_tuner.Objective` (a name and `"min"` or `"max"`).
The costs a trial reports besides its training metrics have their own names:
`params` (the model's parameters), `params_added` (those the attention
blocks added) and `latency_ms` (measured inference time). A Keras metric's
direction is KerasTuner's own inference (`val_accuracy` max, `val_loss`
min); any other metric the model logs needs its direction spelled out,
`name:max` or `name:min`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import keras_tuner
from keras_tuner.engine.metrics_tracking import infer_metric_direction

from keras_se.errors import ObjectiveError

PARAMS = "params"
PARAMS_ADDED = "params_added"
LATENCY_MS = "latency_ms"
COST_DIRECTIONS = {PARAMS: "min", PARAMS_ADDED: "min", LATENCY_MS: "min"}
UNITS = {PARAMS: "parameters", PARAMS_ADDED: "parameters", LATENCY_MS: "ms"}


def known_direction(name: str) -> str | None:
    """The direction of a cost or Keras metric; `None` when it is not known."""
    if name in COST_DIRECTIONS:
        return COST_DIRECTIONS[name]
    return infer_metric_direction(name)


def parse_objectives(
    objectives: str | Sequence[str | keras_tuner.Objective],
) -> list[keras_tuner.Objective]:
    """Objectives from `"val_accuracy,params,latency_ms"` or a list.

    Each item is a name (`"params"`), a name with its direction
    (`"val_auc:max"`) or a `keras_tuner.Objective`.

    Raises:
        ObjectiveError: for no objective, one given twice, a direction other
            than min or max, a direction that contradicts the metric's own
            (`val_accuracy:min`), or a name whose direction is not known and
            not given.

    Example:

    >>> from keras_se.tuning.objectives import parse_objectives
    >>> [(o.name, o.direction) for o in parse_objectives("val_accuracy,params")]
    [('val_accuracy', 'max'), ('params', 'min')]
    """
    if isinstance(objectives, str):
        objectives = [item.strip() for item in objectives.split(",")]
    parsed = [_parse_one(item) for item in objectives]
    if not parsed:
        raise ObjectiveError("A search needs at least one objective. Received none.")
    names = [objective.name for objective in parsed]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ObjectiveError(f"Each objective may be given once. Given twice: {twice}")
    return parsed


def _parse_one(item) -> keras_tuner.Objective:
    if isinstance(item, keras_tuner.Objective):
        name, direction = item.name, item.direction
    elif isinstance(item, str) and item:
        name, _, direction = item.partition(":")
        direction = direction or None
    else:
        raise ObjectiveError(
            f"An objective must be a name, 'name:min', 'name:max' or a "
            f"keras_tuner.Objective. Received: {item!r}"
        )
    if direction not in (None, "min", "max"):
        raise ObjectiveError(
            f"The direction of `{name}` must be 'min' or 'max'. Received: {direction!r}"
        )
    known = known_direction(name)
    if direction is None and known is None:
        raise ObjectiveError(
            f"Unknown objective `{name}`: it is not {sorted(COST_DIRECTIONS)} "
            f"nor a Keras metric whose direction is known. For a metric your "
            f"model logs, give its direction: `{name}:max` or `{name}:min`."
        )
    if direction is not None and known is not None and direction != known:
        raise ObjectiveError(
            f"`{name}` is to be {'maximized' if known == 'max' else 'minimized'}: "
            f"the direction '{direction}' contradicts it."
        )
    return keras_tuner.Objective(name, direction or known)


def training_objective(
    objectives: Sequence[keras_tuner.Objective],
) -> keras_tuner.Objective:
    """The first objective that is a training metric, not a cost.

    KerasTuner checkpoints each trial's best epoch by it, and ranks trials
    by it where one best trial is asked for.

    Raises:
        ObjectiveError: when every objective is a cost.
    """
    for objective in objectives:
        if objective.name not in COST_DIRECTIONS:
            return objective
    raise ObjectiveError(
        f"At least one objective must be a metric the model logs while it "
        f"trains (such as val_accuracy), not only costs. Received: "
        f"{[o.name for o in objectives]}"
    )


def check_target(
    objectives: Sequence[keras_tuner.Objective], target: tuple[str, float]
) -> None:
    """Checks the target of MnasNet's scalar search against the objectives.

    Raises:
        ObjectiveError: when the target's cost is not an objective, or the
            training objective (the reward's accuracy) is to be minimized.
    """
    names = [objective.name for objective in objectives]
    if target[0] not in names:
        raise ObjectiveError(
            f"The target's cost `{target[0]}` must be one of the objectives {names}."
        )
    accuracy = training_objective(objectives)
    if accuracy.direction != "max":
        raise ObjectiveError(
            f"MnasNet's reward multiplies an accuracy to maximize; "
            f"`{accuracy.name}` is to be minimized."
        )


def check_logged(
    objectives: Sequence[keras_tuner.Objective], logged: Iterable[str]
) -> None:
    """Raises when an objective is a metric the trials never report.

    Args:
        objectives: from `parse_objectives`.
        logged: every name a trial reports (the model's metrics, with `val_`
            for validation ones, and the costs).

    Raises:
        ObjectiveError: naming the missing objectives and what is logged.
    """
    logged = set(logged)
    missing = [o.name for o in objectives if o.name not in logged]
    if missing:
        raise ObjectiveError(
            f"The model never logs {missing}, so they cannot be objectives. "
            f"It logs: {sorted(logged)}."
            + (
                " Validation metrics (val_...) need validation data."
                if any(
                    name.startswith("val_") and name.removeprefix("val_") in logged
                    for name in missing
                )
                else ""
            )
        )


def parse_target(target: str | tuple[str, float]) -> tuple[str, float]:
    """A cost and its target, from `"latency_ms=2.5"` or `("latency_ms", 2.5)`.

    Raises:
        ObjectiveError: when it is not a known cost with a positive number.
    """
    if isinstance(target, str):
        name, _, value = target.partition("=")
        try:
            value = float(value)
        except ValueError:
            raise ObjectiveError(
                f"A target must be 'cost=value', e.g. 'latency_ms=2.5'. "
                f"Received: {target!r}"
            ) from None
    else:
        name, value = target
    if name not in COST_DIRECTIONS or not value > 0:
        raise ObjectiveError(
            f"A target must be a cost among {sorted(COST_DIRECTIONS)} with a "
            f"positive value. Received: {name}={value!r}"
        )
    return name, float(value)
