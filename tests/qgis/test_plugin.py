"""The plugin loads through QGIS's own plugin machinery and unloads without a trace."""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
import zipfile

import pytest
import qgis.utils
from qgis.core import QgsApplication
from qgis.PyQt.QtWidgets import QAction, QDockWidget, QToolBar

from ..conftest import PLUGIN_PACKAGE, REPO_ROOT
from .conftest import on_plugin_path


def _qgis_state(iface):
    """What a plugin could leave behind: widgets and actions under the main window, providers."""
    window = iface.mainWindow()
    return {
        "actions": sorted(a.objectName() for a in window.findChildren(QAction)),
        "docks": sorted(d.objectName() for d in window.findChildren(QDockWidget)),
        "toolbars": sorted(t.objectName() for t in window.findChildren(QToolBar)),
        "providers": sorted(p.id() for p in QgsApplication.processingRegistry().providers()),
        "active": list(qgis.utils.active_plugins),
    }


def _flush_deletions(qgis_app):
    from qgis.PyQt.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qgis_app.processEvents()


def _load_start_check_unload(qgis_iface, qgis_app):
    assert qgis.utils.loadPlugin(PLUGIN_PACKAGE), "QGIS could not import the plugin package"
    assert qgis.utils.startPlugin(PLUGIN_PACKAGE), "classFactory() or initGui() failed"
    plugin = qgis.utils.plugins[PLUGIN_PACKAGE]
    window = qgis_iface.mainWindow()

    assert "photo_geolocator" in [p.id() for p in QgsApplication.processingRegistry().providers()]
    dock = window.findChild(QDockWidget, "PhotoGeolocatorDock")
    assert dock is not None and dock.isHidden()
    assert "No reference database" in dock.database_section.label.text()
    action = plugin.action
    assert action.isCheckable()
    assert action in window.findChild(QToolBar, "PhotoGeolocatorToolbar").actions()
    action.trigger()
    assert not dock.isHidden(), "the toolbar action should show the dock"
    action.trigger()
    assert dock.isHidden(), "a second click should hide it again"

    assert qgis.utils.unloadPlugin(PLUGIN_PACKAGE)
    _flush_deletions(qgis_app)


def test_load_toggle_unload_twice_leaves_qgis_as_before(qgis_app, qgis_iface, plugin_path):
    before = _qgis_state(qgis_iface)
    for _ in range(2):
        _load_start_check_unload(qgis_iface, qgis_app)
        assert _qgis_state(qgis_iface) == before
    assert PLUGIN_PACKAGE not in sys.modules


def test_menu_entries_are_removed_with_the_same_action(qgis_app, qgis_iface, plugin_path, monkeypatch):
    added, removed = [], []
    monkeypatch.setattr(qgis_iface, "addPluginToMenu", lambda menu, action: added.append((menu, action)))
    monkeypatch.setattr(qgis_iface, "removePluginMenu", lambda menu, action: removed.append((menu, action)))
    assert qgis.utils.loadPlugin(PLUGIN_PACKAGE) and qgis.utils.startPlugin(PLUGIN_PACKAGE)
    assert [action.text() for _, action in added] == ["Photo Geolocator", "About / diagnostics…"]
    assert qgis.utils.unloadPlugin(PLUGIN_PACKAGE)
    assert removed == added


def _metadata():
    config = configparser.ConfigParser(interpolation=None)
    config.read(REPO_ROOT / "metadata.txt", encoding="utf-8")
    return config["general"]


REQUIRED_METADATA = ("name", "qgisMinimumVersion", "description", "about", "version", "author", "email",
                     "repository", "qgisMaximumVersion", "supportsQt6", "tracker", "tags", "category", "icon",
                     "hasProcessingProvider", "changelog")


def test_metadata_has_every_required_field():
    general = _metadata()
    missing = [key for key in REQUIRED_METADATA if not general.get(key, "").strip()]
    assert not missing, f"metadata.txt lacks {missing}"
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["qgisMaximumVersion"] == "4.99"
    assert general["supportsQt6"] == "True"
    assert general["hasProcessingProvider"] == "yes"
    assert re.fullmatch(r"\d+\.\d+\.\d+", general["version"])
    assert (REPO_ROOT / general["icon"]).is_file()


@pytest.fixture(scope="module")
def packaged_zip(tmp_path_factory):
    result = subprocess.run(["make", "-s", "package"], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return REPO_ROOT / "dist" / f"photo_geolocator-{_metadata()['version']}.zip"


def test_package_has_one_top_folder_and_no_dev_files(packaged_zip):
    assert packaged_zip.is_file(), "the zip must be named after metadata.txt's version"
    names = zipfile.ZipFile(packaged_zip).namelist()
    assert {n.split("/")[0] for n in names} == {PLUGIN_PACKAGE}
    for required in ("metadata.txt", "__init__.py", "plugin.py", "layers.py", "qgis_compat.py", "LICENSE",
                     "geoloc_core/__init__.py", "processing_provider/algorithms.py",
                     "resources/icon.svg"):
        assert f"{PLUGIN_PACKAGE}/{required}" in names
    forbidden = re.compile(r"/(tests|bench|scripts|\.ci|\.venv|\.git|__pycache__)/|\.pyc$|/(Makefile|pyproject\.toml"
                           r"|requirements[-\w]*\.txt|\.gitignore)$")
    assert not [n for n in names if forbidden.search(n)]


def test_packaged_zip_loads_in_qgis(qgis_app, qgis_iface, packaged_zip, tmp_path):
    plugins_dir = tmp_path / "installed"
    zipfile.ZipFile(packaged_zip).extractall(plugins_dir)
    with on_plugin_path(plugins_dir):
        before = _qgis_state(qgis_iface)
        assert qgis.utils.loadPlugin(PLUGIN_PACKAGE)
        assert sys.modules[PLUGIN_PACKAGE].__file__.startswith(str(plugins_dir))
        _flush_deletions(qgis_app)
        assert qgis.utils.startPlugin(PLUGIN_PACKAGE)
        provider = QgsApplication.processingRegistry().providerById("photo_geolocator")
        assert len(provider.algorithms()) == 6, "every algorithm must load from the packaged files"
        assert qgis.utils.unloadPlugin(PLUGIN_PACKAGE)
        _flush_deletions(qgis_app)
        assert _qgis_state(qgis_iface) == before


def test_translation_template_is_current_and_a_translation_is_used(plugin_module, tmp_path, monkeypatch):
    import shutil
    import subprocess
    import sys

    from qgis.PyQt.QtCore import QCoreApplication

    from ..conftest import REPO_ROOT

    check = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "update_translations.py"), "--check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    if shutil.which("lrelease") is None:
        pytest.skip("needs lrelease (Debian package qttools5-dev-tools) to compile a translation")
    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    try:
        import update_translations
    finally:
        sys.path.remove(str(REPO_ROOT / "scripts"))
    source = tmp_path / "photo_geolocator_de.ts"
    source.write_text(update_translations.template(update_translations.texts(), "de",
                                                   {"About / diagnostics…": "Über / Diagnose…"}), encoding="utf-8")
    subprocess.run(["lrelease", str(source)], check=True, capture_output=True)
    i18n = plugin_module("ui.i18n")
    monkeypatch.setattr(i18n, "I18N_DIR", tmp_path)
    monkeypatch.setattr(i18n, "interface_language", lambda: "de")
    translator = i18n.install_translator()
    try:
        assert translator is not None
        assert i18n.tr("About / diagnostics…") == "Über / Diagnose…"
    finally:
        QCoreApplication.removeTranslator(translator)
