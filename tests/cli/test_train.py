"""The main job, `keras-se train`, end to end with tiny settings."""

from __future__ import annotations

import json

import keras
import matplotlib.image
import numpy as np
import pytest

import keras_se
from keras_se.cli import main
from keras_se.demo.data import load_digits
from tests.conftest import run_python


@pytest.mark.large
def test_train_compares_over_seeds_and_saves_the_best_model(tmp_path, capsys):
    out_dir = tmp_path / "run"
    code = main(
        [
            "train",
            "--attention",
            "se",
            "--seeds",
            "2",
            "--epochs",
            "3",
            "--batch-size",
            "32",
            "--ratio",
            "4",
            "--output-dir",
            str(out_dir),
            "--quiet",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    for text in ("digits_cnn", "digits_se_cnn", "params", "test accuracy", "s / epoch"):
        assert text in printed
    assert "2 seed(s) from 0" in printed
    saved = out_dir / "digits_se_cnn.keras"
    assert f"Saved the best attention model to {saved}\n" in printed
    assert not list(out_dir.glob("*.tmp")) and not list(out_dir.glob(".*"))

    # The pictures of what the SE blocks do, as `keras-se explain` writes them;
    # Grad-CAM (tf-keras-vis) only on TensorFlow, and one line says so elsewhere.
    pictures = ["excitations.png", "class_specificity.png"]
    if keras.backend.backend() == "tensorflow":
        pictures.append("gradcam.png")
    else:
        assert "Grad-CAM skipped" in printed
        assert not (out_dir / "gradcam.png").exists()
    for name in pictures:
        image = matplotlib.image.imread(out_dir / name)
        assert image.ndim == 3 and min(image.shape[:2]) > 100, name
        assert f"Saved {out_dir / name}\n" in printed
    blocks = json.loads((out_dir / "excitations.json").read_text())
    assert [block["name"] for block in blocks["blocks"]] == ["stage1_se", "stage2_se"]

    summary = json.loads((out_dir / "train_results.json").read_text())
    assert set(summary) == {"digits_cnn", "digits_se_cnn"}
    plain, with_se = summary["digits_cnn"], summary["digits_se_cnn"]
    # Two SE blocks, 32 and 64 channels, ratio 4: 2*C*C/4 + C/4 + C params each.
    assert with_se["params"] - plain["params"] == sum(
        2 * c * (c // 4) + c // 4 + c for c in (32, 64)
    )
    # One accuracy per seed; three epochs already beat chance (0.1) by far.
    for model_summary in (plain, with_se):
        accuracies = model_summary["test_accuracy"]
        assert len(accuracies) == 2 and min(accuracies) > 0.5
        assert model_summary["test_accuracy_mean"] == pytest.approx(np.mean(accuracies))
        assert model_summary["test_accuracy_std"] == pytest.approx(
            np.std(accuracies, ddof=1)
        )
    assert with_se["difference_to_plain"] == pytest.approx(
        with_se["test_accuracy_mean"] - plain["test_accuracy_mean"]
    )
    assert plain["difference_to_plain"] is None
    exceeds = abs(with_se["difference_to_plain"]) > with_se["seed_spread"]
    assert with_se["exceeds_seed_spread"] is exceeds
    verdict = "beyond the seed spread" if exceeds else "within the seed spread"
    assert (
        f"digits_se_cnn: {100 * with_se['difference_to_plain']:+.2f} points" in printed
    )
    assert verdict in printed

    # The saved model is the one trained with the first seed.
    model = keras.saving.load_model(saved, safe_mode=True)
    se_blocks = [
        layer for layer in model.layers if isinstance(layer, keras_se.SqueezeExcite2D)
    ]
    assert [block.ratio for block in se_blocks] == [4, 4]
    _, test = load_digits(seed=0)
    accuracy = np.mean(np.argmax(model.predict(test.x, verbose=0), -1) == test.y)
    assert accuracy == pytest.approx(with_se["test_accuracy"][0], abs=1e-6)


@pytest.mark.extra_large
def test_train_compares_each_attention_asked_for(tmp_path, capsys):
    out_dir = tmp_path / "run"
    code = main(
        ["train", "--attention", "eca,cbam", "--seeds", "1", "--epochs", "1",
         "--batch-size", "128", "--output-dir", str(out_dir), "--quiet"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "one seed: no spread to judge" in printed
    summary = json.loads((out_dir / "train_results.json").read_text())
    assert list(summary) == ["digits_cnn", "digits_eca_cnn", "digits_cbam_cnn"]
    best = max(["digits_eca_cnn", "digits_cbam_cnn"],
               key=lambda name: summary[name]["test_accuracy_mean"])  # fmt: skip
    assert (out_dir / f"{best}.keras").is_file()
    # ECA adds one k=3 convolution per stage (32 and 64 channels): 6 weights.
    eca = summary["digits_eca_cnn"]["params"] - summary["digits_cnn"]["params"]
    assert eca == 3 + 3


def test_default_attentions_match_the_help(capsys):
    from keras_se.demo.training import DEFAULT_ATTENTIONS

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"(default: {','.join(DEFAULT_ATTENTIONS)})" in help_text


@pytest.mark.parametrize(
    "flag, value",
    [
        ("--epochs", "0"),
        ("--batch-size", "-1"),
        ("--ratio", "two"),
        ("--seeds", "0"),
        ("--attention", "se,transformer"),
        ("--attention", ","),
    ],
)
def test_train_rejects_bad_flags_before_training(flag, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", flag, value])
    assert exit_info.value.code == 2
    assert flag in capsys.readouterr().err


TRAIN_IN_A_FRESH_PROCESS = """
import contextlib, io, json, keras
from keras_se.cli.main import main
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    code = main({argv!r})
model = keras.saving.load_model({model!r})
print(json.dumps({{
    "code": code,
    "printed": printed.getvalue(),
    "policy": model.get_layer("stage1_se").dtype_policy.name,
}}))
"""


@pytest.mark.extra_large
def test_train_with_strategy_mixed_precision_and_xla(tmp_path):
    # In a fresh interpreter: TensorFlow's mixed precision, XLA and a
    # strategy start from a clean process, and a crash of its native code
    # fails this test instead of taking a test worker down.
    out_dir = tmp_path / "run"
    argv = [
        "train",
        "--attention",
        "se",
        "--seeds",
        "1",
        "--epochs",
        "1",
        "--batch-size",
        "64",
        "--output-dir",
        str(out_dir),
        "--quiet",
        "--strategy",
        "cpu",
        "--mixed-precision",
        "--xla",
    ]
    result = run_python(
        TRAIN_IN_A_FRESH_PROCESS.format(
            argv=argv, model=str(out_dir / "digits_se_cnn.keras")
        ),
        backend="tensorflow",
    )
    assert result["code"] == 0
    assert "mixed_float16, XLA True, strategy OneDeviceStrategy" in result["printed"]
    assert "mixed_float16 on the CPU" in result["printed"]
    assert result["policy"] == "mixed_float16"


class _StopBeforeTrainingError(Exception):
    pass


@pytest.mark.parametrize(
    "flags, ratios, settings_line",
    [
        (["--attention", "se_r16"], {"se_r16": 16}, "ratio 16;"),
        (["--attention", "se_r16", "--ratio", "4"], {"se_r16": 4}, "ratio 4;"),
        (["--attention", "se"], {"se": 8}, "ratio 8;"),
        (
            ["--attention", "se,cbam_7x7,eca"],
            {"se": 8, "cbam_7x7": 16, "eca": None},
            "ratio 8 (se), 16 (cbam_7x7);",
        ),
    ],
)
def test_a_presets_ratio_holds_unless_ratio_is_given(
    flags, ratios, settings_line, monkeypatch, capsys
):
    import keras_se.demo.training
    from keras_se.demo.model import build_digits_cnn

    def stop(**settings):
        passed.update(settings)
        raise _StopBeforeTrainingError

    passed = {}
    monkeypatch.setattr(keras_se.demo.training, "compare_attentions_on_digits", stop)
    with pytest.raises(_StopBeforeTrainingError):
        main(["train", *flags])
    assert settings_line in " ".join(capsys.readouterr().out.split())
    for attention, ratio in ratios.items():
        model = build_digits_cnn(ratio=passed["ratio"], attention=attention)
        blocks = [b for b in model.layers if keras_se.layers.is_attention(b)]
        assert [getattr(block, "ratio", None) for block in blocks] == [ratio] * 2
