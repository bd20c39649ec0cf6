"""Each photo's density over the window where its kernels hold mass, at the resolution asked: exact against
the whole mixture, within the world at the poles and across the antimeridian, files that follow the area
holding mass, a memory cap that says so, and a density phase that reports its stage and stops when asked."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from geoloc_core import estimators as est
from geoloc_core.progress import Cancelled
from geoloc_core.results import LocationResult, Neighbour

from ..conftest import make_database, make_photos, references, unit_vectors

gdal = pytest.importorskip("osgeo.gdal")

ONE_DEGREE_KM = 6371.0 * math.pi / 180


def mass(grid: est.DensityGrid) -> float:
    """The probability a grid holds (density x cell area)."""
    rows, _ = grid.values.shape
    lat = grid.north - (np.arange(rows) + 0.5) * grid.resolution
    cell_km2 = (grid.resolution * ONE_DEGREE_KM) ** 2 * np.cos(np.radians(lat))[:, None]
    return float((grid.values * cell_km2).sum())


def cluster(lat0: float, lon0: float, count: int, spread_deg: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    lat = np.clip(lat0 + rng.normal(0, spread_deg, count), -89.9, 89.9)
    lon = (lon0 + rng.normal(0, spread_deg, count) + 180) % 360 - 180
    return lat, lon


def located(name: str, lat, lon, weights) -> LocationResult:
    weights = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    neighbours = [Neighbour(i + 1, i, 0.5, 0.8, float(w), float(a), float(b), f"/ref/{i}.jpg")
                  for i, (a, b, w) in enumerate(zip(lat, lon, weights))]
    return LocationResult(f"/photos/{name}.jpg", float(lat[0]), float(lon[0]), 0.5, 50.0, 200.0, "cascade",
                          len(neighbours), neighbours)


@pytest.mark.parametrize("bandwidth_km", [20.0, 300.0])  # cells evaluated one by one / through the lattice
def test_the_window_holds_the_mass_and_matches_the_whole_mixture(bandwidth_km):
    lat, lon = cluster(45.0, 10.0, 30, 1.0)
    weights = est.similarity_weights(np.linspace(0.8, 0.6, 30), 0.05)
    grid = est.photo_density(lat, lon, weights, bandwidth_km, 0.1)
    assert grid.resolution == 0.1 and grid.note == "" and grid.requested_resolution is None
    assert mass(grid) == pytest.approx(1.0, abs=2e-3)
    rows, cols = grid.values.shape
    assert rows * cols < 0.05 * 1800 * 3600, "a window, not the world"
    whole = est.density_grid(lat, lon, weights, bandwidth_km,
                             (grid.west, grid.north - rows * 0.1, grid.west + cols * 0.1, grid.north), 0.1)
    peak = whole.values.max()
    # what is left out (kernels past their reach, cells under the floor) stays under twice the floor
    assert np.abs(whole.values - grid.values).max() <= 2 * est.DENSITY_FLOOR * peak
    kept = grid.values > 0
    assert np.abs(whole.values - grid.values)[kept].max() <= est.DENSITY_FLOOR * peak
    assert (grid.values[grid.values > 0] >= est.DENSITY_FLOOR * grid.values.max()).all()
    # the cells sit on the world's grid: edges at whole multiples of the resolution from -180 and 90
    assert (grid.west + 180) / 0.1 == pytest.approx(round((grid.west + 180) / 0.1), abs=1e-6)
    assert (90 - grid.north) / 0.1 == pytest.approx(round((90 - grid.north) / 0.1), abs=1e-6)


def test_a_window_across_the_antimeridian_is_compact_and_written_within_the_world(tmp_path):
    lat = np.array([-17.7, -17.8, -17.6, -18.0])
    lon = np.array([179.8, -179.9, 179.5, -179.6])
    grid = est.photo_density(lat, lon, [0.3, 0.3, 0.2, 0.2], 50.0, 0.05)
    west, east = grid.west, grid.west + grid.values.shape[1] * grid.resolution
    assert west < 180 < east and east - west < 20, "one window across the antimeridian, not all longitudes"
    path = tmp_path / "fiji.tif"
    from geoloc_core.export import write_density_geotiff

    write_density_geotiff(path, grid)
    raster = gdal.Open(str(path))
    x0, dx, _, y0, _, dy = raster.GetGeoTransform()
    assert x0 >= -180 and x0 + dx * raster.RasterXSize <= 180 + 1e-9
    assert y0 <= 90 and y0 + dy * raster.RasterYSize >= -90
    values = raster.GetRasterBand(1).ReadAsArray()
    columns = np.flatnonzero(values.any(axis=0))
    assert columns.min() == 0 and columns.max() == raster.RasterXSize - 1, "mass on both sides of the seam"
    assert float(values.sum()) == pytest.approx(float(grid.values.sum()), rel=1e-3)
    assert path.stat().st_size < 200_000, "the empty middle of the world takes no space"
    from geoloc_core.export import read_density_geotiff

    back = read_density_geotiff(path)
    assert back.geotransform == pytest.approx(grid.geotransform)
    np.testing.assert_array_equal(back.values, grid.values)


@pytest.mark.parametrize("resolution", [0.1, 0.7])
@pytest.mark.parametrize("lat0,lon0", [(89.5, 30.0), (-89.0, -120.0), (0.0, 179.95), (60.0, -179.9)])
def test_windows_at_the_poles_and_the_antimeridian_stay_within_the_world(tmp_path, lat0, lon0, resolution):
    from geoloc_core.export import write_density_geotiff, write_density_stack

    lat, lon = cluster(lat0, lon0, 10, 0.5, seed=3)
    grid = est.photo_density(lat, lon, np.ones(10), 300.0, resolution)
    assert grid.resolution == resolution
    assert -90 - 1e-9 <= grid.north - grid.values.shape[0] * resolution and grid.north <= 90
    # 360 / 0.7 is no whole number of cells: the sliver past the last whole cell (179.8..180) is left out
    assert mass(grid) == pytest.approx(1.0, abs=2e-3 if est.wraps_evenly(resolution) else 0.05)
    stack = write_density_stack(tmp_path / "run.tif", [located("a", lat, lon, np.ones(10))], 300.0, resolution)
    for path in (write_density_geotiff(tmp_path / "one.tif", grid), stack):
        raster = gdal.Open(str(path))
        x0, dx, _, y0, _, dy = raster.GetGeoTransform()
        assert dx == resolution and dy == -resolution
        assert -180 <= x0 and x0 + dx * raster.RasterXSize <= 180 + 1e-9
        assert y0 <= 90 and y0 + dy * raster.RasterYSize >= -90 - 1e-9


@pytest.mark.parametrize("count", [1, 5, 20])
def test_the_run_raster_has_exactly_the_resolution_asked(tmp_path, count):
    from geoloc_core.export import write_density_stack

    places = [(48.8, 2.3), (40.7, -74.0), (-33.9, 151.2), (35.7, 139.7), (-1.3, 36.8)]
    results = [located(f"p{i}", *cluster(*places[i % 5], 20, 2.0, seed=i), np.ones(20)) for i in range(count)]
    path = write_density_stack(tmp_path / "run.tif", results, 300.0, 0.1)
    raster = gdal.Open(str(path))
    assert raster.GetGeoTransform()[1] == 0.1 and raster.RasterCount == count + 1
    metadata = raster.GetMetadata()
    assert float(metadata["RESOLUTION_DEG"]) == float(metadata["REQUESTED_RESOLUTION_DEG"]) == 0.1
    assert "NOTE" not in metadata and all(r.note == "" for r in results)


def test_the_run_file_follows_the_area_holding_mass(tmp_path):
    from geoloc_core.export import write_density_stack

    results = [located("paris", *cluster(48.8, 2.3, 20, 0.2), np.ones(20)),
               located("sydney", *cluster(-33.9, 151.2, 20, 0.2, seed=1), np.ones(20))]
    path = write_density_stack(tmp_path / "run.tif", results, 30.0, 0.1)
    raster = gdal.Open(str(path))
    bands = raster.ReadAsArray()
    assert bands[0].size > 1_000_000, "the union of two far windows is a large box"
    holding = int((bands > 0).sum())
    assert path.stat().st_size < 4 * holding + 100_000, "but only the tiles holding mass are stored"
    np.testing.assert_array_equal(bands[0], bands[1:].max(axis=0))


def test_a_memory_cap_is_said_in_the_note_and_in_the_file(tmp_path, monkeypatch):
    from geoloc_core.export import write_density_stack

    lat, lon = cluster(45.0, 10.0, 20, 3.0)
    capped = est.photo_density(lat, lon, np.ones(20), 300.0, 0.1, max_cells=10_000)
    assert capped.resolution > 0.1 and capped.requested_resolution == 0.1
    assert "instead of the 0.1 asked" in capped.note
    assert capped.values.size <= 10_000
    monkeypatch.setattr(est, "DENSITY_MAX_CELLS", 10_000)
    result = located("alps", lat, lon, np.ones(20))
    raster = gdal.Open(str(write_density_stack(tmp_path / "run.tif", [result], 300.0, 0.1)))
    metadata = raster.GetMetadata()
    assert float(metadata["REQUESTED_RESOLUTION_DEG"]) == 0.1
    given = raster.GetGeoTransform()[1]
    assert float(metadata["RESOLUTION_DEG"]) == pytest.approx(given) and given > 0.1
    assert "instead of the 0.1 asked" in metadata["NOTE"] and "instead of the 0.1 asked" in result.note


def test_the_density_phase_reports_its_stage_and_stops_after_the_first_photo_leaving_no_file(tmp_path):
    from geoloc_core.service import LocateOutcome, LocateRequest, write_run_density

    results = [located(f"p{i}", *cluster(10.0 * i, 20.0 * i, 20, 1.0, seed=i), np.ones(20)) for i in range(4)]
    outcome = LocateOutcome(results, [])
    request = LocateRequest("db", [r.photo for r in results], 20, "cascade", 300.0, 0.05, 0.1)
    events = []

    def stop_after_the_first_density() -> bool:
        return any(e.stage == "density" and e.done >= 1 for e in events)

    target = tmp_path / "run-density.tif"
    with pytest.raises(Cancelled):
        write_run_density(outcome, request, target, should_stop=stop_after_the_first_density, progress=events.append)
    assert list(tmp_path.iterdir()) == [] and outcome.density_path is None
    assert [e.message for e in events if e.stage == "density"] == ["Density maps: 0 of 4", "Density maps: 1 of 4"]


def test_a_stop_inside_one_photos_density_is_polled(monkeypatch):
    lat, lon = cluster(45.0, 10.0, 50, 5.0)
    calls = []

    def stop_soon() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        est.photo_density(lat, lon, np.ones(50), 20.0, 0.01, should_stop=stop_soon)
    assert len(calls) == 4, "polled kernel by kernel, not only between photos"


def test_stopped_per_photo_densities_leave_no_file(tmp_path):
    from geoloc_core.service import LocateOutcome, write_photo_densities

    results = [located(f"p{i}", *cluster(10.0, 20.0 * i, 10, 1.0, seed=i), np.ones(10)) for i in range(3)]
    for result in results:
        result.density = est.photo_density([n.lat for n in result.neighbours], [n.lon for n in result.neighbours],
                                           [n.weight for n in result.neighbours], 100.0, 0.1)
    outcome = LocateOutcome(results, [])
    folder = tmp_path / "grids"
    calls = []
    with pytest.raises(Cancelled):
        write_photo_densities(outcome, folder, should_stop=lambda: calls.append(1) or len(calls) > 2)
    assert list(folder.iterdir()) == [] and outcome.density_paths == {}
    assert len(write_photo_densities(outcome, folder)) == 3
    assert all(Path(p).is_file() for p in outcome.density_paths.values())


def test_a_run_stopped_in_its_density_phase_ends_there_and_keeps_no_raster(tmp_path, lite_identity):
    """The panel's route: Session.locate embeds and locates, then writes the run's raster photo by photo;
    a stop asked once the first photo's density is done ends the run there, leaving no file."""
    from geoloc_core.service import LocateRequest, Session

    database = make_database(tmp_path / "refs.geoloc", lite_identity, references(12, 5), unit_vectors(12, 5))
    photos = [str(p) for p in make_photos(tmp_path / "photos", 3, seed=4)]
    target = tmp_path / "runs" / "run-density.tif"
    request = LocateRequest(str(database), photos, 6, "sphere", 1000.0, 0.05, 0.1, density_path=target)
    events = []

    def stop_after_the_first_density() -> bool:
        return any(e.stage == "density" and e.done >= 1 for e in events)

    with Session() as session, pytest.raises(Cancelled):
        session.locate(request, events.append, stop_after_the_first_density)
    stages = [e.stage for e in events]
    assert "density" in stages and stages.index("density") > max(i for i, s in enumerate(stages) if s != "density")
    assert [e.message for e in events if e.stage == "density"] == ["Density maps: 0 of 3", "Density maps: 1 of 3"]
    assert list(target.parent.iterdir()) == []


def test_an_area_masks_a_window_past_the_antimeridian_by_its_wrapped_longitudes():
    from geoloc_core.context.area import resolve_area
    from geoloc_core.context.run import masked_density

    fiji_east = resolve_area("bbox:-180,-20,-178,-16")  # the part of the window past 180 lies here
    grid = est.DensityGrid(np.ones((2, 6), np.float32), 177.0, -16.0, 1.0)  # 177..183 E
    assert masked_density(grid, fiji_east).values[0].tolist() == [0, 0, 0, 1, 1, 0]
