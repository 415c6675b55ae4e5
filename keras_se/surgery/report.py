"""`describe`: the SE blocks of a model, as a table."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from keras_se.layers.base_squeeze_excite import BaseSqueezeExcite
from keras_se.surgery.graph import ModelGraph


@dataclass(frozen=True)
class SEBlockInfo:
    """One SE block of a model: where it sits and what it costs."""

    name: str
    model: str
    after: str
    before: str
    channels: int
    units: int
    params: int


def describe(model: keras.Model, print_table: bool = False) -> list[SEBlockInfo]:
    """Lists the SE blocks of `model` (nested models included).

    Args:
        model: a Functional or Sequential model.
        print_table: also print a table of the blocks and the share of
            parameters they add.

    Returns:
        One `SEBlockInfo` per SE layer, in graph order: its name, the model
        that holds it, the layer it follows and the layers it feeds, its
        channels, bottleneck units and parameters.

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
        elif isinstance(layer, BaseSqueezeExcite) and call.index == 0:
            after = call.inputs[0][0] if call.inputs else "?"
            before = ", ".join(c.layer for c, _ in graph.consumers(call.output))
            yield SEBlockInfo(
                name=layer.name,
                model=model.name,
                after=after,
                before=before or "(model output)",
                channels=layer.channels,
                units=layer.bottleneck_units,
                params=layer.count_params(),
            )


def _print_table(model, blocks):
    from rich.console import Console
    from rich.table import Table

    total = model.count_params()
    added = sum(block.params for block in blocks)
    table = Table(title=f"SE blocks in {model.name}")
    for column in ("name", "after", "before", "channels", "units", "params"):
        justify = "right" if column in ("channels", "units", "params") else "left"
        table.add_column(column, justify=justify)
    for block in blocks:
        table.add_row(
            block.name,
            block.after,
            block.before,
            str(block.channels),
            str(block.units),
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
