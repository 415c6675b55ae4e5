"""`keras-se convert`: a timm checkpoint in, a .keras model out, one line on failure."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from keras_se.cli.main import main
from tests.conftest import run_python
from tests.models.references import checkpoint, full_size_keys


def write_safetensors(path, arrays: dict[str, np.ndarray]) -> None:
    header, offset, blobs = {}, 0, []
    for key, array in arrays.items():
        data = np.ascontiguousarray(array, "float32").tobytes()
        header[key] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        offset += len(data)
        blobs.append(data)
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))


def test_a_bare_file_without_architecture_exits_1_with_one_line(tmp_path, capsys):
    code = main(["convert", str(checkpoint("seresnet50")), str(tmp_path / "m.keras")])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith("keras-se convert: error: Unknown timm architecture None")
    assert "--architecture" in err
    assert not (tmp_path / "m.keras").exists()


def test_a_checkpoint_of_another_width_names_the_key(tmp_path, capsys):
    args = ["convert", str(checkpoint("resnet50d")), str(tmp_path / "m.keras")]
    assert main([*args, "--architecture", "resnet50d"]) == 1
    err = capsys.readouterr().err
    assert "'conv1.0.weight' has shape" in err


@pytest.mark.large
def test_a_full_size_checkpoint_converts_and_reloads_in_a_fresh_process(
    tmp_path, capsys
):
    # timm's resnet50d keys and shapes, with values: the converted model
    # must hold them where timm's layout says.
    rng = np.random.default_rng(0)
    keys = full_size_keys()["resnet50d"]["keys"]
    state = {
        key: rng.uniform(0.5, 1.0, shape).astype("float32")
        for key, shape in keys.items()
        if not key.endswith("num_batches_tracked")
    }
    folder = tmp_path / "resnet50d.a1_in1k"
    folder.mkdir()
    write_safetensors(folder / "model.safetensors", state)
    (folder / "config.json").write_text(json.dumps({"architecture": "resnet50d"}))
    out = tmp_path / "resnet50d.keras"
    assert main(["convert", str(folder), str(out), "--logits"]) == 0
    assert "resnet50d" in capsys.readouterr().out
    code = f"""
import json, keras, numpy as np
import keras_se
model = keras.saving.load_model({str(out)!r}, safe_mode=True)
fc = model.get_layer("fc")
conv = model.get_layer("layer2-0-conv2")
print(json.dumps({{"fc": fc.kernel.numpy().T[:2, :3].tolist(),
    "conv": np.transpose(conv.kernel.numpy(), (3, 2, 0, 1))[1, 2].tolist(),
    "activation": keras.activations.serialize(fc.activation)}}))
"""
    reloaded = run_python(code)
    np.testing.assert_allclose(reloaded["fc"], state["fc.weight"][:2, :3])
    np.testing.assert_allclose(reloaded["conv"], state["layer2.0.conv2.weight"][1, 2])
    assert reloaded["activation"] == "linear"
