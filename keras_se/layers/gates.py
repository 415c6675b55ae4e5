"""The gate functions an SE block may apply to its excitation logits.

One registry, looked up by name, so that layers, surgery and the tuner share
the same set of names. `"sigmoid"` is the paper's gate and the default;
`"hard_sigmoid"` is the piecewise-linear gate of MobileNetV3 (`relu6(x + 3) / 6`);
`"tanh"` and `"relu"` are the paper's gate ablations (Table 12), kept for
experiments: both do worse than the sigmoid.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import ops

from keras_se._validation import check_choice

GATES: dict[str, Callable] = {
    "sigmoid": ops.sigmoid,
    "hard_sigmoid": ops.hard_sigmoid,
    "tanh": ops.tanh,
    "relu": ops.relu,
}

# The gates that are exactly 1 at `2 * gate(0)`: with `gate_scale=2` and a
# zero-initialised last step, a block with one of them starts as the identity.
IDENTITY_GATES = ("sigmoid", "hard_sigmoid")


def get_gate(name: str) -> Callable:
    """Returns the gate function registered under `name`.

    Args:
        name: one of `keras_se.layers.GATES`.

    Returns:
        A function from logits to per-channel scales, written with `keras.ops`.

    Raises:
        ValueError: if `name` is not a registered gate.

    Example:

    >>> gate = keras_se.layers.get_gate("hard_sigmoid")
    >>> float(gate(3.0))
    1.0
    """
    return GATES[check_choice("gate", name, GATES)]


def check_identity_start(
    layer: keras.layers.Layer, gate: str | None, gate_scale: float | None
) -> None:
    """Checks that `layer` can start as the identity with its gate settings.

    Args:
        layer: the attention layer; it must be built.
        gate: the name of its gate, or `None` for a layer without one.
        gate_scale: the constant its gate is multiplied by.

    Raises:
        ValueError: if the layer is not built, or `gate_scale * gate(0)`
            is not 1 (naming the gate, the scale and what would do).
    """
    name = type(layer).__name__
    if not layer.built:
        raise ValueError(
            f"`{name}.initialize_as_identity()` needs a built layer: call it "
            "on an input (or `build(input_shape)`) first."
        )
    if gate is None:
        return
    if gate not in IDENTITY_GATES or gate_scale != 2.0:
        raise ValueError(
            f"`{name}` starts as the identity only with a gate in "
            f"{IDENTITY_GATES} and gate_scale=2.0 (2 * gate(0) = 1). Received: "
            f"gate={gate!r}, gate_scale={gate_scale!r}"
        )
