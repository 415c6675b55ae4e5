"""The data the excitation analysis runs on, as batches of `(x, labels)`.

`keras_se.viz.excitations` takes NumPy arrays with their labels, or a
`tf.data.Dataset`, `keras.utils.PyDataset` or any iterable of `(x, y)`
batches; here both become one iterator of batches, and labels become class
indices.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np


def check_labels(labels) -> np.ndarray:
    """Class indices `(n,)` from integer labels or one-hot rows `(n, classes)`."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = np.argmax(labels, axis=-1)
    labels = labels.reshape(-1)
    if labels.size and (not np.all(np.equal(np.mod(labels, 1), 0)) or labels.min() < 0):
        raise ValueError(
            "`y` must hold class indices, non-negative integers (or one-hot "
            f"rows). Received: y with values such as {labels[:5].tolist()}"
        )
    return labels.astype(np.int64)


def labelled_batches(x, y, batch_size) -> tuple[Iterator, int | None, bool]:
    """Returns `(iterator of (x, y) batches, samples or None, labels missing)`."""
    if _is_array_data(x):
        arrays = list(x) if isinstance(x, (list, tuple)) else [x]
        size = len(arrays[0])
        if y is not None and len(y) != size:
            raise ValueError(
                "`x` and `y` must hold the same number of samples. Received: "
                f"{size} inputs and {len(y)} labels"
            )

        def sliced():
            for start in range(0, size, batch_size):
                part = [np.asarray(a[start : start + batch_size]) for a in arrays]
                labels = (
                    None if y is None else np.asarray(y[start : start + batch_size])
                )
                yield (part if len(part) > 1 else part[0]), labels

        return sliced(), size, y is None
    if y is not None:
        raise ValueError(
            "Pass `y=None` when `x` is a dataset: its batches carry the labels."
        )
    return _dataset_batches(x), None, False


def _dataset_batches(dataset: Iterable) -> Iterator:
    for batch in dataset:
        if isinstance(batch, (tuple, list)) and len(batch) >= 2:
            yield batch[0], np.asarray(batch[1])
        else:
            raise ValueError(
                "A dataset given as `x` must yield `(x, y)` batches, with "
                f"labels. Received a batch of type {type(batch).__name__}"
            )


def _is_array_data(x) -> bool:
    if isinstance(x, (list, tuple)):
        return all(hasattr(item, "shape") for item in x)
    return hasattr(x, "shape") and hasattr(x, "__len__")
