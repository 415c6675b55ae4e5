"""The digits CNN: its blocks and the ratio each attention gets."""

from __future__ import annotations

import pytest

import keras_se
from keras_se.demo.model import DIGITS_RATIO, build_digits_cnn, digits_ratio


def block_arguments(model, argument):
    return [
        getattr(layer, argument, None)
        for layer in model.layers
        if keras_se.layers.is_attention(layer)
    ]


@pytest.mark.parametrize(
    "attention, ratio, expected",
    [
        ("se", None, DIGITS_RATIO),
        ("se", 4, 4),
        ("se_r16", None, 16),
        ("se_r16", 4, 4),
        ("squeeze_excite", None, DIGITS_RATIO),
        ("se_mobilenetv3", None, 4),
        ("cbam", None, DIGITS_RATIO),
        ("cbam_7x7", None, 16),
        ("gc", None, DIGITS_RATIO),
        ("eca", 4, None),
    ],
)
def test_the_blocks_get_the_given_ratio_else_the_attentions_own(
    attention, ratio, expected
):
    assert DIGITS_RATIO == 8  # the README's result table was trained with it
    assert digits_ratio(attention, ratio) == expected
    model = build_digits_cnn(attention=attention, ratio=ratio)
    assert block_arguments(model, "ratio") == [expected] * 2


def test_a_given_ratio_keeps_the_presets_other_arguments():
    model = build_digits_cnn(attention="se_mobilenetv3", ratio=8)
    assert block_arguments(model, "ratio") == [8, 8]
    assert block_arguments(model, "divisor") == [8, 8]
    assert block_arguments(model, "gate") == ["hard_sigmoid"] * 2


def test_the_plain_cnn_has_no_blocks():
    model = build_digits_cnn(se=False, attention="se_r16")
    assert block_arguments(model, "ratio") == []


@pytest.mark.parametrize("ratio", [0, -8, 2.5, True, "8"])
def test_a_bad_ratio_is_named(ratio):
    with pytest.raises(ValueError, match=r"`ratio` must be a positive integer or None"):
        build_digits_cnn(attention="se_r16", ratio=ratio)
