"""From neighbour locations to a predicted location: the paper's grid procedure, a spherical KDE, and
the cascade (KDE modes from continent to region, then a snap to the best-supported neighbour).

All take the neighbours' coordinates (degrees) and their squared L2 feature distances, in rank order.
The estimators a user chooses are registered, with what each needs, in estimator_registry.py, whose
`estimate` runs one and adds its calibrated uncertainty (`uncertainty` here, calibration.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import chndtr

from .calibration import CONFIDENCE_RADIUS_KM
from .defaults import DEFAULT_BANDWIDTH_KM, DEFAULT_TEMPERATURE
from .errors import OptionError
from .geo import EARTH_RADIUS_KM, haversine_km, to_lat_lon, to_unit_vectors

PAPER_SNAP_KM = 100.0
CASCADE_REACH = 2.0  # neighbours within 2 x bandwidth of the continental mode vote on the regional one
CASCADE_FINE_FRACTION = 0.3  # the regional kernel, as a share of the bandwidth
SNAP_SUPPORT_KM = 25.0  # a neighbour's support: the weight of the neighbours within about this distance
MIN_SQUARED_DISTANCE = 1e-6  # identical features would give the paper's 1/d^10 an infinite weight


@dataclass(frozen=True)
class Estimate:
    """A predicted point and how concentrated the neighbours' evidence is around it.

    confidence: the calibrated probability that the truth lies within CONFIDENCE_RADIUS_KM (750 km,
        country scale) of the predicted point (calibration.py).
    radius50_km / radius90_km: calibrated radii of the circles around the prediction that hold the
        truth for 50% / 90% of photos.
    share_within, mass_radius50_km, mass_radius90_km: the uncalibrated evidence they come from (the
        share of the weights within CONFIDENCE_RADIUS_KM, the radii holding 50%/90% of the density).
    """

    lat: float
    lon: float
    confidence: float
    radius50_km: float
    radius90_km: float
    weights: np.ndarray  # normalised neighbour weights, rank order
    share_within: float
    mass_radius50_km: float
    mass_radius90_km: float


# -- the paper's procedure ---------------------------------------------------------------------------

def gaussian_kernel(sigma: float) -> np.ndarray:
    """MATLAB imgaussfilt's kernel: size 2*ceil(2*sigma)+1, normalised to sum 1."""
    radius = math.ceil(2 * sigma)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-(x**2) / (2 * sigma**2))
    return kernel / kernel.sum()


@lru_cache(maxsize=8)
def replicate_filter_matrix(size: int, sigma: float) -> np.ndarray:
    """The 1-D Gaussian filter with replicate padding as a (size x size) matrix, so that filtering a
    sparse grid is a product with the few columns that hold weight (exact, and fast)."""
    kernel = gaussian_kernel(sigma)
    radius = len(kernel) // 2
    matrix = np.zeros((size, size))
    rows = np.arange(size)
    for offset, value in zip(range(-radius, radius + 1), kernel):
        np.add.at(matrix, (rows, np.clip(rows + offset, 0, size - 1)), value)
    return matrix


def _smoothed_grid(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, shape, sigma: float) -> np.ndarray:
    """imgaussfilt(G, sigma) with replicate padding, for a grid G that is zero but at (rows, cols)."""
    along_rows = replicate_filter_matrix(shape[0], sigma)
    along_cols = replicate_filter_matrix(shape[1], sigma)
    return (along_rows[:, rows] * weights) @ along_cols[:, cols].T


def _first_max_column_major(grid: np.ndarray) -> tuple[int, int]:
    """0-based (row, col) of MATLAB's max(G(:)): the first maximum in column-major order."""
    flat = int(np.argmax(grid.T))
    return flat % grid.shape[0], flat // grid.shape[0]


def paper_location(lat, lon, squared_distances) -> tuple[float, float]:
    """The authors' predict_gps.m: weights 1/d^10 on a 1-degree grid smoothed with sigma 4 cells,
    then a 0.1-degree grid within 20 degrees of that maximum smoothed with sigma 40 cells, then a
    snap to the first neighbour (rank order) within 100 km. Indices below are MATLAB's, 1-based.

    The fine pass smooths only the 401 x 401 window, with replicate padding at its edges.
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    d = np.maximum(np.asarray(squared_distances, dtype=np.float64), MIN_SQUARED_DISTANCE)
    weights = (d.min() / d) ** 10  # 1/d^10 up to a constant factor, which no maximum depends on

    row = np.ceil(lat) + 90
    col = np.ceil(lon) + 180
    inside = (row >= 1) & (row <= 180) & (col >= 1) & (col <= 360)
    coarse = _smoothed_grid(row[inside].astype(int) - 1, col[inside].astype(int) - 1, weights[inside], (180, 360), 4)
    r0, c0 = _first_max_column_major(coarse)
    r1 = min(max(r0 + 1, 21), 159)
    c1 = min(max(c0 + 1, 21), 339)

    fine_row = np.ceil(lat * 10) + 900
    fine_col = np.ceil(lon * 10) + 1800
    top, left = r1 * 10 - 200, c1 * 10 - 200
    in_window = (fine_row >= top) & (fine_row <= top + 400) & (fine_col >= left) & (fine_col <= left + 400)
    fine = _smoothed_grid((fine_row[in_window] - top).astype(int), (fine_col[in_window] - left).astype(int),
                          weights[in_window], (401, 401), 40)
    fr, fc = _first_max_column_major(fine)
    pred_lat, pred_lon = (fr + top - 900) / 10.0, (fc + left - 1800) / 10.0

    near = np.flatnonzero(haversine_km(pred_lat, pred_lon, lat, lon) <= PAPER_SNAP_KM)
    if near.size:
        return float(lat[near[0]]), float(lon[near[0]])
    return float(pred_lat), float(pred_lon)


# -- the spherical kernel density ------------------------------------------------------------------

def similarity_weights(similarities, temperature: float = DEFAULT_TEMPERATURE) -> np.ndarray:
    """Softmax of cosine similarities (normalised to sum 1): exp((s - s_max) / temperature)."""
    s = np.asarray(similarities, dtype=np.float64)
    w = np.exp((s - s.max()) / temperature)
    return w / w.sum()


def concentration(bandwidth_km: float) -> float:
    """von Mises-Fisher kappa whose kernel has a standard deviation of bandwidth_km on the ground."""
    return (EARTH_RADIUS_KM / bandwidth_km) ** 2


def _log_kernels(points: np.ndarray, centres: np.ndarray, kappa: float) -> np.ndarray:
    """log of exp(kappa (mu.x - 1)) for every (point, centre): the unnormalised vMF kernel."""
    return kappa * (points @ centres.T - 1.0)


def sphere_mode(lat, lon, weights, bandwidth_km: float = DEFAULT_BANDWIDTH_KM,
                max_iterations: int = 100) -> tuple[float, float]:
    """The highest mode of a weighted vMF kernel density on the sphere, at full precision.

    Mean shift on the sphere (x <- normalise(sum w_j K_j(x) mu_j)) started from every neighbour
    converges to the modes; the one of highest density wins. No grid, no seams: the antimeridian and
    the poles are ordinary points on the sphere.
    """
    centres = to_unit_vectors(lat, lon)
    weights = np.asarray(weights, dtype=np.float64)
    kappa = concentration(bandwidth_km)
    # A mode holding only neighbours lighter than max/k has density below max <= the top neighbour's
    # own, so starting from the others is enough to find the highest mode.
    points = centres[weights >= weights.max() / len(weights)]
    active = np.arange(len(points))
    for _ in range(max_iterations):
        current = points[active]
        shifted = (np.exp(_log_kernels(current, centres, kappa)) * weights) @ centres
        norms = np.linalg.norm(shifted, axis=1, keepdims=True)
        shifted = np.where(norms > 0, shifted / np.maximum(norms, 1e-300), current)
        moved = np.max(np.abs(shifted - current), axis=1)
        points[active] = shifted
        active = active[moved >= 1e-10]  # converged points stop moving (1e-10 rad is under a millimetre)
        if active.size == 0:
            break
    density = (np.exp(_log_kernels(points, centres, kappa)) * weights).sum(axis=1)
    best = points[int(np.argmax(density))]
    mode_lat, mode_lon = to_lat_lon(best)
    return float(mode_lat), float(mode_lon)


def cascade_location(lat, lon, weights, bandwidth_km: float = DEFAULT_BANDWIDTH_KM) -> tuple[float, float]:
    """Continent, region, then a photo: the KDE's mode with the wide kernel, the mode with a narrower
    one among the neighbours within reach of it, then (as the paper) a snap to a neighbour within
    PAPER_SNAP_KM, but to the best-supported one rather than the first in rank: the neighbour with
    the most weight around it, which is where a street- or city-level match, if any, lies."""
    coarse = sphere_mode(lat, lon, weights, bandwidth_km)
    regional = np.where(haversine_km(*coarse, lat, lon) <= CASCADE_REACH * bandwidth_km, weights, 0.0)
    fine = sphere_mode(lat, lon, regional / regional.sum(), CASCADE_FINE_FRACTION * bandwidth_km) \
        if regional.sum() > 0 else coarse
    near = np.flatnonzero(haversine_km(*fine, lat, lon) <= PAPER_SNAP_KM)
    if near.size == 0:
        return fine
    gaps = haversine_km(lat[near, None], lon[near, None], lat[None, near], lon[None, near])
    support = np.exp(-0.5 * (gaps / SNAP_SUPPORT_KM) ** 2) @ weights[near]
    best = near[int(np.argmax(support))]
    return float(lat[best]), float(lon[best])


def mass_within(lat0: float, lon0: float, lat, lon, weights, bandwidth_km: float, radii_km) -> np.ndarray:
    """Share of the kernel density's mass within each radius of (lat0, lon0).

    Each kernel is taken as an isotropic Gaussian of sd bandwidth_km on the tangent plane, so the mass
    of one kernel at distance d inside radius r is the noncentral chi-square CDF (Rice distribution).
    """
    d = haversine_km(lat0, lon0, lat, lon) / bandwidth_km
    r = np.asarray(radii_km, dtype=np.float64) / bandwidth_km
    return np.asarray(weights) @ chndtr(r[None, :] ** 2, 2, d[:, None] ** 2)


def uncertainty(lat0: float, lon0: float, lat, lon, weights, bandwidth_km: float) -> tuple[float, float, float]:
    """(confidence, radius50_km, radius90_km) around a predicted point.

    confidence: the share of the (normalised) neighbour weights within CONFIDENCE_RADIUS_KM (uncalibrated).
    radii: where the density's mass around the point reaches 50% / 90%, found by bisection on a log
    scale (the mass grows with the radius), to 0.1% precision.
    """
    weights = np.asarray(weights, dtype=np.float64)
    distances = haversine_km(lat0, lon0, lat, lon)
    confidence = float(np.clip(weights[distances <= CONFIDENCE_RADIUS_KM].sum(), 0.0, 1.0))
    keep = weights > weights.max() * 1e-9  # kernels that cannot move the radii
    levels = np.array([0.5, 0.9]) * weights[keep].sum()
    low = np.full(2, math.log(0.01))
    high = np.full(2, math.log(math.pi * EARTH_RADIUS_KM))
    while np.max(high - low) > 1e-3:
        middle = (low + high) / 2
        below = mass_within(lat0, lon0, lat[keep], lon[keep], weights[keep], bandwidth_km, np.exp(middle)) < levels
        low = np.where(below, middle, low)
        high = np.where(below, high, middle)
    r50, r90 = np.exp(high)
    return confidence, float(r50), float(r90)


@dataclass(frozen=True)
class DensityGrid:
    """Probability density per km^2 on a lat/lon grid (EPSG:4326), north-up, cell centres at
    west + (j + 0.5) * resolution, north - (i + 0.5) * resolution. GDAL geotransform included."""

    values: np.ndarray  # float32 (rows, cols)
    west: float
    north: float
    resolution: float

    @property
    def geotransform(self) -> tuple[float, float, float, float, float, float]:
        return (self.west, self.resolution, 0.0, self.north, 0.0, -self.resolution)


def density_grid(lat, lon, weights, bandwidth_km: float, extent: tuple[float, float, float, float],
                 resolution_deg: float, max_cells: int = 4_000_000) -> DensityGrid:
    """Evaluate the normalised vMF mixture over extent (west, south, east, north) in degrees."""
    west, south, east, north = extent
    south, north = max(south, -90.0), min(north, 90.0)
    # whole cells over the extent, but none past the poles (a south edge at -90.03) nor, for an extent asked
    # within -180..180, past the antimeridian (an extent unwrapped across it, 170..190, is kept as asked)
    cols = int(math.ceil((east - west) / resolution_deg - 1e-9))
    if -180.0 <= west and east <= 180.0:
        cols = min(cols, int(math.floor((180.0 - west) / resolution_deg + 1e-9)))
    rows = min(int(math.ceil((north - south) / resolution_deg - 1e-9)),
               int(math.floor((north + 90.0) / resolution_deg + 1e-9)))
    cols, rows = max(1, cols), max(1, rows)
    if rows * cols > max_cells:
        raise OptionError(f"a density raster of {rows} x {cols} cells is too large; use a coarser resolution")
    centre_lat = north - (np.arange(rows) + 0.5) * resolution_deg
    centre_lon = west + (np.arange(cols) + 0.5) * resolution_deg
    centres = to_unit_vectors(lat, lon)
    kappa = concentration(bandwidth_km)
    # vMF normalisation kappa / (2 pi (1 - exp(-2 kappa))) per steradian, / R^2 per km^2
    norm = kappa / (2 * math.pi * -math.expm1(-2 * kappa)) / EARTH_RADIUS_KM**2
    weights = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    values = np.empty((rows, cols), dtype=np.float32)
    lon_grid = np.broadcast_to(centre_lon, (1, cols))
    for start in range(0, rows, 64):
        lat_block = centre_lat[start:start + 64, None]
        points = to_unit_vectors(np.broadcast_to(lat_block, (lat_block.shape[0], cols)),
                                 np.broadcast_to(lon_grid, (lat_block.shape[0], cols))).reshape(-1, 3)
        block = np.exp(_log_kernels(points, centres, kappa)) @ weights * norm
        values[start:start + lat_block.shape[0]] = block.reshape(lat_block.shape[0], cols)
    return DensityGrid(values, west, north, resolution_deg)
