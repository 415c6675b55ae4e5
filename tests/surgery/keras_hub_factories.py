"""Small random-init KerasHub image backbones (presets cannot be downloaded here).

32x32 inputs, few filters and blocks; each call builds a new backbone.
"""

from __future__ import annotations

import pytest

keras_hub = pytest.importorskip("keras_hub")
M = keras_hub.models
SHAPE = (32, 32, 3)


def resnet(block_type="bottleneck_block", pre_activation=False, stem=(8,)):
    # The first stack must have 64 filters; a basic block's stem must match it.
    return M.ResNetBackbone(
        input_conv_filters=list(stem),
        input_conv_kernel_sizes=[3] * len(stem),
        stackwise_num_filters=[64, 16],
        stackwise_num_blocks=[2, 1],
        stackwise_num_strides=[1, 2],
        block_type=block_type,
        use_pre_activation=pre_activation,
        image_shape=SHAPE,
    )


def vgg():
    return M.VGGBackbone(
        stackwise_num_repeats=[1, 2], stackwise_num_filters=[8, 16], image_shape=SHAPE
    )


def densenet():
    return M.DenseNetBackbone(
        stackwise_num_repeats=[1, 2], growth_rate=4, image_shape=SHAPE
    )


def mobilenet():
    return M.MobileNetBackbone(
        stackwise_expansion=[[16, 24], [32]],
        stackwise_num_blocks=[2, 1],
        stackwise_num_filters=[[8, 8], [16]],
        stackwise_kernel_size=[[3, 3], [3]],
        stackwise_num_strides=[[2, 1], [2]],
        stackwise_se_ratio=[[None, None], [0.25]],
        stackwise_activation=[["relu", "relu"], ["hard_swish"]],
        stackwise_padding=[[1, 1], [1]],
        output_num_filters=32,
        depthwise_filters=8,
        depthwise_stride=2,
        depthwise_residual=False,
        last_layer_filter=32,
        squeeze_and_excite=0.5,
        input_num_filters=8,
        image_shape=SHAPE,
    )


def efficientnet():
    return M.EfficientNetBackbone(
        stackwise_kernel_sizes=[3, 3],
        stackwise_num_repeats=[1, 2],
        stackwise_input_filters=[8, 8],
        stackwise_output_filters=[8, 16],
        stackwise_expansion_ratios=[1, 2],
        stackwise_squeeze_and_excite_ratios=[0.0, 0.25],
        stackwise_strides=[1, 2],
        stackwise_block_types=["fused", "unfused"],
        stackwise_force_input_filters=[0, 0],
        stackwise_nores_option=[False, False],
        width_coefficient=1.0,
        depth_coefficient=1.0,
        input_shape=SHAPE,
    )


def cspnet():
    return M.CSPNetBackbone(
        stem_filters=8,
        stem_kernel_size=3,
        stem_strides=1,
        stackwise_strides=2,
        stackwise_depth=[1, 1],
        stackwise_num_filters=[8, 16],
        down_growth=True,
        bottle_ratio=(0.5, 1.0),
        block_ratio=(1.0, 0.5),
        expand_ratio=(2.0, 1.0),
        block_type="dark_block",
        stage_type="csp",
        stem_padding="same",
        image_shape=SHAPE,
    )


def xception():
    return M.XceptionBackbone(
        stackwise_conv_filters=[[8, 16], [24, 24], [32, 32]],
        stackwise_pooling=[False, True, False],
        image_shape=(64, 64, 3),
    )


def hgnetv2():
    return M.HGNetV2Backbone(
        embedding_size=16,
        stem_channels=[3, 8, 16],
        hidden_act="relu",
        use_learnable_affine_block=False,
        image_shape=SHAPE,
        depths=[1, 1],
        hidden_sizes=[16, 32],
        stackwise_stage_filters=[[16, 8, 16, 1, 1, 3], [16, 8, 32, 1, 1, 3]],
        apply_downsample=[False, True],
        use_lightweight_conv_block=[False, False],
    )


def mobilenetv5():
    zeros = [[0], [0, 0]]
    return M.MobileNetV5Backbone(
        stackwise_block_types=[["er"], ["uir", "uir"]],
        stackwise_num_blocks=[1, 2],
        stackwise_num_filters=[[8], [16, 16]],
        stackwise_strides=[[2], [2, 1]],
        stackwise_act_layers=[["relu"], ["relu", "relu"]],
        stackwise_exp_ratios=[[2.0], [2.0, 2.0]],
        stackwise_se_ratios=[[0.0], [0.0, 0.0]],
        stackwise_dw_kernel_sizes=[[0], [3, 3]],
        stackwise_dw_start_kernel_sizes=zeros,
        stackwise_dw_end_kernel_sizes=zeros,
        stackwise_exp_kernel_sizes=[[3], [0, 0]],
        stackwise_pw_kernel_sizes=[[1], [0, 0]],
        stackwise_num_heads=zeros,
        stackwise_key_dims=zeros,
        stackwise_value_dims=zeros,
        stackwise_kv_strides=zeros,
        stackwise_use_cpe=[[False], [False, False]],
        image_shape=SHAPE,
        stem_size=8,
        use_msfa=False,
    )


def vitdet():
    return M.ViTDetBackbone(
        image_shape=(16, 16, 3),
        patch_size=2,
        hidden_size=4,
        num_layers=1,
        global_attention_layer_indices=[0],
        intermediate_dim=8,
        num_heads=2,
        num_output_channels=2,
        window_size=2,
    )


def dinov2():
    return M.DINOV2Backbone(
        patch_size=8,
        num_layers=1,
        hidden_dim=8,
        num_heads=2,
        intermediate_dim=16,
        image_shape=SHAPE,
        position_embedding_shape=SHAPE,
    )


def dinov3():
    return M.DINOV3Backbone(
        patch_size=8,
        num_layers=1,
        hidden_dim=8,
        num_heads=2,
        intermediate_dim=16,
        image_shape=SHAPE,
    )


def retinanet():
    return M.RetinaNetBackbone(
        image_encoder=resnet(),
        min_level=3,
        max_level=4,
        use_p5=False,
        image_shape=SHAPE,
    )


def deeplab():
    return M.DeepLabV3Backbone(
        image_encoder=resnet(),
        spatial_pyramid_pooling_key="P3",
        upsampling_size=2,
        dilation_rates=[1, 2],
        low_level_feature_key="P2",
        projection_filters=8,
        image_shape=SHAPE,
    )
