"""The `>>>` examples in the public docstrings run and print what they say."""

from __future__ import annotations

import argparse
import doctest
import importlib

import keras
import keras_tuner
import numpy as np
import pytest

import keras_se
import keras_se.demo.data  # examples use keras_se.demo.data without importing it
from tests.conftest import REPO_ROOT

# Every module with a `>>>` example: a new module's examples run unasked. The
# 1D/2D/3D layers' docstrings are filled from one template (their modules'
# text holds no `>>>`), so the modules of the layers' rendered docstrings too.
MODULES = sorted(
    {
        ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
        for path in (REPO_ROOT / "keras_se").rglob("*.py")
        if ">>> " in path.read_text()
    }
    | {
        getattr(keras_se.layers, name).__module__
        for name in keras_se.layers.__all__
        if ">>> " in (getattr(getattr(keras_se.layers, name), "__doc__", "") or "")
    }
)

# Examples that train, build or wrap an application, or draw: seconds each.
LARGE_EXAMPLES = {
    "keras_se.demo.training",
    "keras_se.models.applications",
    "keras_se.surgery.plan",
    "keras_se.surgery.wrap",
    "keras_se.viz.excitation_plots",
    "keras_se.viz.explain",
    "keras_se.viz.plots",
}

# The KerasHub classes (the `hub` extra).
NEEDS_KERAS_HUB = {"keras_se.models.hub_backbone", "keras_se.models.hub_classifier"}


@pytest.mark.parametrize(
    "module_name",
    [
        pytest.param(name, marks=pytest.mark.large) if name in LARGE_EXAMPLES else name
        for name in MODULES
    ],
)
def test_docstring_examples(module_name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if module_name in NEEDS_KERAS_HUB:
        pytest.importorskip("keras_hub")
    module = importlib.import_module(module_name)
    globs = {
        "argparse": argparse,
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
