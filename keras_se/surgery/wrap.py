"""`wrap_with_se`: a copy of a model with SE blocks inserted, weights kept."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import keras

from keras_se._validation import (
    check_choice,
    check_positive_int,
)
from keras_se.layers.bottleneck import check_ratio
from keras_se.surgery.blocks import BlockFactory
from keras_se.surgery.checks import (
    check_data_formats,
    check_model,
    check_stages,
    raise_if_unclonable,
    resolve_stages,
)
from keras_se.surgery.graph import ModelGraph
from keras_se.surgery.keras_hub_models import rebuild_task, split_task
from keras_se.surgery.placement import (
    POSITIONS,
    PlacementArg,
    Site,
    plan_sites,
    validate_placement,
)


@dataclass
class _Options:
    placement: PlacementArg
    position: str
    stages: tuple[int, ...] | None
    skip_existing_se: bool
    identity_init: bool
    blocks: BlockFactory
    used_names: set[str]
    residual_model: bool
    graphs: dict[int, ModelGraph]
    plans: dict[int, list[Site]] = field(default_factory=dict)
    inserted: list[keras.layers.Layer] = field(default_factory=list)


def wrap_with_se(
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
    verbose: bool = False,
    attention: str = "se",
    attention_kwargs: dict | None = None,
) -> keras.Model:
    """Returns a copy of `model` with SE (or other attention) blocks inserted.

    The input model is left untouched. Every original layer of the copy has
    the original's weights, under its original name; the new blocks are
    named after where they sit (`conv2_block1_se`). The copy is a Functional
    (or Sequential) model that saves to `.keras` and loads with
    `safe_mode=True` after `import keras_se`.

    Placement:
    - `"residual"`: one block per residual unit (every `Add` of feature
      maps), at `position`: `"standard"` (on the residual branch, right
      before the `Add`: SE-ResNet), `"pre"` (on the residual branch's input),
      `"post"` (after the `Add`) or `"identity"` (on the shortcut, in parallel
      with the residual branch). These are the integrations of Table 14 of
      the paper; `"post"` does worst there, `"pre"` and `"identity"` as well
      as `"standard"`.
    - `"stage_end"`: one block after the last unit of each resolution stage.
    - `"conv"`: one block after every convolution, after the normalization
      and activation that follow it.
    - `"auto"`: `"residual"` if the model has residual merges, else `"conv"`.
    - a list of layer names, or a callable `layer -> bool`: a block after
      each named or chosen layer (nested models' layers included).

    Models that already have SE blocks (EfficientNet, MobileNetV3: a
    feature map multiplied by a 1x1 gate, or a keras_se layer) get none
    stacked onto them while `skip_existing_se=True`: a residual unit whose
    branch already holds an SE gate, and a conv whose output already feeds
    one, are skipped. EfficientNet's residual units all hold one, so
    `placement="residual"` inserts nothing there and warns.

    The attention: `"se"` (`SqueezeExcite2D`, the default) or any other
    name in `keras_se.layers.ATTENTIONS` (`"eca"`, `"ese"`, `"gc"`, `"ge"`,
    `"cbam"`), with its own defaults; `attention_kwargs` passes further
    constructor arguments (`{"fusion": "add"}` for `"gc"`). The blocks are
    named `<anchor>_<attention>`.

    The data format: each block takes the one of the feature map it gates,
    so that it gates the map's channels. That is the `data_format` of the
    layer that made the map, if it has one (a convolution, a pooling, a
    padding, ...); else, through layers that keep the layout (normalizations,
    activations, merges), that of the layer before, and so on; else the
    model's: the format its layers declare if they all agree, else
    `keras.config.image_data_format()`. A `channels_first` model (a
    `keras.applications` net built under
    `keras.config.set_image_data_format("channels_first")`, or one whose
    layers say `data_format="channels_first"`) gets `channels_first` blocks
    whatever the global setting; a model that mixes formats gets each block
    in its map's. A `data_format` in `attention_kwargs` must be that of
    every map a block goes on.

    The identity start (`identity_init=True`): each block's last step
    starts at zero (`initialize_as_identity()`: SE's `expand`, ECA's
    convolution, both of CBAM's attentions, ...), and the block multiplies
    its gate by `gate_scale=2`, so the gate starts at exactly
    `2 * sigmoid(0) = 1` (or `2 * hard_sigmoid(0)`) for every channel and
    input. The copy then computes what the original does
    (up to float rounding), so a trained model loses no accuracy when it is
    wrapped; the gradients at the start are those of a sigmoid at 0, its
    steepest, so training moves the SE weights from the first step. With
    `identity_init=False` the blocks have the paper's plain initialization
    and gate (`gate_scale=1`) and the copy must be fine-tuned.

    When `model` was compiled, the copy is compiled from the same compile
    config (`model.get_compile_config()`): same loss, metrics and optimizer
    class and settings, with a fresh optimizer state.

    Args:
        model: a Functional or Sequential Keras model (nested models inside
            it are rewritten too). Subclassed models cannot be rewritten.
        ratio: positive number, the reduction ratio of every inserted block;
            see `SqueezeExcite2D`. `None`: the attention's default (16 for
            SE); an attention without a ratio (ECA, eSE) takes none.
        placement: where the blocks go; see above.
        identity_init: start the blocks as the identity; see above.
        position: for `placement="residual"`, one of `"standard"`, `"pre"`,
            `"post"`, `"identity"`.
        stages: 1-based indices of the resolution stages to keep blocks in,
            in graph order (`stages=[4]`: only the last stage of a ResNet);
            negative ones count from the end (`stages=[-1]`, the last stage);
            `None` keeps all.
        units: an absolute bottleneck width for every block (overrides
            `ratio`). A block's width is at most 64 times the channels of
            the map it gates, and `ratio` at least 1/64: a wider block, or
            an ECA or CBAM window wider than its map allows, raises before
            any cloning.
        divisor: rounds the bottleneck width; see `SqueezeExcite2D`.
            `None`: the attention's default.
        gate: the gate of the new blocks; with `identity_init=True`,
            `"sigmoid"` or `"hard_sigmoid"`. `None`: the attention's default
            (`"hard_sigmoid"` for eSE, `"sigmoid"` for the others).
        skip_existing_se: leave units that already have an SE gate alone.
        verbose: print `keras_se.describe(wrapped_model)`.
        attention: which attention to insert; a name in
            `keras_se.layers.ATTENTIONS`.
        attention_kwargs: further constructor arguments of the attention
            layer (not `name`, `dtype` or `gate_scale`, which the surgery
            sets).

    KerasHub models: a backbone (`keras_hub.models.ResNetBackbone`, VGG,
    DenseNet, CSPNet, ...) comes back as a plain Functional model with the
    backbone's name (the backbone class rebuilds only from its constructor
    arguments, which have no place for new blocks); an `ImageClassifier`
    comes back as the same task class around the wrapped backbone, with its
    head's weights and a preprocessor from its config, so `predict` on raw
    images, `fit` and `.keras` saving work as before.

    Returns:
        The new `keras.Model`; for a KerasHub `ImageClassifier`, the same
        task class.

    Raises:
        ValueError: for an unknown `placement`, `position`, `attention` or
            layer name, a bad `ratio`/`units`/`divisor`/`stages`, an argument
            the attention does not take, a `gate` that cannot start as
            the identity, or an `attention_kwargs["data_format"]` that is
            not the format of a map a block would gate (all before any
            cloning).
        TypeError: for a model it cannot rewrite: subclassed models, a
            layer that does not rebuild from its own config (named), a
            KerasHub task other than an image classifier (wrap its
            `backbone` instead).

    Example:

    >>> base = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3))
    >>> wrapped = keras_se.wrap_with_se(base, ratio=16)
    >>> len([l for l in wrapped.layers if isinstance(l, keras_se.SqueezeExcite2D)])
    16
    """
    check_model(model)
    task, model = split_task(model)  # a KerasHub task: its backbone
    if ratio is not None:
        check_ratio(ratio)
    check_positive_int("units", units, allow_none=True)
    check_positive_int("divisor", divisor, allow_none=True)
    check_choice("position", position, POSITIONS)
    blocks = BlockFactory(
        attention,
        bool(identity_init),
        dict(ratio=ratio, units=units, divisor=divisor, gate=gate),
        attention_kwargs,
    )
    stages = check_stages(stages)
    names = {layer.name for layer in _all_layers(model)}
    validate_placement(placement, names)
    graphs: dict[int, ModelGraph] = {}
    residual_model = _has_residual_merges(model, graphs)
    if placement == "auto":
        placement = "residual" if residual_model else "conv"
    options = _Options(
        placement=placement,
        position=position,
        stages=stages,
        skip_existing_se=bool(skip_existing_se),
        identity_init=bool(identity_init),
        blocks=blocks,
        used_names=names,
        residual_model=residual_model,
        graphs=graphs,
    )
    _plan(model, options)
    check_data_formats(
        blocks.data_format,
        [site for sites in options.plans.values() for site in sites],
    )
    blocks.check_maps(
        (options.graphs[key].shape(site.tensor), site.data_format, site.where)
        for key, sites in options.plans.items()
        for site in sites
    )
    wrapped = _wrap(model, options)
    if task is not None:
        wrapped = rebuild_task(task, wrapped)
    if not options.inserted:
        warnings.warn(
            f"wrap_with_se inserted no {attention!r} block into '{model.name}' "
            f"(placement={placement!r}, position={position!r}, stages={stages}, "
            f"skip_existing_se={skip_existing_se}). If its units already have SE "
            "gates, pass skip_existing_se=False to add more anyway.",
            stacklevel=2,
        )
    if getattr(model, "compiled", False) and model.get_compile_config():
        wrapped.compile_from_config(model.get_compile_config())
    if verbose:
        from keras_se.surgery.report import describe

        describe(wrapped, print_table=True)
    return wrapped


def _plan(model: keras.Model, options: _Options) -> None:
    """Decides the sites of `model` and of the models nested in it."""
    check_model(model)
    graph = _graph(model, options.graphs)
    layers_by_name = {layer.name: layer for layer in model.layers}
    stages = plan_sites(
        graph,
        options.placement,
        options.position,
        options.skip_existing_se,
        layers_by_name,
        options.residual_model,
    )
    kept = None
    if options.stages is not None:
        kept = resolve_stages(options.stages, len(stages))
    options.plans[id(model)] = [
        site
        for number, stage in enumerate(stages, start=1)
        if kept is None or number in kept
        for site in stage
    ]
    for layer in model.layers:
        if isinstance(layer, keras.Model) and id(layer) not in options.plans:
            _plan(layer, options)


def _wrap(model: keras.Model, options: _Options) -> keras.Model:
    """The copy of `model` with the blocks `_plan` decided on."""
    graph = options.graphs[id(model)]
    rewriter = _Rewriter(options.plans[id(model)], options)
    if isinstance(model, keras.Sequential):
        wrapped = rewriter.rewrite_sequential(model)
    else:
        try:
            wrapped = keras.models.clone_model(
                model,
                input_tensors=_named_inputs(model, graph),
                clone_function=rewriter.clone_layer,
                call_function=rewriter.call_layer,
            )
        except Exception as error:
            raise_if_unclonable(model, error)
            raise
    rewriter.copy_weights()
    return wrapped


class _Rewriter:
    """The `clone_function` and `call_function` that clone_model runs."""

    def __init__(self, sites: list[Site], options: _Options):
        self.options = options
        self.sites_by_layer: dict[str, list[Site]] = {}
        for site in sites:
            self.sites_by_layer.setdefault(site.layer, []).append(site)
        self.blocks: dict[str, keras.layers.Layer] = {}
        self.copies: list[tuple[keras.layers.Layer, keras.layers.Layer]] = []

    def clone_layer(self, layer):
        if isinstance(layer, keras.Model):
            # A nested model is rewritten with its own plan, weights included.
            return _wrap(layer, self.options)
        if not isinstance(layer, keras.layers.Layer):
            return layer.__class__.from_config(layer.get_config())  # a raw op
        clone = layer.__class__.from_config(layer.get_config())
        self.copies.append((layer, clone))
        return clone

    def call_layer(self, layer, *args, **kwargs):
        sites = self.sites_by_layer.get(layer.name, ())
        inputs = {site.position: site for site in sites if site.kind == "input"}
        if inputs:
            args, kwargs = self._gate_inputs(layer, inputs, args, kwargs)
        outputs = layer(*args, **kwargs)
        for site in sites:
            if site.kind == "output":
                outputs = self._block(site, layer)(outputs)
        return outputs

    def _gate_inputs(self, layer, sites_at, args, kwargs):
        position = -1

        def gate(value):
            nonlocal position
            if not isinstance(value, keras.KerasTensor):
                return value
            position += 1
            site = sites_at.get(position)
            return value if site is None else self._block(site, layer)(value)

        return keras.tree.map_structure(gate, (args, kwargs))

    def _block(self, site: Site, layer) -> keras.layers.Layer:
        key = f"{site.anchor}/{site.kind}/{site.position}/{site.layer}"
        if key not in self.blocks:
            factory = self.options.blocks
            block = factory.make(
                self._unique_name(f"{site.anchor}_{factory.attention}"),
                dtype=getattr(layer, "dtype_policy", None),
                data_format=site.data_format,
            )
            self.blocks[key] = block
            self.options.inserted.append(block)
        return self.blocks[key]

    def _unique_name(self, name: str) -> str:
        used, candidate, number = self.options.used_names, name, 1
        while candidate in used:
            number += 1
            candidate = f"{name}_{number}"
        used.add(candidate)
        return candidate

    def rewrite_sequential(self, model: keras.Sequential) -> keras.Sequential:
        layers = [
            keras.Input(batch_shape=model.inputs[0].shape, dtype=model.inputs[0].dtype)
        ]
        for layer in model.layers:
            layers.append(self.clone_layer(layer))
            for site in self.sites_by_layer.get(layer.name, ()):
                layers.append(self._block(site, layer))
        return keras.Sequential(layers, name=model.name)

    def copy_weights(self):
        for original, clone in self.copies:
            clone.set_weights(original.get_weights())
        if self.options.identity_init:
            for block in self.blocks.values():
                block.initialize_as_identity()


def _named_inputs(model: keras.Model, graph: ModelGraph):
    """New inputs named like the originals: callers may feed dicts by name."""
    inputs = [
        keras.Input(batch_shape=tensor.shape, dtype=tensor.dtype, name=name)
        for tensor, name in zip(model.inputs, graph.input_names, strict=True)
    ]
    return keras.tree.pack_sequence_as(model.input, inputs)


def _graph(model: keras.Model, graphs: dict[int, ModelGraph]) -> ModelGraph:
    if id(model) not in graphs:
        graphs[id(model)] = ModelGraph.from_model(model)
    return graphs[id(model)]


def _has_residual_merges(model: keras.Model, graphs: dict[int, ModelGraph]) -> bool:
    if any(True for _ in _graph(model, graphs).residual_merges()):
        return True
    return any(
        _has_residual_merges(layer, graphs)
        for layer in model.layers
        if isinstance(layer, keras.Model)
    )


def _all_layers(model: keras.Model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
