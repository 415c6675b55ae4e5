"""wrap_with_se on KerasHub image backbones and image classifiers.

Presets cannot be downloaded here: every model is a small random-init
configuration (32x32 inputs, few filters and blocks).
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

import keras_se
from tests.surgery.helpers import (
    all_layers,
    assert_original_weights_kept,
    images,
    se_blocks,
    snapshot,
)

keras_hub = pytest.importorskip("keras_hub")
from tests.surgery.keras_hub_factories import (  # noqa: E402
    SHAPE,
    M,
    cspnet,
    deeplab,
    densenet,
    dinov2,
    dinov3,
    efficientnet,
    hgnetv2,
    mobilenet,
    mobilenetv5,
    resnet,
    retinanet,
    vgg,
    vitdet,
    xception,
)

# placement="auto" on each backbone: the number of blocks it gets. The ResNet
# variants, VGG, DenseNet, CSPNet, Xception and the backbones built on a
# ResNet are plain Keras layers: one block per residual unit, or after every
# conv where there are no residual merges. MobileNet, EfficientNet, HGNetV2,
# MobileNetV5 and ViTDet are built of KerasHub block layers (a whole inverted
# residual unit is one layer): the surgery sees only the convs between them,
# the stem and the top, never a conv inside a block, so it never stacks a
# block onto the SE those blocks may hold. DINOv2/v3 have no conv feature map.
WRAPPABLE = {
    "resnet_v1_bottleneck": (resnet, 3),  # 2 + 1 units
    "resnet_v1_basic": (lambda: resnet("basic_block", stem=(64,)), 3),
    "resnet_v2": (lambda: resnet(pre_activation=True), 3),
    "resnet_vd": (lambda: resnet("bottleneck_block_vd", stem=(8, 8, 8)), 3),
    "vgg": (vgg, 3),  # one per conv
    "densenet": (densenet, 8),
    "cspnet": (cspnet, 2),
    "xception": (xception, 1),  # its one residual unit with a conv branch
    "mobilenet": (mobilenet, 1),  # after the stem conv
    "efficientnet": (efficientnet, 2),  # after the stem and the top conv
    "vitdet": (vitdet, 2),  # after the two convs of its neck
    "hgnetv2": (hgnetv2, 0),
    "mobilenetv5": (mobilenetv5, 0),
    "dinov2": (dinov2, 0),
    "dinov3": (dinov3, 0),
}
SLOW_WRAPPABLE = {"retinanet": (retinanet, 3), "deeplab": (deeplab, 3)}
# Transformer backbones whose layers do not rebuild from their own configs.
NOT_REWRITABLE = {
    "MiTBackbone": lambda: M.MiTBackbone(
        layerwise_depths=[1, 1],
        image_shape=SHAPE,
        hidden_dims=[4, 8],
        num_layers=2,
        layerwise_num_heads=[1, 2],
        layerwise_sr_ratios=[8, 4],
        max_drop_path_rate=0.0,
        layerwise_patch_sizes=[7, 3],
        layerwise_strides=[4, 2],
    ),
    "ViTBackbone": lambda: M.ViTBackbone(
        image_shape=SHAPE,
        patch_size=8,
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        mlp_dim=16,
    ),
    "DeiTBackbone": lambda: M.DeiTBackbone(
        image_shape=SHAPE,
        patch_size=8,
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
    ),
    "SwinTransformerBackbone": lambda: M.SwinTransformerBackbone(
        image_shape=SHAPE, embed_dim=8, depths=(1, 1), num_heads=(1, 2), window_size=4
    ),
}


def flat_outputs(model, x):
    return [keras.ops.convert_to_numpy(t) for t in keras.tree.flatten(model(x))]


def leaf_weights(model):
    return [
        weight
        for layer in all_layers(model)
        if not isinstance(layer, keras.Model) and layer not in se_blocks(model)
        for weight in layer.get_weights()
    ]


def assert_weights_kept(original, wrapped):
    # As a multiset of arrays, not by name: some KerasHub block layers
    # (MobileNet's DepthwiseConvBlock) do not pass their name through their
    # config, so their copy gets a new one; and the layer order may differ.
    def key(array):
        return (array.shape, array.tobytes())

    want = sorted(leaf_weights(original), key=key)
    got = sorted(leaf_weights(wrapped), key=key)
    assert len(want) == len(got)
    for expected, actual in zip(want, got, strict=True):
        np.testing.assert_array_equal(actual, expected)


def check_backbone(build, expected):
    keras.utils.set_random_seed(0)
    backbone = build()
    x = images(shape=backbone.input_shape[1:])
    x = {next(iter(backbone.input)): x} if isinstance(backbone.input, dict) else x
    reference = flat_outputs(backbone, x)
    # After the first call: DeepLabV3's pyramid pooling builds its weights then.
    before = snapshot(backbone)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wrapped = keras_se.wrap_with_se(backbone, ratio=4)
    # A plain Functional copy, named like the backbone.
    assert type(wrapped) is not type(backbone) and isinstance(wrapped, keras.Model)
    assert wrapped.name == backbone.name
    assert len(se_blocks(wrapped)) == expected
    assert len(keras_se.describe(wrapped)) == expected
    if expected == 0:
        assert any("inserted no 'se' block" in str(w.message) for w in caught)
    assert_weights_kept(backbone, wrapped)
    for want, got in zip(reference, flat_outputs(wrapped, x), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)
    # The input model is untouched.
    for name, weights in snapshot(backbone).items():
        for want, got in zip(before[name], weights, strict=True):
            np.testing.assert_array_equal(got, want)
    return backbone, wrapped, x


# One family per placement rule by default (residual units, every conv,
# blocks with their own SE, no rewritable unit); the rest are extra_large.
FAST_WRAPPABLE = ("resnet_v1_bottleneck", "vgg", "efficientnet", "hgnetv2")


@pytest.mark.parametrize(
    "name",
    [
        name
        if name in FAST_WRAPPABLE
        else pytest.param(name, marks=pytest.mark.extra_large)
        for name in WRAPPABLE
    ],
)
def test_backbone_auto_counts_weights_and_identity_start(name):
    check_backbone(*WRAPPABLE[name])


@pytest.mark.extra_large
@pytest.mark.parametrize("name", SLOW_WRAPPABLE)
def test_backbones_built_on_an_image_encoder(name):
    check_backbone(*SLOW_WRAPPABLE[name])


def test_resnet_blocks_sit_on_the_residual_branch():
    wrapped = keras_se.wrap_with_se(resnet(), ratio=4)
    placed = [(b.name, b.after, b.before) for b in keras_se.describe(wrapped)]
    assert placed == [
        ("stack0_block0_se", "stack0_block0_3_bn", "stack0_block0_add"),
        ("stack0_block1_se", "stack0_block1_3_bn", "stack0_block1_add"),
        ("stack1_block0_se", "stack1_block0_3_bn", "stack1_block0_add"),
    ]
    # 256 channels (64 * 4, the bottleneck expansion) at ratio 4.
    first = keras_se.describe(wrapped)[0]
    assert (first.channels, first.units) == (256, 64)


def test_block_layers_take_blocks_by_a_placement_callable():
    # MobileNetV5's units are single layers: SE after each, chosen by class.
    wrapped = keras_se.wrap_with_se(
        mobilenetv5(),
        placement=lambda layer: type(layer).__name__ == "UniversalInvertedResidual",
    )
    assert [b.after for b in keras_se.describe(wrapped)] == [
        layer.name
        for layer in wrapped.layers
        if type(layer).__name__ == "UniversalInvertedResidual"
    ]
    assert len(se_blocks(wrapped)) == 2


@pytest.mark.parametrize("name", NOT_REWRITABLE)
def test_transformer_backbones_raise_a_type_error_naming_the_layer(name):
    backbone = NOT_REWRITABLE[name]()
    with pytest.raises(TypeError) as error:
        keras_se.wrap_with_se(backbone)
    message = str(error.value)
    assert f"cannot rewrite '{backbone.name}' ({name})" in message
    assert "cannot be rebuilt from its own config" in message


def test_backbone_saves_and_loads_with_safe_mode(tmp_path):
    _, wrapped, x = check_backbone(resnet, 3)
    path = tmp_path / "resnet_se.keras"
    wrapped.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert len(se_blocks(loaded)) == 3
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(wrapped(x))
    )


def test_a_backbone_nested_in_a_functional_model():
    backbone = resnet()
    inputs = keras.Input(SHAPE)
    features = keras.layers.GlobalAveragePooling2D()(backbone(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, name="classes")(features))
    x = images()
    wrapped = keras_se.wrap_with_se(model, ratio=4)
    assert len(se_blocks(wrapped)) == 3
    assert_original_weights_kept(model, wrapped)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(wrapped(x)),
        keras.ops.convert_to_numpy(model(x)),
        atol=1e-5,
    )


def resnet_classifier(num_classes=3):
    converter = keras_hub.layers.ResNetImageConverter(
        image_size=(32, 32), scale=1 / 255
    )
    preprocessor = M.ResNetImageClassifierPreprocessor(image_converter=converter)
    return M.ResNetImageClassifier(
        backbone=resnet(), num_classes=num_classes, preprocessor=preprocessor
    )


@pytest.mark.large
def test_image_classifier_comes_back_as_the_same_task(tmp_path):
    keras.utils.set_random_seed(0)
    classifier = resnet_classifier()
    raw = images(shape=(40, 40, 3))  # the preprocessor resizes to 32x32
    reference = classifier.predict(raw, verbose=0)
    before = snapshot(classifier)
    wrapped = keras_se.wrap_with_se(classifier, ratio=4)

    assert type(wrapped) is M.ResNetImageClassifier
    assert type(wrapped.preprocessor) is M.ResNetImageClassifierPreprocessor
    assert wrapped.preprocessor is not classifier.preprocessor
    assert wrapped.backbone.name == classifier.backbone.name
    assert len(se_blocks(wrapped)) == 3
    assert [b.model for b in keras_se.describe(wrapped)] == [wrapped.backbone.name] * 3
    # Backbone and head weights kept; predict runs the preprocessor.
    assert_original_weights_kept(classifier, wrapped)
    np.testing.assert_allclose(wrapped.predict(raw, verbose=0), reference, atol=1e-6)
    for name, weights in snapshot(classifier).items():
        for want, got in zip(before[name], weights, strict=True):
            np.testing.assert_array_equal(got, want)
    assert wrapped.compiled

    path = tmp_path / "classifier_se.keras"
    wrapped.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is M.ResNetImageClassifier
    assert len(se_blocks(loaded)) == 3
    np.testing.assert_allclose(
        loaded.predict(raw, verbose=0), wrapped.predict(raw, verbose=0), atol=1e-6
    )


def test_image_classifier_keeps_the_compile_settings():
    classifier = resnet_classifier()
    classifier.compile(optimizer=keras.optimizers.SGD(0.125), loss="mse")
    wrapped = keras_se.wrap_with_se(classifier)
    assert isinstance(wrapped.optimizer, keras.optimizers.SGD)
    assert float(wrapped.optimizer.learning_rate) == 0.125
    assert wrapped.optimizer is not classifier.optimizer


@pytest.mark.parametrize(
    "task, build, expected",
    [
        (M.VGGImageClassifier, vgg, 3),
        (M.DenseNetImageClassifier, densenet, 8),
        (M.MobileNetImageClassifier, mobilenet, 1),
    ],
)
def test_other_image_classifiers(task, build, expected):
    classifier = task(backbone=build(), num_classes=2, preprocessor=None)
    x = images()
    wrapped = keras_se.wrap_with_se(classifier, ratio=4)
    assert type(wrapped) is task
    assert len(se_blocks(wrapped)) == expected
    assert_weights_kept(classifier, wrapped)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(wrapped(x)),
        keras.ops.convert_to_numpy(classifier(x)),
        atol=1e-5,
    )


def test_classifier_that_needs_its_backbone_class_raises_a_type_error():
    # HGNetV2ImageClassifier reads `backbone.hidden_sizes`.
    classifier = M.HGNetV2ImageClassifier(
        backbone=hgnetv2(), num_classes=2, preprocessor=None
    )
    with pytest.raises(TypeError, match="cannot build a HGNetV2ImageClassifier"):
        keras_se.wrap_with_se(classifier)


@pytest.mark.extra_large
def test_other_tasks_raise_a_type_error_naming_the_backbone_route():
    segmenter = M.DeepLabV3ImageSegmenter(backbone=deeplab(), num_classes=2)
    with pytest.raises(TypeError, match=r"wrap_with_se\(task\.backbone\)"):
        keras_se.wrap_with_se(segmenter)


@pytest.mark.large
def test_excitations_and_gradcam_on_a_wrapped_classifier():
    classifier = keras_se.wrap_with_se(resnet_classifier(), ratio=4)
    x = classifier.preprocessor(images(shape=(40, 40, 3)))
    blocks = keras_se.viz.excitations(classifier, x, batch_size=2, verbose=0)
    assert [b.name for b in blocks] == [b.name for b in se_blocks(classifier)]
    for block in blocks:
        # The identity start: every gate is exactly 2 * sigmoid(0) = 1.
        np.testing.assert_array_equal(block.overall, np.ones(block.channels))
    assert keras_se.viz.find_target_layer(classifier) == "stack1_block0_se"
    pytest.importorskip("tf_keras_vis")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("Grad-CAM runs on the TensorFlow backend")
    maps = keras_se.viz.heatmaps(classifier, np.asarray(x), classes=[0, 1])
    assert maps.shape == (2, 32, 32)
    assert np.all(np.isfinite(maps)) and maps.min() >= 0.0


def test_layers_of_the_copy_are_not_shared():
    classifier = resnet_classifier()
    wrapped = keras_se.wrap_with_se(classifier)
    original = {id(layer) for layer in all_layers(classifier)}
    assert not original & {id(layer) for layer in all_layers(wrapped)}
