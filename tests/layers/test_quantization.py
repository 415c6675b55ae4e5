"""Keras quantization over every registry case: quantize, save, reload, compare.

Every case of `LAYER_CASES` goes into a model that `model.quantize(mode)`
quantizes; the model is saved, and ALL of them are reloaded in ONE fresh
process with `safe_mode=True`. The reloaded outputs must equal the quantized
model's exactly, and every sub-layer Keras can quantize (e.g. a `Dense`
step) must come back quantized. A new layer is checked by its registry line.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

import keras_se
from keras_se.layers.quantization import quantized_sublayer_policies
from tests.conftest import run_python
from tests.layers import harness
from tests.layers.registry import LAYER_CASES

CASES = pytest.mark.parametrize("case", LAYER_CASES, ids=lambda case: case.id)
# The Dense modes of Keras 3.15 that need no calibration data; int8 runs in the
# large tier, the others in the extra_large one.
MODES = ("int8", "float8", "int4")
EVERY_MODE = pytest.mark.parametrize(
    "mode",
    ["int8", *(pytest.param(m, marks=pytest.mark.extra_large) for m in MODES[1:])],
)
# Quantized outputs against float outputs, relative to the largest float
# output: int8 and float8 round weights and inputs to 8 bits, int4 to 4.
MODE_TOLERANCES = {"int8": 0.05, "float8": 0.1, "int4": 0.3}

RELOAD_CODE = """
import json, pathlib, keras, numpy as np, keras_se
folder = pathlib.Path({folder!r})
modes = {{}}
for key in {keys!r}:
    try:
        model = keras.saving.load_model(folder / f"{{key}}.keras", safe_mode=True)
    except Exception as error:
        modes[key] = str(error).splitlines()[:3]
        continue
    x = np.load(folder / f"{{key}}_x.npy")
    np.save(folder / f"{{key}}_reloaded.npy", keras.ops.convert_to_numpy(model(x)))
    modes[key] = sorted(
        f"{{layer.path}}:{{layer.quantization_mode}}"
        for layer in model.layers[-1]._flatten_layers(include_self=False)
        if layer.quantization_mode is not None
    )
print(json.dumps(modes))
"""


def quantizable_sublayers(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    """The leaf sub-layers whose class implements Keras's `quantize`."""
    return [
        sublayer
        for sublayer in layer._flatten_layers(include_self=False)
        if len(list(sublayer._flatten_layers())) == 1
        and type(sublayer).quantize is not keras.layers.Layer.quantize
    ]


def quantized_model(case, mode):
    layer = harness.make_layer(case)
    inputs = keras.Input(case.input_shape[1:])
    model = keras.Model(inputs, layer(inputs), name=f"{case.id}_{mode}")
    harness.randomize_weights(layer)
    x = harness.case_inputs(case)
    float_outputs = harness.to_numpy(model(x))
    with warnings.catch_warnings():
        # Keras warns for each layer it cannot quantize (Input, Conv2D).
        warnings.simplefilter("ignore")
        model.quantize(mode)
    return model, layer, x, float_outputs


class Reloaded:
    """Every case in one mode, quantized and saved, reloaded in ONE process."""

    def __init__(self, tmp_path_factory):
        self.tmp_path_factory = tmp_path_factory
        self.modes = {}

    def get(self, mode: str):
        if mode not in self.modes:
            self.modes[mode] = _reload_all(self.tmp_path_factory, mode)
        return self.modes[mode]


@pytest.fixture(scope="module")
def reloaded(tmp_path_factory):
    return Reloaded(tmp_path_factory)


def _reload_all(tmp_path_factory, mode):
    folder = tmp_path_factory.mktemp(f"quantized_{mode}")
    expected = {}
    with harness.fast_jax_random():
        for case in LAYER_CASES:
            if harness.unsupported_reason(case) is not None:
                continue
            model, layer, x, float_outputs = quantized_model(case, mode)
            key = f"{case.id}_{mode}"
            modes = sorted(
                f"{sublayer.path}:{sublayer.quantization_mode}"
                for sublayer in quantizable_sublayers(layer)
            )
            outputs = harness.to_numpy(model(x))
            expected[key] = outputs, float_outputs, modes
            model.save(folder / f"{key}.keras")
            np.save(folder / f"{key}_x.npy", x)
    code = RELOAD_CODE.format(folder=str(folder), keys=list(expected))
    return folder, expected, run_python(code)


@pytest.mark.large
@EVERY_MODE
@CASES
def test_quantized_model_reloads_exactly_in_a_fresh_process(case, mode, reloaded):
    if harness.unsupported_reason(case) is not None:
        pytest.skip(harness.unsupported_reason(case))
    folder, expected, reloaded_modes = reloaded.get(mode)
    key = f"{case.id}_{mode}"
    outputs, float_outputs, modes = expected[key]
    # Every quantizable sub-layer was quantized, and comes back so.
    assert all(entry.endswith(f":{mode}") for entry in modes), modes
    assert reloaded_modes[key] == modes, (
        f"The quantized {case.layer_class.__name__} did not reload as saved: "
        "does it inherit keras_se.layers.quantization.QuantizableSublayers and "
        f"give its sub-layers dtype=self.dtype_policy? {reloaded_modes[key]}"
    )
    np.testing.assert_array_equal(np.load(folder / f"{key}_reloaded.npy"), outputs)
    scale = float(np.max(np.abs(float_outputs)))
    np.testing.assert_allclose(
        outputs, float_outputs, rtol=0, atol=MODE_TOLERANCES[mode] * scale + 1e-6
    )


def test_se_steps_are_quantized_and_the_config_maps_them():
    model = keras.Sequential(
        [keras.Input((4, 4, 8)), keras_se.SqueezeExcite2D(2, name="se")]
    )
    model.quantize("int8")
    se = model.layers[0]
    assert se.reduce.quantization_mode == se.expand.quantization_mode == "int8"
    assert keras.backend.standardize_dtype(se.reduce.kernel.dtype) == "int8"
    assert keras.backend.standardize_dtype(se.expand.kernel.dtype) == "int8"
    policies = quantized_sublayer_policies(se)
    assert {key: policy.name for key, policy in policies.items()} == {
        "(?:.*/)?se/reduce": "int8_from_float32",
        "(?:.*/)?se/expand": "int8_from_float32",
    }
    policy = keras.dtype_policies.deserialize(se.get_config()["dtype"])
    assert isinstance(policy, keras.dtype_policies.DTypePolicyMap)
    assert policy.default_policy.name == "float32"


def test_float_layer_config_keeps_its_plain_policy():
    layer = keras_se.SqueezeExcite2D(2, dtype="mixed_bfloat16")
    layer.build((None, 4, 4, 8))
    assert layer.get_config()["dtype"] == keras.dtype_policies.serialize(
        keras.dtype_policies.get("mixed_bfloat16")
    )


def test_quantized_layer_reloads_alone_and_in_a_renamed_model():
    layer = keras_se.SqueezeExcite1D(2, name="se")
    inputs = keras.Input((5, 8))
    model = keras.Model(inputs, layer(inputs), name="first")
    harness.randomize_weights(layer)
    layer.quantize("int8")
    config = keras.layers.serialize(layer)
    clone = keras.layers.deserialize(config)  # built from its build config
    assert clone.reduce.quantization_mode == clone.expand.quantization_mode == "int8"
    for source, target in zip(layer.weights, clone.weights, strict=True):
        target.assign(source)
    x = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    np.testing.assert_array_equal(
        harness.to_numpy(clone(x)), harness.to_numpy(model(x))
    )
    renamed = keras.Sequential([keras.Input((5, 8)), clone], name="second")
    np.testing.assert_array_equal(
        harness.to_numpy(renamed(x)), harness.to_numpy(model(x))
    )


def test_layer_quantize_refuses_an_unbuilt_or_twice_quantized_layer():
    layer = keras_se.SqueezeExcite2D(2)
    with pytest.raises(ValueError, match="isn't yet built"):
        layer.quantize("int8")
    layer.build((None, 4, 4, 8))
    layer.quantize("int8")
    with pytest.raises(NotImplementedError, match="no sub-layer"):
        layer.quantize("int8")
