"""The attention blocks `wrap_with_se` inserts: arguments checked, blocks made.

`wrap_with_se(attention=...)` takes any name or alias of
`keras_se.layers.ATTENTION_REGISTRY`: a family or a paper's preset. This
module resolves the surgery's arguments into the chosen layer's constructor
arguments once, before any cloning, so that a bad combination fails with a
clear message before work is done.
"""

from __future__ import annotations

from typing import Any

import keras

from keras_se._validation import check_choice
from keras_se.layers.attention import attention_entry
from keras_se.layers.gates import GATES, IDENTITY_GATES


class BlockFactory:
    """Makes the blocks of one surgery: one attention class, one set of arguments.

    Args:
        attention: a name or alias in `keras_se.layers.ATTENTION_REGISTRY`;
            a preset's arguments come first, the others over them.
        identity_init: whether the blocks start as the identity
            (`gate_scale=2` and `initialize_as_identity()`).
        shared: the surgery's own arguments (`ratio`, `units`, `divisor`,
            `gate`); `None` means the attention's default. One the
            attention does not take is an error, unless it is `None`.
        attention_kwargs: further constructor arguments of the attention.
            A `data_format` there is only checked against the maps' (see
            `checks.check_data_formats`): each block takes its map's.

    Raises:
        ValueError: for an unknown attention, an argument it does not take,
            a gate that cannot start as the identity, or arguments its
            constructor rejects (its own message); `check_maps` for what
            depends on the maps.
    """

    def __init__(
        self,
        attention: str,
        identity_init: bool,
        shared: dict[str, Any],
        attention_kwargs: dict[str, Any] | None = None,
    ):
        entry = attention_entry(attention)
        self.attention = entry.name
        self.layer_class = entry.layer_class
        self.identity_init = identity_init
        accepted = self.layer_class.attention_arguments()
        kwargs = dict(entry.arguments)
        for name, value in shared.items():
            if value is None:
                continue
            if name not in accepted:
                raise ValueError(
                    f"`{name}` does not apply to attention={attention!r} "
                    f"({self.layer_class.__name__} takes no `{name}`). "
                    f"Received: {name}={value!r}"
                )
            kwargs[name] = value
        if attention_kwargs is not None and not isinstance(attention_kwargs, dict):
            raise ValueError(
                "`attention_kwargs` must be a dict of constructor arguments or "
                f"None. Received: attention_kwargs={attention_kwargs!r}"
            )
        kwargs.update(attention_kwargs or {})
        for reserved in ("name", "dtype", "gate_scale"):
            if reserved in kwargs:
                raise ValueError(
                    f"`{reserved}` is set by the surgery, not by `attention_kwargs`. "
                    f"Received: attention_kwargs={attention_kwargs!r}"
                )
        if "gate" in kwargs:
            _check_gate(kwargs["gate"], identity_init)
        self.kwargs = kwargs
        # The user's, if any: the constructor checks it.
        self.data_format = kwargs.get("data_format")
        # The constructor checks what needs no map (`check_maps` the rest);
        # the gate is the attention's own default where the user gave none.
        self.gate = self.make("probe").gate
        _check_gate(self.gate, identity_init)

    def arguments(self, data_format: str | None = None) -> dict[str, Any]:
        """The constructor arguments of a block on a map in `data_format`.

        `None` leaves the one of `attention_kwargs` (or Keras's default).
        """
        kwargs = dict(self.kwargs)
        if data_format is not None:
            kwargs["data_format"] = data_format
        kwargs["gate_scale"] = 2.0 if self.identity_init else 1.0
        return kwargs

    def make(
        self, name: str, dtype: Any = None, data_format: str | None = None
    ) -> keras.layers.Layer:
        """A new block named `name`, computing in `dtype` (a dtype policy)."""
        return self.layer_class(**self.arguments(data_format), dtype=dtype, name=name)

    def check_maps(self, maps) -> None:
        """Builds a probe block on each distinct map the blocks will gate.

        Building checks what depends on the map (a bottleneck at most 64
        times its channels, an ECA kernel or CBAM window no wider than it
        allows) on the map it concerns, and starting it as the identity
        catches a block with no weight to start from: all before any cloning.

        Args:
            maps: `(shape, data_format, where)` of each planned site; a
                `None` shape (unknown) is left to the cloning.

        Raises:
            ValueError: the block's own message, with the site it concerns.
        """
        seen = set()
        for shape, data_format, where in maps:
            if shape is None or (shape, data_format) in seen:
                continue
            seen.add((shape, data_format))
            block = self.make("probe", data_format=data_format)
            try:
                block.build(shape)
                if self.identity_init:
                    block.initialize_as_identity()
            except ValueError as error:
                raise ValueError(
                    f"{error} (the block {where}, on a map of shape {shape})"
                ) from error


def _check_gate(gate: str, identity_init: bool) -> None:
    if identity_init and gate not in IDENTITY_GATES:
        raise ValueError(
            f"`gate` must be one of {IDENTITY_GATES} with identity_init=True "
            f"(only they are 1 at 2 * gate(0)). Received: gate={gate!r}"
        )
    check_choice("gate", gate, IDENTITY_GATES if identity_init else tuple(GATES))
