"""Porting timm checkpoints: timm's logits, every key used once, all or nothing."""

from __future__ import annotations

import json
import shutil

import keras
import numpy as np
import pytest

import keras_se
from keras_se.errors import CheckpointError
from keras_se.models import load_timm_state_dict, load_timm_weights
from tests.conftest import run_python
from tests.models import references
from tests.models.references import images, outputs, state_dict, tiny_model

NAMES = sorted(references.tiny_configs())


def logits(model, data_format="channels_last"):
    return keras.ops.convert_to_numpy(model(images(data_format), training=False))


@pytest.mark.parametrize("name", NAMES)
def test_logits_equal_timms_on_the_same_weights(name):
    model = tiny_model(name)
    loaded = load_timm_state_dict(model, state_dict(name))
    assert loaded == len(model.weights)
    np.testing.assert_allclose(logits(model), outputs()[name], rtol=0, atol=1e-4)
    # Odd map sizes: PyTorch's symmetric padding and ceil-mode average pooling.
    odd = keras.ops.convert_to_numpy(model(images(odd=True), training=False))
    np.testing.assert_allclose(odd, outputs()[f"{name}/odd"], rtol=0, atol=1e-4)


def test_a_missing_key_is_named_and_nothing_is_loaded():
    model = tiny_model("seresnet50")
    before = [w.copy() for w in model.get_weights()]
    state = state_dict("seresnet50")
    del state["layer3.0.se.fc2.bias"]
    with pytest.raises(CheckpointError, match=r"no key 'layer3\.0\.se\.fc2\.bias'"):
        load_timm_state_dict(model, state)
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_an_extra_key_is_named_and_nothing_is_loaded():
    model = tiny_model("resnet50d")
    before = model.get_weights()[0].copy()
    state = state_dict("resnet50d")
    state["layer1.0.se.fc1.weight"] = np.zeros((8, 16, 1, 1), "float32")
    with pytest.raises(CheckpointError, match=r"'layer1\.0\.se\.fc1\.weight'"):
        load_timm_state_dict(model, state)
    np.testing.assert_array_equal(before, model.get_weights()[0])


def test_a_wrong_shape_is_named():
    model = tiny_model("ecaresnet50d")
    state = state_dict("ecaresnet50d")
    state["layer2.0.conv2.weight"] = np.zeros((8, 8, 5, 5), "float32")
    with pytest.raises(CheckpointError, match=r"'layer2\.0\.conv2\.weight' has shape"):
        load_timm_state_dict(model, state)


def test_another_architectures_checkpoint_is_refused():
    with pytest.raises(CheckpointError, match="no key"):
        load_timm_state_dict(tiny_model("seresnet50"), state_dict("ecaresnet50d"))


def test_a_new_head_loads_everything_but_the_head():
    name = "seresnext50_32x4d"
    config = references.tiny_configs()[name]
    model = tiny_model(name, classes=3)
    head = model.get_layer("fc").get_weights()
    load_timm_weights(model, references.checkpoint(name), config)
    for new, old in zip(model.get_layer("fc").get_weights(), head, strict=True):
        np.testing.assert_array_equal(new, old)
    features = tiny_model(name, include_top=False, pooling="avg")
    load_timm_weights(features, references.checkpoint(name), config)
    full = tiny_model(name)
    load_timm_weights(full, references.checkpoint(name), config)
    fc = full.get_layer("fc")
    pooled = keras.ops.convert_to_numpy(features(images(), training=False))
    expected = pooled @ keras.ops.convert_to_numpy(fc.kernel) + fc.bias.numpy()
    np.testing.assert_allclose(expected, outputs()[name], atol=1e-4)


def test_a_folder_with_config_json_is_checked_for_its_architecture(tmp_path):
    name = "gcresnet50t"
    shutil.copy(references.checkpoint(name), tmp_path / "model.safetensors")
    config = references.tiny_configs()[name]
    (tmp_path / "config.json").write_text(json.dumps({"architecture": name}))
    model = tiny_model(name)
    load_timm_weights(model, tmp_path, config)
    np.testing.assert_allclose(logits(model), outputs()[name], atol=1e-4)
    (tmp_path / "config.json").write_text(json.dumps({"architecture": "resnet50d"}))
    with pytest.raises(CheckpointError, match="is a timm 'resnet50d'"):
        load_timm_weights(model, tmp_path, config)


def test_a_torch_state_dict_file_loads(tmp_path):
    torch = pytest.importorskip("torch")
    name = "seresnet50"
    path = tmp_path / "checkpoint.pth"
    state = {k: torch.from_numpy(v) for k, v in state_dict(name).items()}
    torch.save({"state_dict": state}, path)
    model = tiny_model(name)
    load_timm_weights(model, path, references.tiny_configs()[name])
    np.testing.assert_allclose(logits(model), outputs()[name], atol=1e-4)


def test_an_unreachable_hub_gives_one_line_naming_the_local_alternative(monkeypatch):
    hub = pytest.importorskip("huggingface_hub")

    def offline(*args, **kwargs):
        raise OSError("We couldn't connect to 'https://huggingface.co'.\nmore")

    monkeypatch.setattr(hub, "hf_hub_download", offline)
    model = tiny_model("seresnet50")
    config = references.tiny_configs()["seresnet50"]
    with pytest.raises(CheckpointError) as error:
        load_timm_weights(model, "seresnet50.ra2_in1k", config)
    message = str(error.value)
    assert "\n" not in message
    assert "'timm/seresnet50.ra2_in1k'" in message
    assert "weights='path/to/model.safetensors'" in message


def test_a_hub_name_of_another_architecture_fails_before_downloading(monkeypatch):
    hub = pytest.importorskip("huggingface_hub")

    def download(*args, **kwargs):
        raise AssertionError("downloaded")

    monkeypatch.setattr(hub, "hf_hub_download", download)
    model = tiny_model("seresnet50")
    config = references.tiny_configs()["seresnet50"]
    with pytest.raises(CheckpointError, match="is a timm 'ecaresnet50d'; this"):
        load_timm_weights(model, "ecaresnet50d.miil_in1k", config)


@pytest.mark.parametrize(
    "name", ["missing/x.pth", "model.safetensors", "x.bin", "x.pt", "x.pth"]
)
def test_a_name_that_is_neither_a_file_nor_a_hub_name(tmp_path, monkeypatch, name):
    # A missing file in the working directory is not taken for a hub name.
    monkeypatch.chdir(tmp_path)
    model = tiny_model("seresnet50")
    config = references.tiny_configs()["seresnet50"]
    with pytest.raises(CheckpointError, match="No file or folder"):
        load_timm_weights(model, name, config)


PARITY_CODE = """
import json, keras, numpy as np
import keras_se
from keras_se.models import load_timm_state_dict
from tests.models import references
formats = {formats!r}
result = {{}}
for data_format in formats:
    for name in sorted(references.tiny_configs()):
        model = references.tiny_model(name, data_format)
        load_timm_state_dict(model, references.state_dict(name))
        if {run!r}:
            diffs = []
            for odd, key in ((False, name), (True, name + "/odd")):
                x = references.images(data_format, odd)
                y = keras.ops.convert_to_numpy(model(x, training=False))
                diffs.append(np.abs(y - references.outputs()[key]).max())
            result[f"{{data_format}}/{{name}}"] = float(max(diffs))
        else:
            result[f"{{data_format}}/{{name}}"] = 0.0
print(json.dumps({{"backend": keras.backend.backend(), "diffs": result}}))
"""


@pytest.mark.large
@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_logits_equal_timms_on_every_backend_and_data_format(backend):
    pytest.importorskip(backend)
    # TensorFlow's CPU kernels have no channels_first convolution: there
    # the channels_first networks are built and loaded, not run.
    run_first = backend != "tensorflow"
    result = run_python(
        PARITY_CODE.format(formats=["channels_last"], run=True), backend=backend
    )
    first = run_python(
        PARITY_CODE.format(formats=["channels_first"], run=run_first), backend=backend
    )
    assert result["backend"] == backend
    diffs = {**result["diffs"], **first["diffs"]}
    assert len(diffs) == 2 * len(NAMES)
    assert max(diffs.values()) < 1e-4, diffs


RELOAD_CODE = """
import json, sys, keras, numpy as np
import keras_se
from tests.models import references
result = {}
for name in sorted(references.tiny_configs()):
    model = keras.saving.load_model(f"{folder}/{name}.keras", safe_mode=True)
    y = keras.ops.convert_to_numpy(model(references.images(), training=False))
    result[name] = float(np.abs(y - references.outputs()[name]).max())
print(json.dumps(result))
"""


@pytest.mark.large
def test_a_converted_model_reloads_in_a_fresh_process_with_safe_mode(tmp_path):
    for name in NAMES:
        model = tiny_model(name)
        load_timm_state_dict(model, state_dict(name))
        model.save(tmp_path / f"{name}.keras")
    diffs = run_python(RELOAD_CODE.replace("{folder}", str(tmp_path)))
    assert sorted(diffs) == NAMES
    assert max(diffs.values()) < 1e-4, diffs


@pytest.mark.parametrize("name", ["seresnet50", "ecaresnet50d"])
def test_describe_and_the_excitations_see_the_converted_blocks(name):
    model = tiny_model(name)
    load_timm_state_dict(model, state_dict(name))
    blocks = keras_se.describe(model)
    assert [block.name for block in blocks] == [f"layer{i}-0-se" for i in (1, 2, 3, 4)]
    found = keras_se.viz.excitations(model, images(), verbose=0)
    assert len(found) == 4
