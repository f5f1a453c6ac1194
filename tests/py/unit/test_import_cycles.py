"""The ``collab`` package imports without cycles (issue 13: cli <-> its subcommand modules and
client <-> subscribe imported each other). The graph counts every ``import`` of a ``collab``
module, also those inside functions and under ``TYPE_CHECKING``: a cycle hidden in a function
is still a cycle of the design. Each module whose import order once mattered is also imported
first, in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "thin_client" / "collab"


def imports_of(path: Path) -> set[str]:
    """The ``collab`` modules that ``path`` imports (``from collab import x`` names a module
    when ``collab/x.py`` exists)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("collab.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "collab":
                found |= {
                    f"collab.{a.name}" for a in node.names if (PACKAGE / f"{a.name}.py").exists()
                }
            elif node.module.startswith("collab."):
                found.add(node.module)
    return found


def graph() -> dict[str, set[str]]:
    modules = {f"collab.{p.stem}": p for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    return {name: imports_of(path) & set(modules) for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_detector_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_collab_package_has_no_import_cycle() -> None:
    edges = graph()
    assert {"collab.cli", "collab.client", "collab.subscribe"} <= set(edges)
    assert cycles(edges) == []


@pytest.mark.parametrize(
    "module",
    [
        "collab.cli_common",
        "collab.cli_events",
        "collab.cli_metrics",
        "collab.cli_stack",
        "collab.cli",
        "collab.subscribe",
        "collab.client",
        "collab.api_core",
    ],
)
def test_each_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
