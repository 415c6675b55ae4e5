"""Excitation analysis: what every attention block's gates do per class.

The SE paper's figures 6 and 7 plot, for a few blocks of SE-ResNet-50, the
mean excitation of each channel over the images of a class, for several
classes: early blocks excite the same channels whatever the class, late ones
become class-specific. `excitations` computes those curves for every block
with per-channel gates (SE, ECA, eSE, CBAM's channel gate, Global Context's
scale fusion, Gather-Excite's global gather) of a model in one batched pass
over a dataset.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from keras_se._validation import check_positive_int
from keras_se.layers.attention import is_attention
from keras_se.viz._graph import (
    channel_gates,
    check_graph_model,
    inline,
    is_se_layer,
)
from keras_se.viz._labelled_batches import check_labels, labelled_batches


@dataclass(frozen=True)
class BlockExcitation:
    """The excitations of one attention block over a dataset.

    Excitations are the gate values the block multiplies its input by, one
    per sample and channel, `gate_scale` included: the actual multipliers (a
    block made by `wrap_with_se` has `gate_scale=2`, so its gates lie in
    (0, 2) and start at 1).

    Attributes:
        name: the block's layer name; a block called more than once (a shared
            layer) gives one entry per call, the later ones named `name:2`,
            `name:3`, ...
        channels: the number of channels the block gates.
        gate_scale: the block's `gate_scale`.
        per_class: float64 array `(classes, channels)`, the mean excitation of
            each channel over the samples of each class; a row of NaN for a
            class with no samples.
        overall: float64 array `(channels,)`, the mean over all samples.
        counts: int array `(classes,)`, the samples of each class.
        class_specificity: how much the block's gates depend on the class:
            the mean over channels of the standard deviation (ddof=0) across
            classes (those with samples) of `per_class`. 0 when every class gets the
            same mean gates; in the units of the gates. NaN with fewer than
            two classes.
        class_deviation: float64 array `(classes,)`, for each class the mean
            over channels of `|per_class[c] - mean over classes|`: which
            classes the block treats differently. NaN for empty classes.
    """

    name: str
    channels: int
    gate_scale: float
    per_class: np.ndarray
    overall: np.ndarray
    counts: np.ndarray
    class_specificity: float
    class_deviation: np.ndarray


def excitation_model(model: keras.Model, include_outputs: bool = False) -> keras.Model:
    """Returns one model whose outputs are the gates of every attention block.

    The model shares `model`'s layers and weights (nothing is copied) and
    runs the forward pass once: each block's gates are computed from the
    same input tensor the block sees, with the block's own `excitation`
    method (CBAM2D's `channel_excitation`). Models nested in `model` (a
    `keras.applications` base inside a classifier) are inlined, so blocks
    inside them are found too.

    Args:
        model: a Functional or Sequential model with attention blocks that
            have per-channel gates: `SqueezeExcite1D/2D/3D`,
            `SqueezeExciteConv2D`, `EfficientChannelAttention1D/2D/3D`,
            `EffectiveSqueezeExcite1D/2D/3D`, `CBAM2D` (its channel gate),
            `GlobalContext2D` with a `"scale"` fusion or `GatherExcite2D`
            with `extent=0`. Other blocks (an add-only GlobalContext2D, a
            strided GatherExcite2D) are left out.
        include_outputs: also return `model`'s outputs, after the gates.

    Returns:
        A `keras.Model` on `model`'s inputs with one output of shape
        `(batch, channels)` per block call, in graph order (then `model`'s
        outputs if asked for).

    Raises:
        TypeError: if `model` is a subclassed model (no graph to read).
        ValueError: if `model` has no block with per-channel gates.

    Example:

    >>> model = keras_se.demo.model.build_digits_cnn()
    >>> gates = keras_se.viz.excitation_model(model)
    >>> [tuple(output.shape) for output in gates.outputs]
    [(None, 32), (None, 64)]
    """
    return _build(model, include_outputs)[0]


def _build(model, include_outputs):
    check_graph_model(model, "`excitation_model`")
    gates, blocks, without = [], [], []
    calls: dict[int, int] = {}

    def add_gates(layer, args, outputs):
        if is_se_layer(layer):
            calls[id(layer)] = calls.get(id(layer), 0) + 1
            number = calls[id(layer)]
            name = layer.name if number == 1 else f"{layer.name}:{number}"
            blocks.append((name, float(layer.gate_scale)))
            gates.append(_Gates(layer, name=f"{layer.name}_gates_{number}")(args[0]))
        elif is_attention(layer):
            without.append(f"{type(layer).__name__} {layer.name!r}")
        return outputs

    flat = inline(model, add_gates)
    if not gates:
        found = (
            f" Its attention blocks have none: {', '.join(without)}."
            if without
            else " Add some with `keras_se.wrap_with_se(model, attention=...)`."
        )
        raise ValueError(
            f"Model {model.name!r} has no SE blocks (keras_se attention layers "
            "with per-channel gates: SE, ECA, eSE, CBAM, GC with the scale "
            "fusion, Gather-Excite with extent=0), so there are no excitations "
            f"to collect.{found}"
        )
    outputs = gates + (list(flat.outputs) if include_outputs else [])
    # One input as a tensor, not a list of one: the arrays it is called on
    # then match its input structure (Keras warns otherwise, on PyTorch).
    inputs = flat.inputs[0] if len(flat.inputs) == 1 else flat.inputs
    return keras.Model(inputs, outputs, name=f"{model.name}_excitations"), blocks


def excitations(
    model: keras.Model,
    x,
    y=None,
    batch_size: int = 64,
    num_classes: int | None = None,
    verbose: int | str = "auto",
) -> list[BlockExcitation]:
    """Mean excitations per class and channel, for every attention block.

    One pass over the data, in batches, with a progress bar. Running sums
    are kept per class, so memory does not grow with the dataset.

    Args:
        model: a Functional or Sequential model with attention blocks that
            have per-channel gates, nested models included (see
            `excitation_model`).
        x: the inputs, a NumPy array (a list of arrays for a model with
            several inputs), or a `tf.data.Dataset` / `keras.utils.PyDataset`
            / iterable of `(x, y)` batches, in which case `y` must be `None`.
        y: integer class labels `(n,)` (or one-hot `(n, classes)`). `None`
            groups the samples by the class the model predicts instead.
        batch_size: positive int, samples per batch for array inputs.
        num_classes: the number of classes; defaults to the model's output
            width, or the largest label + 1, whichever is larger.
        verbose: 0 for silence, 1 or `"auto"` for a progress bar.

    Returns:
        A list of `BlockExcitation`, one per block call, in graph order.

    Raises:
        TypeError: if `model` is a subclassed model.
        ValueError: if `model` has no block with per-channel gates, or the
            labels are not non-negative integers, or `x` and `y` differ in
            length.

    Example:

    >>> model = keras_se.demo.model.build_digits_cnn()
    >>> _, test = keras_se.demo.data.load_digits()
    >>> blocks = keras_se.viz.excitations(model, test.x, test.y, verbose=0)
    >>> [(b.name, b.per_class.shape) for b in blocks]
    [('stage1_se', (10, 32)), ('stage2_se', (10, 64))]
    """
    check_positive_int("batch_size", batch_size)
    check_positive_int("num_classes", num_classes, allow_none=True)
    batches, target, predicted = labelled_batches(x, y, batch_size)
    gates_model, blocks = _build(model, include_outputs=predicted)
    classes = max(num_classes or 0, _output_width(model))
    widths = [int(gate.shape[-1]) for gate in gates_model.outputs[: len(blocks)]]
    sums = [np.zeros((classes, width)) for width in widths]
    counts = np.zeros(classes, dtype=np.int64)
    progbar = keras.utils.Progbar(
        target, verbose=1 if verbose == "auto" else verbose, unit_name="sample"
    )
    seen = 0
    for batch_x, batch_y in batches:
        results = gates_model.predict_on_batch(batch_x)
        results = results if isinstance(results, list) else [results]
        labels = check_labels(
            np.argmax(results[len(blocks)], axis=-1) if predicted else batch_y
        )
        if labels.size and labels.max() >= counts.size:
            extra = int(labels.max()) + 1 - counts.size
            counts = np.pad(counts, (0, extra))
            sums = [np.pad(total, ((0, extra), (0, 0))) for total in sums]
        one_hot = np.eye(counts.size)[labels]
        counts += np.bincount(labels, minlength=counts.size)
        for total, batch_gates in zip(sums, results[: len(blocks)], strict=True):
            total += one_hot.T @ np.asarray(batch_gates, dtype=np.float64)
        seen += labels.size
        progbar.update(seen)
    if target is None:
        progbar.update(seen, finalize=True)
    if seen == 0:
        raise ValueError("`x` holds no samples.")
    return [
        _summary(name, gate_scale, total, counts)
        for (name, gate_scale), total in zip(blocks, sums, strict=True)
    ]


class _Gates(keras.layers.Layer):
    """Computes a block's gates from the block's input (no weights of its own)."""

    def __init__(self, block: keras.layers.Layer, **kwargs):
        super().__init__(dtype=block.dtype_policy, **kwargs)
        self.block = block
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return channel_gates(self.block, inputs, mask=mask)

    def compute_mask(self, inputs, mask=None):
        return None


def _summary(name, gate_scale, sums, counts) -> BlockExcitation:
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = sums / counts[:, None]
    present = counts > 0
    per_class[~present] = np.nan
    overall = sums.sum(axis=0) / counts.sum()
    rows = per_class[present]
    deviation = np.full(counts.size, np.nan)
    if rows.shape[0] >= 2:
        specificity = float(np.mean(np.std(rows, axis=0)))
        deviation[present] = np.mean(np.abs(rows - rows.mean(axis=0)), axis=1)
    else:
        specificity = float("nan")
    return BlockExcitation(
        name=name,
        channels=int(sums.shape[1]),
        gate_scale=gate_scale,
        per_class=per_class,
        overall=overall,
        counts=counts.copy(),
        class_specificity=specificity,
        class_deviation=deviation,
    )


def _output_width(model: keras.Model) -> int:
    shape = model.outputs[0].shape if len(model.outputs) == 1 else ()
    return int(shape[-1]) if len(shape) == 2 and shape[-1] else 0
