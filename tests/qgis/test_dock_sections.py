"""The panel as one widget per section: parameters remembered across sessions, photos and thumbnails read
off the GUI thread and handed back by signal, and the database never read on the GUI thread nor beside a
running task. Everything here is made by the tests (random photos, a tiny random embedder): no ../shared."""

from __future__ import annotations

import threading
import time

import pytest
from qgis.core import Qgis, QgsProject, QgsSettings

from ..conftest import make_photos
from .conftest import wait_until_idle


@pytest.fixture
def tiny_database(tmp_path, tiny_embedder):
    """A 12-photo database of random pictures, built with the tiny random embedder."""
    from geoloc_core.ingest import build_database
    from geoloc_core.sources import Candidate

    photos = make_photos(tmp_path / "references", 12)
    candidates = [Candidate(path, 40.0 + i, -3.0 + i) for i, path in enumerate(photos)]
    database, report = build_database(tmp_path / "tiny.geoloc", candidates, tiny_embedder)
    database.close()
    assert report.added == 12
    return tmp_path / "tiny.geoloc"


def photo_with_gps(path, lat: float, lon: float):
    """A JPEG carrying EXIF GPS (north-east: positive degrees, minutes, seconds)."""
    from PIL import ExifTags, Image

    image = Image.new("RGB", (80, 60), (90, 140, 200))
    exif = image.getexif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (float(int(lat)), 0.0, 0.0),
                ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (float(int(lon)), 0.0, 0.0)})
    image.save(path, exif=exif)
    return path


def new_dock(plugin_module, qgis_iface, parent=True):
    """Another panel, as when QGIS starts again (parent None: a window of its own, which can be shown here)."""
    return plugin_module("ui.dock").PhotoGeolocatorDock(qgis_iface, qgis_iface.mainWindow() if parent else None)


def test_parameters_and_the_last_database_are_restored_when_the_panel_opens(
        dock, qgis_app, qgis_iface, plugin_module, tiny_database, tmp_path):
    options = dock.options
    options.k_spin.setValue(37)
    options.estimator_combo.setCurrentIndex(options.estimator_combo.findData("sphere"))
    options.bandwidth_spin.setValue(250.0)
    options.uncertainty_check.setChecked(False)
    options.density_check.setChecked(False)
    options.resolution_spin.setValue(0.25)
    options.extent_combo.setCurrentIndex(options.extent_combo.findData("world"))
    options.output_widget.setFilePath(str(tmp_path / "kept"))
    options.top_k_spin.setValue(12)
    dock.database_section.open_database(tiny_database)
    wait_until_idle(dock, qgis_app)
    assert dock.database is not None

    again = new_dock(plugin_module, qgis_iface, parent=None)
    try:
        restored = again.options
        assert (restored.k_spin.value(), restored.estimator_combo.currentData(), restored.bandwidth_spin.value()) == \
            (37, "sphere", 250.0)
        assert not restored.uncertainty_check.isChecked() and not restored.density_check.isChecked()
        assert (restored.resolution_spin.value(), restored.extent_combo.currentData()) == (0.25, "world")
        assert restored.output_widget.filePath() == str(tmp_path / "kept") and restored.top_k_spin.value() == 12
        assert again.database is None and again.task is None, "nothing is opened before the panel is shown"
        again.show()
        qgis_app.processEvents()
        wait_until_idle(again, qgis_app)
        assert again.database is not None and again.database.path == str(tiny_database), "the last database"
        assert "tiny" in again.database_section.label.text()
    finally:
        again.shutdown()
        again.deleteLater()


def test_a_remembered_choice_that_cannot_run_falls_back_and_is_kept(dock, plugin_module, qgis_iface):
    options = dock.options
    QgsSettings().setValue("photo_geolocator/parameters/estimator", "geoclip")
    QgsSettings().setValue("photo_geolocator/parameters/search", "world")
    again = new_dock(plugin_module, qgis_iface)
    try:  # no GeoCLIP database and (in this profile) no GeoCLIP model: the defaults, with the choices kept
        assert again.options.estimator_combo.currentData() == "cascade"
        assert again.options.mode_combo.currentData() == "references"
        assert options.remembered("estimator", "") == "geoclip" and options.remembered("search", "") == "world"
    finally:
        again.shutdown()
        again.deleteLater()


def test_photos_are_listed_and_read_off_the_gui_thread_and_arrive_by_signal(
        dock, qgis_app, qgis_iface, plugin_module, tmp_path, monkeypatch):
    reader = plugin_module("ui.photo_reader")
    threads = []
    original = reader.read_entry

    def recording(path, size):
        threads.append(threading.current_thread() is threading.main_thread())
        return original(path, size)

    monkeypatch.setattr(reader, "read_entry", recording)
    folder = tmp_path / "to-locate"
    make_photos(folder, 5)
    photo_with_gps(folder / "tagged.jpg", 48.0, 2.0)
    (tmp_path / "notes.txt").write_text("not a photo")
    dock.photos.add_photos([str(folder), str(tmp_path / "notes.txt")])
    assert dock.photos.photo_list.count() == 0 and dock.photos.reading(), "add_photos returns before any read"
    assert not dock.run_button.isEnabled()
    wait_until_idle(dock, qgis_app)
    photo_list = dock.photos.photo_list
    assert photo_list.count() == 6 and threads == [False] * 6, "every photo read in a worker thread"
    texts = [photo_list.item(i).text() for i in range(6)]
    assert [t for t in texts if "GPS" in t] == ["tagged.jpg  [GPS 48.0000, 2.0000]"]
    assert all(not photo_list.item(i).icon().isNull() for i in range(6)), "each with its thumbnail"
    warnings = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning)
    assert any("notes.txt" in w and "not a photo format" in w for w in warnings)
    dock.photos.add_photos([str(folder / "tagged.jpg")])  # already listed: not twice
    wait_until_idle(dock, qgis_app)
    assert photo_list.count() == 6
    photo_list.clear()
    dock.photos.add_photos([str(folder / "tagged.jpg")])  # after Clear it comes back
    wait_until_idle(dock, qgis_app)
    assert photo_list.count() == 1


def test_result_and_preview_thumbnails_arrive_after_the_table_is_filled(
        dock, qgis_app, plugin_module, tmp_path):
    from geoloc_core.locate import LocationResult, Neighbour

    photos = make_photos(tmp_path / "photos", 6)
    neighbours = [Neighbour(rank, rank, 0.5, 0.9 - rank / 10, 0.2, 45.0, 5.0 + rank, str(photos[rank + 1]))
                  for rank in range(4)]
    results = [LocationResult(str(photos[0]), 45.0, 5.0, 0.5, 100.0, 400.0, "cascade", 4, neighbours),
               LocationResult(str(photos[5]), 46.0, 6.0, 0.4, 120.0, 500.0, "cascade", 4, neighbours)]
    run = plugin_module("ui.results").LocateRun(1, "test", "2026-11-26T00:00:00+00:00", results, [])
    dock.runs.append(run)
    section = dock.results_section
    section.fill(run)
    table = section.results_table
    assert table.rowCount() == 2 and all(table.item(row, 0).icon().isNull() for row in range(2)), \
        "the table is filled at once; its thumbnails come later"
    deadline = time.monotonic() + 60
    while section.reader.pending and time.monotonic() < deadline:
        qgis_app.processEvents()
    qgis_app.processEvents()
    assert all(not table.item(row, 0).icon().isNull() for row in range(2))
    table.selectRow(0)
    view = dock.review.evidence  # the selected result's evidence
    assert len(view.tiles) == 4 and all(tile.icon().isNull() for tile in view.tiles)
    assert view.photo_label.pixmap() is None or view.photo_label.pixmap().isNull()
    while view.reader.pending and time.monotonic() < deadline:
        qgis_app.processEvents()
    qgis_app.processEvents()
    assert not view.photo_label.pixmap().isNull(), "the photo"
    assert all(not tile.icon().isNull() for tile in view.tiles), "beside its four best matches"


def test_coverage_waits_for_a_running_task_and_reads_the_database_in_one(
        dock, qgis_app, qgis_iface, tiny_database, monkeypatch):
    dock.database_section.open_database(tiny_database)
    wait_until_idle(dock, qgis_app)
    readers = []
    original = dock.engine.references
    monkeypatch.setattr(dock.engine, "references",
                        lambda: readers.append(threading.current_thread() is threading.main_thread()) or original())
    release = threading.Event()
    dock.context.run_task("A step writing the database", lambda progress, should_stop: release.wait(60),
                          lambda task: dock.context.task_done())
    assert not dock.database_section.coverage_button.isEnabled(), "no coverage while a task uses the database"
    dock.database_section.show_coverage()  # as a script could: refused, nothing read
    assert readers == [] and not QgsProject.instance().mapLayersByName("References of tiny")
    assert any("still running" in m for m in qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning))
    release.set()
    wait_until_idle(dock, qgis_app)
    assert dock.database_section.coverage_button.isEnabled()
    dock.database_section.show_coverage()
    assert dock.task is not None, "the records are read in a task"
    wait_until_idle(dock, qgis_app)
    (layer,) = QgsProject.instance().mapLayersByName("References of tiny")
    assert layer.featureCount() == 12 and readers == [False], "read once, in a worker thread"
