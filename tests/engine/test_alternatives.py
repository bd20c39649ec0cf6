"""Alternatives: the separate modes of a photo's neighbour density, each with the share of the density in its
basin, rank 1 the prediction; filled for the estimators that take the kernel density's mode, and written
into the results files."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from geoloc_core import estimators as est
from geoloc_core.estimator_registry import ESTIMATORS, estimate_neighbourhood, neighbourhood
from geoloc_core.evidence import Finding, PhotoCase
from geoloc_core.geo import haversine_km
from geoloc_core.locate import LocateOptions, Locator, alternatives
from geoloc_core.results import Record
from geoloc_core.schema import ALTERNATIVE_FIELDS, names

PARIS, SYDNEY = (48.85, 2.35), (-33.87, 151.21)


def two_clusters(heavy: float = 0.7, count: int = 10, seed: int = 0):
    """Neighbours around Paris holding `heavy` of the weight, the rest around Sydney (within ~20 km)."""
    rng = np.random.default_rng(seed)
    near_paris = count // 2
    lat = np.concatenate([PARIS[0] + rng.normal(0, 0.1, near_paris), SYDNEY[0] + rng.normal(0, 0.1, count - near_paris)])
    lon = np.concatenate([PARIS[1] + rng.normal(0, 0.1, near_paris), SYDNEY[1] + rng.normal(0, 0.1, count - near_paris)])
    weights = np.concatenate([np.full(near_paris, heavy / near_paris),
                              np.full(count - near_paris, (1 - heavy) / (count - near_paris))])
    return lat, lon, weights


def test_two_clusters_give_two_alternatives_with_their_shares():
    lat, lon, weights = two_clusters(0.7)
    mode_lat, mode_lon = est.sphere_mode(lat, lon, weights, 200.0)
    found = alternatives(mode_lat, mode_lon, lat, lon, weights, 200.0)
    assert [a.rank for a in found] == [1, 2]
    first, second = found
    assert (first.lat, first.lon, first.distance_km) == (mode_lat, mode_lon, 0.0)
    assert haversine_km(first.lat, first.lon, *PARIS) < 30 and haversine_km(second.lat, second.lon, *SYDNEY) < 30
    assert first.mass == pytest.approx(0.7, abs=1e-6) and second.mass == pytest.approx(0.3, abs=1e-6)
    assert sum(a.mass for a in found) <= 1 + 1e-9
    assert second.distance_km == pytest.approx(float(haversine_km(mode_lat, mode_lon, second.lat, second.lon)))


def test_modes_closer_than_the_bandwidth_are_one_place():
    rng = np.random.default_rng(1)
    lat = np.concatenate([45.0 + rng.normal(0, 0.02, 5), 45.3 + rng.normal(0, 0.02, 5)])  # ~33 km apart
    lon = np.full(10, 7.0)
    assert len(est.density_modes(lat, lon, np.ones(10), 10.0)) == 2
    merged = est.density_modes(lat, lon, np.ones(10), 100.0)
    assert len(merged) == 1 and merged[0][2] == pytest.approx(1.0)


def test_a_cluster_across_the_antimeridian_is_one_mode():
    lat = np.array([-17.7, -17.8, -17.6, -17.7])
    lon = np.array([179.95, -179.95, 179.9, -179.9])
    modes = est.density_modes(lat, lon, np.ones(4), 50.0)
    assert len(modes) == 1 and abs(modes[0][1]) > 179.8


def test_at_most_five_alternatives_heaviest_first():
    lat = np.array([0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0])
    lon = np.zeros(7)
    weights = np.array([0.3, 0.2, 0.15, 0.12, 0.1, 0.08, 0.05])
    found = alternatives(0.0, 0.0, lat, lon, weights, 50.0)
    assert len(found) == 5 and [a.rank for a in found] == [1, 2, 3, 4, 5]
    assert [round(a.mass, 6) for a in found] == [0.3, 0.2, 0.15, 0.12, 0.1]


def test_a_prediction_in_no_neighbours_basin_comes_first_with_no_mass():
    lat, lon, weights = two_clusters(0.7)
    found = alternatives(0.0, -30.0, lat, lon, weights, 200.0)  # far from both (a place from outside: a track)
    assert (found[0].lat, found[0].lon, found[0].mass) == (0.0, -30.0, 0.0)
    assert [round(a.mass, 6) for a in found[1:]] == [0.7, 0.3]


def case_and_finding(estimator: str, lat, lon, similarities):
    records = [Record(i, f"/ref/{i}.jpg", f"{i:064x}", float(a), float(b), None, None, None, None, {})
               for i, (a, b) in enumerate(zip(lat, lon))]
    n = neighbourhood(lat, lon, similarities, 200.0, 0.05)
    return PhotoCase("/photos/a.jpg", records, n), Finding(estimate_neighbourhood(estimator, n), "pixels")


@pytest.mark.parametrize("estimator", ["sphere", "cascade", "paper"])
def test_the_kernel_density_estimators_fill_alternatives_and_the_others_leave_them_empty(estimator):
    lat, lon, _ = two_clusters()
    similarities = np.concatenate([np.full(5, 0.8), np.full(5, 0.8 + 0.05 * np.log(3 / 7))])  # softmax: 0.7 / 0.3
    case, finding = case_and_finding(estimator, lat, lon, similarities)
    result = Locator.result(case, finding, LocateOptions(k=10, estimator=estimator, bandwidth_km=200.0))
    if not ESTIMATORS.get(estimator).density:
        assert result.alternatives == []
        return
    first, second = result.alternatives
    assert (first.lat, first.lon) == (result.lat, result.lon)
    assert first.mass == pytest.approx(0.7, abs=1e-3) and second.mass == pytest.approx(0.3, abs=1e-3)
    assert haversine_km(second.lat, second.lon, *SYDNEY) < 30


def test_the_registry_says_which_estimators_take_a_density_mode():
    takes_a_mode = {name for name in ESTIMATORS.names() if ESTIMATORS.get(name).density}
    assert takes_a_mode == {"sphere", "hybrid", "cascade", "geoclip"}


def located_results():
    lat, lon, weights = two_clusters()
    case, finding = case_and_finding("cascade", lat, lon, np.log(weights) * 0.05 + 1)
    return [Locator.result(case, finding, LocateOptions(k=10, bandwidth_km=200.0))]


def test_csv_results_get_an_alternatives_file_beside(tmp_path):
    from geoloc_core.export import alternatives_path, write_results

    written = write_results(tmp_path / "run.csv", located_results())
    assert alternatives_path(tmp_path / "run.csv") == tmp_path / "run-alternatives.csv"
    assert written == [tmp_path / "run.csv", tmp_path / "run-neighbours.csv", tmp_path / "run-alternatives.csv"]
    with open(tmp_path / "run-alternatives.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == names(ALTERNATIVE_FIELDS)
    assert [r["rank"] for r in rows] == ["1", "2"] and float(rows[0]["mass"]) == pytest.approx(0.7, abs=1e-3)


def test_a_geopackage_gets_an_alternatives_point_layer(tmp_path):
    ogr = pytest.importorskip("osgeo.ogr")
    from geoloc_core.export import write_results

    write_results(tmp_path / "run.gpkg", located_results())
    source = ogr.Open(str(tmp_path / "run.gpkg"))
    features = list(source.GetLayerByName("alternatives"))
    assert [f.GetField("rank") for f in features] == [1, 2]
    second = features[1].GetGeometryRef()
    assert haversine_km(second.GetY(), second.GetX(), *SYDNEY) < 30
    assert features[1].GetField("mass") == pytest.approx(0.3, abs=1e-3)
