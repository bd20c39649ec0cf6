"""The context from the command line: an area, a track, streams with an EXIF GPS anchor, the evaluate
CSV's time/anchor/area columns, and each bad input as one clear line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from geoloc_core.geo import haversine_km

from ..conftest import REPO_ROOT, STAND_IN_PLACES, add_exif, gps_ifd, make_located_photos, make_photos, write_csv

PARIS, SYDNEY = STAND_IN_PLACES[0], STAND_IN_PLACES[1]


def cli(*args, check=True):
    result = subprocess.run([sys.executable, "-m", "geoloc_core", "--progress", "none", *map(str, args)],
                            cwd=REPO_ROOT, capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def refused(*args) -> str:
    result = cli(*args, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def located(*args) -> list[dict]:
    result = cli("--progress", "json", *args)
    return json.loads(result.stdout.splitlines()[-1])["results"]


@pytest.fixture(scope="module")
def trip(tmp_path_factory):
    """A database of photos in Paris and Sydney, and a trip: four photos without GPS taken a minute
    apart, the first of them with EXIF GPS in Paris (an anchor)."""
    tmp = tmp_path_factory.mktemp("trip")
    make_located_photos(tmp / "refs", 16, places=(PARIS, SYDNEY))
    cli("build", tmp / "refs.geoloc", tmp / "refs")
    photos = make_photos(tmp / "trip", 4, seed=7)
    for minute, photo in enumerate(photos):
        add_exif(photo, taken=f"2023:05:12 10:{minute:02d}:00", gps=gps_ifd(*PARIS) if minute == 0 else None)
    return tmp, photos


@pytest.mark.slow
def test_an_area_keeps_every_answer_inside(trip):
    tmp, photos = trip
    for result in located("locate", tmp / "refs.geoloc", *photos[1:], "--area-country", "Australia", "-k", "5"):
        assert haversine_km(result["lat"], result["lon"], *SYDNEY) < 50
        assert result["evidence"] == "area"


@pytest.mark.slow
def test_streams_pull_the_photos_to_the_exif_gps_anchor(trip):
    tmp, photos = trip
    results = located("locate", tmp / "refs.geoloc", *photos, "--streams", "-k", "5")
    assert results[0]["evidence"] == "anchor" and (results[0]["lat"], results[0]["lon"]) == pytest.approx(PARIS, abs=1e-4)
    assert all(haversine_km(r["lat"], r["lon"], *PARIS) < 1 for r in results[1:])


@pytest.mark.slow
def test_a_track_decides_where_it_speaks(trip):
    tmp, photos = trip
    track = tmp / "track.gpx"
    points = "".join(f'<trkpt lat="{-33.0 - m / 100}" lon="151.0"><time>2023-05-12T08:{m:02d}:00Z</time></trkpt>'
                     for m in range(10))
    track.write_text('<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
                     f"<trk><trkseg>{points}</trkseg></trk></gpx>")
    results = located("locate", tmp / "refs.geoloc", *photos[1:], "--track", track, "--time-zone", "+02:00", "-k", "5")
    assert [r["evidence"] for r in results] == ["track"] * 3
    assert [round(r["lat"], 4) for r in results] == [-33.01, -33.02, -33.03]
    shifted = located("locate", tmp / "refs.geoloc", photos[1], "--track", track, "--time-zone", "+02:00",
                      "--time-offset=-00:02", "-k", "5")
    assert round(shifted[0]["lat"], 4) == -33.03  # the camera ran two minutes slow


@pytest.mark.slow
def test_evaluate_reads_time_anchor_and_area_columns(trip, tmp_path):
    tmp, photos = trip
    rows = [{"path": str(p), "lat": PARIS[0], "lon": PARIS[1], "time": f"2023-05-12T08:0{i}:00Z",
             "anchor": "1" if i == 0 else "", "area": "France"} for i, p in enumerate(photos)]
    summary = json.loads(cli("--progress", "json", "evaluate", tmp / "refs.geoloc", write_csv(tmp_path / "e.csv", rows),
                             "--streams", "-k", "5", "--json", tmp_path / "e.json").stdout.splitlines()[-1])
    assert summary["photos"] == 3, "the anchor is not scored"
    assert summary["acc_1km"] == 1.0
    report = json.loads((tmp_path / "e.json").read_text())
    assert {p["evidence"] for p in report["photos"]} == {"anchor"}


@pytest.mark.slow
def test_bad_context_inputs_are_one_line(trip, tmp_path):
    tmp, photos = trip
    database = tmp / "refs.geoloc"
    point = tmp_path / "point.geojson"
    point.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                     '"geometry":{"type":"Point","coordinates":[2,48]}}]}')
    assert "an area must be polygons" in refused("locate", database, photos[1], "--area", point)
    assert "no reference of the database lies inside" in refused("locate", database, photos[1], "--area-country", "Japan")
    assert "unknown country" in refused("locate", database, photos[1], "--area-country", "Atlantis")
    untimed = tmp_path / "untimed.gpx"
    untimed.write_text('<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
                       '<trk><trkseg><trkpt lat="1" lon="2"/><trkpt lat="1.1" lon="2"/></trkseg></trk></gpx>')
    assert "carry no time" in refused("locate", database, photos[1], "--track", untimed)
    metres = tmp_path / "metres.csv"
    metres.write_text("x,y,time\n651000,6862000,2023-05-12T08:00:00Z\n")
    assert "not degrees" in refused("locate", database, photos[1], "--track", metres)
    bare = make_photos(tmp_path / "bare", 1, seed=3)[0]
    good = tmp_path / "good.csv"
    good.write_text("lat,lon,time\n48,2,2023-05-12T08:00:00Z\n48.1,2,2023-05-12T08:05:00Z\n")
    assert "no capture time" in refused("locate", database, bare, "--track", good, "--no-filename-times")
    assert "time offset 'soon'" in refused("locate", database, bare, "--time-offset", "soon")
