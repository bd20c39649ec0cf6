"""Locating photos (real ones where what they show matters), evaluation, and the command line end to end."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from geoloc_core.database import ReferenceDatabase
from geoloc_core.evaluate import THRESHOLDS_KM, evaluate
from geoloc_core.geo import haversine_km
from geoloc_core.ingest import build_database
from geoloc_core.locate import DensityOptions, LocateOptions, Locator
from geoloc_core.sources import from_csv, from_folder

from ..conftest import REPO_ROOT, STAND_IN_PLACES, make_located_photos, make_place_photos, write_csv


@pytest.fixture(scope="module")
def walk_database(walk_database):
    """conftest's walk database (the walk but DSCN0010, and 60 distractors), open, and DSCN0010 as the query."""
    folder, query = walk_database
    with ReferenceDatabase.open(folder) as database:
        yield database, query


@pytest.fixture(scope="module")
def stand_in_database(embedder, tmp_path_factory):
    """30 made-up located photos (where what the photos show does not matter), and one more as a query."""
    tmp = tmp_path_factory.mktemp("stand-in")
    references, _ = from_csv(write_csv(tmp / "refs.csv", make_located_photos(tmp / "photos", 31)))
    database, _ = build_database(tmp / "refs.geoloc", references[:30], embedder)
    yield database, references[30]
    database.close()


@pytest.fixture(scope="module")
def look_alike_database(tiny_embedder, tmp_path_factory):
    """Made-up photos of six places, a place's photos alike, eight each (tiny embedder), and a ninth photo of
    the first place, not in the database, as the query: a walk where what the photos show finds the place."""
    tmp = tmp_path_factory.mktemp("look-alike")
    make_place_photos(tmp / "photos", 9)
    photos, _ = from_folder(tmp / "photos")
    query = next(c for c in photos if c.path.name == "place0x0.jpg")
    database, _ = build_database(tmp / "places.geoloc", [c for c in photos if c is not query], tiny_embedder)
    yield database, query, [c for c in photos if c.path.name.startswith("place0x")]
    database.close()


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["cascade", "sphere", "paper"])
def test_a_walk_photo_is_located_in_its_region(walk_database, estimator):
    # ImageNet features rank a Rome photo first and the walk's own photos 4th, 9th, 11th..., so it
    # takes the density over many neighbours to land in Tuscany: measured 58 km (sphere), 180 km (paper).
    database, query = walk_database
    assert_located_in_region(Locator(database), query, estimator)


@pytest.mark.parametrize("estimator", ["cascade", "sphere", "paper"])
def test_a_made_up_walk_photo_is_located_at_its_place(look_alike_database, tiny_embedder, estimator):
    database, query, _ = look_alike_database
    assert_located_in_region(Locator(database, tiny_embedder), query, estimator)


def assert_located_in_region(locator, query, estimator):
    options = LocateOptions(k=20, estimator=estimator, density=DensityOptions(resolution_deg=0.05))
    report = locator.locate_paths([query.path], options)
    (result,) = report.results
    assert haversine_km(result.lat, result.lon, query.lat, query.lon) < 200
    assert len(result.neighbours) == 20 and [n.rank for n in result.neighbours] == list(range(1, 21))
    assert sum(n.weight for n in result.neighbours) == pytest.approx(1.0)
    assert result.neighbours[0].path.endswith(".jpg") and 0 <= result.confidence <= 1
    assert result.radius50_km <= result.radius90_km
    assert result.density.values.max() > 0 and result.density.values.ndim == 2


def test_bad_photos_are_reported_and_skipped(stand_in_database, tmp_path):
    database, query = stand_in_database
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(query.path.read_bytes()[:2000])
    report = Locator(database).locate_paths([broken, query.path, tmp_path / "missing.jpg"])
    assert [r.photo for r in report.results] == [str(query.path)]
    assert sorted(f.path for f in report.failed) == sorted([str(broken), str(tmp_path / "missing.jpg")])


def test_cancel_between_batches_raises(stand_in_database):
    from geoloc_core.progress import Cancelled

    database, query = stand_in_database
    with pytest.raises(Cancelled):
        Locator(database).locate_paths([query.path] * 4, should_stop=lambda: True)


@pytest.mark.slow
def test_evaluation_leaves_each_query_out(walk_database):
    database, _ = walk_database
    walk = [c for c in from_folder(REPO_ROOT.parent / "shared/photos/exif-samples/jpg/gps")[0]]
    assert len(walk) == 9
    assert_evaluation_leaves_each_query_out(Locator(database), walk)


def test_evaluation_leaves_each_made_up_query_out(look_alike_database, tiny_embedder):
    database, _, walk = look_alike_database
    assert_evaluation_leaves_each_query_out(Locator(database, tiny_embedder), walk)


def assert_evaluation_leaves_each_query_out(locator, walk):
    """All but one of the walk's photos are in the database."""
    report = evaluate(locator, walk, LocateOptions(k=10, bandwidth_km=5, temperature=0.05))
    assert len(report.rows) == len(walk) and not report.failed
    left_out = [r for r in report.rows if r.left_out]
    assert len(left_out) == len(walk) - 1, "the walk photos in the database are located without their own record"
    assert all(r.error_km > 0 for r in left_out), "a photo must not find itself"
    summary = report.summary()
    assert set(summary) >= {f"acc_{t}km" for t in THRESHOLDS_KM} | {"median_km", "mean_geoguessr"}
    assert summary["acc_25km"] >= 0.75, report.table()


def _cli(*args, check=True):
    result = subprocess.run([sys.executable, "-m", "geoloc_core", *map(str, args)], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.mark.slow
def test_cli_build_locate_evaluate_info(tmp_path):
    walk = tmp_path / "walk"
    make_located_photos(walk, 9, places=STAND_IN_PLACES[:1])  # one town: a small density window
    first, second = walk / "photo00000.jpg", walk / "photo00001.jpg"
    _cli("--progress", "none", "build", tmp_path / "w.geoloc", walk)
    info = json.loads(_cli("--progress", "json", "info", tmp_path / "w.geoloc").stdout.splitlines()[-1])
    assert info["count"] == 9
    run = _cli("--progress", "json", "locate", tmp_path / "w.geoloc", first, second,
               "-k", "5", "--bandwidth", "5", "-o", tmp_path / "out.gpkg", "--density-dir", tmp_path / "density",
               "--density", tmp_path / "run-density.tif")
    events = [json.loads(line) for line in run.stdout.splitlines()]
    assert all({"done", "total", "stage", "message"} <= set(e) for e in events[:-1])
    assert events[-1]["stage"] == "result" and len(events[-1]["results"]) == 2
    from osgeo import gdal, ogr

    source = ogr.Open(str(tmp_path / "out.gpkg"))
    counts = {source.GetLayer(i).GetName(): source.GetLayer(i).GetFeatureCount() for i in range(source.GetLayerCount())}
    assert counts.pop("alternatives") >= 2, "each photo's density modes, its prediction first"
    assert counts == {"predictions": 2, "neighbours": 10, "uncertainty": 4}
    raster = gdal.Open(str(tmp_path / "density" / "photo00000-density.tif"))
    # the default resolution, auto: the 5 km bandwidth / 8 = 0.0056 degrees, rounded down to 0.005
    assert "4326" in raster.GetProjection() and raster.GetGeoTransform()[1] == pytest.approx(0.005)
    stack = gdal.Open(str(tmp_path / "run-density.tif"))
    assert stack.RasterCount == 3, "one raster for the run: all photos, then one band per photo"
    assert [stack.GetRasterBand(b).GetDescription() for b in (2, 3)] == [first.name, second.name]
    import numpy as np

    bands = stack.ReadAsArray()
    np.testing.assert_array_equal(bands[0], bands[1:].max(axis=0))
    again = _cli("locate", tmp_path / "w.geoloc", first, "-o", tmp_path / "out.gpkg", check=False)
    assert again.returncode == 2 and "file exists" in again.stderr
    csv_run = _cli("locate", tmp_path / "w.geoloc", walk, "-o", tmp_path / "out.csv")
    assert (tmp_path / "out-neighbours.csv").is_file() and "wrote" in csv_run.stdout
    evaluation = _cli("evaluate", tmp_path / "w.geoloc", walk, "--json", tmp_path / "eval.json", "-k", "5")
    assert "median km" in evaluation.stdout
    assert json.loads((tmp_path / "eval.json").read_text())["summary"]["photos"] == 9


def test_cli_user_errors_are_one_line_and_exit_2(tmp_path):
    for args in (("info", tmp_path / "none.geoloc"), ("build", tmp_path / "x.geoloc", tmp_path / "nothing.txt"),
                 ("locate", tmp_path / "none.geoloc", tmp_path / "a.jpg")):
        result = _cli(*args, check=False)
        assert result.returncode == 2
        assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr


def test_each_command_has_help():
    for command in ("build", "add", "locate", "evaluate", "info"):
        assert "usage:" in _cli(command, "--help").stdout


def test_opening_by_identity_the_cli_way(stand_in_database):
    database, _ = stand_in_database
    assert ReferenceDatabase.open(database.path).identity == database.identity
