"""Reference packs in QGIS: the panel's packs section, the Processing algorithms and qgis_process."""

from __future__ import annotations

import os
import subprocess
import sysconfig
from pathlib import Path

import pytest
from qgis.core import Qgis, QgsApplication, QgsSettings, QgsVectorLayer
from qgis.PyQt.QtCore import Qt

from geoloc_core.packs import pack
from geoloc_core.searchset import ID_STRIDE

from ..conftest import PLUGIN_PACKAGE, REPO_ROOT, make_database, make_photos, references, unit_vectors
from .conftest import wait_until_idle


@pytest.fixture
def pack_file(tmp_path, lite_identity):
    """A pack of 5 references (random features, the bundled embedder's identity, thumbnails of test photos)."""
    photos = make_photos(tmp_path / "reference-photos", 5, seed=3)
    source = make_database(tmp_path / "shared-area.geoloc", lite_identity, references(5, 11, photos),
                           unit_vectors(5, 11))
    return pack(source, tmp_path / "shared-area.geolocpack", title="Shared area").path


def test_panel_installs_a_pack_and_locates_with_it_alone(dock, qgis_app, qgis_iface, plugin_module, pack_file,
                                                          tmp_path):
    settings_module = plugin_module("ui.settings")
    panel = dock.packs_panel
    QgsSettings().remove(settings_module.UNCHECKED_PACKS)  # packs a previous session unticked
    panel.folder = tmp_path / "packs"
    panel.refresh()
    assert not dock.run_button.isEnabled() and dock.database is None
    panel.install(str(pack_file))
    wait_until_idle(dock, qgis_app)
    assert panel.pack_list.count() == 1 and panel.checked_paths() == [str(tmp_path / "packs" / "shared-area")]
    assert dock.run_button.isEnabled()  # no database open: the ticked pack alone is searched
    queries = make_photos(tmp_path / "queries", 2, seed=9)
    dock.photos.add_photos([str(p) for p in queries])
    wait_until_idle(dock, qgis_app)  # the photos are read in the background
    dock.start_run()
    wait_until_idle(dock, qgis_app)
    run = dock.runs[-1]
    assert len(run.results) == 2 and run.database == "shared-area"
    assert all("thumbnails" in n.path and os.path.isfile(n.path) for r in run.results for n in r.neighbours)
    panel.pack_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert not dock.run_button.isEnabled()
    assert panel.starter_button.isVisibleTo(panel) and not panel.caveat.isVisibleTo(panel)
    panel.install_bundled()  # the starter pack shipped in resources/packs, with its caveat
    wait_until_idle(dock, qgis_app)
    assert [Path(p).name for p in panel.checked_paths()] == ["world-starter"]
    assert panel.caveat.isVisibleTo(panel) and not panel.starter_button.isVisibleTo(panel)
    assert QgsSettings().value(settings_module.UNCHECKED_PACKS) == ["shared-area"]
    QgsSettings().remove(settings_module.UNCHECKED_PACKS)


def test_panel_reports_a_refused_pack_and_installs_nothing(dock, qgis_app, qgis_iface, tmp_path):
    panel = dock.packs_panel
    panel.folder = tmp_path / "packs"
    broken = tmp_path / "broken.geolocpack"
    broken.write_bytes(b"not a zip")
    panel.install(str(broken))
    wait_until_idle(dock, qgis_app)
    errors = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Critical)
    assert any("broken.geolocpack: not a reference pack" in m for m in errors), errors
    assert panel.checked_paths() == [] and not any((tmp_path / "packs").glob("*/pack.json"))


def test_geolocate_algorithm_takes_a_pack_file_and_more_databases(qgis_processing, plugin_module, monkeypatch,
                                                                  pack_file, lite_identity, tmp_path):
    import processing

    provider = plugin_module("processing_provider.provider").PhotoGeolocatorProvider()
    assert QgsApplication.processingRegistry().addProvider(provider)
    monkeypatch.setattr(plugin_module("profile_data"), "packs_dir", lambda: tmp_path / "packs")
    try:
        own = make_database(tmp_path / "own.geoloc", lite_identity, references(3, 12), unit_vectors(3, 12))
        query = make_photos(tmp_path / "queries", 1, seed=4)[0]
        result = processing.run("photo_geolocator:geolocate_photos", {
            "FILES": str(query), "DATABASE": str(pack_file), "ALSO": str(own), "K": 8,
            "PREDICTIONS": "memory:", "NEIGHBOURS": "memory:"})
        neighbours = [(f["reference_path"], f["record_id"]) for f in result["NEIGHBOURS"].getFeatures()]
        assert len(neighbours) == 8 and sum("thumbnails" in path for path, _ in neighbours) == 5
        assert sorted(record_id // ID_STRIDE for _, record_id in neighbours) == [0] * 5 + [1] * 3
        assert (tmp_path / "packs" / "shared-area" / "pack.json").is_file()
        again = processing.run("photo_geolocator:geolocate_photos", {
            "FILES": str(query), "DATABASE": "shared-area", "K": 3, "PREDICTIONS": "memory:",
            "NEIGHBOURS": "memory:"})
        assert again["LOCATED"] == 1
    finally:
        QgsApplication.processingRegistry().removeProvider(provider)


@pytest.mark.slow
def test_qgis_process_locates_against_a_pack_file(pack_file, tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / PLUGIN_PACKAGE).symlink_to(REPO_ROOT, target_is_directory=True)
    config = str(tmp_path / "qgis-config")  # a fresh profile: packs install into its data folder
    # the standard library first: a backport installed in the venv (e.g. `dataclasses`) must not shadow it
    python_path = os.pathsep.join([sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]])
    env = {**os.environ, "QGIS_PLUGINPATH": str(plugins), "QGIS_CUSTOM_CONFIG_PATH": config,
           "QGIS_OPTIONS_PATH": config, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": python_path}
    enable = subprocess.run(["/usr/bin/qgis_process.bin", "plugins", "enable", PLUGIN_PACKAGE], env=env,
                            capture_output=True, text=True)
    assert enable.returncode == 0, enable.stdout + enable.stderr
    out = tmp_path / "out.gpkg"
    query = make_photos(tmp_path / "queries", 1, seed=5)[0]
    locate = subprocess.run(["/usr/bin/qgis_process.bin", "run", "photo_geolocator:geolocate_photos", "--",
                             f"FILES={query}", f"DATABASE={pack_file}", "K=3", f"PREDICTIONS={out}",
                             f"NEIGHBOURS={tmp_path / 'n.gpkg'}"], env=env, capture_output=True, text=True)
    assert locate.returncode == 0, locate.stdout + locate.stderr
    assert QgsVectorLayer(str(out), "p", "ogr").featureCount() == 1
    assert list((tmp_path / "qgis-config").rglob("photo_geolocator/packs/shared-area/pack.json"))


@pytest.mark.slow
def test_both_engines_install_a_pack_and_search_it_with_a_database_alike(plugin_module, pack_file, lite_identity,
                                                                         tmp_path):
    import sys

    engines = plugin_module("ui.engine")
    own = make_database(tmp_path / "own.geoloc", lite_identity, references(3, 13), unit_vectors(3, 13))
    photos = make_photos(tmp_path / "queries", 2, seed=6)
    outcomes = []
    for number, engine in enumerate((engines.InProcessEngine(), engines.ExternalEngine(sys.executable))):
        packs = tmp_path / f"packs-{number}"
        progress = []
        installed = engine.install_pack(str(pack_file), packs, progress.append, None)
        assert installed.name == "shared-area" and installed.count == 5 and progress
        engine.open(str(own))
        request = engines.LocateRequest(str(own), [str(p) for p in photos], k=6, estimator="sphere", bandwidth_km=50.0,
                                        temperature=0.1, density_resolution=None, also=[str(installed.path)])
        outcome = engine.locate(request, tmp_path / "density", 1, None, None)
        outcomes.append([[(n.record_id, round(n.similarity, 5), Path(n.path).name) for n in r.neighbours]
                         for r in outcome.results])
        engine.close()
    assert outcomes[0] == outcomes[1]
    assert {record_id // ID_STRIDE for result in outcomes[0] for record_id, _, _ in result} == {0, 1}
