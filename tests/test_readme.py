"""The README's set-up commands stay true."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT


def first_commands():
    readme = (REPO_ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.strip().splitlines()]


def test_readme_starts_with_install_and_test_commands():
    head = (REPO_ROOT / "README.md").read_text().splitlines()[:8]
    install, test = first_commands()
    assert any(install in line for line in head) and any(test in line for line in head)
    assert 'pip install -e ".[dev]"' in install and "keras-se train" in install


def test_ci_runs_the_readme_test_command():
    _, test = first_commands()
    ci_lines = (REPO_ROOT / ".ci" / "run").read_text().splitlines()
    assert test in [line.strip() for line in ci_lines]
