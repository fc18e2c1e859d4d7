"""Imports run one way: envs/core -> envs -> agents -> algorithms -> swarmzoo (front door, CLI,
integrations). Every ``import`` statement in the package, at module level or inside a function,
may name only its own layer or a lower one, and the module graph has no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Source folder -> the package it installs as (pyproject.toml's package-dir).
FOLDERS = {"envs": "swarmzoo.envs", "agents": "swarmzoo.agents", "algorithms": "swarmzoo.algorithms"}
LAYERS = ("swarmzoo.envs.core", "swarmzoo.envs", "swarmzoo.agents", "swarmzoo.algorithms", "swarmzoo")


def layer(module: str) -> int:
    """Rank of a ``swarmzoo...`` module: the longest layer prefix it falls under."""
    for rank, prefix in enumerate(LAYERS):
        if module == prefix or module.startswith(prefix + "."):
            return rank
    raise ValueError(module)


def modules() -> dict[str, Path]:
    """Every module of the package, by import name."""
    out = {}
    for folder in (*FOLDERS, "swarmzoo"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            package = FOLDERS.get(folder, "swarmzoo")
            out[".".join([package, *parts])] = path
    return out


def imports(path: Path, module: str) -> list[tuple[int, str]]:
    """``(line, imported module)`` of every swarmzoo import in ``path`` (``from X import y`` gives
    ``X.y`` when ``X.y`` is a module, else ``X``)."""
    known = MODULES
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
            out += [(node.lineno, name) for name in names if name.split(".")[0] == "swarmzoo"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "swarmzoo":
                continue
            for alias in node.names:
                target = f"{base}.{alias.name}"
                out.append((node.lineno, target if target in known else base))
    return sorted(set(out))


MODULES = modules()


def test_every_layer_holds_modules() -> None:
    ranks = {layer(m) for m in MODULES}
    assert ranks == set(range(len(LAYERS)))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_upward_import(module: str) -> None:
    path = MODULES[module]
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports {target} ({LAYERS[layer(target)]} is above "
        f"{LAYERS[layer(module)]})"
        for line, target in imports(path, module)
        if layer(target) > layer(module)
    ]
    assert not upward, "\n".join(upward)


def test_module_graph_has_no_cycles() -> None:
    graph = nx.DiGraph()
    for module, path in MODULES.items():
        for _, target in imports(path, module):
            if target in MODULES and target != module and not module.startswith(target + "."):
                graph.add_edge(module, target)  # a package importing its own parent is Python's rule
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c + c[:1]) for c in cycles[:5])


def test_an_upward_import_is_caught(tmp_path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from swarmzoo.algorithms.ctde import train\n")
    found = imports(bad, "swarmzoo.envs.core.bad")
    assert found == [(2, "swarmzoo.algorithms.ctde")]
    assert layer(found[0][1]) > layer("swarmzoo.envs.core.bad")
