"""The tests' layout: tests/engine never imports qgis, so the engine's tests run where QGIS is absent."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE_TESTS = Path(__file__).resolve().parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}


def test_engine_tests_never_import_qgis():
    offenders = [path.name for path in sorted(ENGINE_TESTS.glob("*.py"))
                 if any(name == "qgis" or name.startswith("qgis.") or name == "processing"
                        for name in imported_modules(path))]
    assert ENGINE_TESTS.joinpath("conftest.py").exists() and not offenders, offenders
