"""`describe`: the SE (and other attention) blocks of a model, as a table."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from keras_se.layers.attention import is_attention
from keras_se.surgery.graph import ModelGraph
from keras_se.surgery.plan import PlannedBlock, WrapPlan


@dataclass(frozen=True)
class SEBlockInfo:
    """One attention block of a model: where it sits and what it costs.

    `units` is the bottleneck width of the blocks that have one (SE, GC,
    GE's MLP, CBAM), `None` for the others (ECA, eSE); `attention` is the
    block's class name, `kind` its attention kind (`"se"`, `"eca"`, ...).
    """

    name: str
    model: str
    after: str
    before: str
    channels: int
    units: int | None
    params: int
    attention: str = "SqueezeExcite2D"
    kind: str = "se"


def describe(
    model: keras.Model | WrapPlan, print_table: bool = False
) -> list[SEBlockInfo] | list[PlannedBlock]:
    """Lists the SE and other attention blocks of a model, or of a plan.

    Args:
        model: a Functional or Sequential model (nested models included),
            or a `WrapPlan` from `keras_se.plan_se`.
        print_table: also print a table of the blocks (and, for a model,
            the share of parameters they add).

    Returns:
        For a model, one `SEBlockInfo` per attention layer
        (`keras_se.layers.is_attention`), in graph order: its name, the
        model that holds it, the layer it follows and the layers it feeds,
        its channels, bottleneck units, parameters, class and kind. For a
        plan, its `PlannedBlock`s.

    Example:

    >>> se = keras_se.SqueezeExcite2D(4, name="se")
    >>> model = keras.Sequential([keras.Input((8, 8, 16)), se])
    >>> [(b.name, b.channels, b.units) for b in keras_se.describe(model)]
    [('se', 16, 4)]
    """
    if isinstance(model, WrapPlan):
        if print_table:
            _print_plan(model)
        return list(model.blocks)
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
                units=layer.bottleneck_width,
                params=layer.count_params(),
                attention=type(layer).__name__,
                kind=layer.attention_kind,
            )


def _channels(layer) -> int:
    """The channels of the map the block gates: its output's."""
    axis = 1 if layer.data_format == "channels_first" else -1
    return int(layer.output.shape[axis])


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


def _print_plan(plan: WrapPlan):
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Planned {plan.attention!r} blocks in {plan.model}")
    columns = ("name", "model", "where", "channels", "map", "data format", "stage")
    for column in columns:
        justify = "right" if column in ("channels", "stage") else "left"
        table.add_column(column, justify=justify)
    for block in plan.blocks:
        table.add_row(
            block.name,
            block.model,
            block.where,
            str(block.channels),
            "x".join(map(str, block.spatial)),
            block.data_format or "-",
            str(block.stage),
        )
    console = Console()
    console.print(table)
    console.print(
        f"{len(plan.blocks)} blocks, placement={plan.placement!r}, "
        f"position={plan.position!r}, arguments: {plan.arguments}"
    )
