"""`keras-se tune` on the embedded digits, in one process."""

from __future__ import annotations

import csv
import json

import keras
import matplotlib.image
import numpy as np
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
        ["--objectives", "val_accuracy,flops"],
        ["--objectives", "val_accuracy:min,params"],
        ["--objectives", "val_accuracy,val_f2:max"],
        ["--objectives", "val_accuracy,params", "--target", "latency_ms=2"],
        ["--objectives", "val_accuracy,params", "--tuner", "bayesian"],
        ["--target", "params=5000"],
    ],
)
def test_tune_refuses_bad_arguments(argv, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["tune", "--directory", str(tmp_path), *argv])
    assert exit_info.value.code not in (0, None)
    assert not (tmp_path / "se_search").exists()  # before the first trial


@pytest.mark.large
def test_tune_with_objectives_writes_the_front_and_reloads_a_member(tmp_path, capsys):
    argv = ["tune", "--objectives", "val_accuracy,params,latency_ms",
            "--attention", "se,eca", "--max-trials", "3", "--population-size", "2",
            "--epochs", "1", "--batch-size", "128", "--latency-batch-size", "4",
            "--directory", str(tmp_path), "--project-name", "p", "--quiet"]  # fmt: skip
    assert main([*argv, "--overwrite"]) == 0
    printed = capsys.readouterr().out
    assert "Pareto front" in printed and "pareto.csv" in printed
    project = tmp_path / "p"
    with (project / "pareto.csv").open() as handle:
        front = list(csv.DictReader(handle))
    assert front and list(front[0])[:4] == [
        "trial", "val_accuracy", "params", "latency_ms"
    ]  # fmt: skip
    assert {"attention", "se_placement", "se_stages", "se_gate"} <= set(front[0])
    assert all(float(row["latency_ms"]) > 0 for row in front)
    image = matplotlib.image.imread(project / "pareto.png")
    assert image.shape[:2] == (400, 1000)
    # Resuming the finished search runs nothing, finds the same front, and
    # reloads a member by its id.
    member = front[0]["trial"]
    assert main([*argv, "--load-trial", member]) == 0
    with (project / "pareto.csv").open() as handle:
        assert list(csv.DictReader(handle)) == front
    model = keras.saving.load_model(project / f"trial_{member}.keras")
    assert model.count_params() == int(float(front[0]["params"]))
    assert np.isfinite(model.predict(np.zeros((2, 8, 8, 1)), verbose=0)).all()


@pytest.mark.large
def test_tune_with_a_target_picks_the_best_mnasnet_reward(tmp_path, capsys):
    argv = ["tune", "--objectives", "val_accuracy,latency_ms",
            "--target", "latency_ms=1", "--max-trials", "2",
            "--epochs", "1", "--batch-size", "128",
            "--directory", str(tmp_path), "--project-name", "p", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Best by MnasNet reward (target latency_ms=1, w=-0.07): trial" in printed
    trials = [
        json.loads(path.read_text())
        for path in sorted((tmp_path / "p").glob("trial_*/trial.json"))
    ]
    rewards = {}
    for trial in trials:
        metrics = trial["metrics"]["metrics"]
        accuracy, latency = (
            metrics[name]["observations"][-1]["value"][0]
            for name in ("val_accuracy", "latency_ms")
        )
        assert trial["score"] == pytest.approx(accuracy * latency**-0.07)
        reward = metrics["mnasnet_reward"]["observations"][-1]["value"][0]
        assert reward == pytest.approx(trial["score"])
        rewards[trial["trial_id"]] = trial["score"]
    best = max(rewards, key=rewards.get)
    assert f"trial {best}, reward {rewards[best]:.4f}" in printed
    rows = json.loads((tmp_path / "p" / "results.json").read_text())
    assert {row["trial"]: row["mnasnet_reward"] for row in rows} == rewards
    assert all(row["val_accuracy"] != row["mnasnet_reward"] for row in rows)
    # The search reloaded from its folder reloads the best trial's model.
    assert main([*argv, "--load-trial", best]) == 0
    model = keras.saving.load_model(tmp_path / "p" / f"trial_{best}.keras")
    assert np.isfinite(model.predict(np.zeros((2, 8, 8, 1)), verbose=0)).all()


def test_workers_get_every_cost_aware_flag(monkeypatch, tmp_path):
    import keras_se.tuning.launcher
    from keras_se.cli.main import build_parser

    launched = {}
    monkeypatch.setattr(
        keras_se.tuning.launcher,
        "launch_local",
        lambda argv, workers: launched.update(argv=argv, workers=workers) or 0,
    )
    flags = ["--objectives", "val_accuracy,latency_ms", "--target", "latency_ms=2",
             "--exponent", "-0.1", "--latency-batch-size", "4",
             "--population-size", "3", "--load-trial", "05",
             "--directory", str(tmp_path)]  # fmt: skip
    assert main(["tune", "--workers", "2", *flags]) == 0
    assert launched["workers"] == 2
    parser = build_parser()
    expected = vars(parser.parse_args(["tune", *flags]))
    assert vars(parser.parse_args(["tune", *launched["argv"]])) == expected
