"""SqueezeExciteConv2D: conv -> SE -> optional skip, against NumPy."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

import keras_se
from tests.conftest import random_inputs
from tests.layers.reference import squeeze_excite_reference


def conv2d_same_reference(x, kernel, bias):
    """A direct 'same'-padded, stride-1 2D convolution, channels last."""
    k = kernel.shape[0]
    pad = (k - 1) // 2
    padded = np.pad(x, ((0, 0), (pad, k - 1 - pad), (pad, k - 1 - pad), (0, 0)))
    out = np.zeros((*x.shape[:3], kernel.shape[-1]))
    for i in range(k):
        for j in range(k):
            window = padded[:, i : i + x.shape[1], j : j + x.shape[2], :]
            out += window @ kernel[i, j]
    return out + bias


def tensorflow_without_gpu():
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return not tf.config.list_physical_devices("GPU")


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("kernel_size", [1, 3])
def test_matches_numpy_reference(residual, data_format, kernel_size):
    if data_format == "channels_first" and tensorflow_without_gpu():
        pytest.skip("TensorFlow's CPU Conv2D kernel supports channels_last only")
    x = random_inputs((2, 5, 6, 8))
    block = keras_se.SqueezeExciteConv2D(
        8, kernel_size, residual=residual, ratio=2, data_format=data_format
    )
    x_in = x if data_format == "channels_last" else np.moveaxis(x, -1, 1)
    out = ops.convert_to_numpy(block(x_in))
    if data_format == "channels_first":
        out = np.moveaxis(out, 1, -1)
    kernel, bias = (ops.convert_to_numpy(w) for w in block.conv.weights)
    u = conv2d_same_reference(x, kernel, bias)
    expected = squeeze_excite_reference(u, block.se.get_weights())
    if residual:
        expected = expected + x
    np.testing.assert_allclose(out, expected, atol=5e-5)


def test_changes_channel_count_without_residual():
    block = keras_se.SqueezeExciteConv2D(12, ratio=4)
    assert block(random_inputs((1, 4, 4, 3))).shape == (1, 4, 4, 12)
    assert block.compute_output_shape((None, 4, 4, 3)) == (None, 4, 4, 12)
    assert block.se.bottleneck_units == 3
