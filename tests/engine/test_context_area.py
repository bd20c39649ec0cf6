"""The area of interest: polygons read from files, boxes and the bundled countries; containment,
the restricted search and the flag for photos unlike anything in the area."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geoloc_core.context.area import (
    COUNTRIES_FILE,
    AreaError,
    area_from_bbox,
    area_from_country,
    area_from_file,
    country_of,
    resolve_area,
)
from geoloc_core.context.search import AreaFilter


def write_geojson(path, geometry, crs=None):
    data = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": geometry}]}
    if crs:
        data["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(data))
    return path


def test_the_bundled_countries_hold_paris_in_france_and_london_outside():
    france = area_from_country("France")
    assert france.contains([48.85, 51.5, 43.3], [2.35, -0.1, 5.4]).tolist() == [True, False, True]
    assert area_from_country("fr").name == "France"
    assert country_of([48.85, -33.87], [2.35, 151.21]) == ["France", "Australia"]
    assert COUNTRIES_FILE.stat().st_size < 1_000_000


def test_an_unknown_country_is_one_line_with_suggestions():
    with pytest.raises(AreaError, match="unknown country 'Franc'.*France"):
        area_from_country("Franc")


def test_a_polygon_with_a_hole_leaves_the_hole_out(tmp_path):
    outer = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    hole = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
    area = area_from_file(write_geojson(tmp_path / "a.geojson", {"type": "Polygon", "coordinates": [outer, hole]}))
    assert area.contains([1, 5, 11], [1, 5, 5]).tolist() == [True, False, False]


def test_an_area_in_another_crs_is_reprojected(tmp_path):
    # a square of 100 km around (0, 0) in Web Mercator metres
    square = [[-50_000, -50_000], [50_000, -50_000], [50_000, 50_000], [-50_000, 50_000], [-50_000, -50_000]]
    path = write_geojson(tmp_path / "m.geojson", {"type": "Polygon", "coordinates": [square]}, "EPSG:3857")
    area = area_from_file(path)
    assert area.contains([0.0, 0.3, 0.0], [0.0, 0.0, 0.6]).tolist() == [True, True, False]
    assert abs(area.bbox[2] - 0.449) < 0.01


def test_a_point_layer_is_refused_as_an_area(tmp_path):
    path = write_geojson(tmp_path / "p.geojson", {"type": "Point", "coordinates": [2, 48]})
    with pytest.raises(AreaError, match="p.geojson: an area must be polygons; this file holds point"):
        area_from_file(path)


def test_bbox_and_resolve():
    assert resolve_area("bbox:0,40,10,50").contains([45, 45], [5, 11]).tolist() == [True, False]
    with pytest.raises(AreaError, match="west,south,east,north"):
        area_from_bbox(10, 40, 0, 50)
    with pytest.raises(AreaError, match="area file not found"):
        resolve_area("missing.geojson")


class FlatReferences:
    """A tiny database: records 1..n at given places with given features."""

    def __init__(self, lat, lon, features):
        self.lat, self.lon, self.features = np.asarray(lat), np.asarray(lon), np.asarray(features, np.float32)

    def locations(self):
        return np.arange(1, len(self.lat) + 1), self.lat, self.lon

    def embeddings(self, ids):
        return self.features[np.asarray(ids) - 1]

    def search(self, vectors, k):
        scores = vectors @ self.features.T
        order = np.argsort(-scores, axis=1)[:, :k]
        return np.take_along_axis(scores, order, 1).astype(np.float32), order + 1


class FlatSpace:
    def __init__(self, references):
        self.references = references

    def search(self, vectors, k):
        return self.references.search(vectors, k)


@pytest.mark.parametrize("inside_share", [0.2, 0.8])
def test_the_restricted_search_equals_an_exact_search_over_the_references_inside(inside_share):
    rng = np.random.default_rng(1)
    n = 400
    lat = np.where(rng.random(n) < inside_share, 45.0, -20.0) + rng.normal(0, 1, n)
    features = rng.normal(size=(n, 16))
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    references = FlatReferences(lat, np.zeros(n), features)
    area_filter = AreaFilter(references, area_from_bbox(-10, 35, 10, 55))
    queries = features[:20] + rng.normal(0, 0.3, (20, 16))
    sims, ids = area_filter.search(FlatSpace(references), references, queries.astype(np.float32), 10)
    inside = np.flatnonzero((lat > 35) & (lat < 55)) + 1
    expected = np.argsort(-(queries @ features[inside - 1].T), axis=1)[:, :10]
    assert (ids == inside[expected]).all()


def test_an_area_with_no_reference_inside_is_refused():
    references = FlatReferences([10.0], [10.0], [[1.0, 0.0]])
    with pytest.raises(AreaError, match="no reference of the database lies inside"):
        AreaFilter(references, area_from_bbox(-10, -10, 0, 0))


def test_an_answer_between_two_parts_of_an_area_moves_inside_and_the_density_is_zero_outside():
    from geoloc_core.context.run import UNLIKE_AREA, ContextRun, masked_density
    from geoloc_core.estimators import DensityGrid
    from geoloc_core.results import LocationResult, Neighbour

    two_islands = resolve_area("bbox:0,0,2,2")
    two_islands = type(two_islands).from_rings("islands", [two_islands.rings[0],
                                                           resolve_area("bbox:8,0,10,2").rings[0]])
    neighbours = [Neighbour(1, 1, 0.1, 0.9, 0.7, 1.0, 9.0, ""), Neighbour(2, 2, 0.2, 0.8, 0.3, 1.0, 1.0, "")]
    grid = DensityGrid(np.ones((2, 10), np.float32), 0.0, 2.0, 1.0)
    result = LocationResult("p", 1.0, 5.0, 0.5, 100.0, 20_000.0, "cascade", 2, neighbours, grid)
    kept = ContextRun._kept_inside(result, two_islands, prior=False, unlike=True)
    assert (kept.lat, kept.lon) == (1.0, 9.0)
    assert kept.radius90_km < 20_000.0 and kept.note == UNLIKE_AREA and kept.evidence == "area"
    assert masked_density(grid, two_islands).values[0].tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 1, 1]


def test_a_trained_views_index_is_searched_with_a_faiss_id_selector():
    import faiss

    rng = np.random.default_rng(2)
    n = 200
    lat = np.where(np.arange(n) % 4 == 0, 45.0, -20.0)
    features = rng.normal(size=(n, 8)).astype(np.float32)
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    references = FlatReferences(lat, np.zeros(n), features)
    view = type("View", (), {})()
    view.index = faiss.IndexIDMap2(faiss.IndexFlatIP(8))
    view.index.add_with_ids(features, np.arange(1, n + 1, dtype=np.int64))
    area_filter = AreaFilter(references, area_from_bbox(-10, 35, 10, 55))
    sims, ids = area_filter.search(view, references, features[:5], 7)
    inside = np.flatnonzero(lat == 45.0) + 1
    expected = inside[np.argsort(-(features[:5] @ features[inside - 1].T), axis=1)[:, :7]]
    assert (ids == expected).all()
