"""Excitation analysis: known answers, a reference, real models."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import keras_se
from keras_se.demo.model import build_digits_cnn
from keras_se.viz import excitation_model, excitations
from tests.surgery.helpers import cannot_run_channels_first, small_cnn_in
from tests.viz.conftest import constant_gate_model, nested_digits_model, random_images

LOGITS = (-1.5, 0.25, 2.0)


def sigmoid32(value):
    return np.float32(1) / (np.float32(1) + np.exp(np.float32(-value)))


@pytest.mark.parametrize("gate_scale", [1.0, 2.0, 0.5])
def test_constant_gates_give_exactly_those_excitations(gate_scale):
    model = constant_gate_model(LOGITS, gate_scale)
    x = random_images(50, (6, 6, 3), seed=1) * 4 - 2
    y = np.arange(50) % 3
    blocks = excitations(model, x, y, batch_size=16, verbose=0)

    assert [b.name for b in blocks] == ["se_a", "se_conv", "se_b"]
    scales = [gate_scale, 1.0, gate_scale]  # SqueezeExciteConv2D has no gate_scale
    for block, logit, scale in zip(blocks, LOGITS, scales, strict=True):
        expected = sigmoid32(logit) * np.float32(scale)
        assert block.gate_scale == scale
        assert block.per_class.shape == (3, 4) and block.overall.shape == (4,)
        np.testing.assert_allclose(block.per_class, expected, rtol=1e-6, atol=0)
        # Exactly the same numbers for every class and over all samples.
        assert np.all(block.per_class == block.per_class[0, 0])
        assert np.all(block.overall == block.per_class[0, 0])
        assert block.class_specificity == 0.0
        np.testing.assert_array_equal(block.class_deviation, 0.0)
        np.testing.assert_array_equal(block.counts, [17, 17, 16])


def test_excitations_equal_a_per_sample_reference():
    keras.utils.set_random_seed(3)
    model = build_digits_cnn(ratio=4)
    x = random_images(45, seed=2)
    y = np.random.default_rng(0).integers(0, 10, 45)
    y[y == 7] = 6  # class 7 has no samples
    blocks = excitations(model, x, y, batch_size=8, verbose=0)

    for block in blocks:
        layer = model.get_layer(block.name)
        features = keras.Model(model.inputs[0], layer.input)(x)
        gates = keras.ops.convert_to_numpy(layer.excitation(features))
        gates = gates.astype("float64")
        per_class = np.array(
            [
                gates[y == c].mean(0) if (y == c).any() else gates[0] * np.nan
                for c in range(10)
            ]
        )
        np.testing.assert_allclose(block.per_class, per_class, rtol=1e-5)
        np.testing.assert_allclose(block.overall, gates.mean(0), rtol=1e-5)
        assert np.isnan(block.per_class[7]).all() and block.counts[7] == 0
        present = np.delete(per_class, 7, axis=0)
        expected = np.mean(np.std(present, axis=0))
        # Differences of gates near each other: an absolute tolerance.
        assert block.class_specificity == pytest.approx(expected, abs=1e-7)
        deviation = np.mean(np.abs(present - present.mean(0)), axis=1)
        np.testing.assert_allclose(
            np.delete(block.class_deviation, 7), deviation, rtol=0, atol=1e-7
        )


@pytest.mark.large
def test_trained_digits_blocks_are_class_specific(trained_digits_model, digits):
    _, test = digits
    blocks = excitations(trained_digits_model, test.x, test.y, verbose=0)
    assert [b.name for b in blocks] == ["stage1_se", "stage2_se"]
    for block in blocks:
        assert block.per_class.shape == (10, block.channels)
        assert math.isfinite(block.class_specificity) and block.class_specificity > 0
        assert np.all(block.class_deviation > 0)
        np.testing.assert_array_equal(block.counts, np.bincount(test.y))


@pytest.mark.tensorflow  # feeds a tf.data.Dataset too
def test_results_do_not_depend_on_batching_or_input_kind(trained_digits_model, digits):
    import tensorflow as tf

    _, test = digits
    x, y = test.x[:100], test.y[:100]
    reference = excitations(trained_digits_model, x, y, batch_size=100, verbose=0)
    by_7 = excitations(trained_digits_model, x, y, batch_size=7, verbose=0)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(30)
    from_dataset = excitations(trained_digits_model, dataset, verbose=0)
    one_hot = excitations(trained_digits_model, x, np.eye(10)[y], verbose=0)
    for other in (by_7, from_dataset, one_hot):
        for a, b in zip(reference, other, strict=True):
            np.testing.assert_allclose(a.per_class, b.per_class, rtol=1e-5)
            np.testing.assert_array_equal(a.counts, b.counts)


def test_without_labels_groups_by_predicted_class(trained_digits_model, digits):
    _, test = digits
    blocks = excitations(trained_digits_model, test.x, verbose=0)
    predicted = np.argmax(trained_digits_model.predict(test.x, verbose=0), -1)
    np.testing.assert_array_equal(
        blocks[0].counts, np.bincount(predicted, minlength=10)
    )


def test_nested_and_reloaded_models_give_the_same_excitations(
    trained_digits_model, digits, tmp_path
):
    _, test = digits
    reference = excitations(trained_digits_model, test.x, test.y, verbose=0)
    nested = nested_digits_model(trained_digits_model)
    path = keras_se.save_model(trained_digits_model, tmp_path / "digits.keras")
    reloaded = keras_se.load_model(path)
    for model in (nested, reloaded):
        blocks = excitations(model, test.x, test.y, verbose=0)
        for a, b in zip(reference, blocks, strict=True):
            assert a.name == b.name
            np.testing.assert_allclose(a.per_class, b.per_class, rtol=1e-6)


def count_batches(monkeypatch):
    calls = []
    original = keras.Model.predict_on_batch

    def counted(self, x):
        calls.append(self.name)
        return original(self, x)

    monkeypatch.setattr(keras.Model, "predict_on_batch", counted)
    return calls


@pytest.mark.large
def test_wrapped_application_dozens_of_blocks_in_one_pass(monkeypatch):
    base = keras.applications.MobileNetV2(
        weights=None, input_shape=(32, 32, 3), include_top=False, alpha=0.35
    )
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.GlobalAveragePooling2D()(base(inputs))
    classifier = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    model = keras_se.wrap_with_se(classifier, ratio=4, placement="conv")
    names = [info.name for info in keras_se.describe(model)]
    assert len(names) >= 36

    calls = count_batches(monkeypatch)
    x = random_images(20, (32, 32, 3))
    blocks = excitations(model, x, np.arange(20) % 10, batch_size=10, verbose=0)
    # One model for all the blocks, one call per batch.
    assert len(calls) == 2 and len(set(calls)) == 1
    assert [b.name for b in blocks] == names
    for block in blocks:
        # wrap_with_se starts every gate at exactly 2 * sigmoid(0) = 1.
        assert block.gate_scale == 2.0
        np.testing.assert_array_equal(block.per_class, 1.0)
        assert block.class_specificity == 0.0


@pytest.mark.extra_large
def test_wrapped_resnet50(monkeypatch):
    model = keras_se.wrap_with_se(
        keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=5)
    )
    calls = count_batches(monkeypatch)
    blocks = excitations(
        model,
        random_images(10, (32, 32, 3)),
        np.arange(10) % 5,
        batch_size=5,
        verbose=0,
    )
    assert len(calls) == 2
    assert [b.name for b in blocks] == [i.name for i in keras_se.describe(model)]
    assert len(blocks) == 16 and blocks[-1].per_class.shape == (5, 2048)


def test_sequential_and_shared_blocks():
    shared = keras_se.SqueezeExcite2D(ratio=2, name="shared_se")
    inputs = keras.Input((4, 4, 4))
    x = shared(keras.layers.Conv2D(4, 1, name="a")(inputs))
    x = shared(keras.layers.Conv2D(4, 1, name="b")(x))
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    x_data = random_images(6, (4, 4, 4))
    blocks = excitations(model, x_data, [0, 1] * 3, verbose=0)
    assert [b.name for b in blocks] == ["shared_se", "shared_se:2"]

    sequential = keras.Sequential(
        [
            keras.Input((4, 4, 4)),
            keras_se.SqueezeExcite2D(2, name="se"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3),
        ]
    )
    blocks = excitations(sequential, x_data, [0, 1, 2] * 2, verbose=0)
    assert [b.name for b in blocks] == ["se"]


def test_excitation_model_outputs_one_gate_per_block():
    model = build_digits_cnn()
    gates = excitation_model(model, include_outputs=True)
    shapes = [tuple(output.shape) for output in gates.outputs]
    assert shapes == [(None, 32), (None, 64), (None, 10)]
    # It shares the model's weights: nothing is copied.
    assert {id(v) for v in gates.weights} == {id(v) for v in model.weights}


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.se = keras_se.SqueezeExcite2D(2)

    def call(self, inputs):
        return self.se(inputs)


@pytest.mark.parametrize(
    ("model", "y", "error", "match"),
    [
        (lambda: build_digits_cnn(se=False), None, ValueError, "no SE blocks"),
        (Subclassed, None, TypeError, "subclassed"),
        (build_digits_cnn, np.full(4, -1), ValueError, "non-negative integers"),
        (build_digits_cnn, np.full(4, 0.5), ValueError, "non-negative integers"),
        (build_digits_cnn, np.zeros(3), ValueError, "same number of samples"),
    ],
)
def test_errors(model, y, error, match):
    with pytest.raises(error, match=match):
        excitations(
            model(), random_images(4), y if y is not None else [0] * 4, verbose=0
        )


def gate_method(layer):
    # CBAM's per-channel gate is its channel attention's.
    return getattr(layer, "channel_excitation", None) or layer.excitation


@pytest.mark.parametrize("attention", ["eca", "ese", "cbam", "ge", "gc", "se"])
def test_every_attention_with_channel_gates_gives_its_gates(attention):
    keras.utils.set_random_seed(4)
    model = build_digits_cnn(attention=attention, ratio=4)
    x = random_images(30, seed=5)
    y = np.arange(30) % 3
    blocks = excitations(model, x, y, batch_size=7, verbose=0)

    assert [b.name for b in blocks] == [f"stage1_{attention}", f"stage2_{attention}"]
    for block in blocks:
        layer = model.get_layer(block.name)
        features = keras.Model(model.inputs[0], layer.input)(x)
        gates = keras.ops.convert_to_numpy(gate_method(layer)(features))
        gates = gates.astype("float64")
        assert block.channels == gates.shape[1] == layer.input.shape[-1]
        assert block.gate_scale == layer.gate_scale == 1.0
        expected = np.array([gates[y == c].mean(0) for c in range(3)])
        np.testing.assert_allclose(block.per_class[:3], expected, rtol=1e-5)
        assert np.isnan(block.per_class[3:]).all()
        np.testing.assert_allclose(block.overall, gates.mean(0), rtol=1e-5)


def test_wrapped_eca_blocks_start_at_one():
    model = keras_se.wrap_with_se(
        build_digits_cnn(se=False), attention="eca", placement="conv"
    )
    blocks = excitations(model, random_images(8), np.arange(8) % 2, verbose=0)
    assert [b.name for b in blocks] == ["stage1_eca", "stage2_eca"]
    for block in blocks:
        assert block.gate_scale == 2.0
        np.testing.assert_array_equal(block.per_class[:2], 1.0)


def test_blocks_without_channel_gates_are_left_out():
    # An add-only GlobalContext2D has no gate; a strided Gather-Excite has
    # a gate per region: only the ECA block is read.
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(8, 3, padding="same", name="conv")(inputs)
    x = keras_se.layers.GlobalContext2D(ratio=2, fusion="add", name="gc")(x)
    x = keras_se.layers.GatherExcite2D(extent=2, name="ge")(x)
    x = keras_se.layers.EfficientChannelAttention2D(name="eca")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(3)(x))
    blocks = excitations(model, random_images(6), [0, 1, 2] * 2, verbose=0)
    assert [b.name for b in blocks] == ["eca"]
    gates = excitation_model(model)
    assert [tuple(output.shape) for output in gates.outputs] == [(None, 8)]


@pytest.mark.parametrize(
    ("attention", "match"),
    [
        ("gc", r"no SE blocks .*have none: GlobalContext2D 'stage1_gc', "
               r"GlobalContext2D 'stage2_gc'"),
        (None, r"no SE blocks .*Add some with `keras_se.wrap_with_se"),
    ],
)  # fmt: skip
def test_a_model_without_channel_gates_is_refused_clearly(attention, match):
    model = build_digits_cnn(attention=attention or "se", se=attention is not None)
    if attention == "gc":
        model = keras_se.wrap_with_se(
            build_digits_cnn(se=False), attention="gc", placement="conv",
            attention_kwargs={"fusion": "add"},
        )  # fmt: skip
    with pytest.raises(ValueError, match=match):
        excitations(model, random_images(4), [0] * 4, verbose=0)


@pytest.mark.parametrize("attention", ["se", "eca", "ese", "gc", "ge", "cbam"])
def test_grad_cam_looks_at_the_last_attention_block(attention):
    from keras_se.viz import find_target_layer

    model = build_digits_cnn(attention=attention)
    assert find_target_layer(model) == f"stage2_{attention}"
    nested = keras.Sequential([keras.Input((8, 8, 1)), model])
    assert find_target_layer(nested) == f"stage2_{attention}"


@pytest.mark.parametrize("attention", ["se", "eca", "cbam"])
def test_channels_first_blocks_give_one_excitation_per_channel(attention):
    keras.utils.set_random_seed(0)
    model = keras_se.wrap_with_se(small_cnn_in("channels_first"), attention=attention)
    gates = excitation_model(model)
    assert [tuple(output.shape) for output in gates.outputs] == [(None, 16)] * 2
    if reason := cannot_run_channels_first():
        pytest.skip(f"the excitations themselves: {reason}")
    x = np.random.default_rng(0).normal(size=(6, 3, 8, 8)).astype("float32")
    blocks = excitations(model, x, [0, 1, 2] * 2, verbose=0)
    assert [(b.name, b.channels, b.per_class.shape) for b in blocks] == [
        (f"conv1_{attention}", 16, (3, 16)),
        (f"conv2_{attention}", 16, (3, 16)),
    ]
    np.testing.assert_allclose(blocks[0].overall, 1.0, atol=1e-6)  # the identity start
