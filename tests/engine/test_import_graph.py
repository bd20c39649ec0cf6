"""The engine's import graph: no circle, and every import runs down the declared layers.

Imports are read with ast from every module of geoloc_core, function-level ones included; imports under
`if TYPE_CHECKING:` are left out (annotations only, never executed), and so are the "module:function"
names of embedder_registry's loaders, which are resolved on first use like Python's entry points.
The same layers, with what each holds, are in docs/architecture.md.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "geoloc_core"

# lowest first: a module imports modules of its own layer or of layers below it, never above
LAYERS = (
    ("foundations", {"__init__", "checks", "circles", "defaults", "dependencies", "errors", "files", "geo",
                     "identity", "limits", "options", "progress", "registry", "results", "schema", "storage",
                     "text", "vectors", "models"}),
    ("photos and sources", {"photos", "sources", "download"}),
    ("networks", {"embedder_registry", "embedders", "clip_embedders"}),
    ("from neighbours to a location", {"calibration", "estimators", "estimator_registry", "evidence"}),
    ("vector search", {"search_index"}),
    ("learning", {"geocells", "training", "finetune"}),
    ("feature spaces", {"feature_space"}),
    ("the store", {"database_format", "integrity", "migration", "database"}),
    ("filling and combining stores", {"ingest", "packs", "searchset", "shards", "distributed"}),
    ("locating and its outputs", {"locate", "geoclip_prior", "context", "evaluate", "export", "gps_write"}),
    ("front ends", {"service", "cli", "__main__"}),
)


def engine_modules() -> dict[str, list[Path]]:
    """Top-level module name -> its files (a subpackage, models/, is one module)."""
    modules = {path.stem: [path] for path in ENGINE.glob("*.py")}
    for package in ENGINE.iterdir():
        if (package / "__init__.py").is_file():
            modules[package.name] = sorted(package.rglob("*.py"))
    return modules


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    return skipped


def imports_of(files: list[Path], modules: set[str]) -> set[str]:
    """The engine modules these files import (relative `.x`, `from . import x` or `geoloc_core.x`)."""
    found = set()
    for file in files:
        tree = ast.parse(file.read_text(encoding="utf-8"))
        depth = len(file.relative_to(ENGINE).parts) - 1  # a file in models/ reaches the engine with `..`
        skipped = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == depth + 1:
                names = [node.module.split(".")[0]] if node.module else [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("geoloc_core."):
                names = [node.module.split(".")[1]]
            elif isinstance(node, ast.Import):
                names = [a.name.split(".")[1] for a in node.names if a.name.startswith("geoloc_core.")]
            found.update(name for name in names if name in modules)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = engine_modules()
    return {name: imports_of(files, set(modules)) - {name} for name, files in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return groups


def layer_of() -> dict[str, int]:
    return {module: position for position, (_, members) in enumerate(LAYERS) for module in members}


def test_every_engine_module_has_a_layer():
    layers = layer_of()
    assert sum(len(members) for _, members in LAYERS) == len(layers), "a module is in two layers"
    assert sorted(set(engine_modules()) - set(layers)) == [], "new modules: add them to LAYERS and the docs"
    assert sorted(set(layers) - set(engine_modules())) == [], "LAYERS names modules that no longer exist"


def test_the_engine_has_no_import_circle():
    assert circles(import_graph()) == []


def test_no_import_runs_up_the_layers():
    layers = layer_of()
    upward = sorted(f"{module} ({LAYERS[layers[module]][0]}) imports {imported} ({LAYERS[layers[imported]][0]})"
                    for module, imported_modules in import_graph().items() for imported in imported_modules
                    if layers[imported] > layers[module])
    assert upward == []


def test_the_graph_reader_sees_function_level_imports_and_skips_type_checking_ones(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ENGINE", tmp_path)
    (tmp_path / "low.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .high import X\n")
    (tmp_path / "high.py").write_text("def f():\n    from .low import Y\n    from . import other\n")
    (tmp_path / "other.py").write_text("import geoloc_core.low\n")
    graph = import_graph()
    assert graph == {"low": set(), "high": {"low", "other"}, "other": {"low"}}
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
