"""A model's inference time, measured where it trained.

`predict_on_batch` runs the model's compiled predict step (XLA on JAX,
`tf.function` on TensorFlow) on the device Keras places it on, and returns
NumPy, so each timed call includes the wait for the device. The first calls
compile and warm caches: they are run first and not counted. The median of
the repeated calls resists the odd slow one (another process, a GC pause).
"""

from __future__ import annotations

import time

import keras
import numpy as np

from keras_se._validation import check_positive_int


def measure_latency_ms(
    model: keras.Model, batch_size: int = 1, warmup: int = 3, repeats: int = 20
) -> float:
    """The median time in milliseconds of one `predict_on_batch` call.

    Args:
        model: a built model with known input shapes (but the batch).
        batch_size: the rows in the batch timed.
        warmup: calls made first and not counted.
        repeats: calls timed; the median is returned.

    Returns:
        Milliseconds per call of `batch_size` rows.

    Raises:
        ValueError: for a bad count, or an input with an unknown dimension.

    Example:

    >>> from keras_se.tuning.latency import measure_latency_ms
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> measure_latency_ms(model, batch_size=8, warmup=1, repeats=3) > 0
    True
    """
    check_positive_int("batch_size", batch_size)
    check_positive_int("repeats", repeats)
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(
            f"`warmup` must be a non-negative integer. Received: warmup={warmup!r}"
        )
    batch = _zeros_batch(model, batch_size)
    for _ in range(warmup):
        model.predict_on_batch(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_on_batch(batch)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000.0)


def _zeros_batch(model: keras.Model, batch_size: int):
    arrays = []
    for tensor in model.inputs:
        shape = tuple(tensor.shape[1:])
        if any(size is None for size in shape):
            raise ValueError(
                f"Latency needs inputs of known shape; the model's input "
                f"`{tensor.name}` has shape {tuple(tensor.shape)}."
            )
        arrays.append(np.zeros((batch_size, *shape), dtype=tensor.dtype))
    return arrays[0] if len(arrays) == 1 else arrays
