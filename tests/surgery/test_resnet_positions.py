"""Where the blocks go in ResNet50, for each placement and position."""

from __future__ import annotations

import keras
import pytest

import keras_se
from tests.surgery.helpers import (
    application,
    consumers_of,
    images,
    max_abs_difference,
    producer_of_input,
    se_blocks,
)

pytestmark = pytest.mark.large

RESNET50_UNITS = [(2, 3), (3, 4), (4, 6), (5, 3)]  # (stage, units) conv2..conv5
UNIT_NAMES = [f"conv{s}_block{b}" for s, n in RESNET50_UNITS for b in range(1, n + 1)]


@pytest.fixture(scope="module")
def resnet50():
    return application("ResNet50")


def wrap(model, **kwargs):
    return keras_se.wrap_with_se(model, ratio=16, **kwargs)


@pytest.mark.parametrize("position", ["standard", "pre", "post", "identity"])
def test_one_block_per_unit_named_after_it(resnet50, position):
    wrapped = wrap(resnet50, placement="residual", position=position)
    assert [b.name for b in se_blocks(wrapped)] == [f"{u}_se" for u in UNIT_NAMES]
    assert max_abs_difference(resnet50, wrapped, images()) <= 1e-5


def test_standard_is_on_the_residual_branch_before_the_add(resnet50):
    wrapped = wrap(resnet50, position="standard")
    for unit in UNIT_NAMES:
        assert producer_of_input(wrapped, f"{unit}_se") == f"{unit}_3_bn"
        assert consumers_of(wrapped, f"{unit}_se") == [f"{unit}_add"]


def test_identity_is_on_the_shortcut(resnet50):
    wrapped = wrap(resnet50, position="identity")
    # Projection shortcuts in the first unit of a stage, identity ones after.
    assert producer_of_input(wrapped, "conv2_block1_se") == "conv2_block1_0_bn"
    assert producer_of_input(wrapped, "conv2_block2_se") == "conv2_block1_out"
    assert consumers_of(wrapped, "conv2_block2_se") == ["conv2_block2_add"]
    # The residual branch still reaches the add directly.
    assert "conv2_block2_add" in consumers_of(wrapped, "conv2_block2_3_bn")


def test_pre_is_on_the_residual_branch_input_only(resnet50):
    wrapped = wrap(resnet50, position="pre")
    assert producer_of_input(wrapped, "conv2_block2_se") == "conv2_block1_out"
    assert consumers_of(wrapped, "conv2_block2_se") == ["conv2_block2_1_conv"]
    # The shortcut still takes the unit's input as it is.
    assert "conv2_block2_add" in consumers_of(wrapped, "conv2_block1_out")
    # Projection units: the SE feeds the branch's first conv, not the projection.
    assert consumers_of(wrapped, "conv3_block1_se") == ["conv3_block1_1_conv"]
    assert "conv3_block1_0_conv" in consumers_of(wrapped, "conv2_block3_out")


def test_post_is_after_the_add(resnet50):
    wrapped = wrap(resnet50, position="post")
    assert producer_of_input(wrapped, "conv4_block6_se") == "conv4_block6_add"
    assert consumers_of(wrapped, "conv4_block6_se") == ["conv4_block6_out"]


def test_stage_end_after_each_stage_last_unit(resnet50):
    wrapped = wrap(resnet50, placement="stage_end")
    blocks = se_blocks(wrapped)
    assert [b.name for b in blocks] == [
        "conv2_block3_se",
        "conv3_block4_se",
        "conv4_block6_se",
        "conv5_block3_se",
    ]
    assert producer_of_input(wrapped, "conv3_block4_se") == "conv3_block4_out"
    assert [b.channels for b in blocks] == [256, 512, 1024, 2048]


@pytest.mark.parametrize(
    "stages, expected",
    [
        ([4], ["conv5_block1", "conv5_block2", "conv5_block3"]),
        ([-1], ["conv5_block1", "conv5_block2", "conv5_block3"]),
        ([1, 2], UNIT_NAMES[:7]),
        ([-4, 2], UNIT_NAMES[:7]),
    ],
)
def test_stages_keep_only_some(resnet50, stages, expected):
    wrapped = wrap(resnet50, stages=stages)
    assert [b.name for b in se_blocks(wrapped)] == [f"{u}_se" for u in expected]


def test_last_stage_costs_most_params(resnet50):
    # The paper's Table 13 point: SE in the last stage holds most of the params.
    per_stage = [
        sum(b.count_params() for b in se_blocks(wrap(resnet50, stages=[stage])))
        for stage in (1, 2, 3, 4)
    ]
    assert per_stage == sorted(per_stage)
    assert per_stage[3] > sum(per_stage[:3])


def test_conv_placement_follows_batch_norm_and_activation(resnet50):
    wrapped = wrap(resnet50, placement="conv")
    assert len(se_blocks(wrapped)) == 53  # every conv of ResNet50
    assert producer_of_input(wrapped, "conv2_block1_1_se") == "conv2_block1_1_relu"
    # A conv whose batch norm feeds the add directly: after the batch norm.
    assert producer_of_input(wrapped, "conv2_block1_3_se") == "conv2_block1_3_bn"


def test_ratio_units_divisor_apply_per_block(resnet50):
    blocks = se_blocks(wrap(resnet50, stages=[1]))
    assert [b.bottleneck_units for b in blocks] == [16, 16, 16]
    blocks = se_blocks(keras_se.wrap_with_se(resnet50, stages=[1], units=5))
    assert [b.bottleneck_units for b in blocks] == [5, 5, 5]
    blocks = se_blocks(keras_se.wrap_with_se(resnet50, stages=[1], ratio=24, divisor=8))
    assert [b.bottleneck_units for b in blocks] == [16, 16, 16]  # 10.7 -> 16


def test_se_resnet50_params_match_the_paper():
    # The paper: ResNet-50 25.6M params, SE-ResNet-50 (r=16) 28.1M.
    model = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3))
    wrapped = keras_se.wrap_with_se(model, ratio=16)
    units = [(256, 3), (512, 4), (1024, 6), (2048, 3)]  # (channels, units) per stage
    added = sum(n * (2 * c * (c // 16) + c // 16 + c) for c, n in units)
    assert sum(b.params for b in keras_se.describe(wrapped)) == added
    assert wrapped.count_params() - model.count_params() == added
    assert round(model.count_params() / 1e6, 1) == 25.6
    assert round(wrapped.count_params() / 1e6, 1) == 28.2
