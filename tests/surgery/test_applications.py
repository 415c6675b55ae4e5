"""wrap_with_se on keras.applications models (weights=None, 32x32 inputs)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import keras_se
from tests.surgery.helpers import (
    application,
    assert_original_weights_kept,
    images,
    max_abs_difference,
    se_blocks,
    snapshot,
)

pytestmark = pytest.mark.large

# placement="auto": residual units where the model has residual merges, else
# every conv; models with SE already get none stacked onto an SE.
EXPECTED_AUTO_BLOCKS = {
    "ResNet50": 16,  # one per bottleneck unit
    "ResNet50V2": 16,
    "MobileNetV2": 10,  # the inverted-residual units with a skip
    "MobileNetV3Small": 1,  # 6 of its 7 residual units already have SE
    "EfficientNetB0": 0,  # every residual unit already has SE
    "DenseNet121": 120,  # no residual merges: after every conv unit
    "VGG16": 13,  # no residual merges: after every conv
    "ConvNeXtTiny": 18,  # 3 + 3 + 9 + 3 blocks
}


# ResNet50 (residual units), EfficientNetB0 (the skip rule) and VGG16 (after
# every conv) in the large tier; the other families in the extra_large one.
FAST_APPLICATIONS = ("ResNet50", "EfficientNetB0", "VGG16")


@pytest.mark.parametrize(
    "name",
    [
        name
        if name in FAST_APPLICATIONS
        else pytest.param(name, marks=pytest.mark.extra_large)
        for name in EXPECTED_AUTO_BLOCKS
    ],
)
def test_auto_placement_counts_weights_and_identity_start(name):
    model = application(name)
    before = snapshot(model)
    x = images()
    reference = np.asarray(model(x))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wrapped = keras_se.wrap_with_se(model, ratio=4)
    assert len(se_blocks(wrapped)) == EXPECTED_AUTO_BLOCKS[name]
    if EXPECTED_AUTO_BLOCKS[name] == 0:
        assert any("inserted no 'se' block" in str(w.message) for w in caught)
    assert_original_weights_kept(model, wrapped)
    # The identity start: the copy computes what the original does.
    assert max_abs_difference(model, wrapped, x) <= 1e-5
    # The input model is untouched.
    after = snapshot(model)
    assert before.keys() == after.keys()
    for layer_name, weights in before.items():
        for want, got in zip(weights, after[layer_name], strict=True):
            np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.asarray(model(x)), reference)


@pytest.mark.parametrize(
    "name, placement, expected",
    [
        ("MobileNetV2", "conv", 52),
        ("MobileNetV2", "stage_end", 4),
        ("MobileNetV3Small", "conv", 25),
        ("EfficientNetB0", "conv", 33),
        ("EfficientNetB0", "stage_end", 4),
        ("ConvNeXtTiny", "stage_end", 4),
        ("VGG16", "stage_end", 5),
        ("DenseNet121", "stage_end", 5),
    ],
)
def test_other_placements_on_families(name, placement, expected):
    model = application(name)
    wrapped = keras_se.wrap_with_se(model, ratio=4, placement=placement)
    assert len(se_blocks(wrapped)) == expected
    assert max_abs_difference(model, wrapped, images()) <= 1e-5


def test_existing_se_can_be_stacked_when_asked():
    model = application("EfficientNetB0")
    wrapped = keras_se.wrap_with_se(model, ratio=4, skip_existing_se=False)
    assert len(se_blocks(wrapped)) == 9  # EfficientNetB0's residual units
    assert max_abs_difference(model, wrapped, images()) <= 1e-5


def test_mobilenet_v3_raw_operations_are_kept():
    # Its hard-sigmoid is raw ops (x + 3, relu6, * 1/6): in model.operations,
    # not model.layers. They must survive the rewrite, unchanged.
    model = application("MobileNetV3Small")
    wrapped = keras_se.wrap_with_se(model, ratio=4, placement="conv")
    original_ops = sorted(type(op).__name__ for op in model.operations)
    wrapped_ops = sorted(
        type(op).__name__ for op in wrapped.operations if not op.name.endswith("_se")
    )
    assert wrapped_ops == original_ops
    assert max_abs_difference(model, wrapped, images()) <= 1e-5
