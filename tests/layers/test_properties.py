"""Properties that hold for any shape and any bottleneck arguments."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import ops

import keras_se
from keras_se.layers import bottleneck_units
from tests.layers.reference import squeeze_excite_reference


@given(
    channels=st.integers(1, 2048),
    ratio=st.integers(1, 64),
    divisor=st.sampled_from([1, 2, 4, 8, 16]),
)
def test_bottleneck_is_positive_and_a_multiple(channels, ratio, divisor):
    units = bottleneck_units(channels, ratio, divisor=divisor)
    assert units >= 1 and units % divisor == 0
    if divisor == 1:
        assert units == max(1, channels // ratio)
    else:
        assert units >= 0.9 * channels / ratio and units >= divisor


@given(
    channels=st.integers(1, 2048),
    ratio=st.one_of(st.integers(1, 64), st.floats(0.05, 64.0)),
    divisor=st.sampled_from([2, 4, 8, 16]),
    round_limit=st.floats(0.0, 0.99),
)
def test_rounding_stays_within_one_divisor(channels, ratio, divisor, round_limit):
    width = channels / ratio
    units = bottleneck_units(channels, ratio, divisor=divisor, round_limit=round_limit)
    assert units % divisor == 0 and units >= divisor
    assert units >= round_limit * width
    assert abs(units - width) <= divisor or units == divisor
    # A higher round_limit only ever bumps more widths up.
    assert units >= bottleneck_units(channels, ratio, divisor=divisor, round_limit=0.0)
    assert units <= bottleneck_units(channels, ratio, divisor=divisor, round_limit=0.99)


@given(channels=st.integers(1, 2048), ratio=st.floats(0.05, 64.0))
def test_float_ratio_floors_without_divisor(channels, ratio):
    units = bottleneck_units(channels, ratio)
    width = channels / ratio
    assert units >= 1
    assert units == max(1, int(width)) or units == round(width)


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 3),
    height=st.integers(1, 6),
    width=st.integers(1, 6),
    channels=st.integers(1, 24),
    ratio=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_any_shape_matches_reference(batch, height, width, channels, ratio, seed):
    x = np.random.default_rng(seed).normal(size=(batch, height, width, channels))
    x = x.astype("float32")
    layer = keras_se.SqueezeExcite2D(ratio=ratio)
    out = ops.convert_to_numpy(layer(x))
    expected = squeeze_excite_reference(x, layer.get_weights())
    np.testing.assert_allclose(out, expected, atol=3e-5)
