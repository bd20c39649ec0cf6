"""Shared fixtures: the real photos beside the checkout, and the plugin folder on a plugin path."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"
PLUGIN_PACKAGE = "photo_geolocator"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test with a clear reason where it is absent."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs the real photos in {path} (../shared beside the checkout), which is absent here")
    return path


@pytest.fixture
def shared_photos() -> Path:
    return shared_path("photos")


@pytest.fixture
def flickr_dir() -> Path:
    return shared_path("flickr-cc")


def _forget_plugin_modules() -> None:
    for name in [m for m in sys.modules if m == PLUGIN_PACKAGE or m.startswith(PLUGIN_PACKAGE + ".")]:
        del sys.modules[name]


@contextlib.contextmanager
def on_plugin_path(plugins_dir: Path):
    """Put a folder holding `photo_geolocator/` on sys.path and QGIS's plugin paths, as QGIS does
    for its own plugin folders, and take it off again afterwards."""
    import qgis.utils

    sys.path.insert(0, str(plugins_dir))
    qgis.utils.plugin_paths.insert(0, str(plugins_dir))
    qgis.utils.updateAvailablePlugins()
    _forget_plugin_modules()
    try:
        yield plugins_dir
    finally:
        sys.path.remove(str(plugins_dir))
        qgis.utils.plugin_paths.remove(str(plugins_dir))
        qgis.utils.updateAvailablePlugins()
        _forget_plugin_modules()


@pytest.fixture(scope="module")
def plugin_module(tmp_path_factory):
    """Import modules of the plugin as QGIS does (package photo_geolocator): plugin_module("ui.dock")."""
    import importlib

    plugins_dir = tmp_path_factory.mktemp("plugins")
    (plugins_dir / PLUGIN_PACKAGE).symlink_to(REPO_ROOT, target_is_directory=True)
    with on_plugin_path(plugins_dir):
        yield lambda name: importlib.import_module(f"{PLUGIN_PACKAGE}.{name}")


@pytest.fixture
def plugin_path(tmp_path):
    """A plugin folder whose `photo_geolocator` is a link to this checkout."""
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / PLUGIN_PACKAGE).symlink_to(REPO_ROOT, target_is_directory=True)
    with on_plugin_path(plugins_dir):
        yield plugins_dir


@pytest.fixture(scope="session")
def embedder():
    """The bundled EfficientNet-Lite0 embedder (loaded once per test session)."""
    from geoloc_core.embedders import load_embedder

    return load_embedder()


def write_csv(path: Path, rows: list[dict]) -> Path:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def flickr_rows(flickr_dir: Path, count: int | None = None) -> list[dict]:
    """Rows of the flickr-cc manifest with absolute paths, the first `count` of them."""
    import csv

    with open(flickr_dir / "manifest.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:count]
    return [{**row, "path": str(flickr_dir / row["path"])} for row in rows]
