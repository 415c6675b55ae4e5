"""The `>>>` examples in the public docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import keras
import keras_tuner
import numpy as np
import pytest

import keras_se
import keras_se.data  # examples use keras_se.data without importing it

MODULES = [
    "keras_se.data",
    "keras_se.distribute",
    "keras_se.export",
    "keras_se.io",
    "keras_se.models",
    "keras_se.layers.gates",
    "keras_se.layers.squeeze_excite_1d",
    "keras_se.layers.squeeze_excite_2d",
    "keras_se.layers.squeeze_excite_3d",
    "keras_se.layers.squeeze_excite_conv_2d",
    "keras_se.surgery.report",
    "keras_se.surgery.wrap",
    "keras_se.tuning.hypermodel",
    "keras_se.viz.excitation",
    "keras_se.viz.explain",
    "keras_se.viz.plots",
    "keras_se.viz.saliency",
]


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(module_name)
    globs = {
        "np": np,
        "keras": keras,
        "keras_se": keras_se,
        "keras_tuner": keras_tuner,
        "tmp_dir": tmp_path,
    }
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = [test for test in finder.find(module, globs=globs) if test.examples]
    assert tests, f"{module_name} has no examples"
    for test in tests:
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} example(s) failed in {module_name}"
