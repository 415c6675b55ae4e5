"""`model.quantize("int8")` on whole SE models: saved, reloaded in a fresh process.

The digits SE CNN, a plain CNN wrapped by `wrap_with_se`, and (extra_large) a
wrapped MobileNetV2 are quantized, saved, and all reloaded in ONE fresh
process with `safe_mode=True`; the reloaded outputs must be identical.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

import keras_se
from keras_se.demo.model import build_digits_cnn
from tests.conftest import run_python
from tests.saving.helpers import randomize

pytest.importorskip("keras_se.surgery")
pytestmark = pytest.mark.large

RELOAD_CODE = """
import json, pathlib, keras, numpy as np, keras_se
folder = pathlib.Path({folder!r})
modes = {{}}
for key in {keys!r}:
    model = keras.saving.load_model(folder / f"{{key}}.keras", safe_mode=True)
    out = model.predict(np.load(folder / f"{{key}}_x.npy"), verbose=0)
    np.save(folder / f"{{key}}_reloaded.npy", out)
    modes[key] = sum(
        layer.quantization_mode == "int8"
        for layer in model._flatten_layers()
        if isinstance(layer, keras.layers.Dense)
    )
print(json.dumps(modes))
"""


def digits_se_cnn():
    return randomize(build_digits_cnn(se=True, filters=(8, 16)), seed=0, scale=0.3)


def wrapped_cnn():
    plain = randomize(build_digits_cnn(se=False, filters=(8, 16)), seed=1, scale=0.3)
    return keras_se.wrap_with_se(plain, ratio=4, identity_init=False)


def wrapped_mobilenet_v2():
    keras.utils.set_random_seed(0)
    base = keras.applications.MobileNetV2(
        weights=None, input_shape=(32, 32, 3), alpha=0.35, classes=10
    )
    return keras_se.wrap_with_se(base, ratio=4, identity_init=False)


def round_trip(models: dict, folder) -> dict:
    """Quantizes, saves, reloads all `models` in one fresh process; compares."""
    expected = {}
    for key, model in models.items():
        shape = (3, *model.inputs[0].shape[1:])
        x = np.random.default_rng(0).uniform(0, 1, shape).astype("float32")
        float_outputs = model.predict(x, verbose=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the layers Keras cannot quantize
            model.quantize("int8")
        outputs = model.predict(x, verbose=0)
        dense = [
            layer
            for layer in model._flatten_layers()
            if isinstance(layer, keras.layers.Dense)
        ]
        assert all(layer.quantization_mode == "int8" for layer in dense)
        expected[key] = outputs, float_outputs, len(dense)
        keras_se.save_model(model, folder / f"{key}.keras")
        np.save(folder / f"{key}_x.npy", x)
    quantized = run_python(RELOAD_CODE.format(folder=str(folder), keys=list(models)))
    for key, (outputs, float_outputs, dense) in expected.items():
        assert quantized[key] == dense
        np.testing.assert_array_equal(np.load(folder / f"{key}_reloaded.npy"), outputs)
        # int8 weights and per-sample int8 inputs of each Dense step.
        np.testing.assert_allclose(outputs, float_outputs, atol=0.02)
    return {key: value[2] for key, value in expected.items()}


def test_digits_and_wrapped_models_reload_quantized_exactly(tmp_path):
    dense = round_trip(
        {"digits_se_cnn": digits_se_cnn(), "wrapped_cnn": wrapped_cnn()}, tmp_path
    )
    # Two SE blocks of two steps each, and the classifier.
    assert dense == {"digits_se_cnn": 5, "wrapped_cnn": 5}


@pytest.mark.extra_large
def test_wrapped_mobilenet_v2_reloads_quantized_exactly(tmp_path):
    dense = round_trip({"mobilenet_v2": wrapped_mobilenet_v2()}, tmp_path)
    se_blocks = 10  # one per inverted-residual unit with a skip
    assert dense["mobilenet_v2"] == 2 * se_blocks + 1
