"""The README's set-up commands stay true."""

from __future__ import annotations

import ast
import importlib
import re
import shlex

import pytest

from keras_se.errors import MissingDependencyError
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


# What the README names must exist: its commands, flags, files and dotted names.

README = (REPO_ROOT / "README.md").read_text()
# Named in the README as where things were before they moved.
MOVED = {"tests/saving/test_export.py", "keras_se.saving.export"}
# The README section(s) that document each `keras-se` subcommand.
SECTIONS = {
    "train": ("## The main job",),
    "export": ("## Saving, loading and exporting", "## Int8 deployment"),
    "explain": ("## See what the SE blocks do",),
    "tune": ("## Searching where SE goes",),
    "convert": ("## Pretrained networks",),
}
FLAG = re.compile(r"--[a-z][a-z0-9-]*")


def code_blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def keras_se_commands():
    """The arguments of every `keras-se` command in the README's bash blocks."""
    for block in code_blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            for command in line.split("#")[0].split("&&"):
                words = shlex.split(command)
                if "keras-se" in words:
                    arguments = words[words.index("keras-se") + 1 :]
                    yield [word for word in arguments if word != "..."]


def build_parser():
    from keras_se.cli.main import build_parser

    return build_parser()


def subparsers(parser):
    (action,) = [a for a in parser._actions if a.dest == "command"]
    return action.choices


def option_strings(parser):
    return {option for action in parser._actions for option in action.option_strings}


def section(heading):
    start = README.index(heading)
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def test_readme_keras_se_commands_parse():
    """Every `keras-se` command of the README parses, with its flags spelt in
    full (argparse would take a prefix such as `--max-trial`)."""
    commands = list(keras_se_commands())
    assert {arguments[0] for arguments in commands} == set(SECTIONS)
    parser = build_parser()
    for arguments in commands:
        try:
            parser.parse_args(arguments)
        except SystemExit:
            pytest.fail(f"keras-se {shlex.join(arguments)}: the parser refuses it")
        flags = {word.split("=")[0] for word in arguments if word.startswith("--")}
        options = option_strings(subparsers(parser)[arguments[0]])
        assert flags <= options, shlex.join(arguments)


def test_readme_sections_name_every_flag_of_their_subcommand():
    """Each subcommand's README section mentions each of its flags (a
    `--no-...` one through its positive form), and its "Flags:" paragraph
    names no flag the subcommand lacks."""
    for name, parser in subparsers(build_parser()).items():
        options = option_strings(parser)
        text = "".join(section(heading) for heading in SECTIONS[name])
        flags = {o for o in options if o.startswith("--") and not o.startswith("--no-")}
        assert flags - set(FLAG.findall(text)) - {"--help"} == set(), name
        for paragraph in text.split("\n\n"):
            if paragraph.startswith("Flags:"):
                assert set(FLAG.findall(paragraph)) <= options, name


def test_readme_paths_exist():
    folders = "examples|tuning|benchmarks|tests|docs|keras_se"
    paths = set(re.findall(rf"(?<![\w/.-])(?:{folders})/[\w./-]*\w", README)) - MOVED
    assert paths
    assert [path for path in sorted(paths) if not (REPO_ROOT / path).exists()] == []


def resolve(name):
    """The object a dotted `keras_se...` name stands for, importing as needed."""
    parts = name.split(".")
    target = importlib.import_module(parts[0])
    for index, part in enumerate(parts[1:], 2):
        if hasattr(target, part):
            target = getattr(target, part)
        else:
            target = importlib.import_module(".".join(parts[:index]))
    return target


def test_readme_dotted_names_resolve():
    missing = []
    for name in sorted(set(re.findall(r"\bkeras_se(?:\.\w+)+", README)) - MOVED):
        try:
            resolve(name)
        except MissingDependencyError:
            continue  # a name of an extra that is not installed here (`hub`)
        except ImportError:
            missing.append(name)
    assert missing == []


def test_readme_python_blocks_import_the_subpackages_they_use():
    """`import keras_se` attaches some subpackages (keras_se/__init__.py); a
    block that uses another one (`keras_se.demo`, `keras_se.tuning`) imports it."""
    init = ast.parse((REPO_ROOT / "keras_se" / "__init__.py").read_text())
    attached = {
        alias.name
        for node in init.body
        if isinstance(node, ast.ImportFrom) and node.module == "keras_se"
        for alias in node.names
    }
    for block in code_blocks("python"):
        tree = ast.parse(block)
        imported = {
            name.split(".")[1]
            for node in ast.walk(tree)
            for name in (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if name.startswith("keras_se.")
        }
        used = {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "keras_se"
        }
        subpackages = {
            name
            for name in used
            if (REPO_ROOT / "keras_se" / name).is_dir()
            or (REPO_ROOT / "keras_se" / f"{name}.py").is_file()
        }
        assert subpackages <= attached | imported, block
