"""`plan_se`: which sites get which blocks, decided before anything is cloned.

A `WrapPlan` is a value: it can be printed, compared and shown by
`keras_se.describe`; `keras_se.surgery.apply.apply_plan` clones a model
along one, and `wrap_with_se` is the two in a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras

from keras_se._validation import check_choice, check_positive_int
from keras_se.layers.bottleneck import check_ratio
from keras_se.surgery.blocks import BlockFactory
from keras_se.surgery.checks import (
    check_data_formats,
    check_model,
    check_stages,
)
from keras_se.surgery.formats import channel_axis
from keras_se.surgery.graph import ModelGraph, all_layers, graphs_of
from keras_se.surgery.keras_hub_models import split_task
from keras_se.surgery.model_config import TensorRef
from keras_se.surgery.placement import (
    POSITIONS,
    PlacementArg,
    Site,
    plan_sites,
    validate_placement,
)


@dataclass(frozen=True)
class PlannedBlock:
    """One attention block of a plan: where it goes and what it is.

    `site` is `"output"` (the block gates the output of `layer`'s calls)
    or `"input"` (it gates `layer`'s input at flat position `input`);
    `model` names the model, nested or not, that holds `layer`. `tensor`
    is the gated map (`(layer, call, output)`), `channels`, `spatial` and
    `data_format` are that map's, `format_from` the layer that declares
    its format (`None`: the model's). `stage` is the 1-based resolution
    stage of the map; `attention` the kind of the block, `arguments` its
    constructor arguments (`name` and `dtype` aside).
    """

    name: str
    model: str
    layer: str
    site: str
    input: int
    anchor: str
    where: str
    tensor: TensorRef
    channels: int | None
    spatial: tuple
    data_format: str | None
    format_from: str | None
    stage: int
    attention: str
    arguments: dict[str, Any]

    def __str__(self) -> str:
        size = "x".join(str(size) for size in self.spatial)
        return (
            f"{self.name}: {self.attention} on {self.channels} channels "
            f"({size}, {self.data_format}, stage {self.stage}), {self.where}"
        )


@dataclass(frozen=True)
class WrapPlan:
    """The blocks `wrap_with_se` would insert into a model, and with what.

    `placement` is the placement the sites come from (`"auto"` resolved;
    `"layers"` for a list of names or a callable); the other fields are
    the arguments of `plan_se`. `arguments` are the constructor arguments
    every block gets (the attention's defaults for the others); a block's
    own add the data format of its map. `blocks` are in graph order, the
    nested models' after their parent's.
    """

    model: str
    attention: str
    placement: str
    position: str
    stages: tuple[int, ...] | None
    skip_existing_se: bool
    identity_init: bool
    arguments: dict[str, Any]
    blocks: tuple[PlannedBlock, ...]

    def __str__(self) -> str:
        lines = [
            f"WrapPlan of '{self.model}': {len(self.blocks)} {self.attention!r} "
            f"block(s), placement={self.placement!r}, position={self.position!r}, "
            f"stages={self.stages}, skip_existing_se={self.skip_existing_se}, "
            f"identity_init={self.identity_init}, arguments={self.arguments}"
        ]
        lines += [f"  {block}" for block in self.blocks]
        return "\n".join(lines)


def plan_se(
    model: keras.Model,
    ratio: float | None = None,
    placement: PlacementArg = "auto",
    identity_init: bool = True,
    position: str = "standard",
    stages: Sequence[int] | None = None,
    units: int | None = None,
    divisor: int | None = None,
    gate: str | None = None,
    skip_existing_se: bool = True,
    attention: str = "se",
    attention_kwargs: dict | None = None,
) -> WrapPlan:
    """Decides where `wrap_with_se` puts blocks into `model`, and which.

    Takes the arguments of `keras_se.wrap_with_se` (but `verbose`), checks
    them all and reads `model`'s graph; clones nothing. `wrap_with_se`
    inserts exactly the blocks of this plan.

    Args:
        model: a Functional or Sequential Keras model, or a KerasHub
            image classifier (its backbone is planned).
        ratio, placement, identity_init, position, stages, units, divisor,
        gate, skip_existing_se, attention, attention_kwargs: see
            `keras_se.wrap_with_se`.

    Returns:
        A `WrapPlan`, with one `PlannedBlock` per block.

    Raises:
        ValueError, TypeError: as `wrap_with_se`, before any cloning.

    Example:

    >>> base = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3))
    >>> plan = keras_se.plan_se(base, attention="eca")
    >>> len(plan.blocks), plan.blocks[0].name, plan.blocks[0].channels
    (16, 'conv2_block1_eca', 256)
    """
    check_model(model)
    _, model = split_task(model)  # a KerasHub task: its backbone
    if ratio is not None:
        check_ratio(ratio)
    check_positive_int("units", units, allow_none=True)
    check_positive_int("divisor", divisor, allow_none=True)
    check_choice("position", position, POSITIONS)
    factory = BlockFactory(
        attention,
        bool(identity_init),
        dict(ratio=ratio, units=units, divisor=divisor, gate=gate),
        attention_kwargs,
    )
    stages = check_stages(stages)
    names = {layer.name for layer in all_layers(model)}
    validate_placement(placement, names)
    graphs = graphs_of(model)
    residual_model = any(graph.has_residual_merges() for _, graph in graphs)
    if placement == "auto":
        placement = "residual" if residual_model else "conv"
    namer = _Namer(names, factory.attention)
    blocks, maps = [], []
    for part, graph in graphs:
        sites = plan_sites(
            graph,
            placement,
            position,
            bool(skip_existing_se),
            {layer.name: layer for layer in part.layers},
            residual_model,
            stages,
        )
        blocks += [
            _planned(site, part, graph, number, namer, factory)
            for number, site in sites
        ]
        maps += [
            (graph.shape(site.tensor), site.data_format, site.where)
            for _, site in sites
        ]
    check_data_formats(factory.data_format, blocks)
    factory.check_maps(maps)
    return WrapPlan(
        model=model.name,
        attention=factory.attention,
        placement=placement if isinstance(placement, str) else "layers",
        position=position,
        stages=stages,
        skip_existing_se=bool(skip_existing_se),
        identity_init=bool(identity_init),
        arguments=factory.arguments(),
        blocks=tuple(blocks),
    )


def _planned(site: Site, part, graph: ModelGraph, stage: int, namer, factory):
    shape = graph.shape(site.tensor)
    channels = shape[channel_axis(shape, site.data_format)]
    return PlannedBlock(
        name=namer.name(part.name, site),
        model=part.name,
        layer=site.layer,
        site=site.kind,
        input=site.position,
        anchor=site.anchor,
        where=site.where,
        tensor=site.tensor,
        channels=channels,
        spatial=graph.spatial(site.tensor),
        data_format=site.data_format,
        format_from=site.format_from,
        stage=stage,
        attention=factory.attention,
        arguments=factory.arguments(site.data_format),
    )


class _Namer:
    """Names the blocks `<anchor>_<attention>`, unique among the model's layers.

    Sites of one model with the same anchor, layer and input share a block
    (a layer called twice), so they share a name.
    """

    def __init__(self, used: set[str], attention: str):
        self.used = set(used)
        self.attention = attention
        self.names: dict[tuple, str] = {}

    def name(self, model: str, site: Site) -> str:
        key = (model, site.anchor, site.kind, site.position, site.layer)
        if key not in self.names:
            base = candidate = f"{site.anchor}_{self.attention}"
            number = 1
            while candidate in self.used:
                number += 1
                candidate = f"{base}_{number}"
            self.used.add(candidate)
            self.names[key] = candidate
        return self.names[key]
