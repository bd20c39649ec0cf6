"""Driving the dock as a user would: build, pick photos, run, cancel, inspect, export, render."""

from __future__ import annotations

import sqlite3
import time

import pytest
from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsLayerTreeGroup,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QMimeData, QPointF, Qt, QUrl
from qgis.PyQt.QtGui import QDropEvent

from .conftest import flickr_rows, write_csv


@pytest.fixture
def dock(qgis_app, qgis_iface, qgis_new_project, plugin_module, tmp_path):
    widget = plugin_module("ui.dock").PhotoGeolocatorDock(qgis_iface, qgis_iface.mainWindow())
    widget.output_widget.setFilePath(str(tmp_path / "rasters"))
    qgis_iface.messageBar().clear_messages()
    yield widget
    widget.shutdown()
    widget.deleteLater()


def wait_until_idle(dock, qgis_app, timeout=300):
    deadline = time.monotonic() + timeout
    while dock.task is not None:
        assert time.monotonic() < deadline, "the task did not finish in time"
        qgis_app.processEvents()
        time.sleep(0.01)
    qgis_app.processEvents()


@pytest.fixture(scope="module")
def walk_database(tmp_path_factory):
    """The walk photos and 40 worldwide distractors, built with the engine directly."""
    from geoloc_core.database import build_database
    from geoloc_core.embedders import load_embedder
    from geoloc_core.sources import from_csv, from_folder

    from .conftest import shared_path

    tmp = tmp_path_factory.mktemp("dockdb")
    walk, _ = from_folder(shared_path("photos", "exif-samples", "jpg", "gps"))
    world, _ = from_csv(write_csv(tmp / "world.csv", flickr_rows(shared_path("flickr-cc"), 40)))
    database, _ = build_database(tmp / "walk.geoloc", walk + world, load_embedder())
    database.close()
    return tmp / "walk.geoloc"


def open_database(dock, qgis_app, path):
    dock.open_database(path)
    wait_until_idle(dock, qgis_app)
    assert dock.database is not None and dock.database.path == str(path)


def run_groups():
    return [g for g in QgsProject.instance().layerTreeRoot().children()
            if isinstance(g, QgsLayerTreeGroup) and g.name().startswith("Photo Geolocator run")]


def test_build_from_a_folder_in_the_background(dock, qgis_app, qgis_iface, shared_photos, tmp_path):
    dock.build_database(str(shared_photos / "exif-samples" / "jpg" / "gps"), str(tmp_path / "new.geoloc"))
    assert dock.task is not None and not dock.run_button.isEnabled(), "the run waits for the build"
    wait_until_idle(dock, qgis_app)
    assert dock.database is not None and dock.database.count == 9
    assert "new" in dock.database_label.text() and "9 photos" in dock.database_label.text()
    assert str(tmp_path / "new.geoloc") == dock.recent_databases()[0]
    dock.build_database(str(shared_photos / "exif-samples" / "jpg"), None)  # add more later
    wait_until_idle(dock, qgis_app)
    assert dock.database.count == 15
    dock.show_coverage()
    coverage = QgsProject.instance().mapLayersByName("References of new")[0]
    assert coverage.featureCount() == 15
    dock.train_features()  # the advanced action; 15 photos are too few to learn from, and it says so
    wait_until_idle(dock, qgis_app)
    errors = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Critical)
    assert any("Training failed" in e and "too few photos" in e for e in errors), errors
    assert dock.database.count == 15 and dock.run_button.isEnabled()


def test_locate_adds_styled_layers_and_skips_a_corrupt_photo(dock, qgis_app, qgis_iface, walk_database,
                                                             shared_photos, tmp_path):
    open_database(dock, qgis_app, walk_database)
    gps = shared_photos / "exif-samples" / "jpg" / "gps"
    broken = tmp_path / "broken.jpg"
    broken.write_bytes((gps / "DSCN0010.jpg").read_bytes()[:1500])
    dock.add_photos([str(gps / "DSCN0010.jpg"), str(gps / "DSCN0012.jpg"), str(broken)])
    assert dock.photo_list.count() == 3
    assert "GPS" in dock.photo_list.item(0).text(), "photos that carry EXIF GPS are marked"
    dock.k_spin.setValue(20)
    finished = []
    dock.runFinished.connect(finished.append)
    dock.run_button.click()
    wait_until_idle(dock, qgis_app)
    run = finished[0]
    assert run is not None and len(run.results) == 2
    (group,) = run_groups()
    layers = {node.layer().name(): node.layer() for node in group.findLayers()}
    predictions = layers["Predicted locations"]
    assert predictions.featureCount() == 2 and predictions.crs().authid() == "EPSG:4326"
    assert {"photo", "file_name", "lat", "lon", "confidence", "radius50_km", "radius90_km", "estimator", "k",
            "database", "run_time"} <= set(predictions.fields().names())
    assert "img src" in predictions.mapTipTemplate(), "the map tip shows the photo"
    assert predictions.editorWidgetSetup(predictions.fields().indexOf("photo")).type() == "ExternalResource"
    assert layers["Neighbours"].featureCount() == 40
    assert layers["Uncertainty (50% / 90%)"].featureCount() == 4
    rasters = [layer for layer in layers.values() if isinstance(layer, QgsRasterLayer)]
    assert len(rasters) == 2 and all(r.crs().authid() == "EPSG:4326" for r in rasters)
    assert all(r.source().startswith(str(tmp_path / "rasters")) for r in rasters), "kept in the chosen folder"
    warnings = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning)
    assert any("broken.jpg" in w and "damaged or truncated" in w for w in warnings)
    assert dock.results_table.rowCount() == 2

    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))  # shown right whatever the CRS
    dock.results_table.selectRow(0)
    result = run.results[0]
    to_canvas = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"),
                                       canvas.mapSettings().destinationCrs(), QgsProject.instance())
    extent = canvas.extent()
    assert extent.contains(to_canvas.transform(QgsPointXY(result.lon, result.lat)))
    for neighbour in result.neighbours[:10]:
        assert extent.contains(to_canvas.transform(QgsPointXY(neighbour.lon, neighbour.lat)))
    assert dock.preview_layout.count() == 5, "the photo beside its top four neighbours"

    export = tmp_path / "run.gpkg"
    assert dock.export_run(run, str(export))
    with sqlite3.connect(export) as connection:
        tables = dict(connection.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        styles = {row[0] for row in connection.execute("SELECT f_table_name FROM layer_styles")}
    density_tables = {t for t, kind in tables.items() if kind == "2d-gridded-coverage"}
    assert {"predictions", "neighbours", "uncertainty"} <= set(tables) and len(density_tables) == 2
    assert styles == {"predictions", "neighbours", "uncertainty"} | density_tables, "every table has its style"
    reopened = QgsVectorLayer(f"{export}|layername=predictions", "p", "ogr")
    assert reopened.featureCount() == 2
    assert reopened.renderer().symbol().symbolLayer(0).shape() == reopened.renderer().symbol().symbolLayer(0).Star
    density = QgsRasterLayer(f"GPKG:{export}:{[t for t, k in tables.items() if k == '2d-gridded-coverage'][0]}", "d")
    assert density.isValid()

    before = export.stat().st_mtime_ns
    assert not dock.export_run(run, str(export), confirm_overwrite=lambda: False)
    assert export.stat().st_mtime_ns == before, "an existing file is never replaced without asking"


def test_cancel_adds_no_layer_and_leaves_no_raster(dock, qgis_app, walk_database, flickr_dir, tmp_path):
    open_database(dock, qgis_app, walk_database)
    dock.add_photos([row["path"] for row in flickr_rows(flickr_dir, 120)[60:]])
    groups_before = len(run_groups())
    finished = []
    dock.runFinished.connect(finished.append)
    dock.run_button.click()
    assert dock.cancel_button.isEnabled()
    dock.task.progressed.connect(lambda *args: dock.cancel())
    wait_until_idle(dock, qgis_app)
    assert finished == [None]
    assert len(run_groups()) == groups_before
    assert not list((tmp_path / "rasters").glob("*.tif")), "no raster of the cancelled run is left behind"
    assert dock.run_button.isEnabled(), "ready for the next run"


def test_a_second_run_while_one_runs_is_refused(dock, qgis_app, qgis_iface, walk_database, shared_photos):
    open_database(dock, qgis_app, walk_database)
    dock.add_photos([str(shared_photos / "exif-samples" / "jpg" / "gps")])
    dock.skip_gps_check.setChecked(True)
    dock.start_run()
    assert dock.task is None, "every walk photo carries GPS, so nothing is left to locate"
    dock.skip_gps_check.setChecked(False)
    dock.start_run()
    first = dock.task
    dock.start_run()
    assert dock.task is first
    assert any("still running" in m for m in qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning))
    wait_until_idle(dock, qgis_app)
    dock.start_run()  # two runs in a row
    wait_until_idle(dock, qgis_app)
    assert len(dock.runs) == 2 and len(run_groups()) >= 2


def test_drop_files_from_the_file_manager(dock, shared_photos):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(shared_photos / "exif-samples" / "jpg" / "gps" / "DSCN0010.jpg")),
                  QUrl.fromLocalFile(str(shared_photos / "exif-samples" / "jpg" / "hdr"))])
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    dock.photo_list.dropEvent(event)
    assert dock.photo_list.count() == 5
    marked = sorted(dock.photo_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(5)
                    if "GPS" in dock.photo_list.item(i).text())
    # exiftool: DSCN0010 and the two iPhone HDR photos carry GPS, the Canon ones do not
    assert [m.rsplit("/", 1)[1] for m in marked] == ["DSCN0010.jpg", "iphone_hdr_NO.jpg", "iphone_hdr_YES.jpg"]


def test_a_broken_database_is_reported_not_raised(dock, qgis_app, qgis_iface, tmp_path):
    (tmp_path / "bad.geoloc").mkdir()
    (tmp_path / "bad.geoloc" / "manifest.json").write_text("{not json")
    dock.open_database(tmp_path / "bad.geoloc")
    wait_until_idle(dock, qgis_app)
    assert dock.database is None
    assert any("damaged database" in m for m in qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Critical))


def test_map_render_draws_the_prediction_where_expected(dock, qgis_app, walk_database, shared_photos, tmp_path):
    from qgis.core import QgsMapRendererParallelJob, QgsMapSettings, QgsRectangle
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    open_database(dock, qgis_app, walk_database)
    dock.add_photos([str(shared_photos / "exif-samples" / "jpg" / "gps" / "DSCN0010.jpg")])
    dock.density_check.setChecked(False)
    finished = []
    dock.runFinished.connect(finished.append)
    dock.start_run()
    wait_until_idle(dock, qgis_app)
    result = finished[0].results[0]
    layer = QgsProject.instance().mapLayer(finished[0].layer_ids["predictions"])
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setOutputSize(QSize(200, 200))
    settings.setBackgroundColor(QColor("white"))
    # the prediction at 3/4 of the width and 1/4 of the height of a 2 x 2 degree view
    settings.setExtent(QgsRectangle(result.lon - 1.5, result.lat - 1.5, result.lon + 0.5, result.lat + 0.5))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(str(tmp_path / "map.png"))
    at_prediction = QColor(image.pixel(150, 50))
    elsewhere = QColor(image.pixel(50, 150))
    assert at_prediction.red() > 180 and at_prediction.green() < 120, "the red star is drawn at the prediction"
    assert elsewhere.name() == "#ffffff"


def test_parameters_start_at_the_engine_defaults(dock):
    from geoloc_core import defaults

    assert dock.estimator_combo.currentData() == defaults.DEFAULT_ESTIMATOR
    assert dock.k_spin.value() == defaults.DEFAULT_K
    assert dock.bandwidth_spin.value() == defaults.DEFAULT_BANDWIDTH_KM
    assert dock.temperature == defaults.DEFAULT_TEMPERATURE
