"""What a saved model needs beyond the layer contract (`test_contract.py`)."""

from __future__ import annotations

import keras
import pytest

import keras_se
from tests.conftest import run_python


@pytest.mark.large
def test_fresh_process_without_import_fails_clearly(tmp_path):
    model = keras.Sequential(
        [keras.Input((4, 4, 8)), keras_se.SqueezeExcite2D(ratio=4)]
    )
    path = tmp_path / "model.keras"
    model.save(path)
    code = f"""
import json, keras
try:
    keras.saving.load_model({str(path)!r})
    print(json.dumps({{"error": None}}))
except Exception as error:
    print(json.dumps({{"error": str(error)}}))
"""
    error = run_python(code)["error"]
    assert error is not None and "keras_se>SqueezeExcite2D" in error
