"""The model graph: existing attentions of any kind, and wrapping twice adds nothing."""

from __future__ import annotations

import warnings

import keras
import pytest

import keras_se
from keras_se.layers import ATTENTIONS
from keras_se.surgery.existing_attention import feeds_attention, is_attention_call
from keras_se.surgery.graph import ModelGraph, has_residual_merges
from tests.surgery.helpers import all_layers, application, attention_blocks, images

ATTENTION_NAMES = sorted(ATTENTIONS)
POSITIONS = ("standard", "pre", "post", "identity")


def tiny_resnet(nested: bool = False) -> keras.Model:
    """A stem and two residual units (an identity and a projection shortcut)."""
    inputs = keras.Input((8, 8, 3), name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", name="stem_conv")(inputs)
    for unit, (filters, strides) in enumerate([(8, 1), (16, 2)], start=1):
        shortcut = x
        y = keras.layers.Conv2D(
            filters, 3, strides=strides, padding="same", name=f"u{unit}_conv1"
        )(x)
        y = keras.layers.BatchNormalization(name=f"u{unit}_bn1")(y)
        y = keras.layers.ReLU(name=f"u{unit}_relu1")(y)
        y = keras.layers.Conv2D(filters, 3, padding="same", name=f"u{unit}_conv2")(y)
        y = keras.layers.BatchNormalization(name=f"u{unit}_bn2")(y)
        if strides != 1 or shortcut.shape[-1] != filters:
            shortcut = keras.layers.Conv2D(
                filters, 1, strides=strides, name=f"u{unit}_proj"
            )(shortcut)
        x = keras.layers.Add(name=f"u{unit}_add")([y, shortcut])
        x = keras.layers.ReLU(name=f"u{unit}_out")(x)
    body = keras.Model(inputs, x, name="body")
    if not nested:
        pooled = keras.layers.GlobalAveragePooling2D(name="gap")(x)
        return keras.Model(inputs, keras.layers.Dense(3, name="logits")(pooled))
    outer = keras.Input((8, 8, 3), name="outer_image")
    pooled = keras.layers.GlobalAveragePooling2D(name="gap")(body(outer))
    return keras.Model(outer, keras.layers.Dense(3, name="logits")(pooled))


def quietly(function, *args, **kwargs):
    # The second wrap inserts nothing, and says so.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return function(*args, **kwargs)


def assert_wrapping_twice_adds_nothing(model, **arguments):
    once = keras_se.wrap_with_se(model, **arguments)
    assert attention_blocks(once), arguments
    assert keras_se.plan_se(once, **arguments).blocks == ()
    twice = quietly(keras_se.wrap_with_se, once, **arguments)
    assert len(attention_blocks(twice)) == len(attention_blocks(once))
    assert twice.count_params() == once.count_params()
    return once


def test_calls_of_attention_layers_carry_their_kind():
    inputs = keras.Input((8, 8, 4))
    x = keras_se.EfficientChannelAttention2D(name="eca")(inputs)
    x = keras_se.SqueezeExciteConv2D(4, name="se_conv")(x)
    x = keras.layers.Conv2D(4, 1, name="conv")(x)
    graph = ModelGraph.from_model(keras.Model(inputs, x))
    kinds = {call.layer: call.attention for call in graph.calls}
    assert kinds == {"eca": "eca", "se_conv": "se", "conv": None}


def test_a_layer_named_like_squeeze_excite_is_not_an_attention():
    class SqueezeExciteLookalike(keras.layers.Layer):
        def call(self, inputs):
            return inputs

    inputs = keras.Input((8, 8, 4))
    x = keras.layers.Conv2D(4, 1, name="conv")(inputs)
    x = SqueezeExciteLookalike(name="SqueezeExcite_not")(x)
    graph = ModelGraph.from_model(keras.Model(inputs, x))
    assert not any(is_attention_call(graph, call) for call in graph.calls)
    assert not feeds_attention(graph, ("conv", 0, 0))


def test_residual_merges_are_found_in_nested_models():
    assert has_residual_merges(tiny_resnet(nested=True))
    plain = keras.Sequential([keras.Input((4, 4, 2)), keras.layers.Conv2D(2, 1)])
    assert not has_residual_merges(plain)


@pytest.mark.parametrize("attention", ATTENTION_NAMES)
@pytest.mark.parametrize("position", POSITIONS)
def test_wrapping_twice_adds_nothing_at_every_position(attention, position):
    once = assert_wrapping_twice_adds_nothing(
        tiny_resnet(), attention=attention, placement="residual", position=position
    )
    assert len(attention_blocks(once)) == 2


@pytest.mark.parametrize(
    "attention",
    # One attention in the default run: the positions' test has them all.
    [
        name if name == "eca" else pytest.param(name, marks=pytest.mark.large)
        for name in ATTENTION_NAMES
    ],
)
@pytest.mark.parametrize(
    "placement", ["stage_end", "conv", ["u1_relu1", "u2_out"], "callable"]
)
def test_wrapping_twice_adds_nothing_with_every_placement(attention, placement):
    if placement == "callable":
        placement = lambda layer: layer.name.endswith("_bn1")  # noqa: E731
    assert_wrapping_twice_adds_nothing(
        tiny_resnet(), attention=attention, placement=placement
    )


@pytest.mark.parametrize("attention", ATTENTION_NAMES)
def test_wrapping_a_nested_model_twice_adds_nothing(attention):
    once = assert_wrapping_twice_adds_nothing(
        tiny_resnet(nested=True), attention=attention
    )
    assert len(attention_blocks(once)) == 2


@pytest.mark.parametrize("existing", ATTENTION_NAMES)
def test_an_existing_block_of_another_kind_counts(existing):
    other = "eca" if existing != "eca" else "se"
    for position in POSITIONS:
        once = keras_se.wrap_with_se(
            tiny_resnet(), attention=existing, placement="residual", position=position
        )
        for then in POSITIONS:
            plan = keras_se.plan_se(
                once, attention=other, placement="residual", position=then
            )
            assert plan.blocks == (), (existing, position, then)


@pytest.mark.parametrize("attention", ATTENTION_NAMES)
def test_skip_existing_se_false_stacks_on_purpose(attention):
    once = keras_se.wrap_with_se(tiny_resnet(), attention="se")
    stacked = keras_se.wrap_with_se(once, attention=attention, skip_existing_se=False)
    kinds = [layer.attention_kind for layer in attention_blocks(stacked)]
    assert kinds.count(attention) == (4 if attention == "se" else 2)
    assert len(kinds) == 4
    x = images(shape=(8, 8, 3))
    # The stacked blocks start as the identity too.
    assert keras.ops.convert_to_numpy(stacked(x)) == pytest.approx(
        keras.ops.convert_to_numpy(once(x)), abs=1e-5
    )


@pytest.mark.large
@pytest.mark.parametrize("attention", ATTENTION_NAMES)
def test_wrapping_a_keras_application_twice_adds_nothing(attention):
    once = assert_wrapping_twice_adds_nothing(
        application("ResNet50"), attention=attention
    )
    assert len(attention_blocks(once)) == 16


@pytest.mark.large
@pytest.mark.parametrize("attention", ATTENTION_NAMES)
def test_wrapping_a_keras_application_without_merges_twice_adds_nothing(attention):
    once = assert_wrapping_twice_adds_nothing(application("VGG16"), attention=attention)
    assert len(attention_blocks(once)) == 13


@pytest.mark.large
@pytest.mark.parametrize("attention", ATTENTION_NAMES)
def test_wrapping_a_keras_hub_backbone_twice_adds_nothing(attention):
    pytest.importorskip("keras_hub")
    from tests.surgery.keras_hub_factories import resnet, vgg

    keras.utils.set_random_seed(0)
    once = assert_wrapping_twice_adds_nothing(resnet(), attention=attention)
    assert len(attention_blocks(once)) == 3
    assert_wrapping_twice_adds_nothing(vgg(), attention=attention)


@pytest.mark.large
def test_an_existing_se_of_keras_applications_counts_for_every_attention():
    # EfficientNet's units all hold an SE (a map times a pooled gate).
    model = application("EfficientNetB0")
    assert not any(keras_se.layers.is_attention(layer) for layer in all_layers(model))
    for attention in ATTENTION_NAMES:
        plan = keras_se.plan_se(model, attention=attention, placement="residual")
        assert plan.blocks == ()
