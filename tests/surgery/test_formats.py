"""Each block wrap_with_se inserts gates the channels of the map it follows.

The models here are `channels_first` while Keras's global setting stays
`channels_last`: the blocks must follow the model, not the setting.
TensorFlow's CPU kernels cannot run `channels_first` convolutions, so there
the models are only built and wrapped (symbolically); the tests that run
them need JAX or PyTorch (or a GPU).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_se
from keras_se.layers import ATTENTIONS
from keras_se.viz import excitation_model
from tests.surgery.helpers import (
    attention_blocks,
    cannot_run_channels_first,
    max_abs_difference,
    small_cnn_in,
    two_stage_channels_first_cnn,
)

FORMATS = ("channels_last", "channels_first")


class Base:
    """A model and its copies, one per attention (wrapped once)."""

    def __init__(self, model):
        self.model = model
        self.wrapped = {}

    def wrap(self, attention):
        if attention not in self.wrapped:
            self.wrapped[attention] = keras_se.wrap_with_se(
                self.model, attention=attention
            )
        return self.wrapped[attention]


@pytest.fixture(scope="module")
def channels_first():
    keras.utils.set_random_seed(0)
    return Base(small_cnn_in("channels_first"))


def built_like(attention, input_shape, data_format):
    """A block of `attention` as wrap_with_se makes them, built on `input_shape`."""
    block = ATTENTIONS[attention](gate_scale=2.0, data_format=data_format)
    block.build(input_shape)
    return block


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_blocks_take_the_maps_format_and_gate_its_16_channels(
    channels_first, attention
):
    blocks = attention_blocks(channels_first.wrap(attention))
    assert [b.name for b in blocks] == [f"conv1_{attention}", f"conv2_{attention}"]
    for block, side in zip(blocks, (6, 4), strict=True):
        assert block.data_format == "channels_first"
        assert tuple(block.input.shape) == (None, 16, side, side)
        assert block.channels == 16
        # The weights of the block made for this map by hand.
        reference = built_like(attention, (None, 16, side, side), "channels_first")
        assert [tuple(w.shape) for w in block.weights] == [
            tuple(w.shape) for w in reference.weights
        ]
    rows = keras_se.describe(channels_first.wrap(attention))
    assert [row.channels for row in rows] == [16, 16]


def test_se_blocks_squeeze_16_channels_to_one(channels_first):
    for block in attention_blocks(channels_first.wrap("se")):
        assert tuple(block.reduce.kernel.shape) == (16, 1)
        assert tuple(block.expand.kernel.shape) == (1, 16)


@pytest.mark.large
@pytest.mark.parametrize("attention", ATTENTIONS)
def test_one_training_step_makes_the_gates_differ_per_channel(attention):
    if reason := cannot_run_channels_first():
        pytest.skip(reason)
    keras.utils.set_random_seed(0)
    model = small_cnn_in("channels_first")
    x = np.random.default_rng(0).normal(size=(8, 3, 8, 8)).astype("float32")
    y = np.random.default_rng(1).normal(size=(8, 2)).astype("float32")
    wrapped = keras_se.wrap_with_se(model, attention=attention)
    # The identity start: the copy computes what the model does.
    assert max_abs_difference(model, wrapped, x) <= 1e-5
    gates = excitation_model(wrapped)
    for start in gates.predict_on_batch(x):
        np.testing.assert_allclose(start, 1.0, atol=1e-6)
    wrapped.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    wrapped.train_on_batch(x, y)
    for trained in gates.predict_on_batch(x):
        assert trained.shape == (8, 16)
        # The 16 gates, one per channel, now differ (a sample whose
        # bottleneck units are all off has 16 equal ones: CBAM has no bias).
        assert np.ptp(trained.mean(axis=0)) > 1e-6


def test_sequential_channels_first_model():
    model = keras.Sequential(
        [
            keras.Input((3, 8, 8)),
            keras.layers.Conv2D(16, 3, data_format="channels_first", name="conv"),
            keras.layers.GlobalAveragePooling2D(data_format="channels_first"),
            keras.layers.Dense(2),
        ]
    )
    (block,) = attention_blocks(keras_se.wrap_with_se(model, attention="eca"))
    assert block.data_format == "channels_first" and block.channels == 16


def test_maps_after_layout_keeping_layers_take_their_convs_format():
    # Conv a (8 channels) -> BatchNormalization -> ReLU: the block after the
    # ReLU gates a's 8 channels; a and b (16 channels) are one 8x8 stage.
    model = two_stage_channels_first_cnn()
    wrapped = keras_se.wrap_with_se(model, attention="se", ratio=4, placement="conv")
    rows = keras_se.describe(wrapped)
    assert [(r.name, r.after, r.channels, r.units) for r in rows] == [
        ("a_se", "relu_a", 8, 2),
        ("b_se", "b", 16, 4),
        ("c_se", "c", 16, 4),
    ]
    assert {b.data_format for b in attention_blocks(wrapped)} == {"channels_first"}


@pytest.mark.parametrize(
    "kwargs, names",
    [
        ({"placement": "stage_end"}, ["b_se", "c_se"]),
        ({"placement": "conv", "stages": [1]}, ["a_se", "b_se"]),
        ({"placement": "conv", "stages": [-1]}, ["c_se"]),
    ],
)
def test_stages_are_resolutions_of_the_spatial_axes(kwargs, names):
    wrapped = keras_se.wrap_with_se(two_stage_channels_first_cnn(), **kwargs)
    assert [b.name for b in attention_blocks(wrapped)] == names


def test_a_map_no_layer_declares_takes_the_models_format():
    # The normalization right after the input declares no format: the
    # model's layers all say channels_first.
    inputs = keras.Input((16, 6, 6))
    x = keras.layers.BatchNormalization(axis=1, name="bn")(inputs)
    x = keras.layers.Conv2D(4, 3, data_format="channels_first", name="conv")(x)
    x = keras.layers.GlobalAveragePooling2D(data_format="channels_first")(x)
    model = keras.Model(inputs, x)
    wrapped = keras_se.wrap_with_se(model, placement=["bn"], ratio=4)
    (block,) = attention_blocks(wrapped)
    assert block.data_format == "channels_first" and block.channels == 16
    with pytest.raises(
        ValueError,
        match=r"the output of layer 'bn', .* is 'channels_first', the model's "
        r"format \(no layer on its way declares one\)",
    ):
        keras_se.wrap_with_se(
            model, placement=["bn"], attention_kwargs={"data_format": "channels_last"}
        )


def test_a_mixed_model_gets_each_block_in_its_maps_format():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(6, 3, padding="same", name="last")(inputs)
    x = keras.layers.Permute((3, 1, 2), name="to_channels_first")(x)
    x = keras.layers.Conv2D(
        10, 3, padding="same", data_format="channels_first", name="first"
    )(x)
    x = keras.layers.GlobalAveragePooling2D(data_format="channels_first")(x)
    model = keras.Model(inputs, x)
    wrapped = keras_se.wrap_with_se(model, attention="eca", placement="conv")
    assert [(b.name, b.data_format, b.channels) for b in attention_blocks(wrapped)] == [
        ("last_eca", "channels_last", 6),
        ("first_eca", "channels_first", 10),
    ]


def test_nested_channels_first_model_gets_channels_first_blocks():
    inner = small_cnn_in("channels_first")
    inputs = keras.Input((3, 8, 8))
    model = keras.Model(inputs, keras.layers.Dense(3)(inner(inputs)))
    wrapped = keras_se.wrap_with_se(model, attention="cbam")
    blocks = attention_blocks(wrapped)
    assert [(b.data_format, b.channels) for b in blocks] == [("channels_first", 16)] * 2


@pytest.fixture
def no_cloning(monkeypatch):
    def clone_model(*args, **kwargs):
        raise AssertionError("the model was cloned before the check")

    monkeypatch.setattr(keras.models, "clone_model", clone_model)


def contradiction(requested, found, output, declared):
    return (
        r'`attention_kwargs\["data_format"\]` must be the data format of every '
        rf"map a block gates: the output of layer '{output}', .* is {found!r}, "
        rf"as layer '{declared}' declares.*Received: "
        rf'attention_kwargs\["data_format"\]={requested!r}'
    )


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("model_format", FORMATS)
def test_a_data_format_that_contradicts_the_maps_fails_before_cloning(
    no_cloning, attention, model_format
):
    requested = FORMATS[1 - FORMATS.index(model_format)]
    with pytest.raises(
        ValueError, match=contradiction(requested, model_format, "conv1", "conv1")
    ):
        keras_se.wrap_with_se(
            small_cnn_in(model_format),
            attention=attention,
            attention_kwargs={"data_format": requested},
        )


def test_the_message_names_the_layer_that_declares_the_format(no_cloning):
    with pytest.raises(
        ValueError,
        match=contradiction("channels_last", "channels_first", "relu_a", "a"),
    ):
        keras_se.wrap_with_se(
            two_stage_channels_first_cnn(),
            placement="conv",
            attention_kwargs={"data_format": "channels_last"},
        )


def test_a_nested_models_contradiction_fails_before_cloning(no_cloning):
    inner = small_cnn_in("channels_first")
    inputs = keras.Input((3, 8, 8))
    model = keras.Model(inputs, keras.layers.Dense(3)(inner(inputs)))
    with pytest.raises(ValueError, match=r"is 'channels_first', as layer 'conv1'"):
        keras_se.wrap_with_se(
            model, attention="eca", attention_kwargs={"data_format": "channels_last"}
        )


@pytest.mark.parametrize("model_format", FORMATS)
def test_the_maps_own_format_in_attention_kwargs_is_accepted(model_format):
    wrapped = keras_se.wrap_with_se(
        small_cnn_in(model_format),
        attention="ese",
        attention_kwargs={"data_format": model_format},
    )
    assert [(b.data_format, b.channels) for b in attention_blocks(wrapped)] == [
        (model_format, 16)
    ] * 2


@pytest.fixture(scope="module")
def mobilenet():
    """MobileNetV2 (alpha=0.35, 32x32) built under a channels_first setting."""
    keras.utils.set_random_seed(0)
    keras.config.set_image_data_format("channels_first")
    try:
        model = keras.applications.MobileNetV2(
            weights=None, input_shape=(3, 32, 32), classes=4, alpha=0.35
        )
    finally:
        keras.config.set_image_data_format("channels_last")
    return Base(model)


@pytest.mark.large
@pytest.mark.parametrize("attention", ATTENTIONS)
def test_channels_first_application_gets_channels_first_blocks(mobilenet, attention):
    wrapped = mobilenet.wrap(attention)
    blocks = attention_blocks(wrapped)
    assert len(blocks) == 10  # its residual units
    for block in blocks:
        assert block.data_format == "channels_first"
        assert block.channels == block.input.shape[1]
    assert [row.channels for row in keras_se.describe(wrapped)] == [
        block.input.shape[1] for block in blocks
    ]
    if cannot_run_channels_first() is None:
        x = np.random.default_rng(0).uniform(0, 255, (2, 3, 32, 32)).astype("float32")
        assert max_abs_difference(mobilenet.model, wrapped, x) <= 1e-5
