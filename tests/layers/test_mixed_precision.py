"""Mixed precision numbers the layer contract (`test_contract.py`) does not cover."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

import keras_se
from tests.conftest import random_inputs


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


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_context_attention_logits_do_not_overflow(data_format):
    # Each logit sums 8 channels of 1e4 times 2: 160,000, past float16's
    # 65,504. An infinite logit would make the softmax, and the output, NaN.
    shape = (2, 4, 5, 8) if data_format == "channels_last" else (2, 8, 4, 5)
    x = np.full(shape, 1e4, dtype="float32")
    layer = keras_se.GlobalContext2D(data_format=data_format, dtype="mixed_float16")
    layer.build(x.shape)
    layer.attention.kernel.assign(np.full((8, 1), 2.0, dtype="float32"))
    context = ops.convert_to_numpy(ops.cast(layer.context(x), "float32"))
    # The attention-weighted mean of a constant map is that constant.
    np.testing.assert_allclose(context, 1e4, rtol=1e-3)
    outputs = ops.convert_to_numpy(ops.cast(layer(x), "float32"))
    assert np.all(np.isfinite(outputs))


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
