"""PyTorch re-implementations of timm's GlobalContext, GatherExcite and CbamModule.

timm cannot be imported here, so these modules repeat the forward passes of
`timm/layers/global_context.py`, `gather_excite.py` and `cbam.py` with the
same PyTorch operations (NCHW, `F.softmax`, `F.layer_norm` with timm's
`LayerNorm2d` epsilon 1e-6, `F.avg_pool2d(count_include_pad=False)`,
`F.interpolate` nearest, `nn.BatchNorm2d` in eval mode), and copy a built
Keras layer's weights into them. `GatherExcite`'s MLP is timm's `ConvMlp`
(1x1 conv, activation, 1x1 conv, both with biases): the paper's excite,
`mean -> C/r -> ReLU -> C -> gate`. timm 1.0.31 cannot build it (its
constructor passes `*dd` positionally and raises a TypeError), nor its
`extra_params=True` gather, so these follow the structure timm had before.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional

TORCH_GATES = {
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": functional.hardsigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
}


def tensor(value) -> torch.Tensor:
    return torch.from_numpy(np.asarray(value, dtype="float32").copy())


def dense_to_conv(dense) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A Keras Dense's `(in, out)` kernel as a 1x1 conv's `(out, in, 1, 1)`."""
    weights = dense.get_weights()
    kernel = tensor(weights[0]).T[:, :, None, None]
    return kernel.contiguous(), (tensor(weights[1]) if len(weights) > 1 else None)


def copy_batch_norm(torch_norm: nn.BatchNorm2d, keras_norm) -> None:
    gamma, beta, mean, variance = keras_norm.get_weights()
    torch_norm.weight.data = tensor(gamma)
    torch_norm.bias.data = tensor(beta)
    torch_norm.running_mean.data = tensor(mean)
    torch_norm.running_var.data = tensor(variance)


class LayerNorm2d(nn.LayerNorm):
    """timm's `LayerNorm2d`: channels of an NCHW tensor, epsilon 1e-6."""

    def __init__(self, channels: int):
        super().__init__(channels, eps=1e-6)

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = functional.layer_norm(
            x, self.normalized_shape, self.weight, self.bias, self.eps
        )
        return x.permute(0, 3, 1, 2)


class ConvMlp(nn.Module):
    """timm's `ConvMlp`: fc1, norm, activation, fc2 (1x1 convs with biases)."""

    def __init__(self, channels: int, hidden: int, norm: bool = False):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.norm = LayerNorm2d(hidden) if norm else nn.Identity()
        self.fc2 = nn.Conv2d(hidden, channels, 1)

    def forward(self, x):
        return self.fc2(torch.relu(self.norm(self.fc1(x))))

    def load(self, reduce, expand, norm=None) -> None:
        self.fc1.weight.data, self.fc1.bias.data = dense_to_conv(reduce)
        self.fc2.weight.data, self.fc2.bias.data = dense_to_conv(expand)
        if norm is not None:
            gamma, beta = norm.get_weights()
            self.norm.weight.data, self.norm.bias.data = tensor(gamma), tensor(beta)


class GlobalContext(nn.Module):
    """timm's `GlobalContext` forward, with the weights of a `GlobalContext2D`."""

    def __init__(self, layer):
        super().__init__()
        channels, hidden = layer.channels, layer.transform_units
        self.gate = TORCH_GATES[layer.gate]
        self.gate_scale = layer.gate_scale
        self.conv_attn = None
        if layer.use_attention:
            self.conv_attn = nn.Conv2d(channels, 1, kernel_size=1, bias=True)
            kernel, bias = layer.attention.get_weights()
            self.conv_attn.weight.data = tensor(kernel).T[:, :, None, None]
            self.conv_attn.bias.data = tensor(bias).reshape(1)
        self.mlp_scale = self.mlp_add = None
        for fusion in layer.fusions:
            mlp = ConvMlp(channels, hidden, norm=True)
            mlp.load(
                *(getattr(layer, f"{fusion}_{n}") for n in ("reduce", "expand", "norm"))
            )
            setattr(self, f"mlp_{fusion}", mlp)

    def forward(self, x):
        B, C, H, W = x.shape
        if self.conv_attn is not None:
            attn = self.conv_attn(x).reshape(B, 1, H * W)
            attn = functional.softmax(attn, dim=-1).unsqueeze(3)
            context = (x.reshape(B, C, H * W).unsqueeze(1) @ attn).view(B, C, 1, 1)
        else:
            context = x.mean(dim=(2, 3), keepdim=True)
        if self.mlp_scale is not None:
            x = x * (self.gate(self.mlp_scale(context)) * self.gate_scale)
        if self.mlp_add is not None:
            x = x + self.mlp_add(context)
        return x


class GatherExcite(nn.Module):
    """timm's `GatherExcite` forward, with the weights of a `GatherExcite2D`."""

    def __init__(self, layer):
        super().__init__()
        channels, self.extent = layer.channels, layer.extent
        self.add_maxpool = layer.add_maxpool
        self.gate = TORCH_GATES[layer.gate]
        self.gate_scale = layer.gate_scale
        self.gather = None
        if layer.extra_params:
            self.gather = nn.Sequential()
            steps = int(math.log2(self.extent))
            for i in range(steps):
                conv = nn.Conv2d(
                    channels, channels, 3, 2, padding=1, groups=channels, bias=False
                )
                kernel = tensor(layer.gather_convs[i].get_weights()[0])
                conv.weight.data = kernel.permute(2, 3, 0, 1).contiguous()
                norm = nn.BatchNorm2d(channels)
                copy_batch_norm(norm, layer.gather_norms[i])
                self.gather.add_module(f"conv{i + 1}", conv)
                self.gather.add_module(f"norm{i + 1}", norm)
                if i != steps - 1:
                    self.gather.add_module(f"act{i + 1}", nn.ReLU())
        else:
            self.gk = 2 * self.extent - 1 if self.extent else 0
            self.gs = self.extent
        self.mlp = nn.Identity()
        if layer.use_mlp:
            self.mlp = ConvMlp(channels, layer.mlp_units)
            self.mlp.load(layer.reduce, layer.expand)
        self.eval()

    def forward(self, x):
        size = x.shape[-2:]
        if self.gather is not None:
            x_ge = self.gather(x)
        elif self.extent == 0:
            x_ge = x.mean(dim=(2, 3), keepdim=True)
            if self.add_maxpool:
                x_ge = 0.5 * x_ge + 0.5 * x.amax((2, 3), keepdim=True)
        else:
            pool = {"kernel_size": self.gk, "stride": self.gs, "padding": self.gk // 2}
            x_ge = functional.avg_pool2d(x, count_include_pad=False, **pool)
            if self.add_maxpool:
                x_ge = 0.5 * x_ge + 0.5 * functional.max_pool2d(x, **pool)
        x_ge = self.mlp(x_ge)
        if x_ge.shape[-1] != 1 or x_ge.shape[-2] != 1:
            x_ge = functional.interpolate(x_ge, size=size)
        return x * (self.gate(x_ge) * self.gate_scale)


class CbamModule(nn.Module):
    """timm's `CbamModule` forward, with the weights of a `CBAM2D`."""

    def __init__(self, layer):
        super().__init__()
        channels, hidden = layer.channels, layer.mlp_units
        size = layer.spatial_kernel_size
        self.gate = TORCH_GATES[layer.gate]
        self.gate_scale = layer.gate_scale
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=False)
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=False)
        self.fc1.weight.data = dense_to_conv(layer.reduce)[0]
        self.fc2.weight.data = dense_to_conv(layer.expand)[0]
        # timm's ConvNormAct(2, 1, k, apply_act=False): padding (k - 1) // 2.
        self.conv = nn.Conv2d(2, 1, size, padding=(size - 1) // 2, bias=False)
        kernel = tensor(layer.spatial_conv.get_weights()[0])
        self.conv.weight.data = kernel.permute(3, 2, 0, 1).contiguous()
        self.bn = nn.BatchNorm2d(1)
        copy_batch_norm(self.bn, layer.spatial_norm)
        self.eval()

    def forward(self, x):
        x_avg = self.fc2(torch.relu(self.fc1(x.mean((2, 3), keepdim=True))))
        x_max = self.fc2(torch.relu(self.fc1(x.amax((2, 3), keepdim=True))))
        x = x * (self.gate(x_avg + x_max) * self.gate_scale)
        x_attn = torch.cat(
            [x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1
        )
        x_attn = self.bn(self.conv(x_attn))
        return x * (self.gate(x_attn) * self.gate_scale)


def run(module: nn.Module, x: np.ndarray, data_format: str) -> np.ndarray:
    """Runs `module` on `x` (in `data_format`); returns the output in it."""
    nchw = x if data_format == "channels_first" else np.moveaxis(x, -1, 1)
    with torch.no_grad():
        out = module(tensor(nchw)).numpy()
    return out if data_format == "channels_first" else np.moveaxis(out, 1, -1)
