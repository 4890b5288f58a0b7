"""The package's floors point one way and no module imports itself back.

Floors, lowest first (docs/design.md): the base (errors, version, formatting),
the storage primitives (``workspace/``), what engines declare and where they are
registered, the catalog, then maintenance, stored results and the ``Workspace``
facade, then what runs and presents pipelines (engines, experiment, library,
reports, workflows), and the CLI on top. An import may point down or sideways
within a floor, never up. Imports under ``if TYPE_CHECKING:`` are annotations
only and are not arrows.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

PACKAGE = "nirs4all_workspace"
SOURCE = Path(__file__).resolve().parents[1] / "src" / PACKAGE

FLOORS: list[tuple[str, ...]] = [
    ("errors", "version", "formatting"),
    ("workspace",),
    # what engines declare (metric directions, default metrics, words) and where they are
    # found: light modules the catalog consults to rank rows by the engine that made them
    ("engines.declaration", "engines.registry"),
    ("catalog",),
    ("facade", "maintenance", "stored_results"),
    (
        "engines",
        "experiment",
        "parallel",
        "post_run",
        "resume",
        "planning",
        "library",
        "reports",
        "workflows",
        "configs",
        "inspection",
        "comparison",
    ),
    ("cli",),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.startswith(PACKAGE):
                # "from . import x" names a module when x is one
                for alias in node.names:
                    candidate = f"{target}.{alias.name}"
                    found.add(candidate if candidate in ALL_MODULES else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(PACKAGE))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(module)
    return found


ALL_MODULES = {module_name(p) for p in SOURCE.rglob("*.py")}


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in sorted(SOURCE.rglob("*.py")):
        name = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = _imports(tree, name, path.name == "__init__.py")
        # importing a.b.c runs a/__init__ and a/b/__init__ too, but those are the
        # package's own files: an arrow to a package means its __init__ module
        graph[name] |= {t if t in ALL_MODULES else t.rsplit(".", 1)[0] for t in targets}
    return graph


def floor_of(module: str) -> int | None:
    """The floor of ``module``: the one whose entry is the longest prefix of its name."""
    name = module.removeprefix(f"{PACKAGE}.")
    if name == PACKAGE:
        return None  # the package root re-exports the API lazily: it is the surface, not a floor
    best: tuple[int, int] | None = None
    for level, entries in enumerate(FLOORS):
        for entry in entries:
            if (name == entry or name.startswith(f"{entry}.")) and (best is None or len(entry) > best[0]):
                best = (len(entry), level)
    if best is None:
        raise AssertionError(f"{module} is on no floor: add it to FLOORS in tests/test_layers.py")
    return best[1]


def test_every_module_is_on_a_floor():
    for module in ALL_MODULES:
        floor_of(module)


def test_no_import_points_up_a_floor():
    upward = []
    for source, targets in import_graph().items():
        low = floor_of(source)
        for target in targets:
            high = floor_of(target)
            if low is not None and high is not None and high > low:
                upward.append(f"{source} -> {target}")
    assert upward == []


def test_the_primitives_import_nothing_above_them():
    graph = import_graph()
    above = [
        f"{source} -> {target}"
        for source, targets in graph.items()
        if source.startswith(f"{PACKAGE}.workspace")
        for target in targets
        if not target.startswith((f"{PACKAGE}.workspace", f"{PACKAGE}.errors", f"{PACKAGE}.version"))
    ]
    assert above == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def strongconnect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                strongconnect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in list(graph):
        if node not in index:
            strongconnect(node)
    return found


def test_no_import_circles():
    graph = import_graph()
    # the package root is the API surface: its lazy re-exports are not arrows back
    without_root = {k: {t for t in v if t != PACKAGE} for k, v in graph.items() if k != PACKAGE}
    assert _cycles(without_root) == []


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.slow
def test_every_module_imports_alone_in_a_fresh_interpreter():
    """An import-order circle shows only when a module is imported first: try each one first."""
    modules = sorted(m for m in ALL_MODULES if not m.endswith("__main__"))

    def import_alone(name: str) -> str | None:
        command = [sys.executable, "-c", f"import {name}"]
        result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
        return None if result.returncode == 0 else f"{name}: {result.stderr.strip().splitlines()[-1]}"

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        failed = [line for line in pool.map(import_alone, modules) if line]
    assert failed == []
