"""Reading timm checkpoints: safetensors, PyTorch state dicts, folders, hub names."""

from __future__ import annotations

import json
import os
import re
import struct
from pathlib import Path

import numpy as np

from keras_se._optional import import_optional
from keras_se.errors import CheckpointError

# A timm hub name: architecture, optionally `.tag` (`seresnet50.ra2_in1k`),
# optionally after `timm/` or `hf-hub:timm/`.
HUB_NAME = re.compile(r"^(?:hf-hub:)?(?:timm/)?([a-z0-9_]+)(?:\.([a-z0-9_]+))?$")
# The checkpoint files' suffixes, without the dot: never a hub name's tag.
STATE_DICT_SUFFIXES = ("pth", "pt", "bin")
CHECKPOINT_SUFFIXES = ("safetensors", *STATE_DICT_SUFFIXES)
SAFETENSORS_DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "I64": np.int64,
    "I32": np.int32,
    "I16": np.int16,
    "I8": np.int8,
    "U8": np.uint8,
    "BOOL": np.bool_,
}
# The wrappers some training scripts save the state dict in.
WRAPPER_KEYS = ("state_dict_ema", "state_dict", "model")


def read_safetensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Reads a `.safetensors` file into NumPy arrays (bfloat16 becomes float32).

    The format is an 8-byte little-endian header length, a JSON header of
    `{key: {"dtype", "shape", "data_offsets"}}`, then the bytes; reading it
    needs no `safetensors` package.
    """
    data = Path(path).read_bytes()
    try:
        (length,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + length])
    except (struct.error, ValueError) as error:
        raise CheckpointError(f"{path} is not a safetensors file: {error}") from None
    body = memoryview(data)[8 + length :]
    arrays = {}
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        raw = body[start:end]
        if entry["dtype"] == "BF16":
            bits = np.frombuffer(raw, np.uint16).astype(np.uint32) << 16
            array = bits.view(np.float32)
        elif entry["dtype"] in SAFETENSORS_DTYPES:
            array = np.frombuffer(raw, SAFETENSORS_DTYPES[entry["dtype"]])
        else:
            raise CheckpointError(
                f"{path}: key {key!r} has dtype {entry['dtype']}, which keras_se "
                "does not read."
            )
        arrays[key] = array.reshape(entry["shape"]).copy()
    return arrays


def read_torch_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Reads a PyTorch state dict (`.pth`, `.bin`), `torch.load(weights_only=True)`."""
    torch = import_optional("torch", "reading .pth/.bin checkpoints")
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key in WRAPPER_KEYS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} does not hold a state dict.")
    return {
        key.removeprefix("module."): value.detach().float().numpy()
        if value.is_floating_point()
        else value.numpy()
        for key, value in state.items()
    }


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """Reads a local timm checkpoint: a file, or a folder with `model.safetensors`.

    Returns:
        The state dict as NumPy arrays, and the folder's `config.json` (timm's
        `architecture` and `pretrained_cfg`), or `{}` for a bare file.

    Raises:
        CheckpointError: for a file that is not a checkpoint.
    """
    path = Path(path)
    config = {}
    if path.is_dir():
        if (path / "config.json").exists():
            config = json.loads((path / "config.json").read_text())
        for file_name in ("model.safetensors", "pytorch_model.bin"):
            if (path / file_name).exists():
                path = path / file_name
                break
        else:
            raise CheckpointError(
                f"{path} has no model.safetensors or pytorch_model.bin."
            )
    if path.suffix == ".safetensors":
        return read_safetensors(path), config
    if path.suffix.lstrip(".") in STATE_DICT_SUFFIXES:
        return read_torch_state_dict(path), config
    raise CheckpointError(
        f"{path}: a timm checkpoint is a .safetensors, .pth or .bin file, or a "
        "folder with model.safetensors and config.json."
    )


def download_checkpoint(name: str) -> Path:
    """Downloads `timm/<name>` from the Hugging Face Hub into its cache.

    Returns:
        The cached folder, with `model.safetensors` and `config.json`.

    Raises:
        CheckpointError: when the download fails (no network, an unknown
            name); the message names the local-file alternative.
    """
    hub = import_optional("huggingface_hub", "downloading timm checkpoints")
    repo = f"timm/{name}"
    try:
        weights = hub.hf_hub_download(repo, "model.safetensors")
        hub.hf_hub_download(repo, "config.json")
    except Exception as error:  # every failure (offline, unknown name) gets one advice
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CheckpointError(
            f"Could not download the timm checkpoint {repo!r} ({reason}). Without "
            "network, download it elsewhere and pass the local file: "
            "weights='path/to/model.safetensors' (or a .pth state dict, or the "
            "folder with model.safetensors and config.json)."
        ) from None
    return Path(weights).parent


def resolve_weights(
    weights: str | os.PathLike,
    expected: str | None = None,
) -> tuple[dict[str, np.ndarray], dict, str | None]:
    """A local path or a hub name to (state dict, config, architecture or None).

    The architecture comes from a hub name (`"seresnet50.ra2_in1k"` ->
    `"seresnet50"`) or a folder's `config.json`; a bare file has none. A hub
    name of another architecture than `expected` fails before downloading.
    """
    path = Path(weights)
    if path.exists():
        state, config = read_checkpoint(path)
        return state, config, config.get("architecture")
    match = HUB_NAME.match(str(weights))
    if match is None or match.group(2) in CHECKPOINT_SUFFIXES:
        # A file name such as "model.safetensors" also reads as a hub name.
        raise CheckpointError(
            f"`weights` must be None, a timm hub name such as "
            f"'seresnet50.ra2_in1k', or a local checkpoint. No file or folder "
            f"{str(weights)!r} exists, and it is not a hub name."
        )
    if expected is not None and match.group(1) != expected:
        raise CheckpointError(
            f"The checkpoint {str(weights)!r} is a timm {match.group(1)!r}; this "
            f"network is a {expected!r}."
        )
    name = match.group(1) + (f".{match.group(2)}" if match.group(2) else "")
    state, config = read_checkpoint(download_checkpoint(name))
    return state, config, config.get("architecture", match.group(1))
