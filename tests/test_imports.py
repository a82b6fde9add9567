"""The architecture, checked: descentlab's imports form no cycle, and the engine stays below the
lab, the plots, the report, the playground and the CLI.

The import graph is read from the source (``ast``), so a function-local import counts as much as
one at the top of a module: a cycle cannot hide inside a function. An edge goes from a module to
every descentlab module it imports (``import descentlab.x``, ``from descentlab import x``,
``from descentlab.x import y``, relative imports, ``importlib.import_module("descentlab.x")``).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import descentlab

PACKAGE = "descentlab"
ROOT = Path(descentlab.__file__).parent
#: The packages and modules above the engine: the engine never imports them.
UPPER_FLOORS = ("descentlab.lab", "descentlab.plots", "descentlab.report",
                "descentlab.playground", "descentlab.cli")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The descentlab module that importing ``name`` loads last: ``name`` itself if it is one,
    else the module that defines it (``descentlab.models.Sequential`` → ``descentlab.models``)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imported_names(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    """Every absolute name the module imports, wherever the import statement stands."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package, one level up per extra dot
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # X.a is module X.a if there is one, else a name defined in X (see resolve).
            names += [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module" \
                and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            names.append(node.args[0].value)
    return [n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")]


def import_graph(extra: dict[str, str] | None = None) -> dict[str, set[str]]:
    """{module: the descentlab modules it imports}; ``extra`` adds source to a module (tests)."""
    modules = all_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        source = path.read_text(encoding="utf-8") + (extra or {}).get(module, "")
        tree = ast.parse(source, filename=str(path))
        targets = {resolve(name, modules) for name in
                   imported_names(tree, module, path.name == "__init__.py")}
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of modules (first = last), or None (depth-first)."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def engine_modules() -> list[str]:
    """The engine: the modules directly in the package (subpackages such as lab/ are floors
    above it), the CLI excepted."""
    return [module_name(path) for path in sorted(ROOT.glob("*.py"))
            if path.name != "__init__.py" and module_name(path) not in UPPER_FLOORS]


def test_the_graph_sees_every_module_and_known_edges() -> None:
    assert {"descentlab.models", "descentlab.saving", "descentlab.files",
            "descentlab.validation"} <= set(engine_modules())
    assert "descentlab.cli" not in engine_modules()
    graph = import_graph()
    assert {"descentlab.models", "descentlab.saving", "descentlab.lab.results",
            "descentlab.cli"} <= set(graph)
    assert "descentlab.optimizers" in graph["descentlab.models"]
    assert "descentlab.lab.results" in graph["descentlab.cli"]
    assert "descentlab.diagnostics" in graph["descentlab.callbacks"]


def test_descentlab_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


@pytest.mark.parametrize("where, source", [
    ("descentlab.saving", "\nimport descentlab.models\n"),
    ("descentlab.diagnostics", "\ndef later():\n    from descentlab.callbacks import History\n"),
    ("descentlab.layers", "\ndef later():\n    from . import models\n"),
])
def test_a_cycle_added_back_is_found(where: str, source: str) -> None:
    """The check itself: each of these imports (top-level, function-local, relative) closes a
    cycle, and the walk reports it."""
    cycle = find_cycle(import_graph({where: source}))
    assert cycle is not None and where in cycle


def test_saving_is_a_leaf_of_the_engine() -> None:
    """saving reads and writes configs and arrays: it imports no model, layer or optimizer."""
    assert import_graph()["descentlab.saving"] <= {
        "descentlab", "descentlab.errors", "descentlab.files"}


@pytest.mark.parametrize("module", engine_modules())
def test_the_engine_never_imports_the_upper_floors(module: str) -> None:
    graph = import_graph()
    above = {t for t in graph[module]
             if any(t == up or t.startswith(up + ".") for up in UPPER_FLOORS)}
    assert not above, f"{module} imports {sorted(above)}"


@pytest.mark.parametrize("module", ["descentlab.saving", "descentlab.callbacks",
                                    "descentlab.diagnostics", "descentlab.models"])
def test_each_module_imports_first_in_a_fresh_python(module: str) -> None:
    """Importing any of them first works (no order in which a half-built module is met)."""
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
