"""Grad-CAM, Grad-CAM++ and saliency maps, computed by tf-keras-vis.

tf-keras-vis does the gradient work; this module picks the layer, makes the
model something tf-keras-vis can use and batches the inputs:

- tf-keras-vis builds `Model(model.inputs, model.outputs + [layer.output])`,
  which only works when the layer sits in `model`'s own graph. A layer inside
  a nested model (a `keras.applications` base inside a classifier) does not,
  so the model is first inlined into one flat graph that shares its layers
  and weights (`keras_se.viz._graph.inline`), and an `Identity` layer is put
  right after the target layer, on the path to the outputs. That layer is a
  layer of the flat model with one call, so tf-keras-vis can take its output
  and the gradient of the class score flows through it.
- The class score is taken before the output activation (the logit), as
  Grad-CAM prescribes, with tf-keras-vis's `ReplaceToLinear` on a clone, so
  `model` itself is never changed.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_se._optional import import_optional
from keras_se._validation import check_choice, check_positive_int
from keras_se.layers.attention import is_attention
from keras_se.surgery.keras_layers import CONV_LAYERS
from keras_se.viz._graph import (
    check_graph_model,
    inline,
    layer_calls,
)

METHODS = ("gradcam", "gradcam++", "saliency")
TARGET_NAME = "keras_se_viz_target"
FEATURE = "Grad-CAM and saliency maps (tf-keras-vis)"


def find_target_layer(model: keras.Model) -> str:
    """Returns the name of the layer Grad-CAM looks at by default.

    That is the deepest convolution or attention block of any kind (SE,
    ECA, eSE, GC, GE, CBAM; the later in graph order, nested models
    included) whose output is a feature map larger than one pixel; if every
    one is 1x1, the deepest one. On a model with attention blocks it is
    usually the last block: the gated features the classifier reads.

    Args:
        model: a Functional or Sequential model.

    Returns:
        The layer's name; pass it as `layer=` to choose it explicitly.

    Raises:
        TypeError: if `model` is a subclassed model.
        ValueError: if `model` has no convolution and no attention block.

    Example:

    >>> from keras_se.demo.model import build_digits_cnn
    >>> keras_se.viz.find_target_layer(build_digits_cnn())
    'stage2_se'
    """
    check_graph_model(model, "`find_target_layer`")
    candidates = [
        (layer.name, outputs.shape)
        for layer, _, outputs in layer_calls(model)
        if isinstance(layer, CONV_LAYERS) or is_attention(layer)
    ]
    if not candidates:
        raise ValueError(
            f"Model {model.name!r} has no convolution and no attention block to take "
            "Grad-CAM from: pass `layer=` the name of a layer whose output is "
            "a feature map."
        )
    for name, shape in reversed(candidates):
        if any(size is None or size > 1 for size in shape[1:-1]):
            return name
    return candidates[-1][0]


def heatmaps(
    model: keras.Model,
    x: np.ndarray,
    classes=None,
    method: str = "gradcam",
    layer: str | None = None,
    batch_size: int = 32,
    normalize: bool = True,
) -> np.ndarray:
    """Computes class heatmaps for images with tf-keras-vis.

    Args:
        model: a Functional or Sequential model with one input and one
            output (class scores), channels-last, nested models included.
        x: images, shape `(n, height, width, channels)` (or `(n, length,
            channels)` for 1D models).
        classes: the class to explain: `None` for the class the model
            predicts for each image, an int for one class for all images,
            or one int per image.
        method: `"gradcam"` (Grad-CAM), `"gradcam++"` (Grad-CAM++) or
            `"saliency"` (vanilla saliency: input gradients).
        layer: for Grad-CAM(++), the name of the layer whose feature maps
            are weighted (in `model` or a model nested in it); `None` picks
            `find_target_layer(model)`. Ignored by `"saliency"`.
        batch_size: positive int, images per gradient computation.
        normalize: scale each heatmap to [0, 1] (tf-keras-vis's min-max).

    Returns:
        A float32 array `(n, height, width)`: `x`'s shape without channels.
        Grad-CAM maps are upsampled from the layer's resolution.

    Raises:
        TypeError: if `model` is a subclassed model.
        ValueError: for a bad `method`, an unknown `layer` or one without a
            spatial output, or a model with several inputs or outputs.

    Example:

    >>> from keras_se.demo.model import build_digits_cnn
    >>> images = np.random.rand(3, 8, 8, 1).astype("float32")
    >>> keras_se.viz.heatmaps(build_digits_cnn(), images).shape
    (3, 8, 8)
    """
    method = check_choice("method", method, METHODS)
    check_positive_int("batch_size", batch_size)
    check_graph_model(model, "`heatmaps`")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            "`heatmaps` needs a model with one input and one output. Received: "
            f"{len(model.inputs)} inputs and {len(model.outputs)} outputs"
        )
    x = np.asarray(x, dtype="float32")
    if method == "saliency":
        flat = inline(model)
    else:
        flat = _marked_model(model, layer or find_target_layer(model))
    explainer = _explainer(method, flat)
    targets = _classes(model, x, classes, batch_size)

    scores = import_optional("tf_keras_vis.utils.scores", FEATURE)

    maps = []
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size]
        score = scores.CategoricalScore(targets[start : start + batch_size].tolist())
        if method == "saliency":
            result = explainer(score, batch, normalize_map=normalize)
        else:
            result = explainer(
                score,
                batch,
                penultimate_layer=TARGET_NAME,
                seek_penultimate_conv_layer=False,
                normalize_cam=normalize,
            )
        maps.append(np.asarray(result, dtype="float32").reshape(batch.shape[:-1]))
    return np.concatenate(maps) if maps else np.zeros(x.shape[:-1], "float32")


def _marked_model(model: keras.Model, name: str) -> keras.Model:
    marked = []

    def mark(layer, args, outputs):
        if getattr(layer, "name", None) == name and not marked:
            if getattr(layer, "data_format", None) == "channels_first":
                # tf-keras-vis pools gradients and sums maps over the last axis.
                raise ValueError(
                    f"Layer {name!r} is channels_first; tf-keras-vis computes "
                    "Grad-CAM on channels_last feature maps only."
                )
            if len(getattr(outputs, "shape", ())) < 3:
                raise ValueError(
                    f"Layer {name!r} outputs shape {tuple(outputs.shape)}: "
                    "Grad-CAM needs a feature map (batch, spatial axes..., "
                    "channels). Pick a convolution or SE block."
                )
            outputs = keras.layers.Identity(name=TARGET_NAME)(outputs)
            marked.append(outputs)
        return outputs

    flat = inline(model, mark)
    if not marked:
        raise ValueError(
            f"No layer named {name!r} in model {model.name!r} or the models "
            f"nested in it. The default would be {find_target_layer(model)!r}."
        )
    return flat


def _explainer(method: str, flat: keras.Model):
    vis = {
        name: import_optional(f"tf_keras_vis.{name}", FEATURE)
        for name in ("gradcam", "gradcam_plus_plus", "saliency")
    }
    modifiers = import_optional("tf_keras_vis.utils.model_modifiers", FEATURE)
    cls = {
        "gradcam": vis["gradcam"].Gradcam,
        "gradcam++": vis["gradcam_plus_plus"].GradcamPlusPlus,
        "saliency": vis["saliency"].Saliency,
    }
    output_layer = flat.get_layer(flat.output_names[0])
    activation = getattr(output_layer, "activation", None)
    if activation is None or activation is keras.activations.linear:
        return cls[method](flat)
    # ReplaceToLinear edits the output layer in place: on a clone (with the
    # weights copied), never on the caller's layers, which `flat` shares.
    return cls[method](flat, model_modifier=modifiers.ReplaceToLinear(), clone=True)


def _classes(model, x, classes, batch_size) -> np.ndarray:
    if classes is None:
        scores = model.predict(x, batch_size=batch_size, verbose=0)
        return np.argmax(scores, axis=-1)
    targets = np.asarray(classes)
    width = model.outputs[0].shape[-1]
    if (
        not np.issubdtype(targets.dtype, np.integer)
        or targets.ndim > 1
        or (targets.ndim == 1 and len(targets) != len(x))
        or targets.min() < 0
        or (width is not None and targets.max() >= width)
    ):
        raise ValueError(
            "`classes` must be None, a class index or one class index per "
            f"image, between 0 and {width - 1 if width else 'classes - 1'}. "
            f"Received: classes={classes!r} for {len(x)} images"
        )
    return np.broadcast_to(targets, (len(x),))
