"""The embedded digits dataset."""

from __future__ import annotations

import numpy as np
import pytest

from keras_se.demo.data import load_digits


def test_digits_splits():
    train, test = load_digits()
    assert train.x.shape == (1437, 8, 8, 1) and test.x.shape == (360, 8, 8, 1)
    assert train.x.dtype == np.float32 and train.y.dtype == np.int32
    assert train.x.min() == 0.0 and train.x.max() == 1.0
    # Stratified: every class in both splits in about the same share.
    np.testing.assert_allclose(
        np.bincount(train.y) / len(train.y),
        np.bincount(test.y) / len(test.y),
        atol=0.01,
    )


def test_digits_split_is_seeded():
    first, second = load_digits(seed=3)[1], load_digits(seed=3)[1]
    np.testing.assert_array_equal(first.x, second.x)
    assert not np.array_equal(first.y, load_digits(seed=4)[1].y)


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5])
def test_bad_test_fraction(fraction):
    with pytest.raises(
        ValueError, match=rf"`test_fraction`.*Received: test_fraction={fraction}"
    ):
        load_digits(test_fraction=fraction)
