"""The attention registry: entries with a class, preset arguments and aliases.

`get_attention` takes a name, an alias, a class or a layer; the presets carry
the papers' settings. Cheap: layers are made, never built on data.
"""

from __future__ import annotations

import keras
import pytest

import keras_se
from keras_se.layers import ATTENTION_REGISTRY, ATTENTIONS, get_attention
from keras_se.layers.attention import (
    ALIASES,
    attention_entry,
    attention_takes,
    check_attentions,
)

ENTRIES = list(ATTENTION_REGISTRY.values())


def test_the_families_keep_their_names_and_classes():
    assert {
        "se": keras_se.SqueezeExcite2D,
        "gc": keras_se.GlobalContext2D,
        "ge": keras_se.GatherExcite2D,
        "cbam": keras_se.CBAM2D,
        "eca": keras_se.EfficientChannelAttention2D,
        "ese": keras_se.EffectiveSqueezeExcite2D,
    } == ATTENTIONS
    for name, layer_class in ATTENTIONS.items():
        assert ATTENTION_REGISTRY[name].layer_class is layer_class
        assert not ATTENTION_REGISTRY[name].arguments
        assert ATTENTION_REGISTRY[name].kind == name


@pytest.mark.parametrize(
    "name, layer_class, arguments",
    [
        ("se_r16", keras_se.SqueezeExcite2D, {"ratio": 16}),
        (
            "se_mobilenetv3",
            keras_se.SqueezeExcite2D,
            {"ratio": 4, "divisor": 8, "gate": "hard_sigmoid"},
        ),
        ("eca_adaptive", keras_se.EfficientChannelAttention2D, {"kernel_size": None}),
        ("ceca", keras_se.EfficientChannelAttention2D, {"padding": "circular"}),
        ("cbam_7x7", keras_se.CBAM2D, {"ratio": 16, "spatial_kernel_size": 7}),
        ("gca", keras_se.GlobalContext2D, {"fusion": "add"}),
    ],
)
def test_presets_carry_the_papers_settings(name, layer_class, arguments):
    layer = get_attention(name)
    assert type(layer) is layer_class
    config = layer.get_config()
    assert {key: config[key] for key in arguments} == arguments
    assert ATTENTION_REGISTRY[name].setting


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_every_preset_argument_is_one_the_class_takes(entry):
    assert all(entry.takes(argument) for argument in entry.arguments)
    layer = entry.create(name="block")
    config = layer.get_config()
    assert {key: config[key] for key in entry.arguments} == dict(entry.arguments)
    with pytest.raises(TypeError):
        entry.arguments["ratio"] = 2  # read-only


def test_arguments_given_override_the_preset():
    assert get_attention("se_r16", ratio=4).ratio == 4
    assert get_attention("cbam_7x7", spatial_kernel_size=3).spatial_kernel_size == 3


def test_aliases_name_one_entry_each_and_no_name_twice():
    assert not set(ALIASES) & set(ATTENTION_REGISTRY)
    assert attention_entry("squeeze_excite") is ATTENTION_REGISTRY["se"]
    assert attention_entry("gc_add") is ATTENTION_REGISTRY["gca"]
    assert type(get_attention("eca_circular", name="c")).__name__ == (
        "EfficientChannelAttention2D"
    )


def test_get_attention_takes_a_class_or_a_layer():
    layer = get_attention(keras_se.SqueezeExcite3D, ratio=2)
    assert type(layer) is keras_se.SqueezeExcite3D and layer.ratio == 2
    same = keras_se.CBAM2D()
    assert get_attention(same) is same
    with pytest.raises(ValueError, match=r"cannot be applied .*\['ratio'\]"):
        get_attention(same, ratio=2)


@pytest.mark.parametrize("bad", [keras.layers.Dense, keras.layers.Dense(2), 3, None])
def test_get_attention_refuses_what_is_not_an_attention(bad):
    with pytest.raises(ValueError, match="must be a registered name"):
        get_attention(bad)


def test_an_unknown_name_lists_the_registered_ones():
    with pytest.raises(ValueError) as error:
        get_attention("nonlocal")
    assert str(error.value) == (
        f"`attention` must be one of {tuple(ATTENTION_REGISTRY)}. "
        "Received: attention='nonlocal'"
    )


def test_the_tuner_and_main_job_read_the_registry():
    assert check_attentions(["gc_add", "gca", "se"]) == ("gca", "se")
    assert attention_takes("se_r16", "ratio")
    assert not attention_takes("eca_adaptive", "ratio")
