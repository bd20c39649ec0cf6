"""The maths against hand-computed cases: distances, the paper's procedure, the spherical KDE."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.ndimage import correlate1d

from geoloc_core import estimators as est
from geoloc_core.circles import destination, geodesic_polygons
from geoloc_core.estimator_registry import estimate
from geoloc_core.geo import EARTH_RADIUS_KM, haversine_km, to_lat_lon, to_unit_vectors

ONE_DEGREE_KM = math.pi * EARTH_RADIUS_KM / 180  # 111.195 km


def test_haversine_hand_cases():
    assert haversine_km(0, 0, 0, 1) == pytest.approx(ONE_DEGREE_KM, rel=1e-12)
    assert haversine_km(0, 0, 1, 0) == pytest.approx(ONE_DEGREE_KM, rel=1e-12)
    assert haversine_km(90, 0, -90, 0) == pytest.approx(math.pi * EARTH_RADIUS_KM, rel=1e-12)
    assert haversine_km(0, 179.5, 0, -179.5) == pytest.approx(ONE_DEGREE_KM, rel=1e-9)  # across the antimeridian
    assert haversine_km(60, 0, 60, 1) == pytest.approx(ONE_DEGREE_KM * 0.5, rel=1e-4)  # cos 60 = 1/2
    assert haversine_km(89.99, 0, 89.99, 180) == pytest.approx(0.02 * ONE_DEGREE_KM, rel=1e-6)  # over the pole


def test_unit_vectors_round_trip_and_destination():
    lat, lon = np.array([0, 45, -89.5, 12.3]), np.array([0, -120, 179.9, -179.9])
    back_lat, back_lon = to_lat_lon(to_unit_vectors(lat, lon))
    np.testing.assert_allclose(back_lat, lat, atol=1e-9)
    np.testing.assert_allclose(back_lon, lon, atol=1e-9)
    north_lat, north_lon = destination(0.0, 0.0, 0.0, ONE_DEGREE_KM)
    assert (float(north_lat), float(north_lon)) == pytest.approx((1.0, 0.0), abs=1e-9)
    east_lat, east_lon = destination(0.0, 179.5, 90.0, ONE_DEGREE_KM)
    assert (float(east_lat), float(east_lon)) == pytest.approx((0.0, -179.5), abs=1e-9)


POLES_AND_ANTIMERIDIAN = [(89.0, 0.0), (-89.0, 120.0), (0.0, 179.9), (10.0, -179.9), (45.0, 10.0), (-33.9, 151.2)]


@pytest.mark.parametrize("lat,lon", POLES_AND_ANTIMERIDIAN)
@pytest.mark.parametrize("radius_km", [50.0, 500.0, 3000.0, 12000.0, 19000.0])
def test_geodesic_polygons_are_valid_inside_the_world_and_contain_their_centre(lat, lon, radius_km):
    from osgeo import ogr

    polygons = geodesic_polygons(lat, lon, radius_km)
    geometry = ogr.CreateGeometryFromJson(json.dumps({"type": "MultiPolygon", "coordinates": polygons}))
    assert geometry.IsValid()
    west, east, south, north = geometry.GetEnvelope()
    assert -180.0 <= west and east <= 180.0 and -90.0 <= south and north <= 90.0
    assert geometry.Contains(ogr.CreateGeometryFromWkt(f"POINT ({lon} {lat})"))
    # every vertex off the cut lines (antimeridian, poles) lies at the radius from the centre
    points = np.array([p for polygon in polygons for ring in polygon for p in ring
                       if abs(abs(p[0]) - 180.0) > 1e-9 and abs(abs(p[1]) - 90.0) > 1e-9])
    np.testing.assert_allclose(haversine_km(lat, lon, points[:, 1], points[:, 0]), radius_km, rtol=1e-6)
    # it covers the points within the radius and no other (points near the boundary left out: segments)
    golden = np.arange(2000) + 0.5
    sample_lat = np.degrees(np.arcsin(1 - 2 * golden / 2000))
    sample_lon = (golden * 137.50776405) % 360.0 - 180.0
    distance = haversine_km(lat, lon, sample_lat, sample_lon)
    clear = np.abs(distance - radius_km) > 0.01 * radius_km + 5
    inside = [geometry.Contains(ogr.CreateGeometryFromWkt(f"POINT ({x} {y})"))
              for x, y in zip(sample_lon[clear], sample_lat[clear])]
    np.testing.assert_array_equal(inside, distance[clear] < radius_km)


def test_gaussian_kernel_matches_imgaussfilt_sizes():
    assert len(est.gaussian_kernel(4)) == 17
    assert len(est.gaussian_kernel(40)) == 161
    assert est.gaussian_kernel(4).sum() == pytest.approx(1.0)


@pytest.mark.parametrize("size,sigma", [(180, 4), (360, 4), (401, 40), (30, 4)])
def test_filter_matrix_equals_dense_replicate_filtering(size, sigma):
    rng = np.random.default_rng(size)
    signal = np.zeros(size)
    signal[rng.choice(size, 5, replace=False)] = rng.uniform(0.1, 1.0, 5)
    signal[0] = 0.7  # weight on the edge exercises the replicate padding
    dense = correlate1d(signal, est.gaussian_kernel(sigma), mode="nearest")
    np.testing.assert_allclose(est.replicate_filter_matrix(size, sigma) @ signal, dense, atol=1e-15)


def test_paper_single_neighbour_snaps_to_it():
    assert est.paper_location([45.3], [7.7], [0.4]) == (45.3, 7.7)


def test_paper_between_two_equal_neighbours_takes_the_first_maximum_without_snapping():
    # Coarse cells (1-based) row 91, cols 191 and 194: the smoothed maximum ties at cols 192/193 and
    # MATLAB's max takes the first (192). The fine window is centred on (910, 1920); the neighbours sit
    # at fine row 901, cols 1901 and 1940, so the fine maximum ties at cols 1920/1921: the first,
    # 1920, gives lon (1920 - 1800) / 10 = 12.0 and lat (901 - 900) / 10 = 0.1. Both neighbours are
    # ~217 km away, beyond the 100 km snap.
    assert est.paper_location([0.05, 0.05], [10.05, 13.95], [0.5, 0.5]) == pytest.approx((0.1, 12.0))


def test_paper_snaps_to_the_first_neighbour_in_rank_order_within_100_km():
    lat, lon = [40.0, 48.9, 48.8], [-3.7, 2.3, 2.4]  # Madrid (weak match), then two in Paris
    assert est.paper_location(lat, lon, [0.9, 0.5, 0.5]) == (48.9, 2.3)


def test_paper_reproduces_the_grid_clamp_at_the_antimeridian_where_sphere_does_not():
    lat, lon = np.array([10.0, 10.5, 9.5, 10.0]), np.array([179.5, -179.6, 179.8, -179.9])
    # The coarse column is clamped to 339, so the fine window (cols 3190..3590) holds no neighbour:
    # the all-zero window's first element (row 800, col 3190) is the paper's answer.
    assert est.paper_location(lat, lon, np.full(4, 0.2)) == pytest.approx((-10.0, 139.0))
    mode_lat, mode_lon = est.sphere_mode(lat, lon, np.full(4, 0.25), 100.0)
    assert haversine_km(mode_lat, mode_lon, 10.0, 179.95) < 60


def test_sphere_mode_is_exact_for_symmetric_points_across_the_antimeridian():
    mode_lat, mode_lon = est.sphere_mode([0.0, 0.0], [179.9, -179.9], [0.5, 0.5], 100.0)
    assert haversine_km(mode_lat, mode_lon, 0.0, 180.0) < 1e-6


def test_sphere_mode_near_the_pole():
    mode_lat, _ = est.sphere_mode([89.9, 89.9, 89.9], [0.0, 120.0, 240.0], [1 / 3] * 3, 100.0)
    assert mode_lat > 89.9999


def test_sphere_mode_picks_the_heavier_cluster():
    lat = [48.85, 48.86, 48.84, 40.4]
    lon = [2.35, 2.36, 2.34, -3.7]
    mode_lat, mode_lon = est.sphere_mode(lat, lon, [0.2, 0.2, 0.2, 0.4], 50.0)
    assert haversine_km(mode_lat, mode_lon, 48.85, 2.35) < 2


def test_uncertainty_of_one_kernel_matches_the_rayleigh_quantiles():
    h = 80.0
    confidence, r50, r90 = est.uncertainty(30.0, 30.0, np.array([30.0]), np.array([30.0]), np.array([1.0]), h)
    assert confidence == 1.0
    assert r50 == pytest.approx(h * math.sqrt(2 * math.log(2)), rel=2e-3)
    assert r90 == pytest.approx(h * math.sqrt(2 * math.log(10)), rel=2e-3)


def test_confidence_evidence_is_the_weight_share_within_the_stated_distance():
    confidence, _, _ = est.uncertainty(0.0, 0.0, np.array([0.0, 0.0, 0.0]), np.array([0.0, 1.0, 30.0]),
                                       np.array([0.5, 0.2, 0.3]), 100.0)
    assert confidence == pytest.approx(0.7)


def test_similarity_weights_and_estimate_outputs():
    weights = est.similarity_weights([0.9, 0.7, 0.5], temperature=0.2)
    assert weights.sum() == pytest.approx(1.0)
    assert weights[0] / weights[1] == pytest.approx(math.e)
    result = estimate("sphere", [10.0, 10.1], [20.0, 20.1], [0.8, 0.8])
    assert 0.0 <= result.confidence <= 1.0 and result.radius50_km < result.radius90_km
    with pytest.raises(ValueError, match="unknown estimator"):
        estimate("median", [0.0], [0.0], [1.0])


def test_density_grid_integrates_to_one_and_peaks_at_the_mode():
    grid = est.density_grid([10.0, 10.2], [179.9, -179.9], [0.5, 0.5], 150.0, (170.0, 0.0, 190.0, 20.0), 0.05)
    rows, cols = grid.values.shape
    lat_centres = grid.north - (np.arange(rows) + 0.5) * grid.resolution
    cell_km2 = (grid.resolution * ONE_DEGREE_KM) ** 2 * np.cos(np.radians(lat_centres))[:, None]
    assert float((grid.values * cell_km2).sum()) == pytest.approx(1.0, abs=2e-3)
    peak_row, peak_col = np.unravel_index(np.argmax(grid.values), grid.values.shape)
    peak_lon = grid.west + (peak_col + 0.5) * grid.resolution
    assert abs(peak_lon - 180.0) < 0.2, "the density is continuous across the antimeridian"
    assert grid.geotransform == (170.0, 0.05, 0.0, 20.0, 0.0, -0.05)


def test_cascade_snaps_to_the_best_supported_neighbour_not_the_first():
    # rank 1 lies alone 93 km from a tight line of three; the paper's snap takes rank 1, the cascade
    # the middle of the three, which has the most weight around it.
    lat = np.array([42.90, 43.50, 43.51, 43.52, -33.9])
    lon = np.array([10.60, 11.40, 11.41, 11.42, 151.2])
    sims = np.array([0.80, 0.79, 0.79, 0.79, 0.70])
    snapped = est.cascade_location(lat, lon, est.similarity_weights(sims, 0.05), 1000.0)
    assert snapped == (43.51, 11.41)
    assert est.paper_location(lat, lon, 2 - 2 * sims) == (42.9, 10.6)


def test_cascade_keeps_the_continent_of_the_weightier_evidence_across_the_antimeridian():
    lat = np.array([-17.7, -17.8, -17.6, 48.85])
    lon = np.array([179.9, -179.9, 178.5, 2.35])
    snapped = est.cascade_location(lat, lon, est.similarity_weights([0.7, 0.7, 0.7, 0.72], 0.05), 1000.0)
    assert snapped[0] < 0 and abs(snapped[1]) > 178
