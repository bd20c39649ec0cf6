"""The density's fast evaluation paths against the whole mixture (density_grid: float64, every kernel at
every cell): the kernels in float32 from per-row and per-column terms, and the cubic interpolation as
block matrix products, within 1e-3 of the peak everywhere and far closer where nothing is left out."""

from __future__ import annotations

import numpy as np
import pytest

from geoloc_core import estimators as est

TOLERANCE = 1e-3  # of the peak: what a photo's density may depart from the whole mixture


def cluster(lat0: float, lon0: float, count: int, spread_deg: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    lat = np.clip(lat0 + rng.normal(0, spread_deg, count), -89.9, 89.9)
    lon = (lon0 + rng.normal(0, spread_deg, count) + 180) % 360 - 180
    weights = est.similarity_weights(np.linspace(0.8, 0.6, count), 0.05)
    return lat, lon, weights


def whole_mixture(lat, lon, weights, bandwidth_km: float, grid: est.DensityGrid) -> np.ndarray:
    rows, cols = grid.values.shape
    extent = (grid.west, grid.north - rows * grid.resolution, grid.west + cols * grid.resolution, grid.north)
    return est.density_grid(lat, lon, weights, bandwidth_km, extent, grid.resolution, max_cells=rows * cols).values


@pytest.mark.parametrize(("bandwidth_km", "lat0", "lon0", "step", "size", "count"), [
    (30.0, 45.0, 10.0, 0.02, 150, 40),  # a narrow kernel: kappa 45,000, the float32 terms at their hardest
    (1000.0, 0.0, 0.0, 1.0, 180, 150),  # the default kernel over half the world, kernels in three groups
    (1000.0, 80.0, 175.0, 2.0, 90, 40),  # near a pole, across the antimeridian
])
def test_float32_kernels_match_the_whole_mixture_in_float64(bandwidth_km, lat0, lon0, step, size, count):
    lat, lon, weights = cluster(lat0, lon0, count, 0.3 if bandwidth_km < 100 else 5.0)
    weights = weights / weights.sum()
    everywhere = est.KernelReach(lat, lon, weights, np.full(len(lat), 180.0))  # nothing left out
    kappa = est.concentration(bandwidth_km)
    first_lat = min(lat0 + size * step / 2, 90.0) - step / 2
    first_lon = lon0 - size * step / 2 + step / 2
    fast = est._kernels_on_grid(everywhere, first_lat, first_lon, step, size, size, kappa,
                                est._vmf_norm(kappa), None)
    grid = est.DensityGrid(fast, first_lon - step / 2, first_lat + step / 2, step)
    exact = whole_mixture(lat, lon, weights, bandwidth_km, grid)
    assert exact.shape == fast.shape
    peak = float(exact.max())
    assert np.abs(fast - exact).max() <= 1e-5 * peak
    holding = exact >= 1e-3 * peak  # where the density matters, float32 keeps each value to its own 1e-5
    assert holding.sum() > 100
    assert np.abs(fast[holding] / exact[holding] - 1).max() <= 1e-5


@pytest.mark.parametrize(("bandwidth_km", "resolution", "lat0", "lon0", "spread", "lattice"), [
    (1000.0, est.AUTO_DENSITY_RESOLUTION, 45.0, 10.0, 5.0, True),  # the default: a lattice of 1.5 degrees
    (1000.0, 0.1, 45.0, 10.0, 5.0, True),  # a lattice, many blocks of cells
    (300.0, 0.1, 84.0, 179.0, 1.0, True),  # a lattice, all longitudes round a pole
    (20.0, 0.1, -30.0, -179.5, 0.5, False),  # across the antimeridian, cell by cell (kernels finer than a lattice)
    (100.0, est.AUTO_DENSITY_RESOLUTION, 10.0, 100.0, 12.0, False),  # cell by cell: narrow kernels far apart
])
def test_photo_density_stays_within_a_thousandth_of_the_peak(bandwidth_km, resolution, lat0, lon0, spread, lattice):
    lat, lon, weights = cluster(lat0, lon0, 20, spread, seed=3)
    reach = est.kernel_reach(lat, lon, weights, bandwidth_km)
    cells = est.window_cells(est.mass_window(reach), est.density_resolution(resolution, bandwidth_km))
    step = np.degrees(bandwidth_km / 6371.0) / est.INTERPOLATION_STEPS_PER_BANDWIDTH
    assert est.interpolates(reach, cells, step) == lattice
    grid = est.photo_density(lat, lon, weights, bandwidth_km, resolution)
    exact = whole_mixture(lat, lon, weights, bandwidth_km, grid)
    assert exact.shape == grid.values.shape
    peak = float(exact.max())
    departure = np.abs(grid.values - exact).max() / peak
    assert departure <= TOLERANCE
    assert departure <= 2 * est.DENSITY_FLOOR  # what is left out (reach, floor), float32, interpolation
    assert (grid.values >= 0).all() and not np.signbit(grid.values).any()


def test_interpolation_blocks_cover_every_cell_with_weights_summing_to_one():
    points = -180 + (np.arange(700) + 0.5) * 0.1
    blocks = est._cubic_blocks(points[0] - 2 * 1.1, 1.1, int(np.ceil(70 / 1.1)) + 5, points)
    assert sum(len(matrix) for _, matrix in blocks) == len(points)
    for nodes, matrix in blocks:
        assert matrix.shape[1] == nodes.stop - nodes.start
        assert np.allclose(matrix.sum(axis=1), 1.0, atol=1e-6)  # a cubic reproduces constants
        assert ((matrix != 0).sum(axis=1) <= 4).all()


@pytest.mark.parametrize(("start", "width"), [(170.0, 20.0), (-185.0, 10.0), (10.0, 30.0), (-180.0, 360.0),
                                              (100.0, 359.9999999999)])
def test_column_runs_hold_each_column_of_an_interval_once(start, width):
    step, cols = 0.5, 720
    first_lon = -180.0 + step / 2
    first, last = est._column_runs(np.array([start]), np.array([width]), first_lon, step, cols)
    taken = np.zeros(cols, dtype=int)
    for c0, c1 in zip(first[:, 0], last[:, 0]):
        taken[c0:max(c0, c1)] += 1
    centres = first_lon + np.arange(cols) * step
    inside = ((centres - start) % 360.0 <= width + 1e-9) | (width >= 360.0 - 1e-9)
    assert taken.max() <= 1
    assert (taken.astype(bool) == inside).all()
