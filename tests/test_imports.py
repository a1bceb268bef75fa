"""No import circles (issue 25 §4): the rules import the model, the model imports no rule, and nothing the config
rooms import comes back to them. Every import counts, also one inside a function (a lazy import only hides a
circle until the day the order of first use changes)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("whitelabel", "components", "services", "tools")
CONFIG_ROOMS = (
    "config_base",
    "config_limits",
    "services_config",
    "tenant_config",
    "stage_config",
    "gateway_config",
    "config_rules",
    "stack_file",
)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            name = package if path.stem == "__init__" else f"{package}.{path.stem}"
            found[name] = path
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project modules a file imports, anywhere in it (`from a.b import c` counts a.b, and a.b.c if a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in known:
                found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known}
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(path, set(known)) - {name} for name, path in known.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
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
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_of_the_project_imports_itself_back() -> None:
    assert circles(graph()) == []


def test_the_config_rooms_import_only_rooms_before_them() -> None:
    edges = graph()
    for position, room in enumerate(CONFIG_ROOMS):
        later = {f"whitelabel.{r}" for r in CONFIG_ROOMS[position:]}
        assert not edges[f"whitelabel.{room}"] & later, room
        # The façade is for the program, components and tools: no room reaches back to it.
        assert "whitelabel.config" not in edges[f"whitelabel.{room}"], room


def test_the_model_imports_no_rule() -> None:
    edges = graph()
    for model in (
        "whitelabel.gateway_config",
        "whitelabel.stage_config",
        "whitelabel.tenant_config",
        "whitelabel.services_config",
    ):
        assert not edges[model] & {"whitelabel.config_rules", "whitelabel.quotas", "whitelabel.waf", "whitelabel.names"}


@pytest.mark.parametrize("room", (*CONFIG_ROOMS, "config"))
def test_no_config_room_is_much_over_500_lines(room: str) -> None:
    assert len((ROOT / "whitelabel" / f"{room}.py").read_text().splitlines()) <= 550


def test_the_circle_finder_finds_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
