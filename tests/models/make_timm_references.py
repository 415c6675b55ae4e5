"""Regenerates tests/models/references/ from timm (maintainers only, never in CI).

Run with a Python that has timm, torch, safetensors and Pillow, in a venv of
its own (the project's stays free of timm); timm only imports torchvision, so
a stub package on PYTHONPATH will do where torchvision is not installed:

    python3 -m venv ../venv-timm
    ../venv-timm/bin/pip install torch==2.13.0 numpy safetensors pillow
    ../venv-timm/bin/pip install --no-deps timm huggingface_hub pyyaml \
        packaging tqdm filelock fsspec requests typing_extensions
    PYTHONPATH=<folder with a torchvision stub> \
        ../venv-timm/bin/python tests/models/make_timm_references.py

The output is the same bytes run to run (seeded, and timm 1.0.31 wrote the
stored files); a diff after a timm upgrade is what changed in timm.

It writes, for each network of `keras_se.models`:

- `key_shapes.json.gz`: the full-size architecture's state-dict keys and
  shapes, and timm's parameter count (no weights);
- `<name>.safetensors`: a reduced network of the same architecture (one block
  a stage, narrow, 10 classes) with random weights and batch-norm statistics,
  stored in float16 (values exact in float16, so the float32 model is exact);
- `outputs.npz`: one random NCHW input batch (2, 3, 32, 32) and each reduced
  network's float32 logits on it; and a (1, 3, 36, 36) batch (`odd_input`,
  `<name>/odd`), whose maps have odd sizes (9, 5, 3): PyTorch's padding and
  ceil-mode average pooling there;
- `tiny_configs.json`: the `ResNetConfig` arguments of each reduced network;
- `pretrained_cfgs.json`: timm's `resolve_data_config` of each architecture;
  and in `outputs.npz`, `preprocess/image` (a 40x48 RGB image) and
  `preprocess/output`, timm's evaluation transform of it (32x32, crop 0.875,
  bicubic) through PIL.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import timm
import torch
from PIL import Image
from safetensors.torch import save_file
from timm.data import resolve_data_config
from timm.models.byobnet import ByoBlockCfg, ByobNet, ByoModelCfg
from timm.models.resnet import Bottleneck, ResNet

OUT = Path(__file__).resolve().parent / "references"
CLASSES = 10
PLANES = (4, 8, 8, 16)
NAMES = (
    "seresnet50",
    "seresnet101",
    "seresnet152",
    "seresnext50_32x4d",
    "seresnext101_32x4d",
    "ecaresnet50d",
    "ecaresnet101d",
    "gcresnet50t",
    "resnet50d",
)
# The reduced networks: timm's own arguments of each architecture, one block
# a stage, the widths of PLANES; ResNeXt keeps grouping (4 groups of 2).
TINY = {
    "seresnet50": {"attention": "se"},
    "seresnext50_32x4d": {"attention": "se", "cardinality": 4, "base_width": 32},
    "ecaresnet50d": {
        "attention": "eca",
        "stem_width": 8,
        "stem_type": "deep",
        "avg_down": True,
    },
    "resnet50d": {"stem_width": 8, "stem_type": "deep", "avg_down": True},
    "gcresnet50t": {
        "attention": "gca",
        "stem_width": 16,
        "stem_type": "tiered",
        "layout": "byobnet",
    },
}


def tiny_timm(config: dict) -> torch.nn.Module:
    if config.get("layout") == "byobnet":
        blocks = tuple(
            ByoBlockCfg(type="bottle", d=1, c=4 * planes, s=1 if i == 0 else 2, br=0.25)
            for i, planes in enumerate(PLANES)
        )
        cfg = ByoModelCfg(
            blocks=blocks,
            stem_chs=2 * config["stem_width"],
            stem_type="tiered",
            stem_pool="",
            attn_layer="gca",
        )
        return ByobNet(cfg, num_classes=CLASSES)
    attention = config.get("attention")
    return ResNet(
        block=Bottleneck,
        layers=(1, 1, 1, 1),
        channels=PLANES,
        num_classes=CLASSES,
        cardinality=config.get("cardinality", 1),
        base_width=config.get("base_width", 64),
        stem_width=config.get("stem_width", 64),
        stem_type=config.get("stem_type", ""),
        avg_down=config.get("avg_down", False),
        block_args={"attn_layer": attention} if attention else None,
    )


def randomize(model: torch.nn.Module, generator: torch.Generator) -> None:
    # Random values exact in float16, and positive variances, so every
    # weight (zero-initialized ones too) counts in the logits.
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not tensor.is_floating_point():
                continue
            values = torch.randn(tensor.shape, generator=generator) * 0.5
            if name.endswith("running_var"):
                values = values.abs() + 0.5
            tensor.copy_(values.half().float())


def eval_transform(image: np.ndarray, cfg: dict) -> np.ndarray:
    """timm's eval transform (torchvision Resize(int), CenterCrop, ToTensor,
    Normalize) at 32x32, crop 0.875, bicubic, written out with PIL: the
    torchvision stub this script runs with has no transforms."""
    size, crop_pct = 32, 0.875
    scale = math.floor(size / crop_pct)
    height, width = image.shape[:2]
    if height <= width:
        new = (int(scale * width / height), scale)
    else:
        new = (scale, int(scale * height / width))
    resized = Image.fromarray(image).resize(new, Image.BICUBIC)
    top = round((new[1] - size) / 2.0)
    left = round((new[0] - size) / 2.0)
    cropped = np.asarray(resized, "float32")[top : top + size, left : left + size]
    normalized = (cropped / 255.0 - np.array(cfg["mean"])) / np.array(cfg["std"])
    return normalized.transpose(2, 0, 1).astype("float32")


def scale_head(model: torch.nn.Module, inputs) -> None:
    # Random weights can give logits in the hundreds, where float32's rounding
    # alone nears 1e-4: the classifier is scaled by a power of two (exact in
    # float16) so that the logits stay within 8.
    with torch.no_grad():
        largest = max(float(model(x).abs().max()) for x in inputs)
        if largest > 8:
            factor = 2.0 ** -math.ceil(math.log2(largest / 8))
            head = model.get_classifier()
            head.weight.mul_(factor)
            head.bias.mul_(factor)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    shapes = {}
    for name in NAMES:
        model = timm.create_model(name, pretrained=False)
        shapes[name] = {
            "parameters": sum(p.numel() for p in model.parameters()),
            "keys": {k: list(v.shape) for k, v in model.state_dict().items()},
        }
    # mtime=0: the same lists give the same bytes, so a rerun changes nothing.
    text = json.dumps(shapes, separators=(",", ":"), sort_keys=True)
    (OUT / "key_shapes.json.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
    generator = torch.Generator().manual_seed(0)
    images = torch.randn((2, 3, 32, 32), generator=generator)
    odd = torch.randn((1, 3, 36, 36), generator=generator)
    outputs = {"input": images.numpy(), "odd_input": odd.numpy()}
    configs = {}
    for name, config in TINY.items():
        model = tiny_timm(config).eval()
        randomize(model, generator)
        scale_head(model, (images, odd))
        state = {
            k: v.half() for k, v in model.state_dict().items() if v.is_floating_point()
        }
        save_file(state, OUT / f"{name}.safetensors")
        with torch.no_grad():
            outputs[name] = model(images).numpy()
            outputs[f"{name}/odd"] = model(odd).numpy()
        configs[name] = {"layers": [1, 1, 1, 1], "channels": list(PLANES), **config}
    data_cfgs = {}
    for name in NAMES:
        cfg = resolve_data_config({}, model=timm.create_model(name))
        data_cfgs[name] = {key: cfg[key] for key in sorted(cfg)}
    (OUT / "pretrained_cfgs.json").write_text(json.dumps(data_cfgs, indent=1) + "\n")
    rows, columns = np.mgrid[0:40, 0:48]
    image = np.stack([rows * 6, columns * 5, (rows * columns) % 256], axis=-1).astype(
        "uint8"
    )
    outputs["preprocess/image"] = image
    outputs["preprocess/output"] = eval_transform(image, data_cfgs["seresnet50"])
    np.savez_compressed(OUT / "outputs.npz", **outputs)
    (OUT / "tiny_configs.json").write_text(json.dumps(configs, indent=1) + "\n")
    print(f"timm {timm.__version__}: wrote {sorted(p.name for p in OUT.iterdir())}")


if __name__ == "__main__":
    main()
