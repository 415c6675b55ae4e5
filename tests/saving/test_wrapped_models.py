"""Models made by `wrap_with_se` save, load, move weights and export, exactly."""

from __future__ import annotations

import keras
import numpy as np
import pytest

pytest.importorskip("keras_se.surgery")

import keras_se
from keras_se.errors import ModelFileError
from tests.saving.helpers import assert_same_weights

pytestmark = pytest.mark.large

APPLICATIONS = {
    "ResNet50": keras.applications.ResNet50,
    "MobileNetV2": keras.applications.MobileNetV2,
}
# The last normalization of each residual branch.
BRANCH_ENDS = ("_3_bn", "project_BN")


def images(batch, seed):
    return (
        np.random.default_rng(seed).uniform(-1, 1, (batch, 32, 32, 3)).astype("float32")
    )


def base_model(name, seed=0):
    keras.utils.set_random_seed(seed)
    return APPLICATIONS[name](
        weights=None, input_shape=(32, 32, 3), classes=10, classifier_activation=None
    )


def wrapped(name, seed=0):
    return keras_se.wrap_with_se(base_model(name, seed), ratio=4)


def bring_to_life(model, seed):
    """Gives a randomly initialised network outputs that depend on its input.

    Untrained, a deep network's activations shrink to nothing in inference
    (ResNet50's logits are about 1e-6), which no comparison can fault. Here
    each BatchNormalization takes its statistics from one training-mode pass,
    with residual branches scaled down as at the start of training (so the
    network is not chaotic), and the SE blocks get random weights near their
    identity start.
    """
    rng = np.random.default_rng(seed)
    blocks = [
        layer for layer in model.layers if isinstance(layer, keras_se.SqueezeExcite2D)
    ]
    for block in blocks:
        block.set_weights(
            [
                rng.normal(0, 0.05, w.shape).astype("float32")
                for w in block.get_weights()
            ]
        )
    norms = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    momenta = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.0
        if layer.name.endswith(BRANCH_ENDS):
            layer.gamma.assign(layer.gamma * 0.1)
    model(images(64, seed), training=True)
    for layer, momentum in zip(norms, momenta, strict=True):
        layer.momentum = momentum
    return model


@pytest.fixture(scope="module", params=list(APPLICATIONS))
def lively(request):
    model = bring_to_life(wrapped(request.param), seed=0)
    blocks = [
        layer for layer in model.layers if isinstance(layer, keras_se.SqueezeExcite2D)
    ]
    assert len(blocks) >= 10
    x = images(4, seed=1)
    expected = model.predict(x, verbose=0)
    # Outputs that differ between images, at a scale a comparison can fault.
    assert np.abs(expected[0] - expected[1]).max() > 0.05
    return request.param, model, x, expected


def test_a_wrapped_model_round_trips_through_a_keras_archive(lively, tmp_path):
    name, model, x, expected = lively
    path = keras_se.save_model(model, tmp_path / f"se_{name}.keras")
    reloaded = keras_se.load_model(path)
    assert [type(layer) for layer in reloaded.layers] == [
        type(layer) for layer in model.layers
    ]
    assert_same_weights(model, reloaded)
    np.testing.assert_array_equal(reloaded.predict(x, verbose=0), expected)


def test_weights_move_to_a_freshly_wrapped_copy(lively, tmp_path):
    name, model, x, expected = lively
    path = keras_se.save_weights(model, tmp_path / f"se_{name}.weights.h5")
    copy = wrapped(name, seed=1)
    keras_se.load_weights(copy, path)
    assert_same_weights(model, copy)
    np.testing.assert_array_equal(copy.predict(x, verbose=0), expected)


def test_the_unwrapped_model_refuses_wrapped_weights(lively, tmp_path):
    name, model, _, _ = lively
    path = keras_se.save_weights(model, tmp_path / f"se_{name}.weights.h5")
    blocks = [
        layer for layer in model.layers if isinstance(layer, keras_se.SqueezeExcite2D)
    ]
    plain = base_model(name)
    with pytest.raises(ModelFileError) as info:
        keras_se.load_weights(plain, path)
    # Each SE block holds 4 variables; the plain model has none of them.
    assert f"the file has {4 * len(blocks)} variable(s) that the model lacks" in str(
        info.value
    )


# ResNet50's exports take half a minute each on 2 cores: extra_large.
EXPORTED = ["MobileNetV2", pytest.param("ResNet50", marks=pytest.mark.extra_large)]


@pytest.mark.tensorflow
@pytest.mark.parametrize("lively", EXPORTED, indirect=True)
def test_a_wrapped_model_exports_to_savedmodel(lively, tmp_path):
    name, model, x, _ = lively
    result = keras_se.export_model(
        model, tmp_path / f"se_{name}", "saved_model", sample_inputs=x
    )
    # The export was checked on `x` through tf.saved_model.load; here other
    # images go through the Keras layer that wraps a SavedModel.
    assert result.max_abs_diff <= 1e-5
    layer = keras.layers.TFSMLayer(result.path, call_endpoint="serve")
    other = images(3, seed=5)
    np.testing.assert_allclose(
        np.asarray(layer(other)), model.predict(other, verbose=0), atol=1e-5
    )


@pytest.mark.tensorflow
@pytest.mark.parametrize("lively", EXPORTED, indirect=True)
def test_a_wrapped_model_exports_to_tflite(lively, tmp_path):
    from tests.export.test_export import tflite_outputs

    name, model, x, _ = lively
    result = keras_se.export_model(
        model, tmp_path / f"se_{name}.tflite", "tflite", sample_inputs=x
    )
    assert result.max_abs_diff <= result.tolerance
    other = images(3, seed=5)
    (actual,) = tflite_outputs(result.path, other)
    reference = model.predict(other, verbose=0)
    assert np.abs(actual - reference).max() <= 1e-4 * max(1, np.abs(reference).max())
