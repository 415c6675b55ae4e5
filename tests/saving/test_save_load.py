"""Atomic saving, safe loading and round trips of every layer."""

from __future__ import annotations

import os
import stat

import keras
import numpy as np
import pytest

import keras_se
from tests.conftest import random_inputs
from tests.saving.helpers import (
    LAYER_CASES,
    assert_same_weights,
    layer_inputs,
    layer_model,
    se_cnn,
)


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
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(reloaded(x)), keras.ops.convert_to_numpy(model(x))
    )
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


@pytest.mark.parametrize("name", LAYER_CASES)
def test_every_layer_round_trips_through_a_keras_archive(name, tmp_path):
    model = layer_model(name)
    x = layer_inputs(name)
    path = keras_se.save_model(model, tmp_path / f"{name}.keras")
    reloaded = keras_se.load_model(path)
    assert type(reloaded.get_layer("se")) is LAYER_CASES[name][0]
    assert reloaded.get_layer("se").get_config() == model.get_layer("se").get_config()
    assert_same_weights(model, reloaded)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(reloaded(x)), keras.ops.convert_to_numpy(model(x))
    )


@pytest.mark.parametrize("name", LAYER_CASES)
def test_every_layer_round_trips_through_a_weights_file(name, tmp_path):
    model = layer_model(name, seed=0)
    path = keras_se.save_weights(model, tmp_path / f"{name}.weights.h5")
    copy = layer_model(name, seed=1)
    keras_se.load_weights(copy, path)
    assert_same_weights(model, copy)
    x = layer_inputs(name)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(copy(x)), keras.ops.convert_to_numpy(model(x))
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_keras_own_load_weights_reads_what_save_weights_wrote(tmp_path):
    model = se_cnn(seed=0)
    path = keras_se.save_weights(model, tmp_path / "cnn.weights.h5")
    copy = se_cnn(seed=1)
    copy.load_weights(path)
    assert_same_weights(model, copy)


def test_save_weights_rejects_other_suffixes(tmp_path):
    with pytest.raises(ValueError, match=r"'.weights.h5'.*cnn.h5"):
        keras_se.save_weights(se_cnn(), tmp_path / "cnn.h5")
    assert list(tmp_path.iterdir()) == []


def test_save_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    path = keras_se.save_model(tiny_model(), tmp_path / "model.keras")
    umask = os.umask(0)
    os.umask(umask)
    # A new file gets the usual mode, not the 0600 of a temporary file.
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    path.chmod(0o640)
    keras_se.save_model(tiny_model(units=2), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_save_through_a_symlink_replaces_the_file_and_keeps_the_link(tmp_path):
    real = keras_se.save_model(tiny_model(units=4), tmp_path / "v1.keras")
    link = tmp_path / "latest.keras"
    link.symlink_to(real.name)
    keras_se.save_model(tiny_model(units=2), link)
    assert link.is_symlink()
    assert keras_se.load_model(real).layers[0].units == 2


def leftovers(folder, stem="model"):
    names = [
        f".{stem}.0123abcd.keras",  # staging of a killed save
        f".{stem}.0123abcd.lock",
        f".{stem}.feedbeef.lock",  # killed just after its rename
        f".{stem}.k3j_x9z1.keras.tmp",  # keras-se 0.1.0's temporary name
    ]
    for name in names:
        (folder / name).write_bytes(b"PK\x03\x04 half an archive")
    return names


def test_a_successful_save_removes_what_killed_saves_left(tmp_path):
    leftovers(tmp_path)
    # Not leftovers of this target: another target's, and a user's hidden file.
    kept = [".model.v2.0123abcd.keras", ".model.backup01.keras", "other.keras"]
    for name in kept:
        (tmp_path / name).write_bytes(b"keep me")
    keras_se.save_model(tiny_model(), tmp_path / "model.keras")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, "model.keras"])


def test_a_save_leaves_the_files_of_a_save_still_running(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    leftovers(tmp_path)
    # Another process's save of the same target holds its lock while it writes.
    descriptor = os.open(tmp_path / ".model.0123abcd.lock", os.O_RDONLY)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        keras_se.save_model(tiny_model(), tmp_path / "model.keras")
        running = {".model.0123abcd.keras", ".model.0123abcd.lock"}
        assert {p.name for p in tmp_path.iterdir()} == {*running, "model.keras"}
    finally:
        os.close(descriptor)
    keras_se.save_model(tiny_model(), tmp_path / "model.keras")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]
