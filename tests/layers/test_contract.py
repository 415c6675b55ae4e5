"""Every registry case against the whole layer contract of `harness.py`."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import keras_se
from tests.conftest import run_python
from tests.layers import harness
from tests.layers.registry import LAYER_CASES, LAYER_CLASSES

CASES = pytest.mark.parametrize("case", LAYER_CASES, ids=lambda case: case.id)
OTHER_BACKENDS = [b for b in harness.BACKENDS if b != keras.backend.backend()]


@pytest.fixture(autouse=True)
def fast_jax_random():
    with harness.fast_jax_random():
        yield


def skip_if_unsupported(case):
    reason = harness.unsupported_reason(case)
    if reason is not None:
        pytest.skip(reason)


def test_registry_lists_every_public_layer():
    exported = [getattr(keras_se.layers, name) for name in keras_se.layers.__all__]
    layer_classes = {
        obj
        for obj in exported
        if isinstance(obj, type) and issubclass(obj, keras.layers.Layer)
    }
    assert set(LAYER_CLASSES) == layer_classes
    assert {case.layer_class for case in LAYER_CASES} == layer_classes
    ids = [case.id for case in LAYER_CASES]
    assert len(set(ids)) == len(ids), "case ids must be unique"


@CASES
def test_config_holds_exactly_the_init_arguments(case):
    harness.check_config(case)


@CASES
def test_config_and_registry_round_trip(case):
    harness.check_serialization(case)


@CASES
def test_output_shape(case):
    harness.check_symbolic_shape(case)
    skip_if_unsupported(case)
    harness.check_eager_shape(case)


@CASES
def test_weight_and_parameter_counts(case):
    harness.check_weights(case)


@pytest.fixture(scope="module")
def trained():
    cases = [case for case in LAYER_CASES if harness.unsupported_reason(case) is None]
    with harness.fast_jax_random():
        return harness.train_in_groups(cases)


@CASES
def test_training_step_moves_every_weight(case, trained):
    skip_if_unsupported(case)
    harness.check_every_weight_moved(trained[case.id])


@CASES
def test_masked_positions_do_not_reach_the_output(case):
    skip_if_unsupported(case)
    harness.check_masking(case)


@CASES
@pytest.mark.parametrize("policy", harness.POLICIES)
def test_dtype_policy(case, policy):
    skip_if_unsupported(case)
    harness.check_dtype_policy(case, policy)


@CASES
def test_large_inputs_in_mixed_float16(case):
    skip_if_unsupported(case)
    harness.check_large_inputs(case)


# The fresh interpreters import only keras and keras_se, as a user's would.
# On JAX they use the cheap random of `harness.fast_jax_random`: the initial
# values are all replaced.
FRESH_PROCESS_HEADER = """
import json, pathlib, keras, numpy as np, keras_se
if keras.backend.backend() == "jax":
    import jax
    jax.config.update("jax_threefry_partitionable", False)
folder = pathlib.Path({folder!r})
"""
RELOAD_CODE = """
layers = {{}}
for key in {ids!r}:
    model = keras.saving.load_model(folder / f"{{key}}.keras", safe_mode=True)
    out = keras.ops.convert_to_numpy(model(np.load(folder / f"{{key}}.npy")))
    np.save(folder / f"{{key}}_reloaded.npy", out)
    layer = model.layers[-1]
    layers[key] = {{"class": type(layer).__name__, "config": layer.get_config()}}
print(json.dumps(layers))
"""
BACKEND_CODE = """
backend = keras.backend.backend()
for key in {ids!r}:
    data = np.load(folder / f"{{key}}.npz")
    x, *weights = (data[f"arr_{{i}}"] for i in range(len(data.files)))
    config = json.loads((folder / f"{{key}}.json").read_text())
    layer = keras.saving.deserialize_keras_object(config)
    layer.set_weights(weights)
    out = keras.ops.convert_to_numpy(keras.ops.cast(layer(x), "float32"))
    np.save(folder / f"{{key}}_{{backend}}.npy", out)
print(json.dumps({{"backend": backend}}))
"""


def in_fresh_process(code, folder, ids, backend=None):
    header = FRESH_PROCESS_HEADER.format(folder=str(folder))
    return run_python(header + code.format(ids=ids), backend=backend)


@pytest.fixture(scope="module")
def reloaded(tmp_path_factory):
    """Every case saved in a `.keras` model, all loaded in ONE fresh process."""
    folder = tmp_path_factory.mktemp("reload")
    expected = {}
    with harness.fast_jax_random():
        for case in LAYER_CASES:
            if harness.unsupported_reason(case) is not None:
                continue
            layer = harness.make_layer(case)
            inputs = keras.Input(case.input_shape[1:])
            model = keras.Model(inputs, layer(inputs))
            harness.randomize_weights(layer)
            x = harness.case_inputs(case)
            expected[case.id] = harness.to_numpy(model(x)), layer.get_config()
            model.save(folder / f"{case.id}.keras")
            np.save(folder / f"{case.id}.npy", x)
    layers = in_fresh_process(RELOAD_CODE, folder, list(expected))
    return folder, expected, layers


@pytest.mark.large
@CASES
def test_keras_archive_reloads_in_a_fresh_process(case, reloaded):
    skip_if_unsupported(case)
    folder, expected, layers = reloaded
    outputs, config = expected[case.id]
    assert layers[case.id]["class"] == case.layer_class.__name__
    assert layers[case.id]["config"] == harness.as_json(config)
    reloaded_outputs = np.load(folder / f"{case.id}_reloaded.npy")
    np.testing.assert_array_equal(reloaded_outputs, outputs)


class BackendOutputs:
    """Every case's outputs per backend, with the same weights and inputs.

    The current backend's come from this process; another backend's from ONE
    fresh process for all cases, started when a test first asks for them.
    """

    def __init__(self, folder):
        self.folder = folder
        self.outputs = {keras.backend.backend(): {}}
        with harness.fast_jax_random():
            for case in LAYER_CASES:
                layer = harness.make_layer(case)
                layer.build(case.input_shape)
                harness.randomize_weights(layer, seed=len(case.id))
                x = harness.case_inputs(case)
                np.savez(folder / f"{case.id}.npz", x, *layer.get_weights())
                config = keras.saving.serialize_keras_object(layer)
                (folder / f"{case.id}.json").write_text(json.dumps(config))
                if harness.unsupported_reason(case) is None:
                    outputs = harness.to_numpy(layer(x))
                    self.outputs[keras.backend.backend()][case.id] = outputs

    def get(self, backend: str) -> dict[str, np.ndarray]:
        if backend not in self.outputs:
            try:
                self.outputs[backend] = self._run(backend)
            except Exception as error:
                # Kept, so the other cases fail at once rather than rerun it.
                self.outputs[backend] = error
        if isinstance(self.outputs[backend], Exception):
            raise self.outputs[backend]
        return self.outputs[backend]

    def _run(self, backend: str) -> dict[str, np.ndarray]:
        ids = [
            case.id
            for case in LAYER_CASES
            if harness.unsupported_reason(case, backend) is None
        ]
        in_fresh_process(BACKEND_CODE, self.folder, ids, backend=backend)
        return {key: np.load(self.folder / f"{key}_{backend}.npy") for key in ids}


@pytest.fixture(scope="module")
def backend_outputs(tmp_path_factory):
    return BackendOutputs(tmp_path_factory.mktemp("backends"))


def reference_outputs(case, backend, backend_outputs):
    """The current backend's outputs; where it cannot run the case, a third's."""
    current = keras.backend.backend()
    for reference in [current, *(b for b in OTHER_BACKENDS if b != backend)]:
        if reference == current or harness.is_installed(reference):
            outputs = backend_outputs.get(reference)
            if case.id in outputs:
                return reference, outputs[case.id]
    pytest.skip(f"no backend but {backend} can run {case.id} here")


# Slow: one subprocess per other backend, JAX's compiles dominate. CI runs
# it in the extra_large tier, on the TensorFlow backend only.
@pytest.mark.extra_large
@pytest.mark.multibackend
@CASES
@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_same_outputs_on_other_backends(case, backend, backend_outputs):
    if not harness.is_installed(backend):
        pytest.skip(f"{backend} is not installed (pip install -e '.[backends]')")
    reason = harness.unsupported_reason(case, backend)
    if reason is not None:
        pytest.skip(reason)
    reference, expected = reference_outputs(case, backend, backend_outputs)
    np.testing.assert_allclose(
        backend_outputs.get(backend)[case.id],
        expected,
        atol=2e-5,
        err_msg=f"{backend} against {reference}",
    )
