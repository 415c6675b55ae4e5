"""wrap_with_se(attention=...): every attention of the family, on two families.

Each base model is built once for the module and wrapped once per attention;
the tests read those copies. The parameter counts are checked against
closed forms of each block (timm's widths), not against the layers' own
arithmetic.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import keras_se
from keras_se.layers import ATTENTIONS
from tests.surgery.helpers import (
    all_layers,
    application,
    assert_original_weights_kept,
    images,
    small_cnn_in,
    snapshot,
)

# Surgery on keras.applications nets, MobileNetV2 and ResNet50.
pytestmark = pytest.mark.large

# placement="auto" is "residual" on both: one block per residual unit.
EXPECTED_BLOCKS = {"ResNet50": 16, "MobileNetV2": 10}
# CBAM's spatial step: a 7x7 convolution of the [mean, max] map, no bias,
# then a batch normalization (gamma, beta, moving mean and variance).
CBAM_SPATIAL_PARAMS = 7 * 7 * 2 + 4


def timm_width(channels, ratio):
    # timm's make_divisible(channels / ratio, 1, round_limit=0.0).
    return max(1, int(channels / ratio + 0.5))


def eca_kernel(channels):
    t = int(abs(math.log2(channels) + 1) / 2)
    return max(t if t % 2 else t + 1, 3)


def gc_transform_params(channels, units):
    # reduce (kernel + bias), layer norm (gamma + beta), expand (kernel + bias).
    return 2 * channels * units + 3 * units + channels


def expected_units(attention, channels, kwargs=None):
    if attention == "se":
        return keras_se.layers.bottleneck_units(channels, 16)
    if attention == "gc":
        return timm_width(channels, 8)
    if attention in ("ge", "cbam"):
        return timm_width(channels, 16)
    return None


def expected_params(attention, channels, units, kwargs=None):
    c, u = channels, units
    if attention in ("se", "ge"):  # GE's default is SE with timm's width
        return 2 * c * u + u + c
    if attention == "gc":
        fusion = (kwargs or {}).get("fusion", "scale")
        transforms = 2 if fusion == "both" else 1
        return c + 1 + transforms * gc_transform_params(c, u)
    if attention == "cbam":
        return 2 * c * u + CBAM_SPATIAL_PARAMS
    if attention == "eca":
        return eca_kernel(c)
    if attention == "ese":
        return c * c + c
    raise AssertionError(attention)


class Base:
    """A base model, its inputs and outputs, its weights before any surgery."""

    def __init__(self, model):
        self.model = model
        self.x = images()
        self.reference = keras.ops.convert_to_numpy(model(self.x))
        self.before = snapshot(model)
        self.wrapped = {}

    def wrap(self, attention, **kwargs):
        key = (attention, repr(sorted(kwargs.items())))
        if key not in self.wrapped:
            self.wrapped[key] = keras_se.wrap_with_se(
                self.model, attention=attention, **kwargs
            )
        return self.wrapped[key]


@pytest.fixture(scope="module")
def bases():
    keras.utils.set_random_seed(0)
    mobilenet = keras.applications.MobileNetV2(
        weights=None, input_shape=(32, 32, 3), classes=10, alpha=0.35
    )
    return {"ResNet50": Base(application("ResNet50")), "MobileNetV2": Base(mobilenet)}


def attention_blocks(model):
    return [layer for layer in all_layers(model) if keras_se.layers.is_attention(layer)]


def assert_identity_start(base, wrapped):
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(wrapped(base.x)), base.reference, rtol=0, atol=1e-5
    )


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("base_name", EXPECTED_BLOCKS)
def test_blocks_identity_start_and_weights_kept(bases, base_name, attention):
    base = bases[base_name]
    wrapped = base.wrap(attention)
    blocks = attention_blocks(wrapped)
    assert len(blocks) == EXPECTED_BLOCKS[base_name]
    assert {type(block) for block in blocks} == {ATTENTIONS[attention]}
    assert all(block.name.endswith(f"_{attention}") for block in blocks)
    assert all(block.gate_scale == 2.0 for block in blocks)
    assert_identity_start(base, wrapped)
    assert_original_weights_kept(base.model, wrapped)
    # The input model is untouched: same layers, same weights, same outputs.
    after = snapshot(base.model)
    assert after.keys() == base.before.keys()
    for name, weights in base.before.items():
        for want, got in zip(weights, after[name], strict=True):
            np.testing.assert_array_equal(got, want, err_msg=name)
    assert not attention_blocks(base.model)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(base.model(base.x)), base.reference
    )


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("base_name", EXPECTED_BLOCKS)
def test_describe_reports_class_units_and_params(bases, base_name, attention):
    base = bases[base_name]
    wrapped = base.wrap(attention)
    rows = keras_se.describe(wrapped)
    assert [row.name for row in rows] == [b.name for b in attention_blocks(wrapped)]
    for row in rows:
        assert row.attention == ATTENTIONS[attention].__name__
        units = expected_units(attention, row.channels)
        assert row.units == units, row.name
        assert row.params == expected_params(attention, row.channels, units), row.name
    added = wrapped.count_params() - base.model.count_params()
    assert sum(row.params for row in rows) == added


def test_eca_on_resnet50_adds_86_parameters(bases):
    # timm: ecaresnet50d has exactly 86 parameters more than resnet50d
    # (kernels of 5, 5, 5 and 7 for 256, 512, 1024 and 2048 channels).
    base = bases["ResNet50"]
    wrapped = base.wrap("eca")
    assert wrapped.count_params() - base.model.count_params() == 86
    kernels = [b.conv.kernel.shape[0] for b in attention_blocks(wrapped)]
    assert kernels == [5] * 13 + [7] * 3


def test_default_ratio_is_the_attentions_own(bases):
    # ratio=None: each attention's own default, SE's 16 and GC's 8 (the
    # widths are checked against them in the describe test above).
    base = bases["MobileNetV2"]
    for attention, ratio in (("se", 16), ("gc", 8), ("ge", 16), ("cbam", 16)):
        blocks = attention_blocks(base.wrap(attention))
        assert {block.ratio for block in blocks} == {ratio}


def round_trip(wrapped, path, x):
    wrapped.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(reloaded(x)), keras.ops.convert_to_numpy(wrapped(x))
    )
    assert [(type(b), b.name) for b in attention_blocks(reloaded)] == [
        (type(b), b.name) for b in attention_blocks(wrapped)
    ]
    return reloaded


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_keras_archive_round_trip_in_safe_mode(bases, attention, tmp_path):
    base = bases["MobileNetV2"]
    wrapped = base.wrap(attention)
    blocks = attention_blocks(wrapped)
    start = [block.get_weights() for block in blocks]
    # Weights away from the identity start, so that equal outputs say more.
    rng = np.random.default_rng(1)
    for block in blocks:
        for weight in block.trainable_weights:
            weight.assign(rng.normal(0, 0.3, weight.shape))
    try:
        round_trip(wrapped, tmp_path / f"{attention}.keras", base.x)
    finally:
        for block, weights in zip(blocks, start, strict=True):
            block.set_weights(weights)  # the copy is shared with other tests


@pytest.mark.extra_large
@pytest.mark.parametrize("attention", ATTENTIONS)
def test_resnet50_round_trip_in_safe_mode(bases, attention, tmp_path):
    base = bases["ResNet50"]
    round_trip(base.wrap(attention), tmp_path / f"{attention}.keras", base.x)


@pytest.mark.parametrize("fusion", ["add", "both"])
def test_global_context_fusions(bases, fusion, tmp_path):
    base = bases["MobileNetV2"]
    kwargs = {"fusion": fusion}
    wrapped = base.wrap("gc", attention_kwargs=kwargs)
    blocks = attention_blocks(wrapped)
    assert len(blocks) == 10 and {b.fusion for b in blocks} == {fusion}
    assert_identity_start(base, wrapped)
    assert_original_weights_kept(base.model, wrapped)
    rows = keras_se.describe(wrapped)
    for row in rows:
        units = expected_units("gc", row.channels)
        assert row.units == units
        assert row.params == expected_params("gc", row.channels, units, kwargs)
    added = wrapped.count_params() - base.model.count_params()
    assert sum(row.params for row in rows) == added
    if fusion == "both":  # both transforms' weights, saved and restored
        round_trip(wrapped, tmp_path / "gc.keras", base.x)


def test_cbam_starts_both_gates_at_one(bases):
    wrapped = bases["MobileNetV2"].wrap("cbam")
    rng = np.random.default_rng(2)
    for block in attention_blocks(wrapped):
        x = rng.normal(0, 1, (2, *block.input.shape[1:])).astype("float32")
        channel = keras.ops.convert_to_numpy(block.channel_excitation(x))
        spatial = keras.ops.convert_to_numpy(
            block.spatial_excitation(x, training=False)
        )
        np.testing.assert_array_equal(channel, np.ones((2, x.shape[-1])))
        np.testing.assert_array_equal(spatial, np.ones((2, *x.shape[1:3], 1)))
        # In training too: the normalization of an all-zero map is zero.
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(block(x, training=True)), x, atol=1e-6
        )


def test_gather_excite_that_cannot_start_as_identity_fails_before_cloning(
    bases, monkeypatch
):
    def no_cloning(*args, **kwargs):
        raise AssertionError("the model was cloned before the check")

    monkeypatch.setattr(keras.models, "clone_model", no_cloning)
    with pytest.raises(ValueError, match=r"cannot start as the identity.*use_mlp"):
        keras_se.wrap_with_se(
            bases["MobileNetV2"].model,
            attention="ge",
            attention_kwargs={"extent": 0, "use_mlp": False},
        )


def test_gather_excite_strided_without_mlp_starts_as_identity(bases):
    # The identity start zeroes the last gather normalization instead.
    base = bases["MobileNetV2"]
    kwargs = {"extent": 2, "extra_params": True, "use_mlp": False}
    wrapped = base.wrap("ge", attention_kwargs=kwargs)
    blocks = attention_blocks(wrapped)
    assert {(b.extent, b.use_mlp) for b in blocks} == {(2, False)}
    assert_identity_start(base, wrapped)
    rows = keras_se.describe(wrapped)
    assert {row.units for row in rows} == {None}
    # Per block: one depthwise 3x3 kernel and one normalization per channel.
    assert [row.params for row in rows] == [
        9 * r.channels + 4 * r.channels for r in rows
    ]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"attention": "eca", "ratio": 8},
            r"`ratio` does not apply to attention='eca'.*Received: ratio=8",
        ),
        (
            {"attention": "ese", "units": 4},
            r"`units` does not apply to attention='ese'",
        ),
        (
            {"attention": "nonlocal"},
            r"`attention` must be one of "
            r"\('se', 'gc', 'ge', 'cbam', 'eca', 'ese', 'se_r16'"
            r".*Received: attention='nonlocal'",
        ),
        (
            {"attention": "eca", "gate": "tanh"},
            r"`gate` must be one of \('sigmoid', 'hard_sigmoid'\) with "
            r"identity_init=True.*Received: gate='tanh'",
        ),
        (
            {"attention": "cbam", "attention_kwargs": {"gate": "relu"}},
            r"`gate` must be one of .*Received: gate='relu'",
        ),
        (
            {"attention": "gc", "attention_kwargs": {"gate_scale": 2.0}},
            r"`gate_scale` is set by the surgery",
        ),
        (
            {"attention": "gc", "attention_kwargs": {"fusion": "multiply"}},
            r"`fusion` must be one of \('scale', 'add', 'both'\)",
        ),
        (
            {"attention": "se", "attention_kwargs": ["ratio", 4]},
            r"`attention_kwargs` must be a dict",
        ),
    ],
)
def test_bad_attention_arguments_fail_before_cloning(
    bases, monkeypatch, kwargs, message
):
    def no_cloning(*args, **kwargs):
        raise AssertionError("the model was cloned before the check")

    monkeypatch.setattr(keras.models, "clone_model", no_cloning)
    with pytest.raises(ValueError, match=message):
        keras_se.wrap_with_se(bases["MobileNetV2"].model, **kwargs)


@pytest.mark.parametrize(
    "attention, name, expected",
    [
        ("cbam_7x7", "cbam_7x7", {"ratio": 8, "spatial_kernel_size": 7}),
        ("gc_add", "gca", {"fusion": "add", "ratio": 8}),
        ("se_mnv3", "se_mobilenetv3", {"ratio": 8, "divisor": 8}),
    ],
)
def test_wrap_with_se_takes_a_preset_or_alias(attention, name, expected):
    # The preset's arguments first, the surgery's (ratio=8) over them.
    wrapped = keras_se.wrap_with_se(
        small_cnn_in("channels_last"), attention=attention, ratio=8
    )
    blocks = attention_blocks(wrapped)
    assert blocks and all(block.name.endswith(f"_{name}") for block in blocks)
    for block in blocks:
        config = block.get_config()
        assert {key: config[key] for key in expected} == expected
