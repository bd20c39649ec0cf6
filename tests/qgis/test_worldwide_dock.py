"""The panel's worldwide search (no reference database: GeoCLIP's GPS gallery) and its geoclip estimator,
with a tiny CLIP served from 127.0.0.1 and the geoclip wheel's head and first gallery points: disabled with
the reason until the model is here, then run in a task on both engine routes, into the usual styled layers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from qgis.core import Qgis, QgsProject, QgsRasterLayer, QgsSettings
from qgis.PyQt.QtCore import Qt

pytest.importorskip("transformers", reason="CLIP embedders need transformers (requirements-clip.txt)")

from ..clip_hub import make_geotagged_csv
from ..conftest import REPO_ROOT
from .conftest import run_groups, wait_until_idle
from .qgis_app import DRIVER, needs_xvfb, run_in_qgis


def layers_of_the_run():
    (group,) = run_groups()
    return {node.layer().name(): node.layer() for node in group.findLayers()}


def download_with_the_panel(panel_dock, qgis_app, name, monkeypatch):
    from qgis.PyQt.QtWidgets import QMessageBox

    panel = panel_dock.models_panel
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)
    panel.model_combo.setCurrentIndex(panel.model_combo.findData(name))
    try:
        panel.download()
        wait_until_idle(panel_dock, qgis_app)  # the listing
        wait_until_idle(panel_dock, qgis_app)  # the transfer
    finally:  # the choice is remembered in the profile's settings: leave the bundled one for other tests
        panel.model_combo.setCurrentIndex(0)


def test_worldwide_is_disabled_with_its_reason_until_geoclip_is_here_then_locates_without_a_database(
        dock, qgis_app, qgis_iface, hub, small_gallery, tmp_path, monkeypatch, plugin_module):
    monkeypatch.setattr(plugin_module("geoloc_core.geoclip_prior"), "gallery_for", lambda cache_dir: small_gallery)
    dock.models_panel.folder = tmp_path / "models"
    dock.options.refresh_choices()
    world = dock.options.mode_combo.findData("world")
    reason = dock.options.mode_combo.itemData(world, Qt.ItemDataRole.ToolTipRole)
    assert not dock.options.mode_combo.model().item(world).isEnabled(), "not offered before the model is here"
    assert "download-model geoclip" in reason and "about 1.7 GB" in reason
    label = dock.options.worldwide_label
    assert label.isVisibleTo(dock) and "download-model geoclip" in label.toolTip()
    make_geotagged_csv(tmp_path / "photos")
    dock.photos.add_photos([str(tmp_path / "photos" / "p1.jpg"), str(tmp_path / "photos" / "p2.jpg")])
    wait_until_idle(dock, qgis_app)  # the photos are read in the background
    assert dock.database is None and not dock.run_button.isEnabled(), "nothing to search yet: nothing to click"
    dock.options.mode_combo.setCurrentIndex(world)  # forced, as a script could: it says what it needs and starts nothing
    dock.start_run()
    assert dock.task is None
    assert any("download-model geoclip" in m for m in qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning))

    download_with_the_panel(dock, qgis_app, "geoclip", monkeypatch)
    assert dock.options.mode_combo.model().item(world).isEnabled() and not dock.options.worldwide_label.isVisibleTo(dock)
    dock.options.mode_combo.setCurrentIndex(world)
    options = dock.options
    assert options.top_k_spin.isVisibleTo(dock) and not options.k_spin.isEnabled() and not options.density_check.isEnabled()
    assert dock.run_button.isEnabled(), "a user with no database can run"
    dock.options.top_k_spin.setValue(7)
    finished = []
    dock.runFinished.connect(finished.append)
    dock.run_button.click()
    assert dock.task is not None, "in the background"
    wait_until_idle(dock, qgis_app)
    run = finished[0]
    assert run is not None and len(run.results) == 2 and run.density_path is None
    layers = layers_of_the_run()
    assert {"Predictions", "Neighbours", "Uncertainty"} <= set(layers) and "Density" not in layers
    predictions = layers["Predictions"]
    gallery = {tuple(point) for point in small_gallery.coordinates}
    assert predictions.featureCount() == 2
    assert all((f["lat"], f["lon"]) in gallery for f in predictions.getFeatures()), "GeoCLIP's most probable places"
    assert {f["estimator"] for f in predictions.getFeatures()} == {"geoclip"}
    assert {f["database"] for f in predictions.getFeatures()} == {"GeoCLIP GPS gallery"}
    assert "img src" in predictions.mapTipTemplate() and "top_k=7" in predictions.abstract(), "styled as usual"
    assert layers["Neighbours"].featureCount() == 14, "the top-7 gallery points of each photo"
    predictions.selectAll()  # the circles follow the selected predictions
    assert layers["Uncertainty"].featureCount() == 4
    assert dock.results_section.results_table.rowCount() == 2


def test_the_geoclip_estimator_is_offered_with_a_geoclip_database_only(
        dock, qgis_app, hub, small_gallery, tmp_path, monkeypatch, plugin_module):
    monkeypatch.setattr(plugin_module("geoloc_core.geoclip_prior"), "gallery_for", lambda cache_dir: small_gallery)
    dock.models_panel.folder = tmp_path / "models"
    download_with_the_panel(dock, qgis_app, "geoclip", monkeypatch)
    estimator = dock.options.estimator_combo.findData("geoclip")
    assert not dock.options.estimator_combo.model().item(estimator).isEnabled()
    assert "built with GeoCLIP" in dock.options.estimator_combo.itemData(estimator, Qt.ItemDataRole.ToolTipRole)

    photos = make_geotagged_csv(tmp_path / "photos")
    dock.models_panel.model_combo.setCurrentIndex(dock.models_panel.model_combo.findData("geoclip"))
    try:
        dock.database_section.build_database(photos, tmp_path / "geo.geoloc")
        wait_until_idle(dock, qgis_app)
    finally:
        dock.models_panel.model_combo.setCurrentIndex(0)
    assert dock.database is not None and dock.database.architecture == "geoclip"
    assert dock.options.estimator_combo.model().item(estimator).isEnabled()
    dock.options.estimator_combo.setCurrentIndex(estimator)
    dock.options.k_spin.setValue(5)
    dock.photos.add_photos([str(tmp_path / "photos" / "p3.jpg")])
    wait_until_idle(dock, qgis_app)  # the photos are read in the background
    finished = []
    dock.runFinished.connect(finished.append)
    dock.start_run()
    wait_until_idle(dock, qgis_app)
    (result,) = finished[0].results
    assert result.estimator == "geoclip" and len(result.neighbours) == 5
    layers = layers_of_the_run()
    assert layers["Neighbours"].featureCount() == 5
    assert any(isinstance(layer, QgsRasterLayer) for layer in layers.values()), "its density, as any search's"

    dock.setup_section.use_qgis_python()  # switching the engine closes the database: the estimator is withdrawn again
    assert not dock.options.estimator_combo.model().item(estimator).isEnabled()
    assert dock.options.estimator_combo.currentData() != "geoclip"


@pytest.mark.slow
def test_worldwide_runs_on_the_external_engine(qgis_app, qgis_iface, qgis_new_project, plugin_module,
                                               hub, tmp_path, monkeypatch):
    pytest.importorskip("geoclip", reason="the GeoCLIP head and gallery come from the geoclip wheel "
                                          "(requirements-clip.txt), which is not installed here")
    from geoloc_core.clip_embedders import download_model

    dock_module = plugin_module("ui.dock")
    settings_module = plugin_module("ui.settings")
    download_model("geoclip", tmp_path / "models")
    # the child's gallery: 1,500 points (the hook imports the engine as Python starts, hence the repository)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO_ROOT / "tests" / "qgis" / "gallery_hook"), str(REPO_ROOT)]))
    monkeypatch.setenv("GEOLOC_TEST_GALLERY_ROWS", "1500")
    QgsSettings().setValue(settings_module.EXTERNAL_PYTHON, sys.executable)
    try:
        dock = dock_module.PhotoGeolocatorDock(qgis_iface, qgis_iface.mainWindow())
    finally:
        QgsSettings().remove(settings_module.EXTERNAL_PYTHON)
    try:
        assert isinstance(dock.engine, plugin_module("ui.engine").ExternalEngine)
        dock.models_panel.folder = tmp_path / "models"
        dock.options.refresh_choices()
        dock.options.mode_combo.setCurrentIndex(dock.options.mode_combo.findData("world"))
        assert dock.options.worldwide() and dock.run_button.isEnabled()
        make_geotagged_csv(tmp_path / "photos")
        dock.photos.add_photos([str(tmp_path / "photos" / "p1.jpg"), str(tmp_path / "photos" / "p2.jpg"),
                         str(tmp_path / "photos" / "missing.jpg")])
        wait_until_idle(dock, qgis_app)  # the photos are read in the background
        dock.options.top_k_spin.setValue(6)
        finished = []
        dock.runFinished.connect(finished.append)
        dock.start_run()
        wait_until_idle(dock, qgis_app)
        run = finished[0]
        assert run is not None and [Path(r.photo).name for r in run.results] == ["p1.jpg", "p2.jpg"]
        assert [Path(f.path).name for f in run.failed] == ["missing.jpg"]
        layers = layers_of_the_run()
        assert layers["Neighbours"].featureCount() == 12 and layers["Predictions"].featureCount() == 2
        assert QgsProject.instance().mapLayer(run.layer_ids["predictions"]).isValid()
    finally:
        dock.shutdown()


WORLDWIDE = '''
from pathlib import Path

import numpy as np
from qgis.core import QgsProject

from photo_geolocator.geoloc_core import geoclip_prior

POINTS = np.loadtxt(geoclip_prior._geoclip_package_dir() / geoclip_prior.GALLERY_CSV, delimiter=",", skiprows=1,
                    max_rows=1500)
SMALL = geoclip_prior.GeoClipGallery(coordinates=POINTS)  # the gallery's first points: seconds, not a minute
geoclip_prior.gallery_for = lambda cache_dir: SMALL


def idle():
    while dock.task is not None or dock.photos.reading():
        yield


def walk():
    dock.show()
    dock.models_panel.folder = Path(MODELS)
    dock.options.refresh_choices()
    world = dock.options.mode_combo.findData("world")
    state["offered"] = dock.options.mode_combo.model().item(world).isEnabled()
    dock.options.mode_combo.setCurrentIndex(world)
    dock.photos.add_photos(PHOTOS)
    yield from idle()
    runs = []
    dock.runFinished.connect(runs.append)
    dock.options.top_k_spin.setValue(5)
    state["runnable"] = dock.run_button.isEnabled()
    dock.run_button.click()
    yield from idle()
    run = runs[0]
    state["located"] = sorted(Path(r.photo).name for r in run.results) if run else []
    gallery = {tuple(point) for point in POINTS}
    state["in_gallery"] = [(r.lat, r.lon) in gallery for r in run.results] if run else []
    state["run_layers"] = sorted(QgsProject.instance().mapLayer(i).name() for i in run.layer_ids.values()) if run else []
    yield


''' + DRIVER


@pytest.mark.slow
@needs_xvfb
def test_locating_worldwide_with_geoclip_in_the_qgis_main_window(tmp_path, hub, jpeg_and_heic):
    """No reference database: the GeoCLIP model (a tiny CLIP fetched from 127.0.0.1 beforehand) and the
    geoclip wheel's head and gallery, run on a JPEG and a HEIC photo inside the real QGIS application, where
    torch, transformers, GDAL and libheif meet."""
    pytest.importorskip("geoclip", reason="the GeoCLIP head and gallery come from the geoclip wheel "
                                          "(requirements-clip.txt), which is not installed here")
    from geoloc_core.clip_embedders import download_model

    download_model("geoclip", tmp_path / "models")
    photos = jpeg_and_heic[:2]
    state, result = run_in_qgis(tmp_path, f"MODELS = {str(tmp_path / 'models')!r}\nPHOTOS = {photos!r}\n{WORLDWIDE}")
    assert state["offered"] and state["runnable"], "offered and runnable with no database once GeoCLIP is here"
    assert state["located"] == sorted(Path(photo).name for photo in photos) and all(state["in_gallery"])
    assert {"Neighbours", "Predictions", "Uncertainty"} <= set(state["run_layers"])
    assert not [e for e in state["errors"] if "python" in e[0].lower()], state["errors"]
    assert "Traceback" not in result.stderr
