"""The layer contract: checks every registry case must pass.

Each `check_*` takes a `LayerCase` and raises `AssertionError` on a breach;
`test_contract.py` runs them over `LAYER_CASES`. Signatures, configs and
sub-layers are introspected, never listed, so a new argument or sub-layer is
checked without a change here.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import json

import keras
import numpy as np
from keras import ops

from tests.conftest import random_inputs
from tests.layers.registry import COUNT_FORMULAS, LayerCase

BACKENDS = ("tensorflow", "jax", "torch")
POLICIES = ("float32", "mixed_float16", "mixed_bfloat16", "bfloat16")
# Outputs under a policy against float32 outputs with the same weights: a few
# roundings to a 10-bit (float16) or 7-bit (bfloat16) mantissa. The worst
# over the registry, on all three backends, is 2e-3 and 3e-2.
POLICY_TOLERANCES = {
    "float32": 1e-6,
    "mixed_float16": 1e-2,
    "mixed_bfloat16": 6e-2,
    "bfloat16": 6e-2,
}
TENSORFLOW_CPU_CONV = "TensorFlow's CPU kernels have no channels-first Conv2D"
# Config values built from these Keras getters are stored serialized.
KERAS_OBJECT_MODULES = {
    "activation": keras.activations,
    "initializer": keras.initializers,
    "regularizer": keras.regularizers,
    "constraint": keras.constraints,
}
CONV_CLASSES = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


@contextlib.contextmanager
def fast_jax_random():
    """JAX's partitionable threefry takes up to 5 s to compile per 4D shape on
    a CPU, for each weight an initializer fills. The contract never depends on
    which random values those are, so it uses the unpartitioned one."""
    if keras.backend.backend() != "jax":
        yield
        return
    import jax

    with jax.threefry_partitionable(False):
        yield


def make_layer(case: LayerCase, **overrides) -> keras.layers.Layer:
    return case.layer_class(**{**case.init_kwargs, **overrides})


def case_inputs(case: LayerCase, seed: int = 0) -> np.ndarray:
    return random_inputs(case.input_shape, seed=seed)


def randomize_weights(layer: keras.layers.Layer, seed: int = 1) -> None:
    """Sets every weight to random values, so zero-initialised ones count too.

    A BatchNormalization's moving variance is drawn positive (0.5 to 1.5): a
    negative variance would make the output NaN and every comparison vacuous.
    """
    rng = np.random.default_rng(seed)
    values = []
    for weight in layer.weights:
        value = rng.normal(0, 0.3, weight.shape)
        if weight.path.endswith("moving_variance"):
            value = rng.uniform(0.5, 1.5, weight.shape)
        values.append(value.astype("float32"))
    layer.set_weights(values)


def to_numpy(x) -> np.ndarray:
    return ops.convert_to_numpy(ops.cast(x, "float32"))


def assert_equal(actual, expected, what: str) -> None:
    # The harness is no test module: pytest does not rewrite its asserts.
    if actual != expected:
        raise AssertionError(f"{what}: got {actual!r}, expected {expected!r}")


def as_json(value):
    """Configs compare equal up to tuples read back as lists."""
    return json.loads(json.dumps(value))


def is_installed(backend: str) -> bool:
    return importlib.util.find_spec(backend) is not None


def init_arguments(layer_class: type) -> list[str]:
    parameters = inspect.signature(layer_class.__init__).parameters.values()
    return [
        p.name
        for p in parameters
        if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]


def resolved_arguments(case: LayerCase) -> dict:
    """The case's arguments over the signature's defaults."""
    parameters = inspect.signature(case.layer_class.__init__).parameters.values()
    defaults = {p.name: p.default for p in parameters if p.default is not p.empty}
    args = {**defaults, **case.init_kwargs}
    if args.get("data_format", "") is None:
        args["data_format"] = keras.config.image_data_format()
    return args


def uses_channels_first_conv(layer: keras.layers.Layer) -> bool:
    return any(
        isinstance(sub, CONV_CLASSES) and sub.data_format == "channels_first"
        for sub in layer._flatten_layers()
    )


def runs_channels_first_conv(backend: str) -> bool:
    """Whether `backend` runs a channels-first convolution here.

    TensorFlow does on a GPU only; seen from another backend's session, its
    devices are not looked up (that would import it), and taken to be a CPU.
    """
    if backend != "tensorflow":
        return True
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def unsupported_reason(case: LayerCase, backend: str | None = None) -> str | None:
    """Why `backend` (the current one by default) cannot run the case, or `None`."""
    backend = backend or keras.backend.backend()
    if runs_channels_first_conv(backend):
        return None
    return TENSORFLOW_CPU_CONV if uses_channels_first_conv(make_layer(case)) else None


def expected_config_value(name: str, value):
    """What `get_config` holds for an argument passed as `value`."""
    for suffix, module in KERAS_OBJECT_MODULES.items():
        if name == suffix or name.endswith(f"_{suffix}"):
            return module.serialize(module.get(value))
    return value


def check_config(case: LayerCase) -> None:
    config = make_layer(case).get_config()
    base_keys = set(keras.layers.Layer().get_config())
    keys, arguments = set(config) - base_keys, set(init_arguments(case.layer_class))
    assert_equal(sorted(keys - arguments), [], "config keys that are no argument")
    assert_equal(sorted(arguments - keys), [], "arguments missing from the config")
    for name, value in case.init_kwargs.items():
        expected = as_json(expected_config_value(name, value))
        assert_equal(as_json(config[name]), expected, f"config[{name!r}]")


def check_serialization(case: LayerCase) -> None:
    layer = make_layer(case)
    config = layer.get_config()
    clone = case.layer_class.from_config(config)
    assert_equal(clone.get_config(), config, "config after from_config")
    serialized = keras.saving.serialize_keras_object(layer)
    serialized = json.loads(json.dumps(serialized))
    registered_name = f"keras_se>{case.layer_class.__name__}"
    assert_equal(serialized["registered_name"], registered_name, "registered_name")
    revived = keras.saving.deserialize_keras_object(serialized)
    assert_equal(type(revived), case.layer_class, "deserialized class")
    assert_equal(
        as_json(revived.get_config()), as_json(config), "config after deserializing"
    )


def check_symbolic_shape(case: LayerCase) -> None:
    input_shape = (None, *case.input_shape[1:])
    expected = (None, *case.output_shape[1:])
    layer = make_layer(case)
    output_shape = tuple(layer.compute_output_shape(input_shape))
    assert_equal(output_shape, expected, "compute_output_shape")
    outputs = layer(keras.KerasTensor(input_shape))
    assert_equal(layer.built, True, "built after a symbolic call")
    assert_equal(tuple(outputs.shape), expected, "symbolic output shape")


def check_eager_shape(case: LayerCase) -> None:
    outputs = make_layer(case)(case_inputs(case))
    assert_equal(tuple(outputs.shape), case.output_shape, "eager output shape")
    dtype = keras.backend.standardize_dtype(outputs.dtype)
    assert_equal(dtype, "float32", "eager output dtype")


def expected_counts(case: LayerCase) -> tuple[int, int, int]:
    """`(trainable weights, non-trainable weights, parameters)` of the case."""
    weights, params = case.expected_weights, case.expected_params
    if weights is None or params is None:
        formula = COUNT_FORMULAS.get(case.layer_class)
        assert formula is not None, (
            f"no parameter formula for {case.layer_class.__name__}: give "
            "`expected_weights` and `expected_params` on its registry lines"
        )
        args = resolved_arguments(case)
        channel_axis = 1 if args.get("data_format") == "channels_first" else -1
        *computed_weights, computed_params = formula(
            args, case.input_shape[channel_axis]
        )
        weights = weights or tuple(computed_weights)
        params = computed_params if params is None else params
    return (*weights, params)


def check_weights(case: LayerCase) -> None:
    trainable, non_trainable, params = expected_counts(case)
    layer = make_layer(case)
    layer.build(case.input_shape)
    assert_equal(len(layer.trainable_weights), trainable, "trainable weights")
    assert_equal(len(layer.non_trainable_weights), non_trainable, "non-trainable")
    assert_equal(layer.count_params(), params, "parameters")
    if keras.backend.backend() == "torch":
        torch_params = len(layer.torch_params)
        assert_equal(torch_params, trainable + non_trainable, "torch parameters")


def training_inputs(case: LayerCase, seed: int, samples: int = 16) -> np.ndarray:
    """Inputs whose squeeze differs from sample to sample.

    A per-sample, per-channel offset spreads the squeezed values over both
    signs, so no bottleneck unit sits on a dead relu for the whole batch.
    """
    rng = np.random.default_rng(seed)
    shape = (samples, *case.input_shape[1:])
    offset_shape = [samples] + [1] * (len(shape) - 1)
    channel_axis = 1 if case.channels_first else -1
    offset_shape[channel_axis] = shape[channel_axis]
    x = rng.uniform(-1, 1, shape) + rng.normal(0, 1.5, offset_shape)
    return x.astype("float32")


def train_together(cases, samples: int = 16) -> dict[str, list]:
    """Two SGD steps of one model with two twin branches per case.

    A branch is Input -> layer -> Flatten -> Dense(1), and the branches are
    summed, so each layer gets its own gradient. The twins start with the
    same weights and see different inputs: a weight the data reaches ends
    different in each, one moved only by its regularizer or constraint ends
    the same. (Adam would not tell them apart: its first step is the sign of
    the gradient.)

    Many cases in one model, because compiling is the cost; but XLA's compile
    time grows faster than the graph, so `train_in_groups` gives JAX a few
    cases at a time. It runs compiled on JAX, eagerly on TensorFlow (tracing
    it takes 15 s, and the symbolic call has traced each layer already) and on
    PyTorch.

    Returns:
        For each case id, `(path, before, after, twin_after)` per trainable
        weight.
    """
    twins = [(make_layer(case), make_layer(case)) for case in cases]
    inputs, heads, x = [], [], []
    for case, pair in zip(cases, twins, strict=True):
        for seed, layer in enumerate(pair):
            inputs.append(keras.Input(case.input_shape[1:]))
            flat = keras.layers.Flatten()(layer(inputs[-1]))
            heads.append(keras.layers.Dense(1)(flat))
            x.append(training_inputs(case, seed, samples))
        pair[1].set_weights(pair[0].get_weights())
    model = keras.Model(inputs, keras.layers.Add()(heads))
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss="mse",
        run_eagerly=keras.backend.backend() != "jax",
    )
    before = [[to_numpy(w) for w in pair[0].trainable_weights] for pair in twins]
    y = np.random.default_rng(4).normal(size=(samples, 1)).astype("float32")
    # Two steps: a weight behind a zero-initialised one gets its first
    # gradient only once that one has moved.
    model.fit(x, y, batch_size=samples // 2, shuffle=False, verbose=0)
    return {
        case.id: [
            (w.path, old, to_numpy(w), to_numpy(twin))
            for w, twin, old in zip(
                layer.trainable_weights, twin_layer.trainable_weights, olds, strict=True
            )
        ]
        for case, (layer, twin_layer), olds in zip(cases, twins, before, strict=True)
    }


# Cases per model of `train_in_groups` on JAX. The 46 cases of the registry on
# 2 CPU cores: one model 76 s, groups of 6 48 s (the rest of the time is
# building the layers).
JAX_GROUP_SIZE = 6


def train_in_groups(cases, samples: int = 16) -> dict[str, list]:
    """`train_together` over all `cases`: in one model, or in groups on JAX."""
    size = JAX_GROUP_SIZE if keras.backend.backend() == "jax" else len(cases)
    trained = {}
    for start in range(0, len(cases), max(size, 1)):
        trained.update(train_together(cases[start : start + size], samples))
    return trained


def check_every_weight_moved(weights: list) -> None:
    """`weights`: one case's entry of `train_together`."""
    assert weights, "the layer has no trainable weights"
    for path, old, new, twin in weights:
        assert np.all(np.isfinite(new)), f"{path} is not finite"
        assert not np.array_equal(new, old), f"{path} did not move"
        assert not np.array_equal(new, twin), (
            f"{path} moved the same with other inputs: only its regularizer or "
            "constraint moved it, no gradient of the data reached it"
        )


def check_masking(case: LayerCase) -> None:
    layer = make_layer(case)
    assert_equal(layer.supports_masking, case.supports_masking, "supports_masking")
    if not case.supports_masking:
        return
    x = case_inputs(case)
    channel_axis = 1 if case.channels_first else x.ndim - 1
    mask = np.ones(np.delete(x.shape, channel_axis), dtype=bool)
    mask[0].reshape(-1)[mask[0].size // 2 :] = False
    mask[-1].reshape(-1)[:1] = False
    padded = np.broadcast_to(~np.expand_dims(mask, channel_axis), x.shape)
    changed = np.where(padded, 50.0 + 10 * np.abs(x), x).astype("float32")
    out = to_numpy(layer(x, mask=mask))
    out_changed = to_numpy(layer(changed, mask=mask))
    valid = ~padded
    np.testing.assert_allclose(out_changed[valid], out[valid], atol=1e-5)
    np.testing.assert_array_equal(to_numpy(layer.compute_mask(x, mask)), mask)


def check_dtype_policy(case: LayerCase, policy_name: str) -> None:
    policy = keras.DTypePolicy(policy_name)
    x = case_inputs(case)
    reference = make_layer(case)
    reference.build(x.shape)
    randomize_weights(reference)
    expected = to_numpy(reference(x))

    layer = make_layer(case, dtype=policy_name)
    symbolic = layer(keras.KerasTensor(x.shape))
    compute_dtype = policy.compute_dtype
    symbolic_dtype = keras.backend.standardize_dtype(symbolic.dtype)
    assert_equal(symbolic_dtype, compute_dtype, "symbolic output dtype")
    layer.set_weights(reference.get_weights())
    outputs = layer(x)
    output_dtype = keras.backend.standardize_dtype(outputs.dtype)
    assert_equal(output_dtype, compute_dtype, "output dtype")
    for sub_layer in layer._flatten_layers():
        assert_equal(sub_layer.dtype_policy.name, policy_name, sub_layer.path)
    for variable in layer.weights:
        dtype = keras.backend.standardize_dtype(variable.dtype)
        assert_equal(dtype, policy.variable_dtype, variable.path)
    outputs = to_numpy(outputs)
    assert np.all(np.isfinite(outputs)), f"{policy_name} outputs are not finite"
    tolerance = POLICY_TOLERANCES[policy_name]
    np.testing.assert_allclose(outputs, expected, atol=tolerance, rtol=tolerance)


def check_large_inputs(case: LayerCase, magnitude: float = 1e4) -> None:
    """Under `mixed_float16`, inputs near `magnitude` give finite outputs.

    Every reduction of the family (squeeze, strided gather, attention
    pooling, channel pooling) sums in float32 at least: a float16 sum of
    seven values near 1e4 already overflows 65,504.
    """
    x = random_inputs(case.input_shape, low=0.9 * magnitude, high=1.1 * magnitude)
    layer = make_layer(case, dtype="mixed_float16")
    layer.build(x.shape)
    randomize_weights(layer)
    outputs = to_numpy(layer(x))
    assert np.all(np.isfinite(outputs)), "mixed_float16 outputs are not finite"
