"""The panel's "Area and trip" section: each choice becomes what the engine takes (a country name, a bbox,
a GeoPackage or CSV written from the project's layers in WGS84), bad input is refused in the panel with
one line, the choices are remembered, and a run's anchors and streams become map layers and table
columns. No network is built and nothing is read from ../shared."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pytest
from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsField,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDate, QDateTime, QTime, QVariant

# a square of about 11 km around central Paris in Web Mercator metres (2.30..2.40 E, 48.82..48.90 N)
PARIS_3857 = (256040.0, 6244000.0, 267172.0, 6257600.0)
LONDON_3857 = (-15000.0, 6700000.0, 5000.0, 6720000.0)
EARTH_RADIUS_M = 6378137.0


def degrees_of(x: float, y: float) -> tuple[float, float]:
    """Web Mercator metres as (lon, lat) degrees, by the projection's own formula."""
    return math.degrees(x / EARTH_RADIUS_M), math.degrees(2 * math.atan(math.exp(y / EARTH_RADIUS_M)) - math.pi / 2)


@pytest.fixture
def section(dock):
    yield dock.context_section
    dock.context_section.forget()


def choose(combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def square(west, south, east, north) -> QgsGeometry:
    return QgsGeometry.fromRect(QgsRectangle(west, south, east, north))


def polygon_layer(*boxes, crs="EPSG:3857") -> QgsVectorLayer:
    layer = QgsVectorLayer(f"Polygon?crs={crs}", "study area", "memory")
    features = []
    for box in boxes:
        feature = QgsFeature()
        feature.setGeometry(square(*box))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    QgsProject.instance().addMapLayer(layer)
    return layer


def test_nothing_given_locates_each_photo_alone(section, tmp_path):
    assert not section.in_use()
    assert section.context_request(tmp_path) is None
    assert section.describe() == {}


def test_a_country_is_passed_by_its_name_as_the_engine_resolves_it(section, tmp_path):
    from geoloc_core.context.area import resolve_area

    choose(section.area_combo, "country")
    section.country_combo.setCurrentText("France")
    choose(section.area_mode_combo, "prior")
    request = section.context_request(tmp_path)
    assert (request.area, request.area_mode, request.track) == ("France", "prior", None)
    assert resolve_area(request.area).contains(48.8566, 2.3522)[0], "Paris is in the engine's France"


def test_the_country_choice_lists_the_names_the_engine_resolves(section):
    from geoloc_core.context.area import country_names

    listed = [section.country_combo.itemText(i) for i in range(section.country_combo.count())]
    assert listed == country_names() and "France" in listed


def test_a_layer_in_web_mercator_is_written_in_wgs84(section, tmp_path):
    from geoloc_core.context.area import area_from_file

    layer = polygon_layer(PARIS_3857)
    choose(section.area_combo, "layer")
    section.area_layer_combo.setLayer(layer)
    request = section.context_request(tmp_path)
    assert request.area.endswith(".gpkg") and request.area.startswith(str(tmp_path))
    area = area_from_file(request.area)
    assert area.bbox == pytest.approx((*degrees_of(*PARIS_3857[:2]), *degrees_of(*PARIS_3857[2:])), abs=1e-6)
    assert area.contains(48.8566, 2.3522)[0] and not area.contains(51.5, -0.12)[0]
    section.release()
    assert list(tmp_path.iterdir()) == [], "the run's scratch files are removed when it ends"


def test_only_the_selected_features_make_the_area(section, tmp_path):
    from geoloc_core.context.area import area_from_file

    layer = polygon_layer(PARIS_3857, LONDON_3857)
    choose(section.area_combo, "selected")
    section.area_layer_combo.setLayer(layer)
    with pytest.raises(Exception, match="no feature of layer 'study area' is selected"):
        section.context_request(tmp_path)
    london = [f.id() for f in layer.getFeatures() if f.geometry().boundingBox().xMinimum() < 0]
    layer.selectByIds(london)
    area = area_from_file(section.context_request(tmp_path).area)
    assert area.contains(51.5, -0.05)[0] and not area.contains(48.8566, 2.3522)[0]


def test_the_map_extent_becomes_a_bbox_in_degrees(section, qgis_iface, tmp_path):
    from geoloc_core.context.area import resolve_area

    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    canvas.resize(600, 600)
    canvas.setExtent(QgsRectangle(*PARIS_3857))
    choose(section.area_combo, "extent")
    request = section.context_request(tmp_path)
    west, south, east, north = (float(v) for v in request.area.removeprefix("bbox:").split(","))
    (inner_west, inner_south), (inner_east, inner_north) = degrees_of(*PARIS_3857[:2]), degrees_of(*PARIS_3857[2:])
    assert west <= inner_west and east >= inner_east and south <= inner_south and north >= inner_north, \
        "the whole extent at least"
    assert east - west < 1 and north - south < 1
    assert resolve_area(request.area).contains(48.8566, 2.3522)[0]
    assert list(tmp_path.iterdir()) == [], "a bbox needs no file"


def test_a_bad_clock_offset_is_refused_inline(section, tmp_path):
    section.offset_edit.setText("five minutes")
    assert section.offset_problem.isVisibleTo(section)
    assert "time offset 'five minutes'" in section.offset_problem.text()
    with pytest.raises(Exception, match="Camera clock offset"):
        section.context_request(tmp_path)
    section.offset_edit.setText("+00:05:30")
    assert not section.offset_problem.isVisibleTo(section)
    request = section.context_request(tmp_path)
    assert request.time_offset == "+00:05:30" and request.clock().offset.total_seconds() == 330


def test_a_remembered_bad_offset_is_shown_when_the_run_needs_it(dock, section, plugin_module, tmp_path):
    section.offset_edit.setText("half past")
    again = plugin_module("ui.context_section").ContextSection(dock.context)
    assert again.offset_edit.text() == "half past" and not again.offset_problem.isVisibleTo(again)
    with pytest.raises(Exception, match="Camera clock offset"):
        again.context_request(tmp_path)
    assert again.offset_problem.isVisibleTo(again) and "half past" in again.offset_problem.text()
    again.deleteLater()


def test_a_bad_offset_stops_the_run_with_one_line(dock, section, qgis_iface, plugin_module, monkeypatch, tmp_path):
    started = []
    path_role = plugin_module("ui.photos_section").PATH_ROLE
    monkeypatch.setattr(dock.context, "run_task", lambda *args: started.append(args))
    monkeypatch.setattr(dock, "reference_paths", lambda: [str(tmp_path / "refs.geoloc")])
    monkeypatch.setattr(dock.photos, "items", lambda skip_gps=False: [_Item(path_role, str(tmp_path / "a.jpg"))])
    section.offset_edit.setText("5 min")
    dock.start_run()
    assert started == []
    warnings = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning)
    assert any("Camera clock offset" in m and "5 min" in m for m in warnings), warnings
    section.offset_edit.setText("-60")
    dock.start_run()
    assert len(started) == 1, "a good offset runs"


class _Item:
    """A photo list entry as the dock reads it (its path; no GPS)."""

    def __init__(self, path_role, path):
        self.path_role, self.path = path_role, path

    def data(self, role):
        return self.path if role == self.path_role else None


def point_track(crs="EPSG:3857") -> QgsVectorLayer:
    """Three fixes a minute apart with their times in a date-time field not named like a time."""
    layer = QgsVectorLayer(f"Point?crs={crs}", "walk", "memory")
    layer.dataProvider().addAttributes([QgsField("label", QVariant.String), QgsField("when", QVariant.DateTime)])
    layer.updateFields()
    features = []
    for minute, (x, y) in enumerate([(256040.0, 6244000.0), (257000.0, 6245000.0), (258000.0, 6246000.0)]):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        feature.setAttributes([f"fix {minute}", QDateTime(QDate(2024, 5, 12), QTime(10, minute, 0))])
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    QgsProject.instance().addMapLayer(layer)
    return layer


def test_a_point_track_layer_reaches_the_engine_with_its_times_in_wgs84(section, tmp_path):
    from geoloc_core.context.tracks import read_track

    layer = point_track()
    choose(section.track_combo, "layer")
    section.track_layer_combo.setLayer(layer)
    assert section.time_field_combo.currentField() == "when", "the date-time field is found by its type"
    assert section.time_field_combo.isVisibleTo(section)
    request = section.context_request(tmp_path)
    track = read_track(request.track)
    start = datetime(2024, 5, 12, 10, 0, tzinfo=timezone.utc).timestamp()
    assert list(track.time_s) == [start, start + 60, start + 120]
    assert (track.lon[0], track.lat[0]) == pytest.approx(degrees_of(256040.0, 6244000.0), abs=1e-9)


def test_a_line_track_gives_its_m_values_as_times_and_one_without_is_refused(section, tmp_path):
    from geoloc_core.context.tracks import read_track

    start = datetime(2024, 5, 12, 10, 0, tzinfo=timezone.utc).timestamp()
    layer = QgsVectorLayer("LineStringM?crs=EPSG:4326", "drive", "memory")
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromWkt(f"LineStringM (2.30 48.82 {start}, 2.35 48.86 {start + 300})"))
    layer.dataProvider().addFeatures([feature])
    QgsProject.instance().addMapLayer(layer)
    assert QgsWkbTypes.hasM(layer.wkbType())
    choose(section.track_combo, "layer")
    section.track_layer_combo.setLayer(layer)
    assert not section.time_field_combo.isVisibleTo(section), "a line's times are its M values"
    track = read_track(section.context_request(tmp_path).track)
    assert list(track.time_s) == [start, start + 300] and list(track.lon) == [2.30, 2.35]
    flat = QgsVectorLayer("LineString?crs=EPSG:4326", "flat", "memory")
    flat.dataProvider().addFeatures([QgsFeature()])
    line = QgsFeature()
    line.setGeometry(QgsGeometry.fromWkt("LineString (2.30 48.82, 2.35 48.86)"))
    flat.dataProvider().addFeatures([line])
    QgsProject.instance().addMapLayer(flat)
    section.track_layer_combo.setLayer(flat)
    with pytest.raises(Exception, match="'flat' is a line without M values"):
        section.context_request(tmp_path)


def test_a_track_file_is_passed_as_it_is(section, tmp_path):
    choose(section.track_combo, "file")
    with pytest.raises(Exception, match="choose a track file"):
        section.context_request(tmp_path)
    section.track_file_widget.setFilePath(str(tmp_path / "walk.gpx"))
    section.streams_check.setChecked(True)
    request = section.context_request(tmp_path)
    assert (request.track, request.streams, request.area) == (str(tmp_path / "walk.gpx"), True, None)


def test_no_layer_is_taken_unasked(section, tmp_path):
    polygon_layer(PARIS_3857)
    point_track()
    choose(section.area_combo, "layer")
    assert section.area_layer_combo.currentLayer() is None, "not the first polygon layer of the project"
    with pytest.raises(Exception, match="choose a polygon layer"):
        section.context_request(tmp_path)
    choose(section.area_combo, "none")
    choose(section.track_combo, "layer")
    assert section.track_layer_combo.currentLayer() is None
    with pytest.raises(Exception, match="choose a point or line layer"):
        section.context_request(tmp_path)


def test_the_choices_are_remembered(dock, section, qgis_iface, plugin_module):
    area = polygon_layer(PARIS_3857)
    track = point_track()
    choose(section.area_combo, "selected")
    section.area_layer_combo.setLayer(area)
    choose(section.area_mode_combo, "prior")
    section.country_combo.setCurrentText("Japan")
    section.streams_check.setChecked(True)
    section.offset_edit.setText("-02:00")
    choose(section.track_combo, "layer")
    section.track_layer_combo.setLayer(track)
    again = plugin_module("ui.context_section").ContextSection(dock.context)
    assert again.area_combo.currentData() == "selected" and again.area_layer_combo.currentLayer() == area
    assert again.area_mode_combo.currentData() == "prior" and again.country_combo.currentText() == "Japan"
    assert again.streams_check.isChecked() and again.offset_edit.text() == "-02:00"
    assert again.track_combo.currentData() == "layer" and again.track_layer_combo.currentLayer() == track
    assert again.time_field_combo.currentField() == "when"
    again.deleteLater()


def test_the_section_is_off_for_the_worldwide_search(dock, section):
    choose(dock.options.mode_combo, "world")
    dock.update_buttons()
    assert not section.isEnabled()
    choose(dock.options.mode_combo, "references")
    dock.update_buttons()
    assert section.isEnabled()


def trip_results():
    from geoloc_core.results import LocationResult

    def result(name, lat, lon, evidence, moment, stream):
        return LocationResult(f"/trip/{name}.jpg", lat, lon, 0.5, 1.0, 2.0, "cascade", 5, [], evidence=evidence,
                              capture_time=moment, stream=stream)

    return [result("c", 48.87, 2.34, "track", "2024-05-12T10:10:00+00:00", 1),
            result("a", 48.85, 2.35, "anchor", "2024-05-12T10:00:00+00:00", 1),
            result("b", 48.86, 2.35, "stream", "2024-05-12T10:05:00+00:00", 1),
            result("d", 48.85, 2.35, "anchor", "2024-05-12T10:12:00+00:00", 1),  # placed at the anchor's place
            result("z", 35.68, 139.65, "pixels", "2024-05-13T08:00:00+00:00", 0),
            result("y", 35.69, 139.70, "pixels", "", 0)]


def test_a_trip_run_draws_its_anchors_and_its_stream_in_time_order(dock, plugin_module, tmp_path):
    results_module = plugin_module("ui.results")
    run = results_module.LocateRun(1, "test", "2026-11-26T00:00:00+00:00", trip_results(), [],
                                   known={"/trip/a.jpg": (48.85, 2.35)})
    results_module.write_run(run, tmp_path / "runs", temporary=False, with_uncertainty=False)
    built = results_module.run_layers(run)
    anchors, streams = built["anchors"], built["streams"]
    assert [f["photo"] for f in anchors.getFeatures()] == ["/trip/a.jpg"], "the photo whose GPS was known"
    assert anchors.renderer().symbol().symbolLayer(0).shape() != \
        built["predictions"].renderer().symbol().symbolLayer(0).shape(), "anchors stand out from predictions"
    [line] = list(streams.getFeatures())
    assert (line["stream"], line["photos"], line["start_time"], line["end_time"]) == \
        (1, 4, "2024-05-12T10:00:00+00:00", "2024-05-12T10:12:00+00:00")
    vertices = list(line.geometry().vertices())
    assert [(round(v.y(), 2), round(v.x(), 2)) for v in vertices] == \
        [(48.85, 2.35), (48.86, 2.35), (48.87, 2.34), (48.85, 2.35)]
    start = datetime(2024, 5, 12, 10, 0, tzinfo=timezone.utc).timestamp()
    assert [v.m() for v in vertices] == [start, start + 300, start + 600, start + 720], "M values: UTC seconds"
    results_module.add_run_to_project(run, built, QgsProject.instance())
    assert {"anchors", "streams", "predictions"} <= set(run.layer_ids)


def test_a_run_without_capture_times_gets_no_trip_layers(dock, plugin_module, tmp_path):
    from geoloc_core.results import LocationResult

    results_module = plugin_module("ui.results")
    plain = [LocationResult("/p.jpg", 1.0, 2.0, 0.5, 1.0, 2.0, "cascade", 5, [])]
    run = results_module.LocateRun(1, "test", "t", plain, [])
    results_module.write_run(run, tmp_path / "runs", temporary=False, with_uncertainty=False)
    built = results_module.run_layers(run)
    assert "anchors" not in built and "streams" not in built


def test_the_table_shows_each_photos_evidence_capture_time_and_stream(dock, plugin_module):
    run = plugin_module("ui.results").LocateRun(1, "test", "2026-11-26T00:00:00+00:00", trip_results(), [])
    table = dock.results_section.results_table
    dock.results_section.fill(run)
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    evidence, moment, stream = (headers.index(h) for h in ("Evidence", "Capture time (UTC)", "Stream"))
    rows = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    assert table.item(rows["c.jpg"], evidence).text() == "track"
    assert table.item(rows["a.jpg"], evidence).text() == "anchor"
    assert table.item(rows["a.jpg"], moment).text() == "2024-05-12 10:00:00"
    assert table.item(rows["b.jpg"], stream).text() == "1" and table.item(rows["y.jpg"], stream) is None
