"""A NumPy Squeeze-and-Excitation, written from the paper, to check the layers."""

from __future__ import annotations

import numpy as np

NUMPY_GATES = {
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "hard_sigmoid": lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
}


def squeeze_excite_reference(
    x, weights, data_format="channels_last", gate="sigmoid", squeeze="avg"
):
    """`weights` = [W1, b1, W2, b2] as the layer holds them (Dense kernels)."""
    w1, b1, w2, b2 = (np.asarray(w, dtype="float64") for w in weights)
    x = np.asarray(x, dtype="float64")
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    spatial = tuple(range(1, x.ndim - 1))
    if squeeze == "avg":
        size = np.prod([x.shape[axis] for axis in spatial])
        z = x.sum(axis=spatial) / size  # 1/(H*W) * sum
    else:
        z = x.max(axis=spatial)
    s = NUMPY_GATES[gate](np.maximum(z @ w1 + b1, 0.0) @ w2 + b2)
    out = x * s.reshape(s.shape[0], *([1] * len(spatial)), s.shape[1])
    if data_format == "channels_first":
        out = np.moveaxis(out, -1, 1)
    return out
