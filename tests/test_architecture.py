"""The layout keeps its shape: arrows point down, one home per name.

The rooms of `keras_se`, from the bottom: the private checks and the errors;
`layers`; `surgery`, `saving` and the pretrained networks of `models`; `export`
(on saving's atomic writer), `viz`
and `tuning`; the main job's `demo`; and the command line, `cli`, which
nothing else imports. Imports inside functions count as much as those at the
top of a module.
"""

from __future__ import annotations

import ast
import importlib
import inspect

import keras
import pytest

import keras_se
from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "keras_se"
BASE = {
    "keras_se._optional",
    "keras_se._start_up_lines",
    "keras_se._validation",
    "keras_se._version",
    "keras_se.errors",
}
# The rooms each room may import from (besides itself and BASE).
ALLOWED = {
    "layers": set(),
    "surgery": {"layers"},
    "saving": set(),
    "models": {"layers"},
    "export": {"saving"},
    "viz": {"layers", "surgery", "saving"},
    "tuning": {"layers", "surgery", "saving"},
    "demo": {"layers", "surgery", "saving", "viz"},
    "cli": {"layers", "models", "surgery", "saving", "export", "viz", "tuning", "demo"},
}
SUBPACKAGES = sorted(ALLOWED)


def module_names() -> dict[str, ast.Module]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = (path, ast.parse(path.read_text()))
    return modules


MODULES = module_names()


def imported_modules(name: str, tree: ast.Module | None = None) -> set[str]:
    """The keras_se modules `name` imports, resolved to known module names.

    `from keras_se import errors` imports the module `keras_se.errors`;
    `import keras_se` or `from keras_se import __version__` imports the top
    package itself, which no room may do.
    """
    path, parsed = MODULES[name]
    tree = parsed if tree is None else tree
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != name)
    # A module importing its own room's package (`from keras_se.layers import
    # x` inside layers/) is not an upward arrow; the top package is.
    return {t for t in found if t == "keras_se" or not name.startswith(t + ".")}


GRAPH = {name: imported_modules(name) for name in MODULES}


def room(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_every_room_is_a_subpackage():
    assert {room(name) for name in MODULES} - {None} == set(ALLOWED)
    assert {name for name in MODULES if room(name) is None} == BASE | {"keras_se"}


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def arrows_against_the_layout(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for name, targets in graph.items():
        for target in targets:
            if name in BASE:
                if target != "keras_se.errors" or name == target:
                    wrong.append(f"{name} -> {target} (the base imports only errors)")
            elif room(name) and target == "keras_se":
                wrong.append(f"{name} -> keras_se (import the room, not the top)")
            elif (
                room(name)
                and room(target)
                and room(target) != room(name)
                and room(target) not in ALLOWED[room(name)]
            ):
                wrong.append(f"{name} -> {target}")
    return sorted(wrong)


def test_arrows_point_down():
    wrong = arrows_against_the_layout(GRAPH)
    assert not wrong, "imports against the layout:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    "source",
    [
        "import keras_se",
        "from keras_se import __version__",
        "def hint():\n    import keras_se\n    return keras_se.__version__",
    ],
)
def test_a_room_importing_the_top_package_is_refused(source):
    name = "keras_se.saving.archive"
    targets = imported_modules(name, ast.parse(source))
    assert targets == {"keras_se"}
    assert arrows_against_the_layout({name: targets}) == [
        f"{name} -> keras_se (import the room, not the top)"
    ]


def test_importing_a_base_module_from_the_top_package_is_allowed():
    name = "keras_se.saving.archive"
    source = "from keras_se import errors\nfrom keras_se._version import __version__"
    targets = imported_modules(name, ast.parse(source))
    assert targets == {"keras_se.errors", "keras_se._version"}
    assert arrows_against_the_layout({name: targets}) == []


def test_nothing_in_the_library_imports_the_command_line():
    library = [name for name in MODULES if room(name) != "cli"]
    offenders = [
        f"{name} -> {target}"
        for name in library
        for target in GRAPH[name]
        if room(target) == "cli" and name != "keras_se"
    ]
    assert not offenders
    # The top level does not import it either: `import keras_se` stays lean.
    assert not any(room(target) == "cli" for target in GRAPH["keras_se"])


@pytest.mark.parametrize(
    "package", ["keras_se", *(f"keras_se.{p}" for p in SUBPACKAGES)]
)
def test_all_lists_public_names_that_exist(package):
    module = importlib.import_module(package)
    assert len(module.__all__) == len(set(module.__all__))
    for name in module.__all__:
        assert hasattr(module, name), f"{package}.__all__ lists missing {name!r}"
        assert not name.startswith("_") or name == "__version__"


def test_attached_subpackages_are_in_all():
    # What `keras_se/__init__.py` imports itself (importing a submodule
    # elsewhere also attaches it, so the module's attributes would not tell).
    attached = {
        alias.name
        for node in MODULES["keras_se"][1].body
        if isinstance(node, ast.ImportFrom) and node.module == "keras_se"
        for alias in node.names
        if not alias.name.startswith("_")
    }
    assert attached <= set(keras_se.__all__)
    assert {"layers", "surgery", "saving", "export", "viz", "errors"} <= attached


def test_each_name_has_one_home():
    homes: dict[int, list[str]] = {}
    for package in SUBPACKAGES:
        module = importlib.import_module(f"keras_se.{package}")
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                homes.setdefault(id(value), []).append(f"keras_se.{package}.{name}")
    shared = [paths for paths in homes.values() if len(paths) > 1]
    assert not shared, f"exported from more than one subpackage: {shared}"
    # The top level only re-exports from those homes.
    for name in keras_se.__all__:
        value = getattr(keras_se, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert id(value) in homes, f"keras_se.{name} has no subpackage home"


def test_tuning_exports_no_lease_machinery():
    import keras_se.tuning

    internals = {"Heartbeat", "LeasedOracleMixin", "add_leases", "RetryingStub"}
    assert not internals & set(keras_se.tuning.__all__)
    assert "SEHyperModel" in keras_se.tuning.__all__


def test_each_constant_is_defined_once():
    defined: dict[str, list[str]] = {}
    for name, (_, tree) in MODULES.items():
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    defined.setdefault(target.id, []).append(name)
    twice = {key: where for key, where in defined.items() if len(where) > 1}
    assert not twice, f"constants defined in more than one module: {twice}"


def test_every_public_layer_is_registered():
    for name in keras_se.layers.__all__:
        value = getattr(keras_se.layers, name)
        if inspect.isclass(value) and issubclass(value, keras.layers.Layer):
            registered = keras.saving.get_registered_name(value)
            assert registered == f"keras_se>{name}"


def test_saving_reaches_the_moved_export_names_without_importing_export():
    # keras_se.saving.export_model & co. moved to keras_se.export; saving finds
    # them there on first use (importlib, no import statement: no upward arrow).
    import keras_se.export
    import keras_se.saving

    assert not any(room(target) == "export" for target in GRAPH["keras_se.saving"])
    for name in keras_se.saving.MOVED_TO_EXPORT:
        assert getattr(keras_se.saving, name) is getattr(keras_se.export, name)
        assert name in keras_se.export.__all__
        assert name not in keras_se.saving.__all__
    with pytest.raises(AttributeError, match="no_such_name"):
        keras_se.saving.no_such_name  # noqa: B018
