"""Atomic `.keras` saving."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_se
from tests.conftest import random_inputs


def tiny_model(units=4):
    return keras.Sequential(
        [keras.Input((4, 4, 8)), keras_se.SqueezeExcite2D(units=units)]
    )


def test_save_model_writes_a_loadable_archive(tmp_path):
    model = tiny_model()
    path = keras_se.save_model(model, tmp_path / "nested" / "model.keras")
    assert path == tmp_path / "nested" / "model.keras"
    x = random_inputs((2, 4, 4, 8))
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(np.asarray(reloaded(x)), np.asarray(model(x)))
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.keras"]


def test_save_model_rejects_other_suffixes(tmp_path):
    with pytest.raises(ValueError, match=r"`path` must end in '.keras'.*model.h5"):
        keras_se.save_model(tiny_model(), tmp_path / "model.h5")
    assert list(tmp_path.iterdir()) == []


def test_failed_save_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = keras_se.save_model(tiny_model(units=4), tmp_path / "model.keras")
    before = path.read_bytes()

    def broken_save(model, filepath, **kwargs):
        with open(filepath, "wb") as partial:
            partial.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(keras.saving, "save_model", broken_save)
    with pytest.raises(OSError, match="disk full"):
        keras_se.save_model(tiny_model(units=2), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]
