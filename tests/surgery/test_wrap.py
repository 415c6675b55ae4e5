"""wrap_with_se on hand-made models: Sequential, nested, multi-IO, shared layers."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

import keras_se
from tests.conftest import random_inputs
from tests.surgery.helpers import (
    application,
    assert_original_weights_kept,
    attention_blocks,
    max_abs_difference,
    se_blocks,
)


def small_cnn(name="small_cnn"):
    return keras.Sequential(
        [
            keras.Input((12, 12, 3)),
            keras.layers.Conv2D(8, 3, padding="same", name="conv1"),
            keras.layers.BatchNormalization(name="bn1"),
            keras.layers.ReLU(name="relu1"),
            keras.layers.MaxPooling2D(name="pool1"),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
            keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Dense(4, name="logits"),
        ],
        name=name,
    )


def residual_block(x, filters, name):
    y = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv")(x)
    y = keras.layers.BatchNormalization(name=f"{name}_bn")(y)
    return keras.layers.Add(name=f"{name}_add")([x, y])


def test_sequential_gets_a_block_after_each_conv_unit():
    model = small_cnn()
    wrapped = keras_se.wrap_with_se(model, ratio=2)
    assert isinstance(wrapped, keras.Sequential)
    assert [layer.name for layer in wrapped.layers] == [
        "conv1", "bn1", "relu1", "conv1_se", "pool1", "conv2", "conv2_se",
        "gap", "logits",
    ]  # fmt: skip
    assert_original_weights_kept(model, wrapped)
    assert max_abs_difference(model, wrapped, random_inputs((3, 12, 12, 3))) <= 1e-5


@pytest.mark.large
def test_nested_application_inside_a_classifier():
    base = keras.applications.ResNet50(
        weights=None, include_top=False, input_shape=(32, 32, 3)
    )
    inputs = keras.Input((32, 32, 3), name="image")
    features = keras.layers.GlobalAveragePooling2D(name="gap")(base(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, name="head")(features))
    wrapped = keras_se.wrap_with_se(model)
    nested = wrapped.get_layer("resnet50")
    assert isinstance(nested, keras.Model) and nested is not base
    assert len(se_blocks(nested)) == 16
    assert_original_weights_kept(model, wrapped)
    x = random_inputs((2, 32, 32, 3), low=0, high=255)
    assert max_abs_difference(model, wrapped, x) <= 1e-5


def test_nested_sequential_inside_functional():
    inner = small_cnn("inner")
    inputs = keras.Input((12, 12, 3))
    model = keras.Model(inputs, keras.layers.Dense(2)(inner(inputs)))
    wrapped = keras_se.wrap_with_se(model, ratio=2)
    assert [b.name for b in se_blocks(wrapped)] == ["conv1_se", "conv2_se"]
    assert max_abs_difference(model, wrapped, random_inputs((2, 12, 12, 3))) <= 1e-5


def test_multi_input_multi_output():
    image = keras.Input((8, 8, 4), name="image")
    mask = keras.Input((8, 8, 4), name="mask")
    a = residual_block(image, 4, "a")
    b = residual_block(mask, 4, "b")
    merged = keras.layers.Concatenate(name="concat")([a, b])
    pooled = keras.layers.GlobalAveragePooling2D()(merged)
    model = keras.Model(
        {"image": image, "mask": mask},
        {"class": keras.layers.Dense(3, name="class")(pooled), "map": merged},
    )
    wrapped = keras_se.wrap_with_se(model, ratio=2)
    assert sorted(b.name for b in se_blocks(wrapped)) == ["a_se", "b_se"]
    assert [t.name for t in wrapped.inputs] == [t.name for t in model.inputs]
    x = {"image": random_inputs((2, 8, 8, 4)), "mask": random_inputs((2, 8, 8, 4), 1)}
    expected, actual = model(x), wrapped(x)
    assert set(actual) == {"class", "map"}
    for key in expected:
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(actual[key]),
            keras.ops.convert_to_numpy(expected[key]),
            atol=1e-5,
        )


def test_shared_layers_stay_shared():
    shared = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="shared")
    left, right = keras.Input((8, 8, 3)), keras.Input((8, 8, 3))
    outputs = keras.layers.Concatenate()([shared(left), shared(right)])
    model = keras.Model([left, right], outputs)
    wrapped = keras_se.wrap_with_se(model, ratio=2, placement=["shared"])
    clone = wrapped.get_layer("shared")
    assert clone is not shared
    assert len([layer for layer in wrapped.layers if layer.name == "shared"]) == 1
    blocks = se_blocks(wrapped)
    assert [b.name for b in blocks] == ["shared_se"]  # one block, shared too
    assert len(wrapped.weights) == len(model.weights) + len(blocks[0].weights)
    x = [random_inputs((2, 8, 8, 3)), random_inputs((2, 8, 8, 3), 1)]
    assert max_abs_difference(model, wrapped, x) <= 1e-5


def test_names_and_predicate_placements():
    model = small_cnn()
    by_name = keras_se.wrap_with_se(model, placement=["relu1"], ratio=2)
    assert [b.name for b in se_blocks(by_name)] == ["relu1_se"]
    by_rule = keras_se.wrap_with_se(
        model, placement=lambda layer: isinstance(layer, keras.layers.Conv2D), ratio=2
    )
    assert [b.name for b in se_blocks(by_rule)] == ["conv1_se", "conv2_se"]


def test_new_names_never_clash():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 1, name="stem")(inputs)
    x = keras.layers.Conv2D(4, 1, name="stem_se")(x)  # already taken
    model = keras.Model(inputs, x)
    wrapped = keras_se.wrap_with_se(model, placement=["stem"], ratio=2)
    assert [b.name for b in se_blocks(wrapped)] == ["stem_se_2"]


@pytest.mark.large
def test_identity_start_then_training_moves_the_se_weights():
    model = small_cnn()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", metrics=["mae"])
    wrapped = keras_se.wrap_with_se(model, ratio=2)
    # Compiled like the original: same loss and optimizer settings.
    assert wrapped.compiled
    assert wrapped.loss == "mse"
    # The original's own class: on torch, keras.optimizers.Adam(...) builds a
    # backend subclass of it (TorchAdam).
    assert type(wrapped.optimizer) is type(model.optimizer)
    assert isinstance(wrapped.optimizer, keras.optimizers.Adam)
    assert wrapped.optimizer.learning_rate.numpy() == pytest.approx(1e-3)
    for block in se_blocks(wrapped):
        assert block.gate_scale == 2.0
        assert not np.any(block.expand.kernel.numpy())
    before = {b.name: [w.copy() for w in b.get_weights()] for b in se_blocks(wrapped)}
    x, y = random_inputs((8, 12, 12, 3)), random_inputs((8, 4))
    wrapped.train_on_batch(x, y)
    changed_kernels = 0
    for block in se_blocks(wrapped):
        _, _, kernel, bias = block.get_weights()
        # The gate's bias always gets a gradient at the start; the kernel does
        # unless every bottleneck unit is inactive (ReLU at 0) for this batch.
        assert np.all(bias != 0)
        changed_kernels += bool(np.any(kernel != before[block.name][2]))
    assert changed_kernels >= 1


def test_standard_initialization_when_asked():
    model = small_cnn()
    wrapped = keras_se.wrap_with_se(model, ratio=2, identity_init=False)
    for block in se_blocks(wrapped):
        assert block.gate_scale == 1.0 and np.any(block.expand.kernel.numpy())
    assert max_abs_difference(model, wrapped, random_inputs((2, 12, 12, 3))) > 1e-3


def test_uncompiled_model_gives_uncompiled_copy():
    assert not keras_se.wrap_with_se(small_cnn(), ratio=2).compiled


def test_mixed_precision_model_gets_mixed_blocks():
    keras.config.set_dtype_policy("mixed_float16")
    model = small_cnn()
    keras.config.set_dtype_policy("float32")
    wrapped = keras_se.wrap_with_se(model, ratio=2)
    for block in se_blocks(wrapped):
        assert block.dtype_policy.name == "mixed_float16"


@pytest.mark.large
def test_wrapped_model_round_trips_keras_archive(tmp_path):
    model = application("MobileNetV2")
    wrapped = keras_se.wrap_with_se(model, ratio=4, identity_init=False)
    path = keras_se.save_model(wrapped, tmp_path / "wrapped.keras")
    reloaded = keras.saving.load_model(path, safe_mode=True)
    x = random_inputs((2, 32, 32, 3), low=0, high=255)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(reloaded(x)), keras.ops.convert_to_numpy(wrapped(x))
    )
    assert [b.name for b in se_blocks(reloaded)] == [b.name for b in se_blocks(wrapped)]


def test_describe_lists_the_blocks(capsys):
    wrapped = keras_se.wrap_with_se(small_cnn(), ratio=2)
    rows = keras_se.describe(wrapped, print_table=True)
    assert [(r.name, r.after, r.before, r.channels, r.units) for r in rows] == [
        ("conv1_se", "relu1", "pool1", 8, 4),
        ("conv2_se", "conv2", "gap", 16, 8),
    ]
    assert [r.params for r in rows] == [2 * 8 * 4 + 4 + 8, 2 * 16 * 8 + 8 + 16]
    # 84 + 272 = 356 added to the plain CNN's 1,492.
    printed = capsys.readouterr().out
    assert "conv1_se" in printed and re.search(r"2 SE blocks, 356 parameters", printed)


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = keras.layers.Conv2D(4, 3)

    def call(self, inputs):
        return self.conv(inputs)


def test_subclassed_model_is_refused_clearly():
    model = Subclassed()
    model(random_inputs((1, 8, 8, 3)))
    with pytest.raises(TypeError, match=r"subclassed model.*Functional and Sequential"):
        keras_se.wrap_with_se(model)
    with pytest.raises(TypeError, match=r"`model` must be a keras.Model"):
        keras_se.wrap_with_se(keras.layers.Dense(3))


def test_unbuilt_sequential_is_refused_clearly():
    with pytest.raises(ValueError, match=r"no input shape yet"):
        keras_se.wrap_with_se(keras.Sequential([keras.layers.Conv2D(4, 3)]))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"placement": "everywhere"}, r"`placement` must be one of .*'everywhere'"),
        (
            {"placement": ["conv1", "nope"]},
            r"layers the model does not have: \['nope'\]",
        ),
        ({"placement": 3}, r"`placement` must be one of"),
        ({"position": "middle"}, r"`position` must be one of .*'middle'"),
        ({"ratio": 0}, r"`ratio` must be a positive number. Received: ratio=0"),
        ({"units": 2.5}, r"`units` must be a positive integer or None"),
        ({"divisor": "8"}, r"`divisor` must be a positive integer"),
        ({"stages": [0]}, r"`stages` must hold non-zero integers"),
        ({"stages": [1.5]}, r"`stages` must hold non-zero integers"),
        ({"stages": []}, r"`stages` must be None or a non-empty list"),
        ({"stages": [3]}, r"`stages` must be between 1 and 2.*Received: stages=\[3\]"),
        ({"stages": [-3]}, r"`stages` must be between 1 and 2"),
        ({"gate": "tanh"}, r"`gate` must be one of .*identity_init=True"),
    ],
)
def test_bad_arguments_fail_before_any_work(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_se.wrap_with_se(small_cnn(), **kwargs)


def one_conv(channels, side):
    inputs = keras.Input((side, side, 3))
    return keras.Model(inputs, keras.layers.Conv2D(channels, 1, name="conv")(inputs))


@pytest.mark.parametrize(
    "attention, kwargs, channels, side",
    [
        # Each is past the limit of a 16-channel, 16x16 map, within this one's.
        ("se", {"units": 2048}, 128, 2),
        ("ge", {"units": 2048}, 128, 2),
        ("eca", {"attention_kwargs": {"kernel_size": 63}}, 128, 2),
        ("cbam", {"attention_kwargs": {"spatial_kernel_size": 33}}, 2, 32),
    ],
)
def test_limits_that_depend_on_the_map_are_checked_on_each_sites_map(
    attention, kwargs, channels, side
):
    wrapped = keras_se.wrap_with_se(
        one_conv(channels, side), attention=attention, placement="conv", **kwargs
    )
    assert len(attention_blocks(wrapped)) == 1


@pytest.mark.parametrize(
    "attention, kwargs, message",
    [
        (
            "se",
            {"units": 10**10},
            r"`units` gives a bottleneck of 10000000000 units for an input of 8 "
            r"channels.*\(512 units\)\. Received: units=10000000000 "
            r"\(the block after conv, on a map of shape \(None, 4, 4, 8\)\)",
        ),
        ("gc", {"units": 513}, r"`units` gives a bottleneck of 513 units.*after conv"),
        ("se", {"divisor": 1024}, r"`divisor` gives a bottleneck of 1024 units"),
        (
            "eca",
            {"attention_kwargs": {"kernel_size": 17}},
            r"`kernel_size` is 17.*2 \* channels - 1 = 15.*Received: kernel_size=17",
        ),
        (
            "cbam",
            {"attention_kwargs": {"spatial_kernel_size": 9}},
            r"`spatial_kernel_size` must be at most 7 for a 4x4 map.*"
            r"Received: spatial_kernel_size=9",
        ),
    ],
)
def test_limits_that_depend_on_the_map_fail_before_cloning(
    attention, kwargs, message, monkeypatch
):
    def no_cloning(*args, **kwargs):
        raise AssertionError("the model was cloned before the check")

    model = one_conv(8, 4)
    monkeypatch.setattr(keras.models, "clone_model", no_cloning)
    with pytest.raises(ValueError, match=message):
        keras_se.wrap_with_se(model, attention=attention, placement="conv", **kwargs)
