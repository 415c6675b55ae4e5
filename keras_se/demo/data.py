"""The embedded default dataset: scikit-learn's bundled handwritten digits.

1,797 grey 8x8 images of the digits 0-9, shipped inside scikit-learn, so the
main job and the tests run with no download.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

DIGITS_CLASSES = 10
DIGITS_SHAPE = (8, 8, 1)


class Split(NamedTuple):
    """Images `x` of shape `(n, 8, 8, 1)` in [0, 1] and integer labels `y`."""

    x: np.ndarray
    y: np.ndarray


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> tuple[Split, Split]:
    """Loads the digits as `(train, test)` splits, stratified by class.

    Args:
        test_fraction: the share of samples held out for testing, in (0, 1).
        seed: the seed of the shuffle, so splits are the same run to run.

    Returns:
        `(train, test)`, each a `Split` of float32 images in [0, 1] with shape
        `(n, 8, 8, 1)` (channels last) and int32 labels.

    Raises:
        ValueError: if `test_fraction` is not strictly between 0 and 1.

    Example:

    >>> train, test = keras_se.demo.data.load_digits()
    >>> train.x.shape, test.x.shape
    ((1437, 8, 8, 1), (360, 8, 8, 1))
    """
    if not 0 < test_fraction < 1:
        raise ValueError(
            "`test_fraction` must be strictly between 0 and 1. "
            f"Received: test_fraction={test_fraction!r}"
        )
    from sklearn.datasets import load_digits as sklearn_load_digits
    from sklearn.model_selection import train_test_split

    digits = sklearn_load_digits()
    # Pixel values are integers 0..16.
    images = (digits.images / 16.0).astype("float32")[..., np.newaxis]
    labels = digits.target.astype("int32")
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=test_fraction, random_state=seed, stratify=labels
    )
    return Split(x_train, y_train), Split(x_test, y_test)
