"""A trip located in the real QGIS main window under Xvfb: the analyst picks a track layer of the project and
a selected polygon as the area in the panel's "Area and trip" section, locates a folder of timed photos
(one carries GPS), and sees the stream drawn as a line, the anchor on the map and each photo's evidence in
the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import STAND_IN_PLACES, add_exif, gps_ifd, make_place_photos
from .qgis_app import DRIVER, needs_xvfb, run_in_qgis

PARIS_BOX = (250000.0, 6230000.0, 275000.0, 6265000.0)  # Web Mercator metres: 2.2458..2.4704 E, 48.73..48.94 N
TAKEN = ["2024:05:12 10:00:00", "2024:05:12 10:05:00", "2024:05:12 10:10:00", "2024:05:12 10:15:00"]


@pytest.fixture
def trip(tmp_path):
    """Reference photos of six places with GPS, and a trip of four Paris-looking photos five minutes apart
    (EXIF DateTimeOriginal), the first with GPS: (references folder, trip photos, the first's place)."""
    make_place_photos(tmp_path / "references", 3)
    rows = make_place_photos(tmp_path / "trip", 4, seed=2, places=STAND_IN_PLACES[:1], prefix="trip")
    for row, taken in zip(rows, TAKEN):
        gps = gps_ifd(row["lat"], row["lon"]) if row is rows[0] else None
        add_exif(Path(row["path"]), gps=gps, taken=taken)
    return tmp_path / "references", [row["path"] for row in rows], (rows[0]["lat"], rows[0]["lon"])


WALK = '''
from qgis.core import QgsFeature, QgsField, QgsGeometry, QgsPointXY, QgsProject, QgsRectangle, QgsVectorLayer
from qgis.PyQt.QtCore import QDate, QDateTime, QTime, QVariant


def idle():
    while dock.task is not None or dock.photos.reading():
        yield


def track_layer():
    """Fixes a minute apart from 10:08 to 10:12 UTC in Web Mercator, the time in a field named 'recorded'."""
    layer = QgsVectorLayer("Point?crs=EPSG:3857", "GPS log", "memory")
    layer.dataProvider().addAttributes([QgsField("recorded", QVariant.DateTime)])
    layer.updateFields()
    features = []
    for step in range(5):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(262000.0 + 100 * step, 6250000.0)))
        feature.setAttributes([QDateTime(QDate(2024, 5, 12), QTime(10, 8 + step, 0))])
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    QgsProject.instance().addMapLayer(layer)
    return layer


def area_layer():
    """Two squares in Web Mercator, around Paris and around Sydney; the Paris one selected."""
    layer = QgsVectorLayer("Polygon?crs=EPSG:3857", "Study areas", "memory")
    features = []
    for box in (PARIS_BOX, (16800000.0, -4040000.0, 16860000.0, -3980000.0)):
        feature = QgsFeature()
        feature.setGeometry(QgsGeometry.fromRect(QgsRectangle(*box)))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    QgsProject.instance().addMapLayer(layer)
    layer.selectByIds([f.id() for f in layer.getFeatures() if f.geometry().boundingBox().xMinimum() < 1e6])
    return layer


def walk():
    try:
        yield from trip_walk()
    finally:  # the profile is shared with the other QGIS-window tests: they start with no area or trip
        dock.context_section.forget()


def trip_walk():
    dock.show()
    dock.database_section.build_database(REFERENCES, DATABASE)
    yield from idle()
    state["database"] = dock.database.count if dock.database else None
    dock.photos.add_photos(PHOTOS)
    yield from idle()
    section = dock.context_section
    section.offset_edit.setText("")
    section.area_mode_combo.setCurrentIndex(section.area_mode_combo.findData("restrict"))
    section.streams_check.setChecked(True)
    section.track_combo.setCurrentIndex(section.track_combo.findData("layer"))
    section.track_layer_combo.setLayer(track_layer())
    state["time_field"] = section.time_field_combo.currentField()
    section.area_combo.setCurrentIndex(section.area_combo.findData("selected"))
    section.area_layer_combo.setLayer(area_layer())
    runs = []
    dock.runFinished.connect(runs.append)
    dock.options.k_spin.setValue(5)
    dock.run_button.click()
    yield from idle()
    run = runs[0]
    state["evidence"] = {r.photo.rsplit("/", 1)[-1]: r.evidence for r in run.results}
    state["streams"] = sorted({r.stream for r in run.results})
    state["places"] = [[r.lat, r.lon] for r in run.results]
    state["area_parameter"] = run.parameters.get("area")
    project = QgsProject.instance()
    layers = {project.mapLayer(i).name(): project.mapLayer(i) for i in run.layer_ids.values()}
    state["run_layers"] = sorted(layers)
    [line] = list(layers["Streams"].getFeatures())
    state["line"] = [[v.x(), v.y(), v.m()] for v in line.geometry().vertices()]
    state["line_attributes"] = [line["stream"], line["photos"], line["start_time"], line["end_time"]]
    state["anchors"] = [[f["photo"].rsplit("/", 1)[-1], f.geometry().asPoint().y(), f.geometry().asPoint().x()]
                        for f in layers["Anchors"].getFeatures()]
    table = dock.results_section.results_table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    column = headers.index("Evidence")
    state["table"] = {table.item(r, 0).text(): table.item(r, column).text() for r in range(table.rowCount())}
    state["scratch_left"] = section.scratch is not None
    yield


''' + DRIVER


@pytest.mark.slow
@needs_xvfb
def test_a_trip_with_a_track_layer_in_the_qgis_main_window(tmp_path, trip):
    references, photos, (anchor_lat, anchor_lon) = trip
    state, result = run_in_qgis(tmp_path, f"REFERENCES = {str(references)!r}\n"
                                          f"DATABASE = {str(tmp_path / 'places.geoloc')!r}\nPHOTOS = {photos!r}\n"
                                          f"PARIS_BOX = {PARIS_BOX!r}\n{WALK}", timeout=400)
    assert state["database"] == 18
    assert state["time_field"] == "recorded", "the track layer's date-time field is found"
    evidence = state["evidence"]
    assert evidence["trip0x0.jpg"] == "anchor", "the photo with GPS anchors the stream"
    assert evidence["trip0x2.jpg"] == "track", "the photo taken at 10:10 is placed by the track"
    assert set(evidence.values()) <= {"anchor", "track", "stream", "area"} and len(evidence) == 4
    assert state["area_parameter"] == "Study areas (selected)"
    assert all(48.73 < lat < 48.94 and 2.2458 < lon < 2.4704 for lat, lon in state["places"]), \
        "every answer inside the selected square"
    assert state["streams"] == [1], "one stream: the photos are five minutes apart"
    assert state["run_layers"] == ["Alternatives", "Anchors", "Density", "Known locations (GPS)", "Neighbours",
                                   "Predictions", "Streams", "Uncertainty"], \
        "the run's tables; the anchor's own GPS gives the known place (placed there, it has no error line)"
    start = 1715508000.0  # 2024-05-12T10:00:00Z
    assert [vertex[2] for vertex in state["line"]] == [start, start + 300, start + 600, start + 900], \
        "the stream's line runs through the photos in capture-time order, M = UTC seconds"
    assert state["line"][0][:2] == pytest.approx([anchor_lon, anchor_lat], abs=1e-5)
    assert state["line"][2][:2] == pytest.approx([2.355383, 48.853264], abs=1e-6), "at the track's 10:10 fix, in WGS84"
    assert state["line_attributes"] == [1, 4, "2024-05-12T10:00:00+00:00", "2024-05-12T10:15:00+00:00"]
    assert state["anchors"] == [["trip0x0.jpg", pytest.approx(anchor_lat, abs=1e-5),
                                 pytest.approx(anchor_lon, abs=1e-5)]]
    assert state["table"] == evidence, "the table shows each photo's evidence"
    assert not state["scratch_left"], "the track written for the run is removed when it ends"
    assert not [e for e in state["errors"] if "python" in e[0].lower()], state["errors"]
    assert "Traceback" not in result.stderr
