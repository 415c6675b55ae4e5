"""Objectives and their directions, and every bad one refused before a trial."""

from __future__ import annotations

import keras_tuner
import pytest

from keras_se.errors import ObjectiveError
from keras_se.tuning.objectives import (
    check_logged,
    parse_objectives,
    parse_target,
    training_objective,
)


def pairs(objectives):
    return [(o.name, o.direction) for o in objectives]


def test_known_names_get_their_directions():
    parsed = parse_objectives("val_accuracy,params,latency_ms,params_added,val_loss")
    assert pairs(parsed) == [
        ("val_accuracy", "max"), ("params", "min"), ("latency_ms", "min"),
        ("params_added", "min"), ("val_loss", "min"),
    ]  # fmt: skip


def test_a_metric_with_a_direction_and_keras_tuner_objectives_are_taken():
    parsed = parse_objectives(["val_f2:max", keras_tuner.Objective("ece", "min")])
    assert pairs(parsed) == [("val_f2", "max"), ("ece", "min")]
    assert pairs(parse_objectives("val_accuracy:max")) == [("val_accuracy", "max")]


@pytest.mark.parametrize(
    ("objectives", "message"),
    [
        ("val_accuracy,flops", "Unknown objective `flops`"),
        ("val_accuracy:min", "contradicts"),
        ("params:max", "contradicts"),
        ("val_accuracy,params,params", "twice"),
        ("val_f2:up", "must be 'min' or 'max'"),
        ([], "at least one"),
        ([3], "must be a name"),
        ("val_accuracy,", "must be a name"),
    ],
)
def test_bad_objectives_are_refused(objectives, message):
    with pytest.raises(ObjectiveError, match=message):
        parse_objectives(objectives)


def test_the_training_objective_is_the_first_metric_not_a_cost():
    parsed = parse_objectives("params,val_accuracy,latency_ms")
    assert training_objective(parsed).name == "val_accuracy"
    with pytest.raises(ObjectiveError, match="not only costs"):
        training_objective(parse_objectives("params,latency_ms"))


def test_a_metric_the_model_never_logs_is_refused():
    objectives = parse_objectives("val_accuracy,params,val_f2:max")
    check_logged(objectives[:2], {"val_accuracy", "params", "loss"})
    with pytest.raises(ObjectiveError, match=r"never logs \[.val_f2.\][^V]*$"):
        check_logged(objectives, {"val_accuracy", "params", "loss"})
    with pytest.raises(ObjectiveError, match=r"never logs \['val_loss'\].*validation"):
        check_logged(parse_objectives("val_loss"), {"loss", "params"})


def test_targets_are_a_cost_and_a_positive_value():
    assert parse_target("latency_ms=2.5") == ("latency_ms", 2.5)
    assert parse_target(("params", 5000)) == ("params", 5000.0)
    for bad in ("latency_ms=fast", "val_accuracy=0.9", "params=0"):
        with pytest.raises(ObjectiveError, match="target"):
            parse_target(bad)
