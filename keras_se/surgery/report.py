"""`describe`: the SE (and other attention) blocks of a model, as a table."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from keras_se.layers.attention import is_attention
from keras_se.surgery.graph import ModelGraph

# Where the attention layers keep their (built) bottleneck width: SE's
# `bottleneck_units`, GlobalContext2D's `transform_units`, the MLP width of
# CBAM2D and GatherExcite2D. The first one a layer has is its width.
_UNITS_ATTRIBUTES = ("bottleneck_units", "transform_units", "mlp_units")


@dataclass(frozen=True)
class SEBlockInfo:
    """One attention block of a model: where it sits and what it costs.

    `units` is the bottleneck width of the blocks that have one (SE, GC,
    GE's MLP, CBAM), `None` for the others (ECA, eSE); `attention` is the
    block's class name.
    """

    name: str
    model: str
    after: str
    before: str
    channels: int
    units: int | None
    params: int
    attention: str = "SqueezeExcite2D"


def describe(model: keras.Model, print_table: bool = False) -> list[SEBlockInfo]:
    """Lists the SE and other attention blocks of `model` (nested models included).

    Args:
        model: a Functional or Sequential model.
        print_table: also print a table of the blocks and the share of
            parameters they add.

    Returns:
        One `SEBlockInfo` per attention layer (any keras_se layer with
        `initialize_as_identity`), in graph order: its name, the model that
        holds it, the layer it follows and the layers it feeds, its
        channels, bottleneck units, parameters and class.

    Example:

    >>> se = keras_se.SqueezeExcite2D(4, name="se")
    >>> model = keras.Sequential([keras.Input((8, 8, 16)), se])
    >>> [(b.name, b.channels, b.units) for b in keras_se.describe(model)]
    [('se', 16, 4)]
    """
    blocks = list(_blocks(model))
    if print_table:
        _print_table(model, blocks)
    return blocks


def _blocks(model: keras.Model):
    graph = ModelGraph.from_model(model)
    layers = {layer.name: layer for layer in model.layers}
    for call in graph.calls:
        layer = layers.get(call.layer)
        if isinstance(layer, keras.Model):
            yield from _blocks(layer)
        elif is_attention(layer) and call.index == 0:
            after = call.inputs[0][0] if call.inputs else "?"
            before = ", ".join(c.layer for c, _ in graph.consumers(call.output))
            yield SEBlockInfo(
                name=layer.name,
                model=model.name,
                after=after,
                before=before or "(model output)",
                channels=_channels(layer),
                units=_units(layer),
                params=layer.count_params(),
                attention=type(layer).__name__,
            )


def _units(layer) -> int | None:
    # GatherExcite2D computes its MLP width even when it has no MLP.
    if getattr(layer, "use_mlp", True) is False:
        return None
    for attribute in _UNITS_ATTRIBUTES:
        units = getattr(layer, attribute, None)
        if units is not None:
            return int(units)
    return None


def _channels(layer) -> int:
    axis = 1 if getattr(layer, "data_format", None) == "channels_first" else -1
    return int(layer.input.shape[axis])


def _print_table(model, blocks):
    from rich.console import Console
    from rich.table import Table

    total = model.count_params()
    added = sum(block.params for block in blocks)
    table = Table(title=f"Attention blocks in {model.name}")
    for column in (
        "name",
        "attention",
        "after",
        "before",
        "channels",
        "units",
        "params",
    ):
        justify = "right" if column in ("channels", "units", "params") else "left"
        table.add_column(column, justify=justify)
    for block in blocks:
        table.add_row(
            block.name,
            block.attention,
            block.after,
            block.before,
            str(block.channels),
            "-" if block.units is None else str(block.units),
            f"{block.params:,}",
        )
    console = Console()
    console.print(table)
    base = total - added
    console.print(
        f"{len(blocks)} SE blocks, {added:,} parameters: {total:,} in all, "
        f"{total / base:.4f}x the {base:,} without them."
        if base
        else f"{len(blocks)} SE blocks, {added:,} parameters."
    )
