"""Porting a timm state dict into a keras_se network: a key map, every key used once.

Each layer with weights is named after its timm module; its weights come from
`<name>.<parameter>`, transposed where PyTorch lays them out otherwise:
convolutions OIHW -> HWIO `(2, 3, 1, 0)`, linear layers `.T`, 1x1
convolutions of the attention blocks to dense kernels. Every value is checked
first and assigned after: a missing, extra or misshapen key raises before any
weight changes.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from keras_se.errors import CheckpointError
from keras_se.layers import (
    EfficientChannelAttention2D,
    GlobalContext2D,
    SqueezeExcite2D,
)
from keras_se.models.blocks import timm_module

# Keys timm saves that carry no weight.
IGNORED_SUFFIXES = (".num_batches_tracked",)


def _conv(value):
    return np.transpose(value, (2, 3, 1, 0))


def _linear(value):
    return value.T


def _pointwise(value):
    # A 1x1 Conv2d (out, in, 1, 1) as a dense kernel (in, out).
    return value[:, :, 0, 0].T


def _same(value):
    return value


def _eca(value):
    # Conv1d (1, 1, k) as a channels-last Conv1D kernel (k, 1, 1).
    return value.reshape(-1, 1, 1)


def _dense_pair(layer, key):
    return [
        (layer.kernel, f"{key}.weight", _pointwise),
        (layer.bias, f"{key}.bias", _same),
    ]


def layer_map(layer) -> list[tuple[keras.Variable, str, Callable]]:
    """(variable, timm key, transform) for each weight of `layer`."""
    name = timm_module(layer.name)
    if isinstance(layer, keras.layers.Conv2D):
        return [(layer.kernel, f"{name}.weight", _conv)]
    if isinstance(layer, keras.layers.BatchNormalization):
        return [
            (layer.gamma, f"{name}.weight", _same),
            (layer.beta, f"{name}.bias", _same),
            (layer.moving_mean, f"{name}.running_mean", _same),
            (layer.moving_variance, f"{name}.running_var", _same),
        ]
    if isinstance(layer, keras.layers.Dense):
        return [
            (layer.kernel, f"{name}.weight", _linear),
            (layer.bias, f"{name}.bias", _same),
        ]
    if isinstance(layer, SqueezeExcite2D):
        return _dense_pair(layer.reduce, f"{name}.fc1") + _dense_pair(
            layer.expand, f"{name}.fc2"
        )
    if isinstance(layer, EfficientChannelAttention2D):
        return [(layer.conv.kernel, f"{name}.conv.weight", _eca)]
    if isinstance(layer, GlobalContext2D):
        mlp = f"{name}.mlp_add"
        # The einsum's bias is (1,), or (1, 1, 1) channels first.
        bias_shape = tuple(layer.attention.bias.shape)
        return [
            (
                layer.attention.kernel,
                f"{name}.conv_attn.weight",
                lambda v: v[0, :, 0, :],
            ),
            (
                layer.attention.bias,
                f"{name}.conv_attn.bias",
                lambda v: v.reshape(bias_shape),
            ),
            *_dense_pair(layer.add_reduce, f"{mlp}.fc1"),
            (layer.add_norm.gamma, f"{mlp}.norm.weight", _same),
            (layer.add_norm.beta, f"{mlp}.norm.bias", _same),
            *_dense_pair(layer.add_expand, f"{mlp}.fc2"),
        ]
    if layer.weights:
        raise CheckpointError(
            f"Layer {layer.name!r} ({type(layer).__name__}) has weights but no "
            "timm key map."
        )
    return []


def load_timm_state_dict(
    model: keras.Model,
    state_dict: dict[str, np.ndarray],
    skip: tuple[str, ...] = (),
    check_only: bool = False,
) -> int:
    """Sets every weight of `model` from `state_dict`, or none of them.

    Args:
        model: a network of `keras_se.models`.
        state_dict: timm's state dict as NumPy arrays.
        skip: timm module names whose keys are left out on both sides (the
            classifier, `("fc",)`, when the head is new or absent).
        check_only: check every key and shape, assign nothing.

    Returns:
        The number of tensors loaded.

    Raises:
        CheckpointError: naming the first missing key, the extra keys, or a
            key whose shape does not fit; no weight is changed then.
    """
    skipped = tuple(f"{prefix}." for prefix in skip)
    plan = []
    for layer in model.layers:
        if timm_module(layer.name) in skip:
            continue
        plan.extend(layer_map(layer))
    used = set()
    values = []
    for variable, key, transform in plan:
        if key not in state_dict:
            raise CheckpointError(
                f"The checkpoint has no key {key!r}, which layer "
                f"{key.rsplit('.', 1)[0]!r} needs: it is not a checkpoint of this "
                "architecture."
            )
        value = transform(np.asarray(state_dict[key]))
        if tuple(value.shape) != tuple(variable.shape):
            raise CheckpointError(
                f"Key {key!r} has shape {tuple(state_dict[key].shape)}, which "
                f"converts to {tuple(value.shape)}; the variable "
                f"{variable.path!r} has shape {tuple(variable.shape)}: the "
                "checkpoint is of another architecture or width."
            )
        used.add(key)
        values.append((variable, value))
    extra = sorted(
        key
        for key in state_dict
        if key not in used
        and not key.endswith(IGNORED_SUFFIXES)
        and not key.startswith(skipped)
    )
    if extra:
        shown = ", ".join(repr(key) for key in extra[:5])
        more = f" and {len(extra) - 5} more" if len(extra) > 5 else ""
        raise CheckpointError(
            f"The checkpoint has keys this network has no weight for: {shown}{more}: "
            "it is a checkpoint of another architecture."
        )
    if check_only:
        return len(values)
    for variable, value in values:
        variable.assign(value.astype(variable.dtype))
    return len(values)
