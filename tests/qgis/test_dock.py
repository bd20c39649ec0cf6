"""Driving the dock as a user would: build, pick photos, run, cancel, inspect, export, render."""

from __future__ import annotations

import sqlite3
import time

import pytest
from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QMimeData, QPointF, Qt, QUrl
from qgis.PyQt.QtGui import QDropEvent

from ..conftest import (
    STAND_IN_PLACES,
    make_exif_samples,
    make_located_photos,
    make_photos,
    make_place_photos,
)
from .conftest import run_groups, wait_until_idle


@pytest.fixture(scope="module")
def made_up_walk(embedder, tmp_path_factory):
    """Made-up look-alike photos of six places, five each, built with the bundled embedder (the panel
    loads the database's), and a folder of two more photos of each of the first two places with EXIF GPS,
    not in the database (query0x0.jpg, query0x1.jpg, query1x0.jpg, query1x1.jpg): for the checks where what
    the photos show does not matter."""
    from geoloc_core.ingest import build_database
    from geoloc_core.sources import from_folder

    tmp = tmp_path_factory.mktemp("made-up-walk")
    make_place_photos(tmp / "references", 5)
    references, _ = from_folder(tmp / "references")
    database, _ = build_database(tmp / "places.geoloc", references, embedder)
    database.close()
    make_place_photos(tmp / "queries", 2, seed=1, places=STAND_IN_PLACES[:2], prefix="query")
    return tmp / "places.geoloc", tmp / "queries"


def open_database(dock, qgis_app, path):
    dock.database_section.open_database(path)
    wait_until_idle(dock, qgis_app)
    assert dock.database is not None and dock.database.path == str(path)


def test_build_from_a_folder_in_the_background(dock, qgis_app, qgis_iface, shared_photos, tmp_path):
    jpg = shared_photos / "exif-samples" / "jpg"
    assert_builds_in_the_background(dock, qgis_app, qgis_iface, jpg / "gps", 9, jpg, 15, tmp_path)


def test_build_from_a_folder_of_made_up_photos_in_the_background(dock, qgis_app, qgis_iface, tmp_path):
    make_located_photos(tmp_path / "photos" / "gps", 4)
    make_located_photos(tmp_path / "photos" / "more", 2, seed=1)
    make_photos(tmp_path / "photos" / "no-gps", 2, seed=2)
    assert_builds_in_the_background(dock, qgis_app, qgis_iface, tmp_path / "photos" / "gps", 4,
                                    tmp_path / "photos", 6, tmp_path)


def assert_builds_in_the_background(dock, qgis_app, qgis_iface, first, first_count, more, total, tmp_path):
    """Build from `first` (`first_count` photos with GPS), then add `more` (`total` with GPS in all)."""
    dock.database_section.build_database(str(first), str(tmp_path / "new.geoloc"))
    assert dock.task is not None and not dock.run_button.isEnabled(), "the run waits for the build"
    wait_until_idle(dock, qgis_app)
    assert dock.database is not None and dock.database.count == first_count
    label = dock.database_section.label.text()
    assert "new" in label and f"{first_count} photos" in label
    assert str(tmp_path / "new.geoloc") == dock.database_section.recent_databases()[0]
    dock.database_section.build_database(str(more), None)  # add more later
    wait_until_idle(dock, qgis_app)
    assert dock.database.count == total
    dock.database_section.show_coverage()
    wait_until_idle(dock, qgis_app)  # the records are read in a task
    coverage = QgsProject.instance().mapLayersByName("References of new")[0]
    assert coverage.featureCount() == total
    dock.database_section.train_features()  # the advanced action; so few photos are too few to learn from, says so
    wait_until_idle(dock, qgis_app)
    errors = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Critical)
    assert any("Training failed" in e and "too few photos" in e for e in errors), errors
    assert dock.database.count == total and dock.run_button.isEnabled()


@pytest.mark.slow
def test_locate_adds_styled_layers_and_skips_a_corrupt_photo(dock, qgis_app, qgis_iface, walk_database,
                                                             shared_photos, tmp_path, plugin_module):
    gps = shared_photos / "exif-samples" / "jpg" / "gps"
    assert_locate_adds_styled_layers(dock, qgis_app, qgis_iface, walk_database[0], gps / "DSCN0010.jpg",
                                     gps / "DSCN0012.jpg", {"density", "density_dscn0010", "density_dscn0012"},
                                     tmp_path, plugin_module)


@pytest.mark.slow
def test_locating_made_up_photos_adds_styled_layers_and_skips_a_corrupt_photo(dock, qgis_app, qgis_iface, made_up_walk,
                                                                              tmp_path, plugin_module):
    database, queries = made_up_walk
    assert_locate_adds_styled_layers(dock, qgis_app, qgis_iface, database, queries / "query0x0.jpg",
                                     queries / "query0x1.jpg", {"density", "density_query0x0", "density_query0x1"},
                                     tmp_path, plugin_module)


def assert_locate_adds_styled_layers(dock, qgis_app, qgis_iface, database, first, second, density_tables, tmp_path,
                                     plugin_module):
    """Locate two photos with EXIF GPS and a copy of the first cut short; `density_tables`: the export's."""
    open_database(dock, qgis_app, database)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(first.read_bytes()[:min(1500, first.stat().st_size // 2)])
    dock.photos.add_photos([str(first), str(second), str(broken)])
    wait_until_idle(dock, qgis_app)  # the photos are read in the background
    assert dock.photos.photo_list.count() == 3
    assert "GPS" in dock.photos.photo_list.item(0).text(), "photos that carry EXIF GPS are marked"
    dock.options.k_spin.setValue(20)
    finished = []
    dock.runFinished.connect(finished.append)
    dock.run_button.click()
    wait_until_idle(dock, qgis_app)
    run = finished[0]
    assert run is not None and len(run.results) == 2
    (group,) = run_groups()
    layers = {node.layer().name(): node.layer() for node in group.findLayers()}
    predictions = layers["Predictions"]
    assert predictions.featureCount() == 2 and predictions.crs().authid() == "EPSG:4326"
    assert {"photo", "file_name", "lat", "lon", "confidence", "radius50_km", "radius90_km", "estimator", "k",
            "database", "run_time"} <= set(predictions.fields().names())
    assert "img src" in predictions.mapTipTemplate(), "the map tip shows the photo"
    assert predictions.editorWidgetSetup(predictions.fields().indexOf("photo")).type() == "ExternalResource"
    assert layers["Neighbours"].featureCount() == 40
    predictions.selectAll()  # the circles follow the selected predictions
    assert layers["Uncertainty"].featureCount() == 4
    (raster,) = [layer for layer in layers.values() if isinstance(layer, QgsRasterLayer)]
    assert raster.crs().authid() == "EPSG:4326" and raster.name() == "Density", "all photos; each in its own table"
    assert raster.source().startswith(f"GPKG:{tmp_path / 'rasters'}"), "in the run's GeoPackage, in the chosen folder"
    assert not list((tmp_path / "rasters").glob("*.aux.xml")), "what the density says of itself stays inside the file"
    assert raster.renderer().type() == "singlebandpseudocolor"
    labels = [item.label for item in raster.renderer().shader().rasterShaderFunction().colorRampItemList()]
    assert len(set(labels)) == len(labels) and "per km²" in labels[-1], labels
    from qgis.core import QgsLayerTreeLayer

    nodes = raster.renderer().createLegendNodes(QgsLayerTreeLayer(raster))
    assert [n.data(Qt.ItemDataRole.DisplayRole) for n in nodes][-len(labels):] == labels, "a legend entry per step"
    warnings = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning)
    assert any("broken.jpg" in w and "damaged or truncated" in w for w in warnings)
    assert dock.results_section.results_table.rowCount() == 2

    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))  # shown right whatever the CRS
    dock.results_section.results_table.selectRow(0)
    result = run.results[0]
    to_canvas = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"),
                                       canvas.mapSettings().destinationCrs(), QgsProject.instance())
    extent = canvas.extent()
    assert extent.contains(to_canvas.transform(QgsPointXY(result.lon, result.lat)))
    for neighbour in result.neighbours[:10]:
        assert extent.contains(to_canvas.transform(QgsPointXY(neighbour.lon, neighbour.lat)))
    assert len(dock.review.evidence.tiles) == 6, "the photo beside its top six neighbours"
    qgis_app.processEvents()
    body = dock.scroll.widget()
    assert body.minimumSizeHint().width() <= dock.minimumWidth(), "the evidence fits the panel's width"

    export = tmp_path / "run.gpkg"
    assert dock.results_section.export_run(run, str(export))
    with sqlite3.connect(export) as connection:
        tables = dict(connection.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        styles = {row[0] for row in connection.execute("SELECT f_table_name FROM layer_styles")}
    assert {"predictions", "neighbours", "uncertainty", "known", "error_lines"} <= set(tables)
    assert {t for t, kind in tables.items() if kind == "2d-gridded-coverage"} == density_tables
    assert styles == {t for t, kind in tables.items() if kind == "features"}, "every vector table has its style"
    reopened = QgsVectorLayer(f"{export}|layername=predictions", "p", "ogr")
    assert reopened.featureCount() == 2
    assert reopened.renderer().symbol().symbolLayer(0).shape() == reopened.renderer().symbol().symbolLayer(0).Star
    stored = QgsProject()
    assert stored.read(plugin_module("ui.results").stored_project_uri(export, run)), stored.error()
    by_name = {layer.name(): layer for layer in stored.mapLayers().values()}
    assert {"Predictions", "Neighbours", "Uncertainty", "Density", "Known locations (GPS)", "Error lines"} <= set(by_name)
    assert all(layer.isValid() for layer in by_name.values())
    assert by_name["Density"].renderer().type() == "singlebandpseudocolor", "the raster comes back styled"
    assert [node.name() for node in stored.layerTreeRoot().findLayers()][0] == "Predictions"

    before = export.stat().st_mtime_ns
    assert not dock.results_section.export_run(run, str(export), confirm_overwrite=lambda: False)
    assert export.stat().st_mtime_ns == before, "an existing file is never replaced without asking"


def test_cancel_adds_no_layer_and_leaves_no_raster(dock, qgis_app, made_up_walk, tmp_path):
    open_database(dock, qgis_app, made_up_walk[0])
    dock.photos.add_photos([str(path) for path in make_photos(tmp_path / "queries", 60, seed=3)])
    wait_until_idle(dock, qgis_app)  # the photos are read in the background
    groups_before = len(run_groups())
    finished = []
    dock.runFinished.connect(finished.append)
    dock.run_button.click()
    assert dock.cancel_button.isEnabled()
    dock.task.progressed.connect(lambda *args: dock.cancel())
    wait_until_idle(dock, qgis_app)
    assert finished == [None]
    assert len(run_groups()) == groups_before
    assert not list((tmp_path / "rasters").glob("*")), "no file of the cancelled run is left behind"
    assert dock.run_button.isEnabled(), "ready for the next run"


@pytest.mark.slow
def test_a_second_run_while_one_runs_is_refused(dock, qgis_app, qgis_iface, made_up_walk):
    database, queries = made_up_walk
    open_database(dock, qgis_app, database)
    dock.photos.add_photos([str(path) for path in sorted(queries.glob("query0x*.jpg"))])  # one place: a small density grid
    wait_until_idle(dock, qgis_app)  # the photos are read in the background
    dock.photos.skip_gps_check.setChecked(True)
    dock.start_run()
    assert dock.task is None, "every walk photo carries GPS, so nothing is left to locate"
    dock.photos.skip_gps_check.setChecked(False)
    dock.start_run()
    first = dock.task
    dock.start_run()
    assert dock.task is first
    assert any("still running" in m for m in qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning))
    wait_until_idle(dock, qgis_app)
    dock.start_run()  # two runs in a row
    wait_until_idle(dock, qgis_app)
    assert [run.number for run in dock.runs] == [2], "the panel shows the latest run"
    assert len(run_groups()) >= 2, "each run keeps its layer group"


def test_drop_files_from_the_file_manager(dock, qgis_app, shared_photos):
    jpg = shared_photos / "exif-samples" / "jpg"
    listed, marked = drop_on_the_photo_list(dock, qgis_app, [jpg / "gps" / "DSCN0010.jpg", jpg / "hdr"])
    assert listed == 5
    # exiftool: DSCN0010 and the two iPhone HDR photos carry GPS, the Canon ones do not
    assert [m.rsplit("/", 1)[1] for m in marked] == ["DSCN0010.jpg", "iphone_hdr_NO.jpg", "iphone_hdr_YES.jpg"]


def test_drop_made_up_files_from_the_file_manager(dock, qgis_app, made_up_walk, tmp_path):
    """A file and a folder of photos with EXIF quirks the test wrote: those with a real location are marked."""
    rows = make_exif_samples(tmp_path / "samples")
    query = made_up_walk[1] / "query0x0.jpg"
    listed, marked = drop_on_the_photo_list(dock, qgis_app, [query, tmp_path / "samples" / "jpg"])
    in_jpg = [row for row in rows if row["path"].startswith("jpg/")]
    assert listed == 1 + len(in_jpg)
    assert marked == sorted([str(query)] + [str(tmp_path / "samples" / row["path"]) for row in in_jpg
                                            if row["gps_status"] == "ok"])


def drop_on_the_photo_list(dock, qgis_app, paths) -> tuple[int, list[str]]:
    """Drop files and folders from a file manager: how many photos are listed, and which are marked as
    carrying GPS (sorted paths)."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    dock.photos.photo_list.dropEvent(event)
    wait_until_idle(dock, qgis_app)  # the photos are read in the background
    items = [dock.photos.photo_list.item(i) for i in range(dock.photos.photo_list.count())]
    return len(items), sorted(item.data(Qt.ItemDataRole.UserRole) for item in items if "GPS" in item.text())


def test_a_broken_database_is_reported_not_raised(dock, qgis_app, qgis_iface, tmp_path):
    (tmp_path / "bad.geoloc").mkdir()
    (tmp_path / "bad.geoloc" / "manifest.json").write_text("{not json")
    dock.database_section.open_database(tmp_path / "bad.geoloc")
    wait_until_idle(dock, qgis_app)
    assert dock.database is None
    assert any("damaged database" in m for m in qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Critical))


@pytest.mark.slow
def test_map_render_draws_the_prediction_where_expected(dock, qgis_app, walk_database, shared_photos, tmp_path):
    walk = shared_photos / "exif-samples" / "jpg" / "gps"
    assert_prediction_drawn(dock, qgis_app, walk_database[0], walk / "DSCN0010.jpg", tmp_path)


def test_map_render_draws_a_made_up_photo_prediction_where_expected(dock, qgis_app, made_up_walk, tmp_path):
    database, queries = made_up_walk
    assert_prediction_drawn(dock, qgis_app, database, queries / "query1x1.jpg", tmp_path)


def assert_prediction_drawn(dock, qgis_app, database, photo, tmp_path):
    """Locate `photo` and render the predictions layer: the red star is where the prediction is, nothing elsewhere."""
    from qgis.core import QgsMapRendererParallelJob, QgsMapSettings, QgsRectangle
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    open_database(dock, qgis_app, database)
    dock.photos.add_photos([str(photo)])
    wait_until_idle(dock, qgis_app)  # the photos are read in the background
    dock.options.density_check.setChecked(False)
    finished = []
    dock.runFinished.connect(finished.append)
    dock.start_run()
    assert dock.status_label.text() == "Locating 1 photo…"
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


def test_a_folder_without_geotagged_photos_is_an_error_not_an_empty_database(dock, qgis_app, qgis_iface, tmp_path):
    folder = tmp_path / "no-gps"
    folder.mkdir()
    (folder / "plain.png").write_bytes(b"")  # a photo file without any location
    dock.database_section.build_database(str(folder), str(tmp_path / "empty.geoloc"))
    wait_until_idle(dock, qgis_app)
    errors = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Critical)
    assert any("no photo with a usable EXIF GPS location" in e for e in errors), errors
    assert not qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Success)
    assert dock.database is None and not (tmp_path / "empty.geoloc").exists()


def test_results_follow_the_project_and_failed_runs(dock, qgis_app, qgis_iface, made_up_walk, tmp_path, monkeypatch,
                                                    plugin_module):
    from qgis.PyQt.QtWidgets import QFileDialog, QMessageBox, QPushButton

    monkeypatch.setattr(plugin_module("ui.results"), "tiles_reachable", lambda: False)  # offline, as in CI

    database, queries = made_up_walk
    dock.options.output_widget.setFilePath("")  # no folder chosen, no saved project: a temporary GeoPackage
    open_database(dock, qgis_app, database)
    dock.photos.add_photos([str(queries / "query0x0.jpg"), str(queries / "query1x0.jpg")])  # far apart
    wait_until_idle(dock, qgis_app)  # the photos are read in the background
    dock.options.k_spin.setValue(10)
    dock.run_button.click()
    assert dock.status_label.text(), "says what happens while the network loads"
    wait_until_idle(dock, qgis_app)
    run = dock.runs[-1]
    names = {QgsProject.instance().mapLayer(i).name() for i in run.layer_ids.values()}
    assert "World map (QGIS)" in [layer.name() for layer in QgsProject.instance().mapLayers().values()], \
        "an empty project gets QGIS's offline world map as context"
    predictions = QgsProject.instance().mapLayer(run.layer_ids["predictions"])
    errors = [f["gps_error_km"] for f in predictions.getFeatures()]
    assert all(e is not None and e >= 0 for e in errors), "photos with EXIF GPS get their error"
    assert "k=10" in predictions.abstract() and predictions.customProperty("photo_geolocator/k") == 10
    assert {"Predictions", "Neighbours", "Uncertainty", "Density", "Known locations (GPS)", "Error lines"} <= names
    offers = [b.text() for item in qgis_iface.messageBar().items() for b in item.findChildren(QPushButton)]
    assert "Keep them in a GeoPackage…" in offers, "a temporary GeoPackage comes with an offer to keep it"
    assert run.temporary and "temporary" in dock.results_section.file_label.text(), "the offer stays in the panel"
    table = dock.results_section.results_table
    header = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert "Nearest distance" not in header and "Error vs EXIF GPS (km)" in header

    dock.results_section.results_table.sortItems(1, Qt.SortOrder.DescendingOrder)  # by latitude, highest first
    dock.results_section.results_table.selectRow(0)
    top = max(run.results, key=lambda r: r.lat)
    assert dock.results_section.selected_result() is top, "sorting keeps each row with its own result"
    assert [f["photo"] for f in predictions.selectedFeatures()] == [top.photo], "highlighted on the map"

    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args: asked.append(args) or QMessageBox.StandardButton.Yes)
    target = tmp_path / "run.gpkg"
    target.write_bytes(b"old")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kw: (str(target), ""))
    dock.results_section.choose_export()
    assert not asked, "the save dialog already asked before replacing the file"
    assert dock.context.start_folder() == str(tmp_path), "the next dialog opens where the user last was"
    assert target.stat().st_size > 3 and run.gpkg == str(target) and not run.temporary, "kept"

    QgsProject.instance().clear()  # New project
    assert dock.results_section.results_table.rowCount() == 0 and not dock.results_section.export_button.isEnabled(), \
        "no stale results"

    dock.photos.photo_list.clear()
    dock.photos.add_photos([str(queries / "query0x0.jpg")])
    wait_until_idle(dock, qgis_app)  # the photos are read in the background
    dock.runs.append(run)
    dock.engine.locate = lambda *args: (_ for _ in ()).throw(ValueError("boom"))
    dock.run_button.click()
    wait_until_idle(dock, qgis_app)
    assert not dock.runs and not dock.results_section.export_button.isEnabled(), "a failed run leaves no stale Export"


def test_the_panel_fits_its_width_and_the_wheel_scrolls_past_number_boxes(dock, qgis_app):
    from qgis.PyQt.QtCore import QPoint
    from qgis.PyQt.QtGui import QWheelEvent
    from qgis.PyQt.QtWidgets import QApplication

    dock.setup_section.setVisible(True)
    body = dock.scroll.widget()
    scrollbar = dock.scroll.verticalScrollBar().sizeHint().width()
    assert body.minimumSizeHint().width() + scrollbar <= dock.minimumWidth(), "no horizontal scrolling"
    assert dock.minimumWidth() <= 420, "compact: rows of at most two or three buttons, fields under labels"
    assert not body.isAncestorOf(dock.status_label) and not body.isAncestorOf(dock.run_button), \
        "the run button and status line never scroll out of view"
    before = dock.options.k_spin.value()
    wheel = QWheelEvent(QPointF(5, 5), QPointF(5, 5), QPoint(0, 0), QPoint(0, -120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(dock.options.k_spin, wheel)
    assert dock.options.k_spin.value() == before, "scrolling the panel over k leaves k alone"


def test_a_cancelled_task_is_not_reported_as_failed(dock, qgis_app, plugin_module):
    cancelled = plugin_module("geoloc_core.progress").Cancelled  # as the plugin's task imports it
    seen = []

    def work(progress, should_stop):
        raise cancelled("stopped at the user's request")

    ends = []
    task = plugin_module("ui.tasks").EngineTask("a step", work, lambda t: seen.append((t.cancelled, t.result)))
    task.taskCompleted.connect(lambda: ends.append("complete"))
    task.taskTerminated.connect(lambda: ends.append("failed"))
    qgis_app.taskManager().addTask(task)
    deadline = time.monotonic() + 10
    while not ends and time.monotonic() < deadline:
        qgis_app.processEvents()
    assert ends == ["complete"], "QGIS shows no 'Task failed' after Cancel"
    assert seen == [(True, None)]


def test_an_empty_project_gets_openstreetmap_where_online_and_the_world_map_offline(qgis_app, qgis_new_project,
                                                                                    plugin_module):
    results = plugin_module("ui.results")
    project = QgsProject.instance()
    offline = results.add_base_map(project, online=False)
    assert offline.name() == "World map (QGIS)" and offline.isValid()
    project.removeMapLayer(offline.id())
    online = results.add_base_map(project, online=True)
    assert online.name() == "OpenStreetMap" and online.providerType() == "wms"
    assert "tile.openstreetmap.org" in online.source() and "type=xyz" in online.source()
    assert project.layerTreeRoot().findLayer(online.id()) is not None
    assert results.tiles_reachable("unreachable.invalid", timeout=0.5) is False


def test_parameters_start_at_the_engine_defaults(dock):
    from geoloc_core import defaults

    assert dock.options.estimator_combo.currentData() == defaults.DEFAULT_ESTIMATOR
    assert dock.options.k_spin.value() == defaults.DEFAULT_K
    assert dock.options.bandwidth_spin.value() == defaults.DEFAULT_BANDWIDTH_KM
    assert dock.options.temperature == defaults.DEFAULT_TEMPERATURE
