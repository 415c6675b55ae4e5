"""`keras-se tune` on the embedded digits, in one process."""

from __future__ import annotations

import csv
import json

import matplotlib.image
import pytest

from keras_se.cli import main


@pytest.mark.large
def test_tune_writes_table_csv_json_and_plot(tmp_path, capsys):
    code = main(
        ["tune", "--max-trials", "2", "--epochs", "1", "--batch-size", "128",
         "--directory", str(tmp_path), "--project-name", "p", "--quiet"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    for column in ("trial", "ratio", "placement", "stages", "position", "val_accuracy"):
        assert column in printed
    assert "params_added" in printed and "Best: trial" in printed
    project = tmp_path / "p"
    rows = json.loads((project / "results.json").read_text())
    assert [row["trial"] for row in rows] == ["0", "1"]
    assert all(row["status"] == "COMPLETED" and row["params_added"] > 0 for row in rows)
    with (project / "results.csv").open() as handle:
        assert [row["trial"] for row in csv.DictReader(handle)] == ["0", "1"]
    image = matplotlib.image.imread(project / "results.png")
    assert image.shape[:2] == (400, 600)
    # Resuming a finished search runs nothing new and reports the same trials.
    argv = ["tune", "--max-trials", "2", "--epochs", "1", "--quiet",
            "--directory", str(tmp_path), "--project-name", "p"]  # fmt: skip
    assert main(argv) == 0
    assert json.loads((project / "results.json").read_text()) == rows


@pytest.mark.large
def test_tune_searches_the_attentions_asked_for(tmp_path, capsys):
    code = main(
        ["tune", "--attention", "eca,cbam", "--max-trials", "2", "--epochs", "1",
         "--batch-size", "128", "--directory", str(tmp_path), "--project-name", "p",
         "--quiet", "--seed", "3"]
    )  # fmt: skip
    assert code == 0
    assert "attention" in capsys.readouterr().out
    rows = json.loads((tmp_path / "p" / "results.json").read_text())
    assert {row["attention"] for row in rows} <= {"eca", "cbam"}
    for row in rows:
        # ECA has no reduction ratio: the column says so.
        assert (row["ratio"] == "-") is (row["attention"] == "eca")


@pytest.mark.parametrize(
    "argv",
    [
        ["--workers", "-1"],
        ["--dataset", "/no/such/folder"],
        ["--attention", "se,transformer"],
    ],
)
def test_tune_refuses_bad_arguments(argv, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["tune", "--directory", str(tmp_path), *argv])
    assert exit_info.value.code not in (0, None)
