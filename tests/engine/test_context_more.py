"""The context's remaining pieces: tracks as lines with times in M and in another CRS, the camera clock
from a track, the default locate's anchors (photos of the batch with EXIF GPS), the anchored radii, and
each bad input as one line that names its file."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from geoloc_core.context.area import AreaError, resolve_area
from geoloc_core.context.capture_time import CaptureTime
from geoloc_core.context.run import ContextRequest, ContextRun, PhotoContext, with_batch_anchors
from geoloc_core.context.streams import EARTH_HALF_CIRCUMFERENCE_KM, PhotoEvidence, locate_stream
from geoloc_core.context.tracks import Track, TrackError, read_track
from geoloc_core.geo import haversine_km
from geoloc_core.results import LocationResult, Neighbour

from ..conftest import STAND_IN_PLACES, add_exif, gps_ifd, make_photos

PARIS = STAND_IN_PLACES[0]
START = datetime(2023, 5, 12, 8, tzinfo=timezone.utc).timestamp()


def mercator(lat: float, lon: float) -> tuple[float, float]:
    x = lon * 20037508.34 / 180
    y = np.log(np.tan((90 + lat) * np.pi / 360)) * 6378137.0
    return float(x), float(y)


def write_gpkg(path, geometry_type, features, epsg=3857, time_field=True):
    """A GeoPackage layer 'walk' in `epsg`: features are (ogr geometry, ISO time or None)."""
    from osgeo import ogr, osr

    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    layer = source.CreateLayer("walk", srs, geometry_type)
    if time_field:
        layer.CreateField(ogr.FieldDefn("time", ogr.OFTDateTime))
    for geometry, moment in features:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(geometry)
        if moment is not None:
            feature.SetField("time", moment)
        layer.CreateFeature(feature)
    source = None
    return path


def point(lat, lon, epsg=3857):
    from osgeo import ogr

    geometry = ogr.Geometry(ogr.wkbPoint)
    geometry.AddPoint_2D(*(mercator(lat, lon) if epsg == 3857 else (lon, lat)))
    return geometry


def test_a_point_track_in_another_crs_is_reprojected_not_refused(tmp_path):
    track = read_track(write_gpkg(tmp_path / "walk.gpkg", 1, [  # ogr.wkbPoint
        (point(48.85, 2.35), "2023/05/12 08:00:00+00"), (point(48.86, 2.35), "2023/05/12 08:10:00+00")]))
    position = track.position_at(START + 300)
    assert position.lat == pytest.approx(48.855, abs=1e-4) and position.lon == pytest.approx(2.35, abs=1e-6)


def line_m(vertices):
    from osgeo import ogr

    geometry = ogr.Geometry(ogr.wkbLineStringM)
    for lat, lon, seconds in vertices:
        geometry.AddPointM(*mercator(lat, lon), seconds)
    return geometry


def test_a_line_layer_with_times_as_m_values_is_a_track(tmp_path):
    from osgeo import ogr

    path = write_gpkg(tmp_path / "line.gpkg", ogr.wkbLineStringM, [
        (line_m([(45.0, 7.0, START), (45.1, 7.0, START + 600), (45.1, 7.2, START + 1200)]), None)], time_field=False)
    track = read_track(path)
    assert track.time_s.tolist() == [START, START + 600, START + 1200]
    assert track.position_at(START + 300).lat == pytest.approx(45.05, abs=1e-6)
    assert track.position_at(START + 900).lon == pytest.approx(7.1, abs=1e-6)


def test_a_line_layer_without_m_values_is_one_line_naming_the_file(tmp_path):
    from osgeo import ogr

    line = ogr.Geometry(ogr.wkbLineString)
    line.AddPoint_2D(*mercator(45.0, 7.0))
    line.AddPoint_2D(*mercator(45.1, 7.0))
    path = write_gpkg(tmp_path / "flat.gpkg", ogr.wkbLineString, [(line, None)], time_field=False)
    with pytest.raises(TrackError, match="without M values") as error:
        read_track(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_a_track_with_no_times_names_its_file(tmp_path):
    path = write_gpkg(tmp_path / "timeless.gpkg", 1, [(point(48.85, 2.35), None), (point(48.86, 2.35), None)])
    with pytest.raises(TrackError, match="carry no time") as error:
        read_track(path)
    assert "timeless.gpkg" in str(error.value) and "\n" not in str(error.value)


def test_an_area_that_is_a_point_layer_names_its_file(tmp_path):
    path = write_gpkg(tmp_path / "spots.gpkg", 1, [(point(48.85, 2.35), None)])
    with pytest.raises(AreaError) as error:
        resolve_area(str(path))
    assert "spots.gpkg" in str(error.value) and "\n" not in str(error.value)


def test_photos_with_no_capture_time_name_a_photo(tmp_path):
    from geoloc_core.context.run import require_times
    from geoloc_core.errors import UserError

    track = tmp_path / "t.csv"
    track.write_text("lat,lon,time\n48,2,2023-05-12T08:00:00Z\n48.1,2,2023-05-12T08:05:00Z\n")
    run = ContextRun(ContextRequest(track=str(track)), None)
    with pytest.raises(UserError, match="no capture time") as error:
        require_times(run, [PhotoContext(None), PhotoContext(None)], ["/x/a.jpg", "/x/b.jpg"])
    assert "/x/a.jpg" in str(error.value) and "\n" not in str(error.value)


def test_the_camera_clock_is_estimated_from_a_track_and_photos_with_a_known_place():
    """A camera 7 min 30 s ahead; three photos whose place is known (EXIF GPS without GPS time)."""
    minutes = np.arange(0, 61)
    track = Track("walk", START + 60.0 * minutes, 45.0 + 0.001 * minutes, 7.0 + 0.0005 * minutes ** 1.5)
    true_s = START + np.array([600.0, 1500.0, 2900.0])
    lat = np.interp(true_s, track.time_s, track.lat)
    lon = np.interp(true_s, track.time_s, track.lon)
    assert track.clock_offset_s(true_s + 450.0, lat, lon) == pytest.approx(450.0, abs=2.0)
    contexts = [PhotoContext(CaptureTime(datetime.fromtimestamp(t + 450.0, timezone.utc).replace(tzinfo=None), "exif"),
                             anchor=(a, b)) for t, a, b in zip(true_s, lat, lon)]
    run = ContextRun(ContextRequest(), None)
    run.track = track
    assert run.clock_for(contexts).offset.total_seconds() == pytest.approx(450.0, abs=2.0)
    assert track.clock_offset_s(np.array([START - 86400.0, START - 86000.0]), [45.0, 45.0], [7.0, 7.0]) is None, \
        "no offset reaches the track"
    assert track.clock_offset_s(true_s[:1] + 450.0, lat[:1], lon[:1]) is None, \
        "one photo's place fits many offsets: the clock is left alone"


def one_by_one(photo, lat, lon):
    neighbours = [Neighbour(1, 1, 0.5, 0.8, 1.0, lat, lon, "")]
    return LocationResult(str(photo), lat, lon, 0.1, 500.0, 1000.0, "cascade", 1, neighbours)


@pytest.fixture
def trip(tmp_path):
    """Three photos a minute apart; the first carries EXIF GPS in Paris."""
    photos = make_photos(tmp_path / "trip", 3, seed=7)
    for minute, photo in enumerate(photos):
        add_exif(photo, taken=f"2023:05:12 10:{minute:02d}:00", gps=gps_ifd(*PARIS) if minute == 0 else None)
    return photos


def test_the_default_locate_anchors_a_stream_on_its_exif_gps_photo(trip):
    results = [one_by_one(p, -33.0, 151.0) for p in trip]
    revised = with_batch_anchors(results)
    assert [r.evidence for r in revised] == ["anchor"] * 3
    assert all(haversine_km(r.lat, r.lon, *PARIS) < 0.1 for r in revised)
    assert revised[1].stream == revised[2].stream == 1 and revised[1].capture_time.startswith("2023-05-12T10:01")


def test_the_default_locate_leaves_batches_without_a_gps_photo_beside_others_as_they_are(trip, tmp_path):
    alone = [one_by_one(trip[0], -33.0, 151.0)]
    assert with_batch_anchors(alone) == alone, "a GPS photo with nothing to anchor"
    untimed = make_photos(tmp_path / "untimed", 2, seed=9)
    add_exif(untimed[0], gps=gps_ifd(*PARIS))
    results = [one_by_one(p, -33.0, 151.0) for p in untimed]
    assert with_batch_anchors(results) == results, "no capture times: no stream"
    results = [one_by_one(p, -33.0, 151.0) for p in trip[1:]]
    assert with_batch_anchors(results) == results, "no GPS photo"


def test_anchored_radii_grow_with_the_time_to_the_anchor_up_to_half_the_earth():
    rng = np.random.default_rng(1)
    photos = [PhotoEvidence(0.0, 48.0, 2.0, known=True)]
    for hours in (0.1, 1.0, 200.0):
        lat, lon = 10 + rng.uniform(-20, 20, 20), 10 + rng.uniform(-20, 20, 20)
        photos.append(PhotoEvidence(3600.0 * hours, float(lat[0]), float(lon[0]), 0.05, lat, lon, np.full(20, 0.05)))
    answers = locate_stream(photos)[1:]
    assert answers[0].radius90_km < answers[1].radius90_km <= answers[2].radius90_km == EARTH_HALF_CIRCUMFERENCE_KM
    assert all(a.radius50_km <= a.radius90_km for a in answers)


@pytest.mark.slow
def test_the_command_line_locate_anchors_by_default_and_not_with_no_streams(tmp_path):
    import json
    import subprocess
    import sys

    from ..conftest import REPO_ROOT, make_located_photos

    def locate(*args):
        result = subprocess.run([sys.executable, "-m", "geoloc_core", "--progress", "json", *map(str, args)],
                                cwd=REPO_ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.splitlines()[-1])["results"]

    make_located_photos(tmp_path / "refs", 8, places=(PARIS, STAND_IN_PLACES[1]))
    subprocess.run([sys.executable, "-m", "geoloc_core", "--progress", "none", "build", str(tmp_path / "refs.geoloc"),
                    str(tmp_path / "refs")], cwd=REPO_ROOT, check=True, capture_output=True)
    photos = make_photos(tmp_path / "trip", 3, seed=7)
    for minute, photo in enumerate(photos):
        add_exif(photo, taken=f"2023:05:12 10:{minute:02d}:00", gps=gps_ifd(*PARIS) if minute == 0 else None)
    anchored = locate("locate", tmp_path / "refs.geoloc", *photos, "-k", "3")
    assert [r["evidence"] for r in anchored] == ["anchor"] * 3
    alone = locate("locate", tmp_path / "refs.geoloc", *photos, "-k", "3", "--no-streams")
    assert [r["evidence"] for r in alone[1:]] == ["pixels"] * 2
