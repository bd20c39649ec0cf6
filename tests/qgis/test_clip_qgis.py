"""CLIP-family models in QGIS with tiny models served from 127.0.0.1: the panel's Feature model section
(download in tasks, size asked first, then build and locate with it) and the Processing algorithms
(build with Download ticked, geolocate with the geoclip estimator)."""

from __future__ import annotations

import pytest
from qgis.core import Qgis, QgsVectorLayer

pytest.importorskip("transformers", reason="CLIP embedders need transformers (requirements-clip.txt)")

from ..clip_hub import make_geotagged_csv
from .conftest import wait_until_idle


def test_panel_downloads_a_model_after_showing_its_size_then_builds_and_locates_with_it(
        dock, qgis_app, qgis_iface, hub, tmp_path, monkeypatch):
    panel = dock.models_panel
    panel.folder = tmp_path / "models"
    panel.model_combo.setCurrentIndex(panel.model_combo.findData("clip_vit_b32"))
    try:
        _download_build_and_locate(dock, panel, qgis_app, qgis_iface, hub, tmp_path, monkeypatch)
    finally:  # the choice is remembered in the profile's settings: leave the bundled one for other tests
        panel.model_combo.setCurrentIndex(0)


def _download_build_and_locate(dock, panel, qgis_app, qgis_iface, hub, tmp_path, monkeypatch):
    from qgis.PyQt.QtWidgets import QMessageBox

    assert "download-model clip_vit_b32" in panel.status_label.text() and panel.download_button.isVisibleTo(panel)
    photos = make_geotagged_csv(tmp_path / "photos")
    # not downloaded yet: says what it needs, builds nothing
    dock.database_section.build_database(photos, tmp_path / "refused.geoloc")
    assert dock.task is None and not (tmp_path / "refused.geoloc").exists()
    assert any("download-model clip_vit_b32" in m for m in qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning))

    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda parent, title, text: asked.append(text) or
                        QMessageBox.StandardButton.Yes)
    panel.download()
    wait_until_idle(dock, qgis_app)  # the listing
    wait_until_idle(dock, qgis_app)  # the transfer, started once the size was accepted
    size = sum(len(hub.files[name]) for name in ("config.json", "preprocessor_config.json", "model.safetensors"))
    assert len(asked) == 1 and f"3 files, {size / 1e6:,.0f} MB" in asked[0]
    assert "Downloaded: openai/clip-vit-base-patch32@" in panel.status_label.text()
    assert not panel.download_button.isVisibleTo(panel)

    dock.database_section.build_database(photos, tmp_path / "clip.geoloc")
    wait_until_idle(dock, qgis_app)
    assert dock.database is not None and dock.database.count == 10
    assert dock.database.description.startswith("clip_vit_b32")
    dock.photos.add_photos([str(tmp_path / "photos" / "p2.jpg")])
    wait_until_idle(dock, qgis_app)  # the photos are read in the background
    dock.start_run()
    wait_until_idle(dock, qgis_app)
    assert len(dock.runs[-1].results) == 1


def test_processing_builds_with_download_and_locates_with_the_geoclip_estimator(
        qgis_processing, plugin_module, hub, small_gallery, tmp_path, monkeypatch):
    import processing
    from qgis.core import QgsApplication


    monkeypatch.setattr(plugin_module("profile_data"), "models_dir", lambda: tmp_path / "models")
    monkeypatch.setattr(plugin_module("geoloc_core.geoclip_prior"), "gallery_for", lambda cache_dir: small_gallery)
    provider = plugin_module("processing_provider.provider").PhotoGeolocatorProvider()
    assert QgsApplication.processingRegistry().addProvider(provider)
    try:
        photos = make_geotagged_csv(tmp_path / "photos")
        built = processing.run("photo_geolocator:build_database", {
            "CSV": str(photos), "ARCHITECTURE": "geoclip", "DOWNLOAD": True,
            "OUTPUT_DATABASE": str(tmp_path / "geo.geoloc")})
        assert built["COUNT"] == 10 and (tmp_path / "models" / "openai__clip-vit-large-patch14" / "complete.json").is_file()
        estimators = plugin_module("processing_provider.algorithms").ESTIMATORS
        located = processing.run("photo_geolocator:geolocate_photos", {
            "FILES": str(tmp_path / "photos" / "p4.jpg"), "DATABASE": built["OUTPUT_DATABASE"], "K": 5,
            "ESTIMATOR": estimators.index("geoclip"), "PREDICTIONS": str(tmp_path / "predictions.gpkg"),
            "NEIGHBOURS": "TEMPORARY_OUTPUT", "UNCERTAINTY": "TEMPORARY_OUTPUT"})
        predictions = QgsVectorLayer(located["PREDICTIONS"], "p", "ogr")
        assert predictions.isValid() and predictions.featureCount() == 1
        assert next(predictions.getFeatures())["estimator"] == "geoclip"
        worldwide = processing.run("photo_geolocator:locate_worldwide", {
            "FILES": f"{tmp_path / 'photos' / 'p1.jpg'};{tmp_path / 'photos' / 'p2.jpg'}", "TOP_K": 7,
            "PREDICTIONS": "TEMPORARY_OUTPUT", "NEIGHBOURS": "TEMPORARY_OUTPUT"})
        assert worldwide["LOCATED"] == 2 and worldwide["NEIGHBOURS"].featureCount() == 14
        gallery = {tuple(point) for point in small_gallery.coordinates}
        assert all((f["lat"], f["lon"]) in gallery for f in worldwide["PREDICTIONS"].getFeatures())
    finally:
        QgsApplication.processingRegistry().removeProvider(provider)
