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
from .defaults import AUTO_DENSITY_RESOLUTION, DEFAULT_BANDWIDTH_KM, DEFAULT_TEMPERATURE
from .errors import OptionError
from .geo import EARTH_RADIUS_KM, haversine_km, to_lat_lon, to_unit_vectors
from .progress import StopCheck, check_stop

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
    points = _mean_shift(centres[weights >= weights.max() / len(weights)], centres, weights, kappa, max_iterations)
    density = (np.exp(_log_kernels(points, centres, kappa)) * weights).sum(axis=1)
    best = points[int(np.argmax(density))]
    mode_lat, mode_lon = to_lat_lon(best)
    return float(mode_lat), float(mode_lon)


def _mean_shift(points: np.ndarray, centres: np.ndarray, weights: np.ndarray, kappa: float,
                max_iterations: int) -> np.ndarray:
    """Mean shift on the sphere, x <- normalise(sum w_j K_j(x) mu_j), from each of `points` (changed in place)
    until it stops moving: each ends on the mode whose basin it started in."""
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
    return points


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


DENSITY_FLOOR = 1e-4  # a cell below this share of its photo's peak density holds no mass worth storing (0)
DENSITY_MAX_CELLS = 16_000_000  # one photo's grid in memory (64 MB); a window needing more is coarsened, and says so
LATTICE_STEPS_PER_BANDWIDTH = 8  # the auto resolution: the finest detail a kernel has, as a share of the bandwidth
INTERPOLATION_STEPS_PER_BANDWIDTH = 6  # a lattice this fine, cubic-interpolated, adds no visible error: on
# bench/locate.py's photos the density departs from the exact one by 1.1e-4 of the peak, as cell by cell (the floor);
# a fifth of the bandwidth gives 1.8e-4, a quarter 4.4e-4
MODE_COUNT = 5  # alternatives per photo, the prediction included
KERNEL_GROUP = 64  # kernels whose per-row and per-column terms are held at once (64 x 36,000 columns: 18 MB)
INTERPOLATION_BLOCK = 64  # cells interpolated together: small products, which a threaded BLAS (OpenBLAS: under
# 2.6e5 multiply-adds) keeps on the calling thread; its threads, woken, would spin on the cores other photos use


@dataclass(frozen=True)
class DensityGrid:
    """Probability density per km^2 on a lat/lon grid (EPSG:4326), north-up, cell centres at
    west + (j + 0.5) * resolution, north - (i + 0.5) * resolution. GDAL geotransform included.
    A photo's grid covers the window where its density holds mass (photo_density); one across the
    antimeridian runs past 180 (its writer splits it there). `requested_resolution`: the resolution
    asked, where a memory cap made the grid coarser (never silently); `resolution_source`: how the
    resolution was chosen (density_resolution_source)."""

    values: np.ndarray  # float32 (rows, cols)
    west: float
    north: float
    resolution: float
    requested_resolution: float | None = None
    resolution_source: str = ""

    @property
    def geotransform(self) -> tuple[float, float, float, float, float, float]:
        return (self.west, self.resolution, 0.0, self.north, 0.0, -self.resolution)

    @property
    def note(self) -> str:
        """Why the grid is coarser than asked ("" when it is not)."""
        return coarsening_note(self.requested_resolution, self.resolution)


def density_resolution(resolution_deg: float, bandwidth_km: float) -> float:
    """The cells' size in degrees: resolution_deg as asked, or for AUTO_DENSITY_RESOLUTION the finest detail
    a kernel of bandwidth_km has, bandwidth / LATTICE_STEPS_PER_BANDWIDTH, rounded down to a 1-2-5 step
    (..., 0.1, 0.2, 0.5, 1, ...: whole cells go round the Earth) and at most 10 degrees. Drawn with bilinear
    resampling, such a grid stays within a few thousandths of the peak of the same density at 0.1 degrees
    (bench/locate.py --density prints by how much)."""
    if resolution_deg != AUTO_DENSITY_RESOLUTION:
        return resolution_deg
    detail = math.degrees(bandwidth_km / EARTH_RADIUS_KM) / LATTICE_STEPS_PER_BANDWIDTH
    decade = 10.0 ** math.floor(math.log10(detail))
    step = max(m for m in (1, 2, 5) if m * decade <= detail * (1 + 1e-9)) * decade
    return min(float(f"{step:.1g}"), 10.0)


def density_resolution_source(resolution_deg: float, bandwidth_km: float) -> str:
    """How density_resolution chose the cells' size, for a raster's metadata and a layer's description."""
    if resolution_deg != AUTO_DENSITY_RESOLUTION:
        return f"as asked: {resolution_deg:g} degrees"
    detail = math.degrees(bandwidth_km / EARTH_RADIUS_KM) / LATTICE_STEPS_PER_BANDWIDTH
    return (f"auto: the bandwidth ({bandwidth_km:g} km) / {LATTICE_STEPS_PER_BANDWIDTH} = {detail:.3g} degrees, "
            f"rounded down to {density_resolution(resolution_deg, bandwidth_km):g} degrees (a 1-2-5 step)")


def coarsening_note(requested: float | None, resolution: float) -> str:
    """What a result and its raster say when a memory cap made the density coarser than asked."""
    if requested is None or resolution <= requested * (1 + 1e-9):
        return ""
    return (f"density at {resolution:.4g} degrees instead of the {requested:.4g} asked, to stay within memory "
            f"(at most {DENSITY_MAX_CELLS:,} cells per photo)")


def _mixture(centre_lat: np.ndarray, centre_lon: np.ndarray, centres: np.ndarray, weights: np.ndarray,
             kappa: float, norm: float) -> np.ndarray:
    """The normalised vMF mixture at every (centre_lat[i], centre_lon[j]), in blocks of rows."""
    rows, cols = len(centre_lat), len(centre_lon)
    values = np.empty((rows, cols), dtype=np.float32)
    step = max(1, 262_144 // max(cols, 1))
    for start in range(0, rows, step):
        lat_block = centre_lat[start:start + step, None]
        shape = (lat_block.shape[0], cols)
        points = to_unit_vectors(np.broadcast_to(lat_block, shape), np.broadcast_to(centre_lon, shape)).reshape(-1, 3)
        block = np.exp(_log_kernels(points, centres, kappa)) @ weights * norm
        values[start:start + shape[0]] = block.reshape(shape)
    return values


def _vmf_norm(kappa: float) -> float:
    """vMF normalisation kappa / (2 pi (1 - exp(-2 kappa))) per steradian, / R^2 per km^2."""
    return kappa / (2 * math.pi * -math.expm1(-2 * kappa)) / EARTH_RADIUS_KM**2


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
    kappa = concentration(bandwidth_km)
    weights = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    values = _mixture(centre_lat, centre_lon, to_unit_vectors(lat, lon), weights, kappa, _vmf_norm(kappa))
    return DensityGrid(values, west, north, resolution_deg)


# -- the window where a photo's density holds mass ---------------------------------------------------

@dataclass(frozen=True)
class MassWindow:
    """Where a kernel mixture exceeds DENSITY_FLOOR of its peak: latitudes south..north, longitudes
    west..east with west in [-180, 180) and east < west + 360 (a window across the antimeridian runs past
    180); a window around a pole, or all round the Earth, spans -180..180."""

    west: float
    south: float
    east: float
    north: float

    @property
    def all_longitudes(self) -> bool:
        return self.east - self.west >= 360.0 - 1e-9


def covering_arc(starts, widths) -> tuple[float, float] | None:
    """The shortest arc (west, east), west in [-180, 180) and east < west + 360, holding every longitude
    interval [start, start + width] (each under 360 degrees wide); None when together they go all round."""
    starts = (np.asarray(starts, dtype=np.float64) + 180.0) % 360.0 - 180.0
    widths = np.asarray(widths, dtype=np.float64)
    merged: list[list[float]] = []  # disjoint [start, end], by start
    for start, width in sorted(zip(starts.tolist(), widths.tolist())):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], start + width)
        else:
            merged.append([start, start + width])
    while len(merged) > 1 and merged[-1][1] - 360.0 >= merged[0][0]:  # the last one runs on past -180
        first = merged.pop(0)
        merged[-1][1] = max(merged[-1][1], first[1] + 360.0)
    if len(merged) == 1 and merged[0][1] - merged[0][0] >= 360.0:
        return None
    gaps = [merged[(i + 1) % len(merged)][0] + (360.0 if i == len(merged) - 1 else 0.0) - merged[i][1]
            for i in range(len(merged))]
    widest = int(np.argmax(gaps))  # the arc is everything but the widest gap
    if widest == len(merged) - 1:
        west, east = merged[0][0], merged[-1][1]
    else:
        west, east = merged[widest + 1][0], merged[widest][1] + 360.0
    shift = 360.0 * math.floor((west + 180.0) / 360.0)
    return west - shift, east - shift


@dataclass(frozen=True)
class KernelReach:
    """The kernels that can hold a cell above DENSITY_FLOOR of the peak, each with its angular radius
    (degrees) beyond which it adds less than DENSITY_FLOOR / count of the peak."""

    lat: np.ndarray
    lon: np.ndarray
    weights: np.ndarray
    radius_deg: np.ndarray

    @property
    def polar(self) -> np.ndarray:
        return (self.lat + self.radius_deg >= 90.0) | (self.lat - self.radius_deg <= -90.0)

    @property
    def half_width_deg(self) -> np.ndarray:
        """Each kernel's longitude half-width (180 for one around a pole)."""
        ratio = np.sin(np.radians(self.radius_deg)) / np.maximum(np.cos(np.radians(self.lat)), 1e-12)
        return np.where(self.polar, 180.0, np.degrees(np.arcsin(np.clip(ratio, 0.0, 1.0))))


def kernel_reach(lat, lon, weights, bandwidth_km: float) -> KernelReach:
    """The mixture's peak is at least its highest value at a neighbour; a kernel weaker than the floor's
    share of it (over the number of kernels) can lift no cell above the floor, and the others only within
    their radius, so that what is left out stays under DENSITY_FLOOR of the peak everywhere."""
    lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    centres = to_unit_vectors(lat, lon)
    kappa = concentration(bandwidth_km)
    # elementwise, not BLAS: a threaded BLAS's threads would spin on the cores the photos' densities use
    cos_between = np.einsum("ik,jk->ij", centres, centres)
    peak = float((np.exp(kappa * (cos_between - 1.0)) * weights).sum(axis=1).max())
    threshold = DENSITY_FLOOR * peak / len(weights)
    strong = weights > threshold
    cos_radius = 1.0 + np.log(threshold / weights[strong]) / kappa
    radius = np.degrees(np.arccos(np.clip(cos_radius, -1.0, 1.0)))
    return KernelReach(lat[strong], lon[strong], weights[strong], radius)


def mass_window(reach: KernelReach) -> MassWindow:
    """The lat/lon box holding every kernel's reach: the smallest longitude arc, across the antimeridian
    where that is shorter, all longitudes where a kernel reaches a pole."""
    south = max(-90.0, float((reach.lat - reach.radius_deg).min()))
    north = min(90.0, float((reach.lat + reach.radius_deg).max()))
    half = reach.half_width_deg
    arc = None if reach.polar.any() else covering_arc(reach.lon - half, 2 * half)
    west, east = arc if arc is not None else (-180.0, 180.0)
    return MassWindow(west, south, east, north)


def wraps_evenly(resolution_deg: float) -> bool:
    """Whether whole cells go round the Earth (a window may then cross the antimeridian)."""
    turns = 360.0 / resolution_deg
    return abs(turns - round(turns)) < 1e-6


@dataclass(frozen=True)
class WindowCells:
    """A window on the world's grid of `resolution` (cell edges at -180 + j r, 90 - i r): its top-left
    cell (`top`, `left`) and size. `left + cols` may pass the world's column count (across the antimeridian)."""

    top: int
    left: int
    rows: int
    cols: int
    resolution: float

    @property
    def west(self) -> float:
        return -180.0 + self.left * self.resolution

    @property
    def north(self) -> float:
        return 90.0 - self.top * self.resolution

    @property
    def world_cols(self) -> int:
        return int(math.floor(360.0 / self.resolution + 1e-9))

    @property
    def cells(self) -> int:
        return self.rows * self.cols


def window_cells(window: MassWindow, resolution: float) -> WindowCells:
    """The whole cells of the world's grid that cover the window, none past a pole nor past the
    antimeridian unless whole cells go round (wraps_evenly)."""
    world_rows, world_cols = int(math.floor(180.0 / resolution + 1e-9)), int(math.floor(360.0 / resolution + 1e-9))
    top = min(max(int(math.floor((90.0 - window.north) / resolution + 1e-9)), 0), world_rows - 1)
    bottom = min(max(int(math.ceil((90.0 - window.south) / resolution - 1e-9)), top + 1), world_rows)
    left = int(math.floor((window.west + 180.0) / resolution + 1e-9))
    right = max(int(math.ceil((window.east + 180.0) / resolution - 1e-9)), left + 1)
    if window.all_longitudes or right - left >= world_cols or (right > world_cols and not wraps_evenly(resolution)):
        left, right = 0, world_cols
    return WindowCells(top, max(left, 0), bottom - top, right - max(left, 0), resolution)


def window_resolution(window: MassWindow, resolution_deg: float, max_cells: int) -> float:
    """resolution_deg, or where the window would need more than max_cells cells the finest that fits."""
    resolution = resolution_deg
    while window_cells(window, resolution).cells > max_cells:
        scale = math.sqrt(window_cells(window, resolution).cells / max_cells)
        resolution *= max(scale, 1.01)
    return resolution


def _column_runs(start: np.ndarray, width: np.ndarray, first_lon: float, step: float,
                 cols: int) -> tuple[np.ndarray, np.ndarray]:
    """For each interval start..start + width of longitudes, the columns [first, last) of a grid with column
    centres at first_lon + c step that lie in it, the Earth going round (a grid or a kernel across the
    antimeridian): three runs each (shifted by -360, 0, +360 degrees; an empty one has last <= first), as
    two (3, intervals) arrays. An interval all round the Earth covers every column once."""
    shifts = np.array([-360.0, 0.0, 360.0])[:, None]
    first = np.ceil((start + shifts - first_lon) / step).clip(0, None).astype(int)
    last = (np.floor((start + shifts + width - first_lon) / step) + 1).clip(None, cols).astype(int)
    around = width >= 360.0 - 1e-9
    first[:, around], last[:, around] = [[0], [0], [0]], [[0], [cols], [0]]
    return first, last


def _kernels_on_grid(reach: KernelReach, first_lat: float, first_lon: float, step: float, rows: int, cols: int,
                     kappa: float, norm: float, should_stop: StopCheck | None) -> np.ndarray:
    """The mixture at the points first_lat - i step, first_lon + j step (i < rows, j < cols), each kernel
    evaluated over the points within its reach only: the work follows the area holding mass, not the box.

    A kernel's log is kappa (mu.x - 1) = kappa (cos(lat - lat_j) - 1) - kappa cos(lat) cos(lat_j) (1 - cos(dlon)):
    a term per row (the weight's log folded in), a factor per row and a gap per column, each computed once
    for every kernel (in float64, from the rows' and columns' sines and cosines), so each point costs a
    multiply, an add and an exp in float32. No term is large where the kernel holds mass, so float32 keeps
    each value to about 1e-6 of itself (tests/engine/test_density_fast.py checks it against density_grid)."""
    values = np.zeros((rows, cols), dtype=np.float32)
    lat = np.radians(first_lat - np.arange(rows) * step)
    lon = np.radians(first_lon + np.arange(cols) * step)
    sin_lat, cos_lat, sin_lon, cos_lon = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    first_rows = np.ceil((first_lat - reach.lat - reach.radius_deg) / step).clip(0, None).astype(int)
    last_rows = (np.floor((first_lat - reach.lat + reach.radius_deg) / step) + 1).clip(None, rows).astype(int)
    first_cols, last_cols = _column_runs(reach.lon - reach.half_width_deg, 2 * reach.half_width_deg, first_lon,
                                         step, cols)
    block_cells = (last_rows - first_rows).clip(0, None) * (last_cols - first_cols).clip(0, None).max(axis=0)
    scratch = np.empty(int(block_cells.max(initial=0)), dtype=np.float32)  # the largest kernel's block
    runs = [[(c0, c1) for c0, c1 in zip(firsts, lasts) if c1 > c0]
            for firsts, lasts in zip(first_cols.T.tolist(), last_cols.T.tolist())]
    for start in range(0, len(runs), KERNEL_GROUP):  # the terms of a group of kernels at a time (memory)
        group = slice(start, start + KERNEL_GROUP)
        kernel_lat, kernel_lon = np.radians(reach.lat[group])[:, None], np.radians(reach.lon[group])[:, None]
        along = (np.log(reach.weights[group] * norm)[:, None] + kappa * (
            sin_lat * np.sin(kernel_lat) + cos_lat * np.cos(kernel_lat) - 1.0)).astype(np.float32)
        across = (-kappa * cos_lat * np.cos(kernel_lat)).astype(np.float32)
        gap = (1.0 - cos_lon * np.cos(kernel_lon) - sin_lon * np.sin(kernel_lon)).astype(np.float32)
        for j, r0, r1 in zip(range(len(along)), first_rows[group].tolist(), last_rows[group].tolist()):
            check_stop(should_stop)
            if r1 <= r0:
                continue
            for c0, c1 in runs[start + j]:
                block = scratch[:(r1 - r0) * (c1 - c0)].reshape(r1 - r0, c1 - c0)
                np.multiply(across[j, r0:r1, None], gap[j, None, c0:c1], out=block)
                block += along[j, r0:r1, None]
                values[r0:r1, c0:c1] += np.exp(block, out=block)
    return values


def _cubic_blocks(first_node: float, step: float, nodes: int, points: np.ndarray) -> list[tuple[slice, np.ndarray]]:
    """Cubic (4-point Lagrange) interpolation from values at first_node + i step to `points`, for each block
    of INTERPOLATION_BLOCK points: the nodes it reads and a (points x those nodes) matrix with four non-zero
    weights per row, so that interpolating a block is a small matrix product."""
    position = (points - first_node) / step
    index = np.clip(np.floor(position).astype(int), 1, nodes - 3)
    t = (position - index).astype(np.float32)
    taps = [(index - 1, -t * (t - 1) * (t - 2) / 6), (index, (t + 1) * (t - 1) * (t - 2) / 2),
            (index + 1, -(t + 1) * t * (t - 2) / 2), (index + 2, (t + 1) * t * (t - 1) / 6)]
    matrix = np.zeros((len(points), nodes), dtype=np.float32)
    for node, weight in taps:
        matrix[np.arange(len(points)), node] = weight
    starts = np.arange(0, len(points), INTERPOLATION_BLOCK)
    firsts, lasts = np.minimum.reduceat(index, starts) - 1, np.maximum.reduceat(index, starts) + 3
    return [(slice(first, last), matrix[start:start + INTERPOLATION_BLOCK, first:last])
            for start, first, last in zip(starts.tolist(), firsts.tolist(), lasts.tolist())]


def _interpolated_on_window(reach: KernelReach, cells: WindowCells, kappa: float, norm: float, step: float,
                            should_stop: StopCheck | None) -> np.ndarray:
    """The mixture evaluated exactly on a lattice of `step` degrees (a fraction of the bandwidth, coarser
    than the cells: `interpolates` chooses where) around the window, then cubic-interpolated to every cell,
    a block of cells at a time as two small matrix products (rows' weights x lattice x columns' weights):
    the density is as smooth as its kernel, so the error stays far under DENSITY_FLOOR of the peak
    (tests/engine/test_density_windows.py, test_density_fast.py)."""
    centre_lat = cells.north - (np.arange(cells.rows) + 0.5) * cells.resolution
    centre_lon = cells.west + (np.arange(cells.cols) + 0.5) * cells.resolution
    lat_nodes = int(math.ceil((centre_lat[0] - centre_lat[-1]) / step)) + 5
    lon_nodes = int(math.ceil((centre_lon[-1] - centre_lon[0]) / step)) + 5
    top_lat, first_lon = centre_lat[0] + 2 * step, centre_lon[0] - 2 * step
    lattice = _kernels_on_grid(reach, top_lat, first_lon, step, lat_nodes, lon_nodes, kappa, norm, should_stop)
    column_blocks = _cubic_blocks(first_lon, step, lon_nodes, centre_lon)
    # a block of cells whose lattice nodes all lie under half the floor stays 0: its cubic weights (at most
    # 1.25 in sum per axis) keep it under 0.8 of the floor, where photo_density would floor it anyway
    faint = DENSITY_FLOOR * float(lattice.max()) / 2
    values = np.zeros((cells.rows, cells.cols), dtype=np.float32)
    for r0, (rows_used, by_rows) in zip(range(0, cells.rows, INTERPOLATION_BLOCK),
                                        _cubic_blocks(top_lat, -step, lat_nodes, centre_lat)):
        check_stop(should_stop)
        for c0, (cols_used, by_columns) in zip(range(0, cells.cols, INTERPOLATION_BLOCK), column_blocks):
            nodes = lattice[rows_used, cols_used]
            if nodes.max() < faint:
                continue
            np.matmul(by_rows @ nodes, by_columns.T, out=values[r0:r0 + len(by_rows), c0:c0 + len(by_columns)])
    return np.maximum(values, 0.0, out=values)


def _box_cells(reach: KernelReach, step: float) -> float:
    """How many points of a grid of `step` the kernels' reaches (as _kernels_on_grid takes them) hold in all."""
    columns = np.minimum(2 * reach.half_width_deg / step + 1, 360.0 / step)
    return float(((2 * reach.radius_deg / step + 1) * columns).sum())


def interpolates(reach: KernelReach, cells: WindowCells, step: float) -> bool:
    """Whether the kernels are cheaper evaluated on a lattice of `step` and interpolated to every cell of the
    window (each cell costing about one kernel evaluation) than cell by cell over their reaches: where the
    lattice is coarser than the cells and the window is not mostly empty (narrow kernels far apart)."""
    return (step >= 1.25 * cells.resolution
            and _box_cells(reach, step) + cells.cells < _box_cells(reach, cells.resolution))


def photo_density(lat, lon, weights, bandwidth_km: float, resolution_deg: float,
                  max_cells: int = DENSITY_MAX_CELLS, should_stop: StopCheck | None = None) -> DensityGrid:
    """A photo's density (per km^2) over the window where it holds mass (mass_window), on the world's grid
    at resolution_deg (AUTO_DENSITY_RESOLUTION: density_resolution chooses): cells under DENSITY_FLOOR of
    the peak are 0, and a window that would need more than max_cells cells is computed coarser, which the
    grid's `note` says."""
    source = density_resolution_source(resolution_deg, bandwidth_km)
    resolution_deg = density_resolution(resolution_deg, bandwidth_km)
    reach = kernel_reach(lat, lon, weights, bandwidth_km)
    window = mass_window(reach)
    cells = window_cells(window, window_resolution(window, resolution_deg, max_cells))
    kappa = concentration(bandwidth_km)
    norm = _vmf_norm(kappa)
    step = math.degrees(bandwidth_km / EARTH_RADIUS_KM) / INTERPOLATION_STEPS_PER_BANDWIDTH
    if interpolates(reach, cells, step):
        values = _interpolated_on_window(reach, cells, kappa, norm, step, should_stop)
    else:
        values = _kernels_on_grid(reach, cells.north - cells.resolution / 2, cells.west + cells.resolution / 2,
                                  cells.resolution, cells.rows, cells.cols, kappa, norm, should_stop)
    values *= values >= DENSITY_FLOOR * values.max()  # in place, faster than a masked assignment
    asked = resolution_deg if cells.resolution > resolution_deg * (1 + 1e-9) else None
    return DensityGrid(values, cells.west, cells.north, cells.resolution, asked, source)


# -- the density's separate modes (alternatives) --------------------------------------------------------

def density_modes(lat, lon, weights, bandwidth_km: float, start: tuple[float, float] | None = None,
                  max_iterations: int = 100) -> list[tuple[float, float, float]]:
    """The mixture's separate modes as (lat, lon, mass), heaviest first; with `start`, the mode whose basin
    holds that point first (mass 0 where no neighbour's basin does). Mean shift from every neighbour climbs
    to the mode whose basin holds it; shifts that end within a bandwidth of a denser one join it (modes
    closer than the kernel are one place). A mode's mass is the weight of the neighbours that climb to it:
    the share of the density in its basin."""
    centres = to_unit_vectors(lat, lon)
    weights = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    kappa = concentration(bandwidth_km)
    points = _mean_shift(centres.copy(), centres, weights, kappa, max_iterations)
    density = (np.exp(_log_kernels(points, centres, kappa)) * weights).sum(axis=1)
    merge_cos = math.cos(bandwidth_km / EARTH_RADIUS_KM)
    modes: list[np.ndarray] = []
    mass: list[float] = []
    for i in np.argsort(-density, kind="stable"):
        near = [m for m, point in enumerate(modes) if point @ points[i] >= merge_cos]
        if near:
            mass[near[0]] += weights[i]
        else:
            modes.append(points[i])
            mass.append(float(weights[i]))
    order = sorted(range(len(modes)), key=lambda m: -mass[m])
    if start is not None:
        top = _mean_shift(to_unit_vectors(*start)[None, :], centres, weights, kappa, max_iterations)[0]
        closeness = [modes[m] @ top for m in range(len(modes))]
        own = int(np.argmax(closeness))
        first = [own] if closeness[own] >= merge_cos else []
        order = first + [m for m in order if m not in first]
        if not first:
            return [(*start, 0.0)] + [(*map(float, to_lat_lon(modes[m])), mass[m]) for m in order]
    return [(*map(float, to_lat_lon(modes[m])), mass[m]) for m in order]
