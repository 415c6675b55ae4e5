"""SEHyperModel with KerasTuner's tuners, in one process."""

from __future__ import annotations

import keras
import keras_tuner
import numpy as np
import pytest

import keras_se
from keras_se.demo.data import load_digits
from keras_se.demo.model import build_digits_cnn
from keras_se.tuning import (
    HP_ATTENTION,
    HP_GATE,
    HP_PLACEMENT,
    HP_POSITION,
    HP_RATIO,
    HP_STAGES,
    PARAMS_ADDED,
    SEHyperModel,
)
from keras_se.tuning.hypermodel import SEARCHED_GATES, SEARCHED_PLACEMENTS
from keras_se.tuning.objectives import LATENCY_MS, PARAMS
from tests.surgery.helpers import two_stage_channels_first_cnn


def plain_cnn():
    return build_digits_cnn(se=False)


def se_blocks(model):
    return [
        layer for layer in model.layers if isinstance(layer, keras_se.SqueezeExcite2D)
    ]


def test_space_and_build_follow_the_hyperparameters():
    hypermodel = SEHyperModel(plain_cnn)
    hp = keras_tuner.HyperParameters()
    hp.Fixed(HP_RATIO, 8)
    hp.Fixed(HP_PLACEMENT, "conv")
    hp.Fixed(HP_STAGES, "last")
    hp.Fixed(HP_GATE, "hard_sigmoid")
    model = hypermodel.build(hp)
    blocks = se_blocks(model)
    assert len(blocks) == 1  # the last stage of the two-stage CNN
    assert blocks[0].ratio == 8 and blocks[0].gate == "hard_sigmoid"
    assert blocks[0].channels == 64
    assert model.compiled
    # No residual units in this CNN: no position to choose.
    assert HP_POSITION not in hp.values


@pytest.mark.large
def test_residual_base_offers_positions():
    def resnet():
        return keras.applications.ResNet50(
            weights=None, input_shape=(32, 32, 3), classes=4
        )

    hypermodel = SEHyperModel(resnet)
    hp = keras_tuner.HyperParameters()
    hp.Fixed(HP_PLACEMENT, "residual")
    hp.Fixed(HP_POSITION, "identity")
    hp.Fixed(HP_STAGES, "last_two")
    hp.Fixed(HP_RATIO, 32)
    model = hypermodel.build(hp)
    assert len(se_blocks(model)) == 6 + 3  # conv4 and conv5 units
    assert hp.get(HP_PLACEMENT) == "residual"


@pytest.mark.large
@pytest.mark.parametrize(
    "tuner_class", ["RandomSearch", "BayesianOptimization", "Hyperband"]
)
def test_each_tuner_runs_and_reports_params_added(tuner_class, tmp_path):
    train, test = load_digits()
    kwargs = (
        {"max_epochs": 2, "factor": 2}
        if tuner_class == "Hyperband"
        else {"max_trials": 2}
    )
    tuner = getattr(keras_tuner, tuner_class)(
        SEHyperModel(plain_cnn),
        objective="val_accuracy",
        directory=tmp_path,
        project_name="search",
        seed=1,
        **kwargs,
    )
    fit = dict(validation_data=(test.x, test.y), batch_size=128, verbose=0)
    if tuner_class != "Hyperband":
        fit["epochs"] = 1
    tuner.search(train.x[:512], train.y[:512], **fit)
    trials = list(tuner.oracle.trials.values())
    assert trials and all(t.status == "COMPLETED" for t in trials)
    for trial in trials:
        added = trial.metrics.get_last_value(PARAMS_ADDED)
        model = tuner.hypermodel.build(trial.hyperparameters)
        assert added == sum(b.count_params() for b in se_blocks(model)) > 0
        assert trial.metrics.get_last_value(PARAMS) == model.count_params()
        assert trial.metrics.get_last_value(LATENCY_MS) > 0
    best = tuner.get_best_models(1)[0]
    assert np.isfinite(best.predict(test.x[:4], verbose=0)).all()


def test_a_trained_model_is_wrapped_not_modified():
    base = build_digits_cnn(se=False)
    before = [w.copy() for w in base.get_weights()]
    SEHyperModel(base).build(keras_tuner.HyperParameters())
    for old, new in zip(before, base.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_logged_metrics_are_the_loss_the_metrics_and_the_costs():
    hypermodel = SEHyperModel(plain_cnn, metrics=["accuracy", keras.metrics.AUC()])
    assert hypermodel.logged_metrics(validation=False) == {
        "loss", "accuracy", "auc", PARAMS, PARAMS_ADDED, LATENCY_MS
    }  # fmt: skip
    assert {"val_loss", "val_accuracy", "val_auc"} <= hypermodel.logged_metrics(True)


@pytest.mark.parametrize("argument", ["latency_batch_size", "latency_repeats"])
def test_bad_latency_arguments_are_refused(argument):
    with pytest.raises(ValueError, match=argument):
        SEHyperModel(plain_cnn, **{argument: 0})


def test_bad_base_is_refused():
    with pytest.raises(ValueError, match=r"`base` must be a keras.Model or a function"):
        SEHyperModel("resnet")


@pytest.mark.large
def test_searched_values_come_from_the_layers_and_surgery():
    assert set(SEARCHED_GATES) <= set(keras_se.layers.GATES)
    assert set(SEARCHED_GATES) == set(keras_se.layers.IDENTITY_GATES)
    assert set(SEARCHED_PLACEMENTS) == set(keras_se.surgery.PLACEMENTS) - {"auto"}
    hp = keras_tuner.HyperParameters()
    hp.Fixed(HP_PLACEMENT, "residual")
    SEHyperModel(
        lambda: keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3))
    ).build(hp)
    choices = {p.name: p.values for p in hp.space if hasattr(p, "values")}
    assert set(choices[HP_GATE]) == set(SEARCHED_GATES)
    assert set(choices[HP_POSITION]) == set(keras_se.surgery.POSITIONS)


@pytest.mark.parametrize(
    ("residual", "expected"),
    [(False, ["conv", "stage_end"]), (True, ["residual", "stage_end", "conv"])],
)
def test_the_default_placement_is_what_auto_picks(residual, expected):
    def base():
        if residual:
            return keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3))
        return plain_cnn()

    hypermodel = SEHyperModel(base)
    assert hypermodel.placements(base()) == expected


def attention_blocks(model):
    return [layer for layer in model.layers if keras_se.layers.is_attention(layer)]


@pytest.mark.parametrize(
    ("attention", "layer_class", "has_ratio"),
    [
        ("se", keras_se.layers.SqueezeExcite2D, True),
        ("eca", keras_se.layers.EfficientChannelAttention2D, False),
        ("cbam", keras_se.layers.CBAM2D, True),
    ],
)
def test_the_attention_is_searched_and_ratio_only_where_it_applies(
    attention, layer_class, has_ratio
):
    base = plain_cnn()
    hypermodel = SEHyperModel(base, attentions=("se", "eca", "cbam"))
    hp = keras_tuner.HyperParameters()
    hp.Fixed(HP_ATTENTION, attention)
    hp.Fixed(HP_PLACEMENT, "conv")
    hp.Fixed(HP_STAGES, "all")
    model = hypermodel.build(hp)
    blocks = attention_blocks(model)
    assert len(blocks) == 2 and all(type(b) is layer_class for b in blocks)
    # The ratio is in the space for every trial, active only for the
    # attentions that have one.
    assert HP_RATIO in [p.name for p in hp.space]
    assert hp.is_active(HP_RATIO) is has_ratio
    if has_ratio:
        assert all(b.ratio == hp.get(HP_RATIO) for b in blocks)
    # Identity start: the wrapped CNN predicts what the plain one does.
    x = load_digits()[1].x[:8]
    np.testing.assert_allclose(
        model.predict(x, verbose=0), base.predict(x, verbose=0), atol=1e-6
    )


def test_the_searched_ratio_and_gate_replace_a_presets_not_its_others():
    hypermodel = SEHyperModel(plain_cnn(), attentions=("se_mobilenetv3",))
    hp = keras_tuner.HyperParameters()
    hp.Fixed(HP_RATIO, 32)
    hp.Fixed(HP_PLACEMENT, "conv")
    hp.Fixed(HP_GATE, "sigmoid")
    blocks = attention_blocks(hypermodel.build(hp))
    assert [(b.ratio, b.gate, b.divisor) for b in blocks] == [(32, "sigmoid", 8)] * 2


def test_the_default_space_searches_se_alone():
    hp = keras_tuner.HyperParameters()
    SEHyperModel(plain_cnn).build(hp)
    choices = {p.name: p.values for p in hp.space if hasattr(p, "values")}
    assert choices[HP_ATTENTION] == ["se"]


@pytest.mark.parametrize(
    ("attentions", "message"),
    [
        ("se", "non-empty sequence"),
        ((), "non-empty sequence"),
        (("se", "transformer"), r"`attentions` must be one of .*'transformer'"),
    ],
)
def test_bad_attentions_are_refused(attentions, message):
    with pytest.raises(ValueError, match=message):
        SEHyperModel(plain_cnn, attentions=attentions)


@pytest.mark.parametrize(
    ("stages", "expected"), [("last", ["c_se"]), ("last_two", ["a_se", "b_se", "c_se"])]
)
def test_a_channels_first_base_gets_blocks_on_its_channels(stages, expected):
    # Two resolutions (8x8: convs a and b, 8 and 16 channels; 4x4: conv c).
    hypermodel = SEHyperModel(two_stage_channels_first_cnn)
    hp = keras_tuner.HyperParameters()
    hp.Fixed(HP_PLACEMENT, "conv")
    hp.Fixed(HP_STAGES, stages)
    hp.Fixed(HP_RATIO, 4)
    model = hypermodel.build(hp)
    blocks = attention_blocks(model)
    assert [b.name for b in blocks] == expected
    assert {b.data_format for b in blocks} == {"channels_first"}
    widths = {"a_se": 8, "b_se": 16, "c_se": 16}
    rows = keras_se.describe(model)
    assert [row.channels for row in rows] == [widths[name] for name in expected]
    # What `fit` reports as params_added.
    added = sum(2 * c * (c // 4) + c // 4 + c for c in (r.channels for r in rows))
    assert sum(row.params for row in rows) == added
