"""Grad-CAM, Grad-CAM++ and saliency through tf-keras-vis."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy.ndimage import zoom

import keras_se
from keras_se.demo.model import build_digits_cnn
from keras_se.viz import METHODS, find_target_layer, heatmaps
from tests.viz.conftest import nested_digits_model, random_images

# Needs TensorFlow as the backend: skipped (not failed) without it.
pytestmark = pytest.mark.tensorflow
tf = pytest.importorskip("tensorflow", reason="needs the keras-se[tensorflow] extra")


@pytest.mark.parametrize("method", METHODS)
def test_heatmaps_match_the_input_and_lie_in_0_1(method, trained_digits_model, digits):
    _, test = digits
    maps = heatmaps(trained_digits_model, test.x[:12], method=method, batch_size=5)
    assert maps.shape == (12, 8, 8) and maps.dtype == np.float32
    assert np.isfinite(maps).all()
    assert maps.min() >= 0 and maps.max() <= 1
    # Normalized per image: each map reaches (almost) 1 unless it is flat.
    assert np.all(maps.max(axis=(1, 2)) > 0.99)


def reference_gradcam(model, x, classes, layer):
    """Grad-CAM by hand: logits' gradient at `layer`, pooled, upsampled."""
    features = keras.Model(
        model.inputs[0], [model.get_layer(layer).output, model.get_layer("pool").output]
    )
    kernel, bias = model.get_layer("classes").get_weights()
    with tf.GradientTape() as tape:
        maps, pooled = features(x)
        logits = tf.matmul(pooled, kernel) + bias
        score = tf.reduce_sum(tf.gather(logits, classes, axis=1, batch_dims=1))
    grads = tape.gradient(score, maps).numpy()
    weights = grads.mean(axis=(1, 2), keepdims=True)
    cam = np.maximum((maps.numpy() * weights).sum(-1), 0)
    cam = zoom(cam, (1, 8 / cam.shape[1], 8 / cam.shape[2]), order=1)
    low = cam.min(axis=(1, 2), keepdims=True)
    high = cam.max(axis=(1, 2), keepdims=True)
    return (cam - low) / (high - low + keras.config.epsilon())


@pytest.mark.parametrize("layer", ["stage2_se", "stage1_relu"])
def test_gradcam_equals_a_reference_on_the_logits(layer, trained_digits_model, digits):
    _, test = digits
    x, classes = test.x[:6], np.array([0, 3, 5, 7, 9, 2])
    expected = reference_gradcam(trained_digits_model, x, classes, layer)
    maps = heatmaps(trained_digits_model, x, classes=classes, layer=layer)
    np.testing.assert_allclose(maps, expected, atol=1e-4)


def test_model_is_left_unchanged(trained_digits_model, digits):
    _, test = digits
    before = trained_digits_model.predict(test.x[:5], verbose=0)
    heatmaps(trained_digits_model, test.x[:5], method="gradcam++")
    heatmaps(trained_digits_model, test.x[:5], method="saliency")
    output = trained_digits_model.get_layer("classes")
    assert output.activation is keras.activations.softmax
    np.testing.assert_array_equal(
        trained_digits_model.predict(test.x[:5], verbose=0), before
    )


@pytest.mark.parametrize("method", METHODS)
def test_nested_model_gives_the_same_heatmaps(method, trained_digits_model, digits):
    _, test = digits
    nested = nested_digits_model(trained_digits_model)
    assert find_target_layer(nested) == "stage2_se"
    flat_maps = heatmaps(trained_digits_model, test.x[:6], method=method)
    nested_maps = heatmaps(nested, test.x[:6], method=method)
    np.testing.assert_allclose(nested_maps, flat_maps, atol=1e-5)


def test_default_target_layer():
    assert find_target_layer(build_digits_cnn()) == "stage2_se"
    assert find_target_layer(build_digits_cnn(se=False)) == "stage2_conv"


@pytest.mark.large
def test_target_layer_skips_1x1_maps_in_a_wrapped_application():
    base = keras.applications.MobileNetV2(
        weights=None, input_shape=(32, 32, 3), include_top=False, alpha=0.35
    )
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.GlobalAveragePooling2D()(base(inputs))
    model = keras_se.wrap_with_se(
        keras.Model(inputs, keras.layers.Dense(4, activation="softmax")(x)), ratio=4
    )
    # 32x32 inputs end at 1x1 after Conv_1: Grad-CAM on it would be one pixel.
    assert find_target_layer(model) == "block_13_expand"  # the last 2x2 map
    maps = heatmaps(model, random_images(2, (32, 32, 3)), classes=[1, 2])
    assert maps.shape == (2, 32, 32) and np.isfinite(maps).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "cam"}, "`method` must be one of"),
        ({"layer": "nope"}, "No layer named 'nope'.*default would be 'stage2_se'"),
        ({"layer": "pool"}, "Grad-CAM needs a feature map"),
        ({"classes": 10}, "between 0 and 9"),
        ({"classes": [1, 2]}, "one class index per image"),
        ({"batch_size": 0}, "`batch_size` must be a positive integer"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        heatmaps(build_digits_cnn(), random_images(3), **kwargs)
