"""Placement policies: where in a model's graph SE blocks go."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import keras

from keras_se.surgery.existing_attention import (
    feeds_attention,
    next_to_attention,
    unit_holds_attention,
)
from keras_se.surgery.graph import ModelGraph
from keras_se.surgery.keras_layers import CONV_CLASSES
from keras_se.surgery.model_config import TensorRef

PLACEMENTS = ("auto", "residual", "stage_end", "conv")
POSITIONS = ("standard", "pre", "post", "identity")

_NAME_SUFFIXES = re.compile(r"(_(add|out|relu|bn|act|activation|conv|merge))+$")


@dataclass(frozen=True)
class Site:
    """One SE block to insert.

    `kind` is `"output"` (gate the output of `layer`'s calls) or `"input"`
    (gate the input at flat `position` of `layer`'s calls). `anchor` names
    the block the site belongs to, the base of the SE layer's name.
    `data_format` is the gated map's, the block's too; `format_from` names
    the layer that declares it (`None`: the model's format, no layer on the
    map's way declares one). `plan_sites` fills both.
    """

    kind: str
    layer: str
    position: int
    tensor: TensorRef
    anchor: str
    where: str
    data_format: str | None = None
    format_from: str | None = None


def plan_sites(
    graph: ModelGraph,
    placement,
    position: str,
    skip_existing_se: bool,
    layers_by_name: dict[str, keras.layers.Layer],
    residual_model: bool,
    stages: tuple[int, ...] | None = None,
) -> list[tuple[int, Site]]:
    """Returns the sites of one (sub)model, each with its resolution stage.

    The stages are numbered from 1 in graph order; `stages` (checked
    numbers, negative ones from the end) keeps those, `None` all.
    `placement` is resolved already (no `"auto"`). `residual_model` says
    whether the whole model, nested models included, has residual merges:
    then a nested part without merges (ConvNeXt's stem and downsampling
    blocks) gets no `"stage_end"` blocks of its own.

    With `skip_existing_se`, a site that already holds an attention of any
    kind gets none (the family rule, `keras_se.surgery.existing_attention`).
    """
    if callable(placement) or not isinstance(placement, str):
        sites = _chosen_sites(graph, placement, layers_by_name)
        if skip_existing_se:
            sites = [s for s in sites if not next_to_attention(graph, s.tensor)]
        return _kept(_stages(graph, sites), stages)
    merges = list(graph.residual_merges())
    if placement == "residual":
        sites = _residual_sites(graph, merges, position, skip_existing_se)
    elif placement == "conv":
        sites = _conv_sites(graph, skip_existing_se)
    elif merges or not residual_model:
        sites = _stage_end_sites(graph, merges, skip_existing_se)
    else:
        sites = []
    return _kept(_stages(graph, sites), stages)


def _kept(grouped: list[list[Site]], stages) -> list[tuple[int, Site]]:
    kept = None if stages is None else resolve_stages(stages, len(grouped))
    return [
        (number, site)
        for number, stage in enumerate(grouped, start=1)
        if kept is None or number in kept
        for site in stage
    ]


def _residual_sites(graph, merges, position, skip_existing_se):
    sites = []
    for merge, residual_at, shortcut_at in merges:
        residual, shortcut = merge.inputs[residual_at], merge.inputs[shortcut_at]
        if skip_existing_se and unit_holds_attention(
            graph, merge, residual_at, shortcut_at
        ):
            continue
        start = graph.block_input(residual, shortcut)
        anchor = _base_name(merge.layer)
        if position == "standard":
            sites.append(
                Site(
                    "input",
                    merge.layer,
                    residual_at,
                    residual,
                    anchor,
                    f"residual branch, before {merge.layer}",
                )
            )
        elif position == "identity":
            sites.append(
                Site(
                    "input",
                    merge.layer,
                    shortcut_at,
                    shortcut,
                    anchor,
                    f"shortcut, parallel to the residual branch of {merge.layer}",
                )
            )
        elif position == "post":
            sites.append(
                Site(
                    "output",
                    merge.layer,
                    0,
                    merge.output,
                    anchor,
                    f"after {merge.layer}",
                )
            )
        else:
            sites.extend(_pre_sites(graph, start, residual, anchor, merge.layer))
    return sites


def _pre_sites(graph, start, residual, anchor, merge_name):
    branch = graph.ancestors(residual, min_depth=graph.depth.get(start, 0))
    return [
        Site(
            "input",
            consumer.layer,
            at,
            start,
            anchor,
            f"residual branch entry, before {consumer.layer} (block {merge_name})",
        )
        for consumer, at in graph.consumers(start)
        if consumer.output in branch
    ]


def _conv_sites(graph, skip_existing_se):
    sites = []
    for call in graph.calls:
        if call.class_name not in CONV_CLASSES:
            continue
        if not graph.is_feature_map(call.output) or call.output in graph.pooled:
            continue
        end = graph.unit_end(call.output)
        if skip_existing_se and feeds_attention(graph, end):
            continue
        layer = end[0]
        where = f"after {call.layer}" + (f" -> {layer}" if layer != call.layer else "")
        sites.append(Site("output", layer, 0, end, _base_name(call.layer), where))
    return sites


def _stage_end_sites(graph, merges, skip_existing_se):
    if merges:
        blocks = [graph.unit_end(merge.output) for merge, _, _ in merges]
    else:
        blocks = [site.tensor for site in _conv_sites(graph, skip_existing_se=False)]
    last_of_stage = {}
    for tensor in blocks:
        last_of_stage[graph.spatial(tensor)] = tensor
    sites = []
    for tensor in last_of_stage.values():
        if skip_existing_se and feeds_attention(graph, tensor):
            continue
        sites.append(
            Site(
                "output",
                tensor[0],
                0,
                tensor,
                _base_name(tensor[0]),
                f"end of the {'x'.join(map(str, graph.spatial(tensor)))} stage, "
                f"after {tensor[0]}",
            )
        )
    return sites


def _chosen_sites(graph, placement, layers_by_name):
    if callable(placement):
        chosen = [name for name, layer in layers_by_name.items() if placement(layer)]
    else:
        chosen = list(placement)
    sites = []
    for call in graph.calls:
        if call.layer in chosen and call.index == 0:
            if not graph.is_feature_map(call.output):
                raise ValueError(
                    "SE blocks gate 4D feature maps (batch, height, width, "
                    "channels) or (batch, channels, height, width), but layer "
                    f"'{call.layer}' outputs shape "
                    f"{graph.shape(call.output)}. Choose conv-like layers."
                )
            sites.append(
                Site(
                    "output",
                    call.layer,
                    0,
                    call.output,
                    _base_name(call.layer),
                    f"after {call.layer}",
                )
            )
    return sites


def _stages(graph, sites: list[Site]) -> list[list[Site]]:
    """Groups sites by the resolution of the tensor they gate, in graph order.

    Each site gets the data format of the tensor it gates.
    """
    stages: dict[tuple, list[Site]] = {}
    for site in sites:
        data_format, source = graph.data_format(site.tensor)
        site = replace(site, data_format=data_format, format_from=source)
        stages.setdefault(graph.spatial(site.tensor), []).append(site)
    return list(stages.values())


def resolve_stages(stages, count: int) -> set[int]:
    """Turns negative stage numbers into positive ones; checks the range."""
    if count == 0:
        return set()
    resolved = {stage if stage > 0 else count + 1 + stage for stage in stages}
    if not all(1 <= stage <= count for stage in resolved):
        raise ValueError(
            f"`stages` must be between 1 and {count} (or -{count} and -1): this "
            f"placement finds {count} resolution stage(s). "
            f"Received: stages={list(stages)}"
        )
    return resolved


def _base_name(layer_name: str) -> str:
    return _NAME_SUFFIXES.sub("", layer_name) or layer_name


def validate_placement(placement, known_names: set[str]) -> None:
    """Checks `placement` before any work: a name, layer names or a callable."""
    if isinstance(placement, str):
        if placement not in PLACEMENTS:
            raise ValueError(
                f"`placement` must be one of {PLACEMENTS}, a list of layer names "
                f"or a callable `layer -> bool`. Received: placement={placement!r}"
            )
        return
    if callable(placement):
        return
    if not isinstance(placement, (list, tuple, set)) or not all(
        isinstance(name, str) for name in placement
    ):
        raise ValueError(
            f"`placement` must be one of {PLACEMENTS}, a list of layer names or "
            f"a callable `layer -> bool`. Received: placement={placement!r}"
        )
    unknown = sorted(set(placement) - known_names)
    if unknown:
        raise ValueError(
            f"`placement` names layers the model does not have: {unknown}. "
            "Use names from `model.summary()` (nested models' layers included)."
        )


PlacementArg = str | list[str] | tuple[str, ...] | Callable[[keras.layers.Layer], bool]
