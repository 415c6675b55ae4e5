"""Mixed precision reaches the SE sub-layers and the gate stays sane."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

import keras_se
from tests.conftest import random_inputs
from tests.layers.reference import squeeze_excite_reference


@pytest.mark.parametrize("gate", ["sigmoid", "hard_sigmoid"])
def test_layer_policy_reaches_sub_layers(gate):
    layer = keras_se.SqueezeExcite2D(ratio=4, gate=gate, dtype="mixed_float16")
    x = random_inputs((2, 6, 6, 16))
    out = layer(x)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    for sub_layer in (layer.reduce, layer.expand):
        assert sub_layer.dtype_policy.name == "mixed_float16"
        assert sub_layer.compute_dtype == "float16"
        assert sub_layer.kernel.dtype == "float32"
    expected = squeeze_excite_reference(x, layer.get_weights(), gate=gate)
    np.testing.assert_allclose(
        ops.convert_to_numpy(out).astype("float32"), expected, atol=2e-2, rtol=1e-2
    )


def test_conv_block_policy_reaches_conv_and_se():
    block = keras_se.SqueezeExciteConv2D(8, dtype="mixed_float16")
    out = block(random_inputs((1, 4, 4, 8)))
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert block.conv.compute_dtype == "float16"
    assert block.se.reduce.compute_dtype == "float16"


def test_large_activations_do_not_overflow_the_squeeze():
    # 56*56 values of ~300 sum to ~940,000: far past float16's 65,504.
    x = np.full((2, 56, 56, 8), 300.0, dtype="float32")
    layer = keras_se.SqueezeExcite2D(
        units=8, activation="linear", gate="relu", dtype="mixed_float16"
    )
    layer.build(x.shape)
    eye = np.eye(8, dtype="float32") / 100.0
    layer.set_weights([eye * 100.0, np.zeros(8), eye, np.zeros(8)])
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer.excitation(x)).astype("float32"), 3.0, rtol=1e-3
    )


def test_global_mixed_policy_trains_with_finite_loss():
    keras.config.set_dtype_policy("mixed_float16")
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(16, 3, padding="same"),
            keras_se.SqueezeExcite2D(ratio=4),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4, dtype="float32"),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    se = model.layers[1]
    before = [w.copy() for w in se.get_weights()]
    x, y = random_inputs((16, 8, 8, 3), low=0, high=1), random_inputs((16, 4))
    # The loss-scale optimizer may skip the first steps while it finds its scale.
    for _ in range(10):
        loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    after = se.get_weights()
    assert all(np.all(np.isfinite(w)) for w in after)
    assert any(not np.allclose(a, b) for a, b in zip(before, after, strict=True))
