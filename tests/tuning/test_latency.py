"""Measured inference latency: a positive median, in milliseconds, of real calls."""

from __future__ import annotations

import keras
import pytest

from keras_se.tuning.latency import measure_latency_ms


def dense_model(*shape):
    return keras.Sequential([keras.Input(shape), keras.layers.Dense(3)])


def test_latency_counts_only_the_timed_calls(monkeypatch):
    model = dense_model(4)
    calls = []
    monkeypatch.setattr(model, "predict_on_batch", lambda x: calls.append(x.shape))
    assert measure_latency_ms(model, batch_size=5, warmup=2, repeats=3) >= 0
    assert calls == [(5, 4)] * 5


def test_latency_of_a_real_model_is_positive():
    assert measure_latency_ms(dense_model(8), batch_size=2, warmup=1, repeats=3) > 0


def test_two_inputs_get_a_batch_each():
    first, second = keras.Input((2,)), keras.Input((3,))
    joined = keras.layers.Concatenate()([first, second])
    model = keras.Model([first, second], keras.layers.Dense(1)(joined))
    assert measure_latency_ms(model, warmup=0, repeats=1) > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"repeats": 0}, "repeats"),
        ({"warmup": -1}, "warmup"),
    ],
)
def test_bad_counts_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        measure_latency_ms(dense_model(2), **kwargs)


def test_unknown_input_sizes_are_refused():
    model = keras.Sequential([keras.Input((None, 2)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="known shape"):
        measure_latency_ms(model)
