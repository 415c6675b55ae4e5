"""The front's table, pareto.csv, pareto.png and trial look-up, on made-up metrics."""

from __future__ import annotations

import csv

import matplotlib.image
import pytest

from keras_se.tuning.front import (
    axis_label,
    find_trial,
    front_rows,
    front_table,
    write_front,
)
from tests.tuning.toy import pareto, run


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    tuner = pareto(
        tmp_path_factory.mktemp("front"),
        "val_accuracy,params,latency_ms",
        max_trials=12,
        seed=4,
    )
    run(tuner, 12)
    return tuner.oracle


def test_rows_are_the_front_with_objectives_then_hyperparameters(oracle):
    rows = front_rows(oracle)
    assert [row["trial"] for row in rows] == [t.trial_id for t in oracle.front()]
    assert list(rows[0]) == [
        "trial", "val_accuracy", "params", "latency_ms", "a", "b", "kind", "c"
    ]  # fmt: skip
    for row in rows:
        assert (row["c"] == "") is (row["kind"] == "plain")
    assert front_table(oracle, rows).row_count == len(rows)


def test_csv_and_png_are_written(oracle, tmp_path):
    csv_path, png_path = write_front(oracle, tmp_path, latency_batch_size=8)
    with csv_path.open() as handle:
        written = list(csv.DictReader(handle))
    rows = front_rows(oracle)
    assert [row["trial"] for row in written] == [row["trial"] for row in rows]
    assert float(written[0]["params"]) == rows[0]["params"]
    # One panel per cost against the accuracy.
    assert matplotlib.image.imread(png_path).shape[:2] == (400, 1000)


def test_axis_labels_carry_units():
    assert axis_label("params") == "params (parameters)"
    assert axis_label("latency_ms", 8) == "latency_ms (ms per batch of 8, median)"
    assert axis_label("val_accuracy") == "val_accuracy (fraction correct)"


def test_trials_are_found_by_id_with_or_without_padding(oracle):
    assert find_trial(oracle, "3").trial_id == "03"
    assert find_trial(oracle, "03").trial_id == "03"
    with pytest.raises(ValueError, match=r"No completed trial '99'.*the front is"):
        find_trial(oracle, "99")
