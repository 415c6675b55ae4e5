"""Checks of `wrap_with_se`'s model and arguments, made before any work."""

from __future__ import annotations

import keras


def check_model(model) -> None:
    if not isinstance(model, keras.Model):
        raise TypeError(
            "`model` must be a keras.Model (Functional or Sequential). "
            f"Received: model={model!r} of type {type(model).__name__}"
        )
    if isinstance(model, keras.Sequential):
        if not model.built or not model.inputs:
            raise ValueError(
                f"Sequential model '{model.name}' has no input shape yet: start it "
                "with `keras.Input(shape)` or call `model.build(input_shape)` first."
            )
        return
    if not is_functional(model):
        raise TypeError(
            f"wrap_with_se cannot rewrite '{model.name}', a subclassed model "
            f"({type(model).__name__}): its call() is Python code, not a graph of "
            "layers. Supported: Functional and Sequential models (and models "
            "nested in them). Instead, add `keras_se.SqueezeExcite2D` layers in "
            "your call(), or rebuild the model with the Functional API."
        )


def is_functional(model: keras.Model) -> bool:
    # Functional models (and keras.applications) carry their graph; subclassed
    # ones do not.
    return hasattr(model, "_nodes_by_depth") and bool(getattr(model, "inputs", None))


def check_stages(stages):
    if stages is None:
        return None
    if isinstance(stages, int) and not isinstance(stages, bool):
        stages = (stages,)
    if not isinstance(stages, (list, tuple, set)) or not stages:
        raise ValueError(
            "`stages` must be None or a non-empty list of stage numbers (1 = the "
            f"first resolution stage, -1 = the last). Received: stages={stages!r}"
        )
    for stage in stages:
        if not isinstance(stage, int) or isinstance(stage, bool) or stage == 0:
            raise ValueError(
                "`stages` must hold non-zero integers (1 = the first resolution "
                f"stage, -1 = the last). Received: stages={stages!r}"
            )
    return tuple(sorted(set(stages)))


def check_data_formats(requested: str | None, sites) -> None:
    """Raises if a `data_format` given in `attention_kwargs` is not a site's.

    `sites` are the planned blocks, each with the data format of the map
    it gates; a block on a map must gate that map's channel axis.
    """
    if requested is None:
        return
    for site in sites:
        if site.data_format == requested:
            continue
        source = (
            f"as layer '{site.format_from}' declares"
            if site.format_from
            else "the model's format (no layer on its way declares one)"
        )
        raise ValueError(
            '`attention_kwargs["data_format"]` must be the data format of every '
            f"map a block gates: the output of layer '{site.tensor[0]}', where "
            f"a block goes ({site.where}), is {site.data_format!r}, {source}. "
            "Leave `data_format` out of `attention_kwargs`: each block takes "
            "its map's. Received: "
            f'attention_kwargs["data_format"]={requested!r}'
        )


def raise_if_unclonable(model: keras.Model, error: Exception) -> None:
    """Names the layer of `model` that cannot be copied, if one cannot.

    `wrap_with_se` copies every layer as `cls.from_config(layer.get_config())`,
    as `.keras` loading does. A layer whose config does not rebuild it (some
    KerasHub transformer layers) makes that fail deep inside Keras; this
    re-raises `error` as a `TypeError` that names the model and the layer.
    Nested models are skipped: their own rewrite names their layers.
    """
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            continue
        try:
            layer.__class__.from_config(layer.get_config())
        except Exception as cause:
            detail = " ".join(str(cause).split())[:300]
            raise TypeError(
                f"wrap_with_se cannot rewrite '{model.name}' "
                f"({type(model).__name__}): its layer '{layer.name}' "
                f"({type(layer).__name__}) cannot be rebuilt from its own config "
                f"({type(cause).__name__}: {detail}). The copy is made of "
                "rebuilt layers, as a loaded .keras file is. Fix the layer's "
                "get_config()/from_config() so that they round-trip, or add "
                "keras_se layers (e.g. keras_se.SqueezeExcite2D) to the model's "
                "code yourself."
            ) from error
