"""Processing with what the analyst knows: an area layer or a country, a track layer in another CRS
(handed to the engine as a WGS 84 GeoPackage), the time offset and streams; photos as a file list; the
database as a folder, a manifest.json or a pack name; bad inputs as one line, printed once."""

from __future__ import annotations

import math
import os
import subprocess
import sysconfig

import pytest
from qgis.core import (
    QgsApplication,
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingContext,
    QgsProcessingException,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QDateTime, Qt

from ..conftest import PLUGIN_PACKAGE, REPO_ROOT, STAND_IN_PLACES, add_exif, gps_ifd, make_located_photos, make_photos

PARIS, SYDNEY = STAND_IN_PLACES[0], STAND_IN_PLACES[1]


def mercator(lat: float, lon: float) -> QgsPointXY:
    return QgsPointXY(lon * 20037508.34 / 180, math.log(math.tan((90 + lat) * math.pi / 360)) * 6378137.0)


@pytest.fixture(scope="module")
def provider(qgis_app, plugin_module):
    instance = plugin_module("processing_provider.provider").PhotoGeolocatorProvider()
    assert QgsApplication.processingRegistry().addProvider(instance)
    yield instance
    QgsApplication.processingRegistry().removeProvider(instance)


@pytest.fixture(scope="module")
def run(qgis_processing, provider):
    import processing

    return processing.run


@pytest.fixture(scope="module")
def trip(run, tmp_path_factory):
    """A database of photos in Paris and Sydney, and a trip of four photos a minute apart (the first with
    EXIF GPS in Paris)."""
    tmp = tmp_path_factory.mktemp("trip")
    make_located_photos(tmp / "refs", 16, places=(PARIS, SYDNEY))
    database = run("photo_geolocator:build_database", {"FOLDER": str(tmp / "refs"),
                                                       "OUTPUT_DATABASE": str(tmp / "refs.geoloc")})["OUTPUT_DATABASE"]
    photos = make_photos(tmp / "trip", 4, seed=7)
    for minute, photo in enumerate(photos):
        add_exif(photo, taken=f"2023:05:12 10:{minute:02d}:00", gps=gps_ifd(*PARIS) if minute == 0 else None)
    return database, photos


def locate(run, database, photos, **more):
    result = run("photo_geolocator:geolocate_photos", {"FILES": [str(p) for p in photos], "DATABASE": database,
                                                       "K": 5, "PREDICTIONS": "TEMPORARY_OUTPUT",
                                                       "NEIGHBOURS": "TEMPORARY_OUTPUT", **more})
    return {f["photo"]: f for f in result["PREDICTIONS"].getFeatures()}


def square_around(lat, lon, half_deg, crs="EPSG:3857") -> QgsVectorLayer:
    layer = QgsVectorLayer(f"Polygon?crs={crs}", "zone", "memory")
    corners = ((-1, -1), (-1, 1), (1, 1), (1, -1), (-1, -1))
    ring = [mercator(lat + dy * half_deg, lon + dx * half_deg) for dy, dx in corners]
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromPolygonXY([ring]))
    layer.dataProvider().addFeatures([feature])
    return layer


def test_an_area_layer_in_another_crs_keeps_every_answer_inside(run, trip):
    database, photos = trip
    answers = locate(run, database, photos[1:], AREA=square_around(*SYDNEY, 1.0), STREAMS=False)
    assert len(answers) == 3
    for feature in answers.values():
        assert abs(feature["lat"] - SYDNEY[0]) < 1.0 and abs(feature["lon"] - SYDNEY[1]) < 1.0
        assert feature["evidence"] == "area"


def test_a_country_restricts_the_search(run, trip):
    database, photos = trip
    answers = locate(run, database, photos[1:2], AREA_COUNTRY="France", STREAMS=False)
    feature = next(iter(answers.values()))
    assert 41 < feature["lat"] < 52 and -5 < feature["lon"] < 10


def test_evaluate_takes_the_area_too(run, trip):
    database, _ = trip
    folder = os.path.join(os.path.dirname(database), "refs")
    result = run("photo_geolocator:evaluate_accuracy", {"FOLDER": folder, "DATABASE": database, "K": 5,
                                                        "AREA_COUNTRY": "Australia", "OUTPUT": "TEMPORARY_OUTPUT"})
    rows = list(result["OUTPUT"].getFeatures())
    assert len(rows) == 16 and all(r["pred_lat"] < -10 and r["pred_lon"] > 110 for r in rows)


def test_a_point_layer_as_the_area_is_one_clear_line(run, trip):
    database, photos = trip
    spots = QgsVectorLayer("Point?crs=EPSG:4326", "spots", "memory")
    with pytest.raises(QgsProcessingException) as error:
        locate(run, database, photos[1:2], AREA=spots)
    assert "spots: the area is a layer of point" in str(error.value) and "polygon layer" in str(error.value)


def track_layer(crs="EPSG:3857") -> QgsVectorLayer:
    """Points with a time field in Web Mercator: the walk in Sydney while the trip's photos were taken."""
    layer = QgsVectorLayer(f"Point?crs={crs}&field=time:datetime", "walk", "memory")
    features = []
    for minute, lat in ((0, SYDNEY[0]), (5, SYDNEY[0] + 0.01)):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(mercator(lat, SYDNEY[1])))
        feature.setAttributes([QDateTime.fromString(f"2023-05-12T10:0{minute}:00Z", Qt.DateFormat.ISODate)])
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    return layer


def test_a_track_layer_in_another_crs_decides_where_it_speaks(run, trip):
    database, photos = trip
    answers = locate(run, database, photos[1:], TRACK=track_layer())
    assert len(answers) == 3, answers.keys()
    for minute, photo in enumerate(photos[1:], start=1):
        feature = next(f for name, f in answers.items() if name.endswith(photo.name))
        assert feature["evidence"] == "track"
        assert feature["lat"] == pytest.approx(SYDNEY[0] + 0.01 * minute / 5, abs=1e-4)
        assert feature["lon"] == pytest.approx(SYDNEY[1], abs=1e-4)


def test_a_time_offset_moves_the_photos_along_the_track_of_a_geopackage_layer(run, trip, tmp_path):
    database, photos = trip
    saved = run("native:savefeatures", {"INPUT": track_layer(), "OUTPUT": str(tmp_path / "walk.gpkg")})["OUTPUT"]
    layer = QgsVectorLayer(saved, "walk", "ogr")
    assert "fid" in layer.fields().names()
    answers = locate(run, database, photos[1:2], TRACK=layer, TIME_OFFSET="-00:02:00")
    assert next(iter(answers.values()))["lat"] == pytest.approx(SYDNEY[0] + 0.01 * 3 / 5, abs=1e-4)


def test_a_line_layer_with_times_as_m_values_is_a_track(run, trip):
    from qgis.core import QgsLineString, QgsPoint

    database, photos = trip
    start = QDateTime.fromString("2023-05-12T10:00:00Z", Qt.DateFormat.ISODate).toSecsSinceEpoch()
    layer = QgsVectorLayer("LineStringM?crs=EPSG:3857", "walk", "memory")
    ends = [mercator(SYDNEY[0], SYDNEY[1]), mercator(SYDNEY[0] + 0.01, SYDNEY[1])]
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry(QgsLineString([QgsPoint(ends[0].x(), ends[0].y(), m=start),
                                                   QgsPoint(ends[1].x(), ends[1].y(), m=start + 300)])))
    layer.dataProvider().addFeatures([feature])
    answers = locate(run, database, photos[1:2], TRACK=layer)
    feature = next(iter(answers.values()))
    assert feature["evidence"] == "track" and feature["lat"] == pytest.approx(SYDNEY[0] + 0.01 / 5, abs=1e-4)


def test_streams_anchor_the_trip_on_its_gps_photo_and_can_be_turned_off(run, trip):
    database, photos = trip
    anchored = locate(run, database, photos)
    assert {f["evidence"] for f in anchored.values()} == {"anchor"}
    assert all(abs(f["lat"] - PARIS[0]) < 0.01 for f in anchored.values())
    alone = locate(run, database, photos[1:], STREAMS=False)
    assert {f["evidence"] for f in alone.values()} == {"pixels"}


def test_photos_as_a_list_a_text_with_semicolons_and_the_database_by_its_manifest(run, trip):
    database, photos = trip
    listed = locate(run, database, photos[1:3], STREAMS=False)
    joined = run("photo_geolocator:geolocate_photos", {
        "FILES": f"{photos[1]};{photos[2]}", "DATABASE": os.path.join(database, "manifest.json"), "K": 5,
        "STREAMS": False, "PREDICTIONS": "TEMPORARY_OUTPUT", "NEIGHBOURS": "TEMPORARY_OUTPUT"})
    assert sorted(listed) == sorted(f["photo"] for f in joined["PREDICTIONS"].getFeatures())


def test_inputs_that_cannot_work_are_refused_before_the_run(provider, trip):
    database, photos = trip
    algorithm = next(a for a in provider.algorithms() if a.name() == "geolocate_photos").create()
    context = QgsProcessingContext()
    base = {"FILES": [str(photos[1])], "DATABASE": database, "PREDICTIONS": "TEMPORARY_OUTPUT",
            "NEIGHBOURS": "TEMPORARY_OUTPUT"}
    assert algorithm.checkParameterValues(base, context) == (True, "")
    definition = algorithm.parameterDefinition("DATABASE")
    assert all(definition.checkValueIsAcceptable(value) for value in (database, "a-pack-name", "x.geolocpack"))
    for change, expected in (({"DATABASE": "no-such-pack"}, "no-such-pack: no reference database, pack file"),
                             ({"FILES": []}, "no photos"),
                             ({"TIME_OFFSET": "soon"}, "time offset 'soon'"),
                             ({"AREA_COUNTRY": "France", "AREA": square_around(*PARIS, 1.0)}, "not both")):
        ok, message = algorithm.checkParameterValues({**base, **change}, context)
        assert not ok and expected in message and "\n" not in message, message


def test_a_track_without_times_is_one_line_naming_it(run, trip, tmp_path):
    database, photos = trip
    timeless = tmp_path / "timeless.gpx"
    timeless.write_text('<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
                        '<trk><trkseg><trkpt lat="1" lon="2"/><trkpt lat="1.1" lon="2"/></trkseg></trk></gpx>')
    with pytest.raises(QgsProcessingException, match="timeless.gpx:track_points: the track's points carry no time"):
        locate(run, database, photos[1:2], TRACK=str(timeless))


@pytest.mark.slow
def test_qgis_process_prints_a_refused_input_once(trip, tmp_path):
    database, photos = trip
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / PLUGIN_PACKAGE).symlink_to(REPO_ROOT, target_is_directory=True)
    config = str(tmp_path / "qgis-config")
    env = {**os.environ, "QGIS_PLUGINPATH": str(plugins), "QGIS_CUSTOM_CONFIG_PATH": config,
           "QGIS_OPTIONS_PATH": config, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    enable = subprocess.run(["/usr/bin/qgis_process.bin", "plugins", "enable", PLUGIN_PACKAGE], env=env,
                            capture_output=True, text=True)
    assert enable.returncode == 0, enable.stdout + enable.stderr
    refused = subprocess.run(["/usr/bin/qgis_process.bin", "run", "photo_geolocator:geolocate_photos", "--",
                              f"FILES={photos[1]}", "DATABASE=no-such-pack", f"PREDICTIONS={tmp_path / 'p.gpkg'}",
                              f"NEIGHBOURS={tmp_path / 'n.gpkg'}"], env=env, capture_output=True, text=True)
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert output.count("no-such-pack: no reference database") == 1, output
