"""The same weights and inputs give the same outputs on TensorFlow, JAX and PyTorch."""

from __future__ import annotations

import importlib.util

import keras
import numpy as np
import pytest
from keras import ops

import keras_se
from tests.conftest import random_inputs, run_python

CASES = {
    "se1d": ("SqueezeExcite1D", {"ratio": 4}, (2, 9, 16)),
    "se2d": ("SqueezeExcite2D", {"ratio": 4}, (2, 5, 7, 16)),
    "se2d_first_hard": (
        "SqueezeExcite2D",
        {"ratio": 2, "gate": "hard_sigmoid", "data_format": "channels_first"},
        (2, 8, 5, 7),
    ),
    "se2d_max_divisor": (
        "SqueezeExcite2D",
        {"ratio": 4, "divisor": 8, "squeeze": "max", "activation": "swish"},
        (2, 3, 3, 24),
    ),
    "se3d": ("SqueezeExcite3D", {"ratio": 2}, (2, 3, 4, 5, 8)),
    "conv_block": (
        "SqueezeExciteConv2D",
        {"filters": 8, "residual": True},
        (2, 6, 6, 8),
    ),
}

OTHER_BACKENDS = ["jax", "torch"]


@pytest.fixture(scope="module")
def tensorflow_outputs(tmp_path_factory):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("compares other backends against TensorFlow")
    folder = tmp_path_factory.mktemp("backends")
    results = {}
    for key, (class_name, args, shape) in CASES.items():
        layer = getattr(keras_se.layers, class_name)(**args)
        x = random_inputs(shape, seed=len(key))
        layer.build(x.shape)
        rng = np.random.default_rng(7)
        weights = [
            rng.normal(0, 0.3, w.shape).astype("float32") for w in layer.get_weights()
        ]
        layer.set_weights(weights)
        np.savez(folder / f"{key}.npz", x, *weights)
        results[key] = ops.convert_to_numpy(layer(x))
    return folder, results


@pytest.mark.multibackend
@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_same_outputs_as_tensorflow(backend, tensorflow_outputs):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed (pip install -e '.[backends]')")
    folder, expected = tensorflow_outputs
    code = f"""
import json, keras, numpy as np, keras_se
cases = {CASES!r}
for key, (class_name, args, shape) in cases.items():
    data = np.load({str(folder)!r} + f"/{{key}}.npz")
    arrays = [data[f"arr_{{i}}"] for i in range(len(data.files))]
    layer = getattr(keras_se.layers, class_name)(**args)
    layer.build(arrays[0].shape)
    layer.set_weights(arrays[1:])
    out = keras.ops.convert_to_numpy(layer(arrays[0]))
    np.save({str(folder)!r} + f"/{{key}}_{backend}.npy", out)
print(json.dumps({{"backend": keras.backend.backend()}}))
"""
    assert run_python(code, backend=backend)["backend"] == backend
    for key, tensorflow_out in expected.items():
        other = np.load(folder / f"{key}_{backend}.npy")
        np.testing.assert_allclose(other, tensorflow_out, atol=2e-5, err_msg=key)
