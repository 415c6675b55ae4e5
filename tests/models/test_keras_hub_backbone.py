"""SEResNetBackbone: KerasHub presets, the plain builder's network, timm checkpoints.

The reduced networks of `tests/models/references/` (one block a stage, narrow
stages, 32x32 images) and their timm checkpoints and logits: the backbone
under a head must give timm's logits, as the plain builder does.
"""

from __future__ import annotations

import json
import shutil

import keras
import numpy as np
import pytest

import keras_se
from keras_se.errors import CheckpointError
from keras_se.models import load_timm_weights, preprocess_images
from tests.conftest import run_python
from tests.models import references
from tests.models.references import images, outputs, tiny_model

keras_hub = pytest.importorskip("keras_hub")
SEResNetBackbone = keras_se.models.SEResNetBackbone
SEResNetImageClassifier = keras_se.models.SEResNetImageClassifier
SEResNetImageConverter = keras_se.models.SEResNetImageConverter
NAMES = sorted(references.tiny_configs())
IMAGE_SHAPE = (32, 32, 3)


def tiny_backbone(name: str, image_shape=IMAGE_SHAPE, **kwargs) -> SEResNetBackbone:
    config = references.tiny_configs()[name]
    return SEResNetBackbone.from_resnet_config(
        config, image_shape=image_shape, **kwargs
    )


def randomize(model: keras.Model) -> None:
    # Batch-norm statistics too: a preset must carry every variable.
    rng = np.random.default_rng(0)
    for weight in model.weights:
        weight.assign(rng.uniform(0.5, 1.5, weight.shape).astype(weight.dtype))


def assert_same_weights(model: keras.Model, other: keras.Model) -> None:
    assert [w.path for w in model.weights] == [w.path for w in other.weights]
    for weight, twin in zip(model.weights, other.weights, strict=True):
        np.testing.assert_array_equal(weight.numpy(), twin.numpy(), err_msg=weight.path)


def run(model: keras.Model, batch: np.ndarray | None = None) -> np.ndarray:
    batch = images() if batch is None else batch
    return keras.ops.convert_to_numpy(model(batch, training=False))


@pytest.mark.parametrize("name", ["seresnet50", "gcresnet50t"])
def test_a_preset_round_trip_keeps_config_and_weights(name, tmp_path):
    backbone = tiny_backbone(name)
    randomize(backbone)
    backbone.save_to_preset(str(tmp_path))
    assert json.loads((tmp_path / "config.json").read_text())["registered_name"] == (
        "keras_se>SEResNetBackbone"
    )
    for loader in (SEResNetBackbone, keras_hub.models.Backbone):
        loaded = loader.from_preset(str(tmp_path))
        assert type(loaded) is SEResNetBackbone
        assert loaded.get_config() == backbone.get_config()
        assert loaded.resnet_config == references.tiny_configs()[name]
        assert_same_weights(loaded, backbone)
        np.testing.assert_array_equal(run(loaded), run(backbone))
    random = SEResNetBackbone.from_preset(str(tmp_path), load_weights=False)
    assert random.get_config() == backbone.get_config()


@pytest.mark.parametrize("name", NAMES)
def test_from_timm_is_the_plain_builders_network_with_its_weights(name):
    config = references.tiny_configs()[name]
    backbone = SEResNetBackbone.from_timm(
        references.checkpoint(name), config, image_shape=IMAGE_SHAPE
    )
    plain = tiny_model(name, include_top=False, input_shape=IMAGE_SHAPE)
    load_timm_weights(plain, references.checkpoint(name), config)
    # The same layers under the same names, so the same timm keys.
    assert_same_weights(backbone, plain)
    np.testing.assert_array_equal(run(backbone), run(plain))
    assert [tuple(p.shape) for p in backbone.pyramid_outputs.values()] == [
        (None, 8, 8, 16),
        (None, 4, 4, 32),
        (None, 2, 2, 32),
        (None, 1, 1, 64),
    ]
    assert backbone.output is backbone.pyramid_outputs["P5"]


@pytest.mark.parametrize("name", ["seresnext50_32x4d", "gcresnet50t"])
def test_kerashubs_image_classifier_gives_timms_logits(name):
    # KerasHub's generic head (average pool, dense) on the backbone, the
    # head's weights from timm's classifier: timm's logits.
    config = references.tiny_configs()[name]
    backbone = SEResNetBackbone.from_timm(references.checkpoint(name), config)
    classifier = keras_hub.models.ImageClassifier(backbone, num_classes=10)
    state = references.state_dict(name)
    classifier.output_dense.set_weights(
        [state[f"{config.head_name}.weight"].T, state[f"{config.head_name}.bias"]]
    )
    np.testing.assert_allclose(run(classifier), outputs()[name], rtol=0, atol=1e-4)


def test_channels_first_gives_timms_logits():
    name = "gcresnet50t"
    classifier = SEResNetImageClassifier.from_timm(
        references.checkpoint(name),
        references.tiny_configs()[name],
        data_format="channels_first",
    )
    assert classifier.backbone.image_shape == (3, None, None)
    assert classifier.preprocessor.image_converter.data_format == "channels_first"
    # TensorFlow's CPU kernels have no channels_first convolution.
    if keras.backend.backend() != "tensorflow":
        logits = run(classifier, images("channels_first"))
        np.testing.assert_allclose(logits, outputs()[name], rtol=0, atol=1e-4)


def test_a_timm_classifier_becomes_a_task_preset(tmp_path):
    name = "ecaresnet50d"
    folder = tmp_path / "timm"
    folder.mkdir()
    shutil.copy(references.checkpoint(name), folder / "model.safetensors")
    pretrained = {"input_size": [3, 40, 40], "interpolation": "bilinear"}
    (folder / "config.json").write_text(
        json.dumps({"architecture": name, "pretrained_cfg": pretrained})
    )
    config = references.tiny_configs()[name]
    classifier = SEResNetImageClassifier.from_timm(folder, config)
    np.testing.assert_allclose(run(classifier), outputs()[name], rtol=0, atol=1e-4)
    converter = classifier.preprocessor.image_converter
    assert type(converter) is SEResNetImageConverter
    assert converter.image_size == (40, 40) and converter.interpolation == "bilinear"
    classifier.save_to_preset(str(tmp_path / "preset"))
    loaded = keras_hub.models.ImageClassifier.from_preset(str(tmp_path / "preset"))
    assert type(loaded) is SEResNetImageClassifier
    assert loaded.get_config() == classifier.get_config()
    assert_same_weights(loaded, classifier)
    raw = np.random.default_rng(0).uniform(0, 255, (2, 40, 40, 3)).astype("float32")
    np.testing.assert_allclose(
        loaded.predict(raw, verbose=0), classifier.predict(raw, verbose=0), atol=1e-6
    )
    with pytest.raises(CheckpointError, match="is a timm 'ecaresnet50d'"):
        SEResNetImageClassifier.from_timm(folder, "seresnet50")


def test_a_backbone_preset_gets_kerashubs_classifier(tmp_path):
    backbone = tiny_backbone("seresnet50", image_shape=(None, None, 3))
    randomize(backbone)
    backbone.save_to_preset(str(tmp_path))
    # No image_converter.json: the classifier has no preprocessor then.
    classifier = keras_hub.models.ImageClassifier.from_preset(
        str(tmp_path), num_classes=3, preprocessor=None
    )
    assert type(classifier) is SEResNetImageClassifier
    assert_same_weights(classifier.backbone, backbone)
    SEResNetImageConverter.from_timm("seresnet50").save_to_preset(str(tmp_path))
    classifier = keras_hub.models.ImageClassifier.from_preset(
        str(tmp_path), num_classes=3
    )
    assert classifier.preprocessor.image_converter.image_size == (224, 224)
    assert classifier.predict(np.zeros((1, 50, 60, 3)), verbose=0).shape == (1, 3)


def test_the_converter_normalizes_as_timm():
    converter = SEResNetImageConverter.from_timm("gcresnet50t")
    assert converter.image_size == (256, 256)
    raw = np.random.default_rng(0).uniform(0, 255, (2, 256, 256, 3)).astype("float32")
    settings = {"input_size": (3, 256, 256), "crop_pct": 1.0}
    expected = preprocess_images(raw, settings, "channels_last")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(converter(raw)),
        keras.ops.convert_to_numpy(expected),
        atol=1e-4,
    )


def test_the_dtype_reaches_every_layer_and_survives_a_preset(tmp_path):
    backbone = tiny_backbone("gcresnet50t", dtype="bfloat16")
    policies = {
        layer.dtype_policy.name
        for layer in backbone._flatten_layers(include_self=False)
        if not isinstance(layer, keras.layers.InputLayer)
    }
    assert policies == {"bfloat16"}
    assert keras.backend.standardize_dtype(backbone.output.dtype) == "bfloat16"
    backbone.save_to_preset(str(tmp_path))
    loaded = SEResNetBackbone.from_preset(str(tmp_path), dtype="bfloat16")
    assert_same_weights(loaded, backbone)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"data_format": "nchw"}, r"`data_format` must be one of .*data_format='nchw'"),
        ({"image_shape": (32, 32)}, r"`image_shape` must be .*image_shape=\(32, 32\)"),
        ({"stem_type": "wide"}, r"`stem_type` must be one of .*stem_type='wide'"),
        ({"attention": "cbam"}, r"`attention` must be one of .*attention='cbam'"),
        (
            {"stackwise_num_blocks": (1, 1)},
            r"`stackwise_num_blocks` and `stackwise_num_filters` must have one "
            r"entry per stage. Received: stackwise_num_blocks=\(1, 1\)",
        ),
        (
            {"stackwise_num_blocks": (0, 1, 1, 1)},
            r"`stackwise_num_blocks` must be a non-empty sequence of positive "
            r"integers, one per stage. Received: stackwise_num_blocks=\(0, 1, 1, 1\)",
        ),
        (
            {"stackwise_num_filters": (4, 8, 8, 2.5)},
            r"stackwise_num_filters=\(4, 8, 8, 2.5\)",
        ),
        ({"stackwise_num_filters": ()}, r"stackwise_num_filters=\(\)"),
        ({"cardinality": 0}, r"`cardinality` must be a positive integer"),
        ({"stem_width": -3}, r"Received: stem_width=-3"),
        ({"base_width": True}, r"Received: base_width=True"),
    ],
)
def test_bad_arguments_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        SEResNetBackbone(**arguments)


def test_bad_architectures_and_checkpoints_are_named():
    with pytest.raises(ValueError, match=r"config='seresnet18'"):
        SEResNetBackbone.from_resnet_config("seresnet18")
    with pytest.raises(CheckpointError, match="no key"):
        SEResNetBackbone.from_timm(
            references.checkpoint("ecaresnet50d"),
            references.tiny_configs()["seresnet50"],
        )
    with pytest.raises(CheckpointError, match="Unknown timm architecture None"):
        SEResNetBackbone.from_timm(references.checkpoint("seresnet50"))


def test_a_headless_checkpoint_is_refused_by_the_classifier(tmp_path):
    from tests.cli.test_convert import write_safetensors

    name = "resnet50d"
    state = {
        key: value
        for key, value in references.state_dict(name).items()
        if not key.startswith("fc.")
    }
    write_safetensors(tmp_path / "features.safetensors", state)
    config = references.tiny_configs()[name]
    backbone = SEResNetBackbone.from_timm(tmp_path / "features.safetensors", config)
    assert_same_weights(
        backbone, SEResNetBackbone.from_timm(references.checkpoint(name), config)
    )
    with pytest.raises(CheckpointError, match=r"no classifier \(fc\.weight\)"):
        SEResNetImageClassifier.from_timm(tmp_path / "features.safetensors", config)


@pytest.mark.large
def test_the_full_size_backbone_takes_every_timm_key_but_the_classifier():
    from tests.models.test_applications import timm_shaped_zeros, trainable_count

    expected = references.full_size_keys()["seresnext50_32x4d"]
    backbone = SEResNetBackbone.from_resnet_config(
        "seresnext50_32x4d", image_shape=(64, 64, 3)
    )
    state = timm_shaped_zeros(expected["keys"])
    classifier = sum(int(np.prod(state[f"fc.{p}"].shape)) for p in ("weight", "bias"))
    assert trainable_count(backbone) + classifier == expected["parameters"]
    loaded = keras_se.models.load_timm_state_dict(
        backbone, state, skip=("fc",), check_only=True
    )
    assert loaded == len(backbone.weights)


LOAD_IN_A_FRESH_PROCESS = """
import json, sys
import keras, keras_hub, numpy as np
import keras_se  # after KerasHub: registers the classes the preset names
classifier = keras_hub.models.ImageClassifier.from_preset({preset!r})
batch = np.load({batch!r})
print(json.dumps({{
    "class": type(classifier).__name__,
    "logits": keras.ops.convert_to_numpy(classifier(batch)).tolist(),
}}))
"""


@pytest.mark.large
def test_a_task_preset_loads_in_a_fresh_process(tmp_path):
    name = "seresnet50"
    config = references.tiny_configs()[name]
    classifier = SEResNetImageClassifier.from_timm(references.checkpoint(name), config)
    classifier.save_to_preset(str(tmp_path / "preset"))
    np.save(tmp_path / "batch.npy", images())
    result = run_python(
        LOAD_IN_A_FRESH_PROCESS.format(
            preset=str(tmp_path / "preset"), batch=str(tmp_path / "batch.npy")
        ),
        backend=keras.backend.backend(),
    )
    assert result["class"] == "SEResNetImageClassifier"
    np.testing.assert_allclose(result["logits"], outputs()[name], atol=1e-4)
