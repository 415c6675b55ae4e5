"""`keras-se explain` and `write_explanations`, end to end."""

from __future__ import annotations

import argparse
import json

import matplotlib.image
import numpy as np
import pytest

import keras_se
from keras_se.cli.explain import add_parser as add_explain_parser
from keras_se.demo.model import build_digits_cnn
from keras_se.viz import write_explanations
from keras_se.viz.explain import _pick

FILES = ["gradcam.png", "excitations.png", "class_specificity.png", "excitations.json"]


def explain(*argv):
    parser = argparse.ArgumentParser(prog="keras-se")
    add_explain_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["explain", *map(str, argv)])
    return args.handler(args)


@pytest.fixture(scope="module")
def saved_model(trained_digits_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "digits_se_cnn.keras"
    return keras_se.save_model(trained_digits_model, path)


@pytest.mark.large
def test_explain_writes_the_pictures(saved_model, tmp_path, capsys):
    out = tmp_path / "explain"
    assert explain(saved_model, "--out", out, "--samples", 8, "--quiet") == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    for name in FILES:
        assert f"Wrote {out / name}" in printed
    for name in ("stage1_se", "stage2_se", "class specificity"):
        assert name in printed
    heights_widths = {
        name: matplotlib.image.imread(out / name).shape[:2] for name in FILES[:3]
    }
    # 8 images, 4 per row: 2 rows of (image, overlay) pairs, at 100 dpi.
    assert heights_widths["gradcam.png"] == (400, 1360)
    assert heights_widths["excitations.png"] == (330, 980)
    assert heights_widths["class_specificity.png"] == (300, 1000)
    summary = json.loads((out / "excitations.json").read_text())
    assert [b["name"] for b in summary["blocks"]] == ["stage1_se", "stage2_se"]
    assert all(b["class_specificity"] > 0 for b in summary["blocks"])
    assert sum(summary["blocks"][0]["samples_per_class"]) == 360


@pytest.mark.large
def test_explain_other_method_layer_and_data(saved_model, tmp_path, digits):
    _, test = digits
    data = tmp_path / "data.npz"
    names = np.array([f"digit {c}" for c in range(10)])
    np.savez(data, x=test.x[:40], y=test.y[:40], class_names=names)
    out = tmp_path / "out"
    code = explain(
        saved_model,
        "--out",
        out,
        "--method",
        "gradcam++",
        "--layer",
        "stage1_se",
        "--data",
        data,
        "--samples",
        4,
        "--quiet",
    )
    assert code == 0
    assert (out / "gradcam_plus_plus.png").is_file()
    summary = json.loads((out / "excitations.json").read_text())
    assert summary["class_names"][0] == "digit 0"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.keras"], "missing.keras"),
        (["MODEL", "--layer", "nope"], "No layer named 'nope'"),
        (["MODEL", "--data", "DATA"], "inputs of shape (8, 8, 1)"),
    ],
)
def test_explain_errors(argv, message, saved_model, tmp_path, capsys):
    data = tmp_path / "data.npz"
    np.savez(data, x=np.zeros((3, 4, 4, 1)))
    argv = [{"MODEL": saved_model, "DATA": data}.get(arg, arg) for arg in argv]
    assert explain(*argv, "--out", tmp_path / "out", "--quiet") == 1
    error = capsys.readouterr().err
    assert error.startswith("keras-se explain: error:") and message in error


def test_plain_model_gets_the_grid_only(digits, tmp_path):
    _, test = digits
    paths = write_explanations(
        build_digits_cnn(se=False),
        test.x[:20],
        test.y[:20],
        tmp_path,
        samples=4,
        verbose=0,
    )
    assert [p.name for p in paths] == ["gradcam.png"]


def test_samples_go_round_the_classes_with_some_mistakes():
    classes = np.repeat(np.arange(5), 10)
    predicted = classes.copy()
    predicted[[13, 24, 35]] = 0
    picked = _pick(classes, predicted, 12)
    assert len(picked) == 12 and len(set(picked)) == 12
    assert sum(classes[picked] != predicted[picked]) == 3
    assert set(classes[picked]) == set(range(5))
