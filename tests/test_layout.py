"""The package's layout rules, checked on its source: who may import whom.

- the bottom (errors, addr, record, textpos, fileio, envformat, formats) imports only
  the bottom;
- detection imports the bottom and itself; templates and rewriting import
  the bottom and themselves, never detection nor each other;
- runtime may import every wing, never the CLI;
- the CLI imports the library and its own options module; no command module
  imports another;
- nothing outside the CLI imports click; nothing but the package's public
  face imports it (``import hostgw``);
- no import circle, counting imports inside functions and under
  ``TYPE_CHECKING`` too.

Every import is read with ``ast``, so a lazy import inside a function
counts like one at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "hostgw"
BOTTOM = {"errors", "addr", "record", "textpos", "fileio", "envformat", "formats"}
ENTRIES = {"hostgw", "hostgw.__main__"}
# wing -> wings (besides the bottom and itself) it may import
ALLOWED = {
    "detection": set(),
    "templates": set(),
    "rewriting": set(),
    "runtime": {"detection", "templates", "rewriting"},
    "cli": {"detection", "templates", "rewriting", "runtime"},
}


def _module(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """``(module, line)`` for every import of a hostgw module (or of click) in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # `from hostgw.detection import strategies` imports a module, not the package
            modules = [f"{target}.{a.name}" for a in node.names if _known(f"{target}.{a.name}")]
            if len(modules) < len(node.names):
                yield target, node.lineno
            for module in modules:
                yield module, node.lineno


def _known(module: str) -> bool:
    rel = Path(*module.split("."))
    return (PACKAGE.parent / rel).with_suffix(".py").exists() or (
        PACKAGE.parent / rel / "__init__.py"
    ).exists()


def _graph() -> dict[str, dict[str, int]]:
    graph: dict[str, dict[str, int]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        edges: dict[str, int] = {}
        for target, line in _imports(path):
            if target == "click" or target.startswith("click."):
                edges.setdefault("click", line)
            elif target == "hostgw" or target.startswith("hostgw."):
                edges.setdefault(target, line)
        graph[_module(path)] = edges
    return graph


def _wing(module: str) -> str:
    """``detection``, ``cli``, ... for a module in a wing; the module name in the bottom."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


GRAPH = _graph()


def test_the_graph_is_read() -> None:
    # A guard for the guard: the walk sees the imports it must judge.
    assert "hostgw.detection.walk" in GRAPH["hostgw.cli.ip"] or any(
        t.startswith("hostgw.detection") for t in GRAPH["hostgw.cli.ip"]
    )
    assert "click" in GRAPH["hostgw.cli.ip"]
    assert "hostgw.errors" in GRAPH["hostgw.detection.walk"]
    assert {_wing(m) for m in GRAPH if m not in ENTRIES} == set(ALLOWED) | BOTTOM


def _violations() -> list[str]:
    found: list[str] = []
    for module, edges in GRAPH.items():
        wing = _wing(module)
        for target, line in edges.items():
            where = f"{module} (line {line}) imports {target}"
            if target == "click":
                if wing != "cli":
                    found.append(f"{where}: only the CLI imports click")
                continue
            if target == "hostgw" and module != "hostgw":
                found.append(f"{where}: only the public face is imported as `hostgw`")
                continue
            if module in ENTRIES or target == "hostgw":
                continue  # the public face re-exports the library; __main__ runs the CLI
            to = _wing(target)
            if wing in BOTTOM:
                if to not in BOTTOM:
                    found.append(f"{where}: the bottom imports only the bottom")
            elif to not in BOTTOM and to != wing and to not in ALLOWED[wing]:
                found.append(f"{where}: {wing} may not import {to}")
            if wing == "cli" and to == "cli":
                allowed = {"hostgw.cli", "hostgw.cli.options"}
                if module not in allowed and target not in allowed:
                    found.append(f"{where}: a command module imports only cli.options")
    return found


def test_import_direction() -> None:
    assert _violations() == []


def _cycle() -> list[str] | None:
    """One import cycle among hostgw's modules, or None."""
    graph = {m: [t for t in edges if t in GRAPH and t != "hostgw"] for m, edges in GRAPH.items()}
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                got = visit(nxt)
                if got:
                    return got
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state:
            got = visit(node)
            if got:
                return got
    return None


def test_no_import_cycle() -> None:
    assert _cycle() is None


@pytest.mark.parametrize(
    ("module", "target", "why"),
    [
        ("hostgw.templates.jobs", "hostgw.detection", "templates may not import detection"),
        ("hostgw.addr", "hostgw.rewriting", "the bottom imports only the bottom"),
        ("hostgw.runtime.pipeline", "click", "only the CLI imports click"),
        ("hostgw.cli.exec", "hostgw.cli.render", "a command module imports only cli.options"),
    ],
)
def test_a_forbidden_import_is_caught(module: str, target: str, why: str) -> None:
    GRAPH[module][target] = 1
    try:
        assert any(why in v and module in v for v in _violations())
    finally:
        del GRAPH[module][target]


def test_a_cycle_is_caught() -> None:
    GRAPH["hostgw.errors"]["hostgw.textpos"] = 1
    GRAPH["hostgw.textpos"]["hostgw.errors"] = 1
    try:
        assert _cycle() is not None
    finally:
        del GRAPH["hostgw.errors"]["hostgw.textpos"]
        del GRAPH["hostgw.textpos"]["hostgw.errors"]
