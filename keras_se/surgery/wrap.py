"""`wrap_with_se`: a copy of a model with SE blocks inserted, weights kept.

The public entry of the surgery: a plan (`keras_se.surgery.plan`), then an
apply (`keras_se.surgery.apply`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import keras

from keras_se.surgery.apply import apply_plan
from keras_se.surgery.placement import PlacementArg
from keras_se.surgery.plan import plan_se
from keras_se.surgery.report import describe


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
        skip_existing_se: leave the sites that already hold an attention
            of any kind alone (see above); `False` stacks blocks on them.
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
    plan = plan_se(
        model,
        ratio=ratio,
        placement=placement,
        identity_init=identity_init,
        position=position,
        stages=stages,
        units=units,
        divisor=divisor,
        gate=gate,
        skip_existing_se=skip_existing_se,
        attention=attention,
        attention_kwargs=attention_kwargs,
    )
    wrapped = apply_plan(model, plan)
    if not plan.blocks:
        warnings.warn(
            f"wrap_with_se inserted no {attention!r} block into '{plan.model}' "
            f"(placement={plan.placement!r}, position={position!r}, "
            f"stages={plan.stages}, skip_existing_se={skip_existing_se}). If its "
            "units already hold attention blocks, pass skip_existing_se=False "
            "to add more anyway.",
            stacklevel=2,
        )
    if verbose:
        describe(wrapped, print_table=True)
    return wrapped
