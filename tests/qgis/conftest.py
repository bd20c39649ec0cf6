"""Fixtures of the QGIS-facing tests: the panel (dock) on a fresh profile's parameters and the photos the
QGIS-window tests locate; helpers that wait for the panel's background work."""

from __future__ import annotations

import contextlib
import importlib
import sys
import time
from pathlib import Path

import pytest
from qgis.core import QgsLayerTreeGroup, QgsProject

from ..conftest import (
    PLUGIN_PACKAGE,
    REPO_ROOT,
    STAND_IN_PLACES,
    heif_writable,
    make_exif_samples,
    make_place_photos,
    real_photos_here,
    shared_path,
)


@pytest.fixture
def dock(qgis_app, qgis_iface, qgis_new_project, plugin_module, tmp_path):
    plugin_module("ui.run_options").RunOptions.forget()  # each test starts from a fresh profile's parameters
    plugin_module("ui.context_section").ContextSection.forget()  # and with no area or trip
    widget = plugin_module("ui.dock").PhotoGeolocatorDock(qgis_iface, qgis_iface.mainWindow())
    widget.options.output_widget.setFilePath(str(tmp_path / "rasters"))
    qgis_iface.messageBar().clear_messages()
    yield widget
    widget.shutdown()
    widget.deleteLater()


def wait_until_idle(dock, qgis_app, timeout=300):
    """Until the panel's task and its background photo reads have finished."""
    deadline = time.monotonic() + timeout
    while dock.task is not None or dock.photos.reading():
        assert time.monotonic() < deadline, "the task did not finish in time"
        qgis_app.processEvents()
        time.sleep(0.01)
    qgis_app.processEvents()


def run_groups():
    return [g for g in QgsProject.instance().layerTreeRoot().children()
            if isinstance(g, QgsLayerTreeGroup) and g.customProperty("photo_geolocator/run") is not None]


def made_up_samples(folder: Path) -> list[dict]:
    """make_exif_samples' photos (with two HEIC/HEIF), where pillow-heif can write HEIC."""
    if not heif_writable():
        pytest.skip("needs pillow-heif with an HEVC encoder to write the made-up HEIC photos")
    return make_exif_samples(folder)


@pytest.fixture
def jpeg_and_heic(tmp_path):
    """Photos to locate, all with EXIF GPS: a JPEG, a HEIC, another JPEG; real where ../shared is (and in CI),
    made-up in a clone without it."""
    if real_photos_here():
        jpg = shared_path("photos", "exif-samples", "jpg")
        heic = shared_path("photos", "exif-samples", "heic")
        return [str(jpg / "gps" / "DSCN0010.jpg"), str(heic / "IMG_5195.HEIC"), str(jpg / "Kodak_CX7530.jpg")]
    made_up_samples(tmp_path / "samples")
    rows = make_place_photos(tmp_path / "queries", 1, seed=1, places=STAND_IN_PLACES[:2], prefix="query")
    return [rows[0]["path"], str(tmp_path / "samples" / "heic" / "tuscany.heic"), rows[1]["path"]]


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
