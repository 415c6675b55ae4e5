"""The inputs an export is checked on, calibration data, and accuracy kept.

Every export is run on sample inputs (`make_sample_inputs`) and compared
with Keras.

A full-integer (int8) export fixes the range of every activation from a few
hundred representative inputs; its outputs then differ from the float
model's by far more than float rounding, so it is judged by accuracy on
held-out labelled data instead: top-1 agreement with the float model and
both accuracies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import numpy as np

# Post-training calibration saturates after a few hundred samples.
CALIBRATION_SAMPLES = 256


@dataclasses.dataclass(frozen=True)
class AccuracyCheck:
    """Top-1 accuracies of the float model and of its export, on held-out data.

    Attributes:
        float_accuracy: the Keras model's accuracy, in [0, 1].
        accuracy: the exported model's accuracy, in [0, 1].
        agreement: the share of samples where both predict the same class.
        samples: the number of held-out samples.
    """

    float_accuracy: float
    accuracy: float
    agreement: float
    samples: int

    @property
    def drop_points(self) -> float:
        """How many percentage points the export loses (negative: gains)."""
        return 100.0 * (self.float_accuracy - self.accuracy)


def representative_samples(
    data, num_inputs: int, limit: int = CALIBRATION_SAMPLES
) -> list[list[np.ndarray]]:
    """Splits representative data into single samples, one array per input.

    Args:
        data: an array (a batch, for a model with one input), a
            `tf.data.Dataset`, or a callable returning an iterable; a dataset
            or an iterable yields batches: an array, a list of arrays (one
            per model input) or an `(x, y)` tuple, whose `y` is dropped.
        num_inputs: how many inputs the model takes.
        limit: the most samples to return.

    Returns:
        Up to `limit` samples, each a list of float32 arrays with a batch
        axis of 1.

    Raises:
        ValueError: for data of another type, or no samples.
    """
    samples = []
    for batch in _batches(data):
        arrays = _inputs_of(batch, num_inputs)
        for i in range(len(arrays[0])):
            samples.append([array[i : i + 1] for array in arrays])
            if len(samples) >= limit:
                return samples
    if not samples:
        raise ValueError(
            "`representative_data` gave no samples: pass a non-empty array, "
            "dataset or generator."
        )
    return samples


def check_labelled(validation_data) -> tuple[np.ndarray, np.ndarray]:
    """Checks `validation_data` is `(x, y)` with as many labels as inputs."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise ValueError(
            "`validation_data` must be a tuple (x, y) of held-out inputs and "
            f"labels. Received: {type(validation_data).__name__}"
        )
    x, y = (np.asarray(part) for part in validation_data)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(
            "`validation_data` must hold as many labels as inputs, at least one. "
            f"Received: {len(x)} inputs and {len(y)} labels"
        )
    return x, y


def measure_accuracy(
    float_outputs: np.ndarray, outputs: np.ndarray, labels: np.ndarray
) -> AccuracyCheck:
    """Top-1 accuracies and agreement of two models' scores on `labels`.

    Args:
        float_outputs: the Keras model's scores, `(samples, classes)`.
        outputs: the exported model's scores, same shape.
        labels: class indices `(samples,)`, or one-hot `(samples, classes)`.

    Returns:
        An `AccuracyCheck`.

    Example:

    >>> from keras_se.export.calibration import measure_accuracy
    >>> scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> check = measure_accuracy(scores, scores[:, ::-1], np.array([0, 1, 1]))
    >>> check.float_accuracy, check.accuracy, check.agreement
    (0.6666666666666666, 0.3333333333333333, 0.0)
    """
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[-1] > 1:
        labels = labels.argmax(-1)
    labels = labels.reshape(-1)
    expected = np.asarray(float_outputs).argmax(-1).reshape(-1)
    actual = np.asarray(outputs).argmax(-1).reshape(-1)
    return AccuracyCheck(
        float_accuracy=float(np.mean(expected == labels)),
        accuracy=float(np.mean(actual == labels)),
        agreement=float(np.mean(expected == actual)),
        samples=len(labels),
    )


def _batches(data) -> Iterable:
    if isinstance(data, np.ndarray):
        return [data]
    if isinstance(data, (list, tuple)) and all(
        isinstance(part, np.ndarray) for part in data
    ):
        return [data]
    if hasattr(data, "as_numpy_iterator"):  # a tf.data.Dataset
        return data.as_numpy_iterator()
    if isinstance(data, Callable):
        return data()
    raise ValueError(
        "`representative_data` must be an array, a tf.data.Dataset or a "
        f"callable yielding batches. Received: {type(data).__name__}"
    )


def _inputs_of(batch, num_inputs: int) -> list[np.ndarray]:
    if isinstance(batch, dict):
        batch = list(batch.values())
    if isinstance(batch, (list, tuple)):
        # A 1-input model's `(x, y)` or `(x, y, weights)`: the inputs come first.
        parts = list(batch[0]) if num_inputs > 1 else [batch[0]]
        if num_inputs > 1 and len(batch) == num_inputs:
            parts = list(batch)
    else:
        parts = [batch]
    if len(parts) != num_inputs:
        raise ValueError(
            f"Each representative batch must give {num_inputs} input arrays. "
            f"Received: {len(parts)}"
        )
    return [np.asarray(part, dtype="float32") for part in parts]


def make_sample_inputs(model, sample_inputs) -> list[np.ndarray]:
    """The inputs to compare on: the user's, cast, or seeded random ones."""
    specs = getattr(model, "inputs", None)
    if sample_inputs is not None:
        arrays = (
            [sample_inputs]
            if isinstance(sample_inputs, np.ndarray)
            else list(sample_inputs)
        )
        if specs and len(arrays) != len(specs):
            raise ValueError(
                f"`sample_inputs` must hold one array per model input "
                f"({len(specs)}). Received: {len(arrays)} arrays"
            )
        dtypes = [spec.dtype for spec in specs] if specs else [None] * len(arrays)
        return [
            np.asarray(array, dtype=dtype)
            for array, dtype in zip(arrays, dtypes, strict=True)
        ]
    if not specs:
        raise ValueError(
            f"{model.name!r} has no symbolic inputs to make samples from: pass "
            "`sample_inputs`."
        )
    rng = np.random.default_rng(0)
    arrays = []
    for spec in specs:
        shape = [4] + [32 if size is None else size for size in spec.shape[1:]]
        if "int" in str(spec.dtype):
            arrays.append(rng.integers(0, 2, size=shape).astype(spec.dtype))
        else:
            arrays.append(rng.uniform(-1, 1, size=shape).astype(spec.dtype))
    return arrays
