"""PyTorch references for the ECA and eSE layers: timm's forward passes.

timm cannot be imported here, so these functions redo the forward of timm's
`EcaModule`, `CecaModule` (timm/layers/eca.py) and `EffectiveSEModule`
(timm/layers/squeeze_excite.py) with the same torch operations, on
channels-first tensors, taking the modules' weights as arguments in timm's
shapes. timm's modules are 2D; the mean and the 1x1 convolution run over
however many spatial axes the input has, for the 1D and 3D layers.

Importing this module imports torch: tests import it after
`pytest.importorskip("torch")`.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional

TORCH_GATES = {
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": functional.hardsigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
}


def timm_eca_kernel_size(channels: int, gamma: float = 2, beta: float = 1) -> int:
    """`EcaModule.__init__`'s kernel size when `channels` is given."""
    t = int(abs(math.log(channels, 2) + beta) / gamma)
    return max(t if t % 2 else t + 1, 3)


def eca_forward(
    x: np.ndarray, weight: np.ndarray, circular: bool = False, gate: str = "sigmoid"
) -> np.ndarray:
    """`EcaModule.forward` (`CecaModule.forward` with `circular=True`).

    Args:
        x: channels-first input, `(batch, channels, *spatial)`.
        weight: `conv.weight`, shape `(1, 1, k)`.
    """
    x = torch.from_numpy(x)
    weight = torch.from_numpy(weight)
    padding = (weight.shape[-1] - 1) // 2
    spatial = tuple(range(2, x.dim()))
    y = x.mean(spatial).view(x.shape[0], 1, -1)
    if circular:
        y = functional.pad(y, (padding, padding), mode="circular")
        y = functional.conv1d(y, weight, padding=0)
    else:
        y = functional.conv1d(y, weight, padding=padding)
    y = TORCH_GATES[gate](y).view(x.shape[0], -1, *([1] * len(spatial)))
    return (x * y.expand_as(x)).numpy()


def ese_forward(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray,
    add_maxpool: bool = False,
    gate: str = "hard_sigmoid",
) -> np.ndarray:
    """`EffectiveSEModule.forward`.

    Args:
        x: channels-first input, `(batch, channels, *spatial)`.
        weight: `fc.weight`, shape `(channels, channels, 1, ...)` with one 1
            per spatial axis.
        bias: `fc.bias`, shape `(channels,)`.
    """
    x = torch.from_numpy(x)
    spatial = tuple(range(2, x.dim()))
    x_se = x.mean(spatial, keepdim=True)
    if add_maxpool:
        x_se = 0.5 * x_se + 0.5 * x.amax(spatial, keepdim=True)
    conv = {1: functional.conv1d, 2: functional.conv2d, 3: functional.conv3d}[
        len(spatial)
    ]
    x_se = conv(x_se, torch.from_numpy(weight), torch.from_numpy(bias))
    return (x * TORCH_GATES[gate](x_se)).numpy()


def eca_kernel_to_keras(weight: np.ndarray) -> np.ndarray:
    """timm's `(1, 1, k)` `conv.weight` as the Conv1D kernel, `(k, 1, 1)`."""
    return np.transpose(weight, (2, 1, 0))


def ese_kernel_to_keras(weight: np.ndarray) -> np.ndarray:
    """timm's `(C, C, 1, ...)` `fc.weight` as the Dense kernel, `(C, C)`."""
    return weight.reshape(weight.shape[:2]).T
