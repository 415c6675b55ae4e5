"""What every export format answers for, and the helpers their runtimes share.

A format (`saved_model.py`, `litert.py`, `onnx.py`) is an `ExportFormat`: it
checks its target and its dependencies, writes a model to a staging path and
runs what it wrote in the runtime it is meant for; `checked.export_model`
compares that run with Keras.
"""

from __future__ import annotations

import re
from pathlib import Path

import keras
import numpy as np

from keras_se.errors import ExportError


class ExportFormat:
    """One deployment format: its checks, its writing and its runtime.

    Attributes:
        name: the `format` argument that picks it, e.g. `"tflite"`.
        label: its name in messages, e.g. `"TFLite"`.
        suffix: the file suffix of its target; `""` for a folder.
        quantizations: the `quantize` values it offers.
    """

    name: str = ""
    label: str = ""
    suffix: str = ""
    quantizations: tuple[str, ...] = ()

    def check_target(self, path: Path) -> Path:
        """Checks `path` suits the format and that replacing it loses nothing."""
        if path.suffix != self.suffix:
            raise ValueError(
                f"`path` must end in {self.suffix!r} for the {self.name!r} "
                f"format. Received: path={str(path)!r}"
            )
        if path.is_dir():
            raise ValueError(
                f"{path} is a folder: choose a file name ending in {self.suffix}."
            )
        return path

    def check_ready(self) -> None:
        """Raises if this backend or environment cannot write the format."""

    def write(self, model, staging: Path, quantize, representative, io_dtype, names):
        """Writes `model` to `staging`; returns the ops left in float, or None."""
        raise NotImplementedError

    def run(self, staging: Path, inputs: list[np.ndarray], names: list[str]):
        """Runs what `write` wrote on `inputs`; the outputs in Keras's order."""
        raise NotImplementedError


def flatten_outputs(outputs) -> list[np.ndarray]:
    """The outputs of a model as a flat list of arrays, in Keras's order."""
    return [
        np.asarray(keras.ops.convert_to_numpy(x)) for x in keras.tree.flatten(outputs)
    ]


def max_abs_diff(expected: list[np.ndarray], actual: list[np.ndarray]) -> float:
    """The largest absolute difference; infinity for NaN or mismatched shapes."""
    if len(expected) != len(actual):
        return float("inf")
    worst = 0.0
    for want, got in zip(expected, actual, strict=True):
        got = np.asarray(got)
        if want.shape != got.shape:
            return float("inf")
        diff = np.abs(want.astype("float64") - got.astype("float64"))
        if not np.isfinite(diff).all():
            return float("inf")
        worst = max(worst, float(np.max(diff, initial=0.0)))
    return worst


def packed(inputs: list[np.ndarray]):
    """One array for a one-input model, else the list, as Keras takes them."""
    return inputs[0] if len(inputs) == 1 else inputs


def match_inputs(keys, inputs, names, runtime) -> dict[str, np.ndarray]:
    """Feeds a runtime's input `keys` from the Keras model's named inputs."""
    if len(keys) != len(inputs):
        raise ExportError(
            f"The {runtime} model takes {len(keys)} inputs, the Keras model "
            f"{len(inputs)}."
        )
    if len(keys) == 1:
        return {keys[0]: inputs[0]}
    if set(keys) == set(names):
        return dict(zip(names, inputs, strict=True))
    raise ExportError(
        f"Cannot tell which {runtime} input is which: it has {keys}, the Keras "
        f"model {names}. Give the model's keras.Input layers distinct names."
    )


def output_order(keys: list[str]) -> list[str]:
    """A runtime's output names in the Keras model's order."""
    numbered = [re.fullmatch(r"output_(\d+)", key) for key in keys]
    if all(numbered):
        return sorted(keys, key=lambda key: int(key.split("_")[1]))
    return sorted(keys)


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
