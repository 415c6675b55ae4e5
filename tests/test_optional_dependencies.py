"""The core runs without TensorFlow; what needs it says which extra to install.

On JAX and on PyTorch, a subprocess hides TensorFlow and the other optional packages
(`sys.modules[name] = None` makes their import fail as if they were not
installed), so this proves the point even where they are installed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest

from keras_se._optional import EXTRAS
from tests.conftest import REPO_ROOT, run_python

HIDDEN = ("tensorflow", "tf_keras_vis", "tensorboard", "tf2onnx", "keras_hub")
HIDE = f"import sys\nfor name in {HIDDEN!r}:\n    sys.modules[name] = None\n"
needs_jax = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="needs JAX: pip install jax"
)
BACKENDS = [
    pytest.param(
        name,
        marks=pytest.mark.skipif(
            importlib.util.find_spec(name) is None,
            reason=f"needs {name}: pip install 'keras-se[backends]'",
        ),
    )
    for name in ("jax", "torch")
]

CORE = """
import json
import keras
import numpy as np
import keras_se
import keras_se.tuning
from keras_se.demo import distribute, flags
from keras_se.demo.data import load_digits

inputs = keras.Input((8, 8, 3))
x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
x = keras.layers.GlobalAveragePooling2D()(x)
plain = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
model = keras_se.wrap_with_se(plain, ratio=2, identity_init=True)
images = np.random.default_rng(0).random((6, 8, 8, 3), "float32")
before = plain.predict(images, verbose=0)
after = model.predict(images, verbose=0)
model.compile("adam", "sparse_categorical_crossentropy")
model.fit(images, np.arange(6) % 3, epochs=1, verbose=0)
path = keras_se.save_model(model, "wrapped.keras")
reloaded = keras_se.load_model(path)
blocks = keras_se.viz.excitations(model, images, np.arange(6) % 3, verbose=0)
png = keras_se.viz.plot_excitations(blocks, "excitations.png")
errors = []
for call in (
    lambda: distribute.choose_strategy("mirrored"),
    lambda: keras_se.viz.heatmaps(model, images[:1]),
):
    try:
        call()
    except ImportError as error:
        errors.append(str(error))
print(json.dumps({
    "backend": keras.backend.backend(),
    "se_blocks": len(keras_se.describe(model)),
    "identity": float(np.max(np.abs(before - after))),
    "reload": float(np.max(np.abs(
        model.predict(images, verbose=0) - reloaded.predict(images, verbose=0)
    ))),
    "excitation_blocks": [block.channels for block in blocks],
    "png": png.stat().st_size,
    "errors": errors,
    "tensorflow_loaded": sys.modules.get("tensorflow") is not None,
}))
"""


@pytest.mark.large
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_core_runs_without_tensorflow(backend, tmp_path):
    result = run_python(
        HIDE + f"import os\nos.chdir({str(tmp_path)!r})\n" + CORE, backend=backend
    )
    assert result["backend"] == backend and result["tensorflow_loaded"] is False
    assert result["se_blocks"] == 2 and result["excitation_blocks"] == [8, 8]
    assert result["identity"] < 1e-6 and result["reload"] < 1e-6
    assert result["png"] > 1000
    # One line each, naming the extra that installs what is missing.
    assert len(result["errors"]) == 2
    for message in result["errors"]:
        assert "\n" not in message
        assert message.endswith("pip install 'keras-se[tensorflow]'")


@pytest.mark.large
@needs_jax
def test_the_tf_data_example_without_tensorflow_exits_2_in_one_line():
    code = (
        HIDE
        + "import runpy\n"
        + "sys.argv = ['train.py', '--epochs', '1', '--output-dir', 'unused']\n"
        + f"runpy.run_path({str(REPO_ROOT / 'examples' / 'train.py')!r}, "
        + "run_name='__main__')\n"
    )
    env = {"KERAS_BACKEND": "jax", "PYTHONPATH": str(REPO_ROOT)}
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )
    assert completed.returncode == 2, completed.stderr[-2000:]
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith("train.py: error: ")
    assert last.endswith("pip install 'keras-se[tensorflow]'")
    assert "Traceback" not in completed.stderr


def pyproject():
    tomllib = pytest.importorskip("tomllib")
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]


def names(requirements):
    return {re.split(r"[<>=\[ ;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_base_install_has_no_tensorflow_and_the_extras_have_it():
    project = pyproject()
    base = names(project["dependencies"])
    extras = project["optional-dependencies"]
    assert {"keras", "keras-tuner"} <= base
    assert not base & {"tensorflow", "tf-keras-vis", "tensorboard", "keras-hub"}
    assert not base & {"tf2onnx", "onnx", "onnxruntime", "jax", "torch"}
    assert {"tensorflow", "tf-keras-vis", "tensorboard"} <= names(extras["tensorflow"])
    assert "keras-hub>=0.32.0" in extras["hub"]
    # The README's install (`.[dev]`) keeps installing everything the tests use.
    dev = " ".join(extras["dev"])
    assert "keras-se[test,tensorflow,onnx,hub]" in dev and "jax" in names(extras["dev"])
    # Every extra an error message names exists.
    assert set(EXTRAS.values()) <= set(extras)


KERAS_HUB_ON_FIRST_USE = """
import json, sys
import keras_se
import keras_se.models
loaded_on_import = "keras_hub" in sys.modules
sys.modules["keras_hub"] = None
try:
    keras_se.models.SEResNetBackbone
    error = None
except ImportError as caught:
    error = f"{type(caught).__name__}: {caught}"
print(json.dumps({"loaded_on_import": loaded_on_import, "error": error}))
"""


def test_keras_se_models_imports_kerashub_only_for_its_backbone():
    result = run_python(KERAS_HUB_ON_FIRST_USE)
    assert result["loaded_on_import"] is False
    assert result["error"] == (
        "MissingDependencyError: keras_se's KerasHub backbone needs `keras_hub`, "
        "which is not installed: pip install 'keras-se[hub]'"
    )
