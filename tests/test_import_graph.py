"""The package graph of src/facemetric has one direction: no cycle, and nothing imports the CLI.

Every ``import`` and ``from ... import`` statement counts, at module level or inside a
function, relative imports resolved. A unit is a first-level module or package of
``facemetric`` (``facemetric.metrics.base`` belongs to ``metrics``). ``LAYERS`` is the order
documented in docs/architecture.md: a unit may import its own layer or lower ones only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "facemetric"

# Bottom to top; see docs/architecture.md.
LAYERS = [
    {"errors"},
    {"types", "identity", "enrolment", "progress", "registry", "constraints"},
    {"io"},
    {"images", "onnx_runtime", "detect", "align", "embed", "datasets", "describe", "trainset"},
    {"extract"},
    {"verify"},
    {"metrics"},
    {"normalize"},
    {"experiments"},
    {"templates", "export"},
    {"identification"},
    {"challenge", "scale"},
    {"cli"},
    {"__main__"},  # `python -m facemetric`, the program's entry point (like the console script)
]
ENTRY_POINTS = {"facemetric.__main__"}


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == PACKAGE else None


def imported_modules(path: Path, module: str) -> list[str]:
    """Every module named by an import statement of ``path`` (relative imports resolved)."""
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                found.append(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                found.append(node.module)
    return found


def package_graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], set[str]]]:
    """(unit -> units it imports, (unit, target) -> the modules that import it)."""
    edges: dict[str, set[str]] = {}
    where: dict[tuple[str, str], set[str]] = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        me = unit_of(module)
        if me is None:
            continue
        edges.setdefault(me, set())
        for target in imported_modules(path, module):
            other = unit_of(target)
            if other and other != me:
                edges[me].add(other)
                where.setdefault((me, other), set()).add(module)
    return edges, where


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read_from_every_import():
    edges, where = package_graph()
    # an import inside a function counts: experiments import metric persistence lazily
    assert "cli" in edges and "metrics" in edges["cli"]
    assert len(edges) >= 15


def test_no_cycle_between_units():
    edges, _ = package_graph()
    assert cycles(edges) == []


def test_a_cycle_is_detected():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_nothing_outside_the_cli_imports_it():
    _, where = package_graph()
    offenders = sorted(m for (unit, target), mods in where.items() if target == "cli" for m in mods)
    assert [m for m in offenders if m not in ENTRY_POINTS] == []


def test_units_import_downwards_only():
    edges, where = package_graph()
    layer = {unit: k for k, units in enumerate(LAYERS) for unit in units}
    missing = sorted(set(edges) - set(layer))
    assert missing == [], f"units without a layer in LAYERS (and docs/architecture.md): {missing}"
    upward = sorted(
        f"{', '.join(sorted(where[(a, b)]))} imports {b}"
        for a, targets in edges.items() for b in targets if layer[b] > layer[a]
    )
    assert upward == []


@pytest.mark.parametrize("unit", ["registry"])
def test_the_registry_is_a_leaf(unit):
    edges, _ = package_graph()
    assert edges[unit] <= {"errors"}
