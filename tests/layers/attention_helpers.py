"""Helpers the GC, GE and CBAM tests share: inputs, random weights, timm's reference."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from tests.conftest import random_inputs


def timm_reference():
    """The torch re-implementations of timm's forward; skips without torch."""
    pytest.importorskip("torch")
    from tests.layers import timm_reference_gc_ge_cbam

    return timm_reference_gc_ge_cbam


def inputs(data_format, shape, seed=0):
    """Random inputs of channels-last `shape`, moved to `data_format`."""
    x = random_inputs(shape, seed=seed)
    return np.moveaxis(x, -1, 1).copy() if data_format == "channels_first" else x


def randomized(layer, x, seed=1):
    """Random weights; batch-norm variances positive, as trained ones are."""
    layer.build(x.shape)
    rng = np.random.default_rng(seed)
    values = []
    for weight in layer.weights:
        value = rng.normal(0, 0.5, weight.shape)
        if weight.name == "moving_variance":
            value = np.abs(value) + 0.5
        values.append(value.astype("float32"))
    layer.set_weights(values)
    return layer


def output(layer, x, **kwargs):
    return ops.convert_to_numpy(layer(x, **kwargs))
