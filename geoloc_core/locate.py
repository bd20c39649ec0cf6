"""Locating photos: embed, search the k nearest references, estimate the location."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .database import EmbedderMismatchError, ReferenceDatabase
from .defaults import (
    DEFAULT_BANDWIDTH_KM,
    DEFAULT_DENSITY_RESOLUTION_DEG,
    DEFAULT_ESTIMATOR,
    DEFAULT_K,
    DEFAULT_TEMPERATURE,
    ESTIMATORS,
)
from .embedders import Embedder, embedder_for
from .errors import OptionError
from .estimators import density_grid, estimate
from .feature_space import FeatureSpace, space_of
from .files import PhotoError
from .geo import EARTH_RADIUS_KM
from .options import check
from .progress import Cancelled, ProgressCallback, StopCheck, check_stop, report
from .results import LocationResult, Neighbour
from .sources import Skipped

AUTO_DENSITY_MAX_CELLS = 1_000_000


@dataclass(frozen=True)
class DensityOptions:
    """The density raster: around each prediction (extent None: 3 x the 90% radius, at least
    5 degrees across, resolution coarsened where it would need over a million cells) or over a
    fixed (west, south, east, north) extent; resolution in degrees."""

    resolution_deg: float = DEFAULT_DENSITY_RESOLUTION_DEG
    extent: tuple[float, float, float, float] | None = None

    def __post_init__(self):
        check("density_resolution_deg", self.resolution_deg)
        if self.extent is not None:
            west, south, east, north = self.extent
            if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
                raise OptionError(f"density extent {self.extent} is not (west, south, east, north) within "
                                  "-180..180 and -90..90")


@dataclass(frozen=True)
class LocateOptions:
    k: int = DEFAULT_K
    estimator: str = DEFAULT_ESTIMATOR
    bandwidth_km: float = DEFAULT_BANDWIDTH_KM
    temperature: float = DEFAULT_TEMPERATURE
    density: DensityOptions | None = None

    def __post_init__(self):
        if self.estimator not in ESTIMATORS:
            raise OptionError(f"unknown estimator '{self.estimator}'; choose one of {', '.join(ESTIMATORS)}")
        check("k", self.k)
        check("bandwidth_km", self.bandwidth_km)
        check("temperature", self.temperature)


@dataclass
class LocateReport:
    results: list[LocationResult] = field(default_factory=list)
    failed: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0


def density_extent(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """An extent around a point holding ~3 x radius_km, at least 5 degrees across, within the world:
    one that would reach a pole or cross the antimeridian spans all longitudes (a raster cannot wrap)."""
    half_lat = max(2.5, min(90.0, float(np.degrees(3 * radius_km / EARTH_RADIUS_KM))))
    south, north = max(-90.0, lat - half_lat), min(90.0, lat + half_lat)
    half_lon = half_lat / max(float(np.cos(np.radians(min(abs(lat) + half_lat, 89.0)))), 0.05)
    west, east = lon - half_lon, lon + half_lon
    if south <= -90.0 or north >= 90.0 or west < -180.0 or east > 180.0:
        west, east = -180.0, 180.0
    return (west, south, east, north)


def union_extent(extents) -> tuple[float, float, float, float]:
    extents = np.asarray(extents, dtype=np.float64)
    return (float(extents[:, 0].min()), float(extents[:, 1].min()), float(extents[:, 2].max()),
            float(extents[:, 3].max()))


def fitting_resolution(extent: tuple[float, float, float, float], resolution_deg: float, max_cells: int) -> float:
    """resolution_deg, coarsened where the extent would need more than max_cells cells."""
    width, height = extent[2] - extent[0], extent[3] - extent[1]
    resolution = max(resolution_deg, float(np.sqrt(width * height / max_cells)))
    while math.ceil(width / resolution - 1e-9) * math.ceil(height / resolution - 1e-9) > max_cells:
        resolution *= 1.01
    return resolution


class Locator:
    """Locates photos against one reference database with the embedder it was built with."""

    def __init__(self, database: ReferenceDatabase, embedder: Embedder | None = None):
        self.database = database
        self.embedder = embedder if embedder is not None else embedder_for(database.identity)
        if self.embedder.identity != database.identity:
            raise EmbedderMismatchError.for_search(database.path, database.identity, self.embedder.identity)

    @property
    def space(self) -> FeatureSpace:
        """What photos are compared in: the database's active trained view, else the base features."""
        return space_of(self.database)

    @property
    def query_embedder(self) -> Embedder:
        """The network photos are embedded with: a fine-tuned view's own backbone, else the base one."""
        backbone = self.space.backbone
        return backbone if backbone is not None else self.embedder

    def locate_features(self, features: np.ndarray, photos: Sequence[str], options: LocateOptions,
                        exclude: Sequence[set[int]] | None = None,
                        should_stop: StopCheck | None = None) -> list[LocationResult]:
        """Estimate locations for already-embedded photos. `exclude[i]` lists record ids that photo i
        must not use (its own record, for leave-one-out evaluation)."""
        if len(features) == 0:
            return []
        extra = max((len(e) for e in exclude), default=0) if exclude else 0
        space = self.space
        gallery = None
        if options.estimator == "geoclip":  # GeoCLIP's gallery prior, from the features before any view
            from .geoclip_prior import gallery_of

            gallery = gallery_of(self.embedder).predict(features, should_stop=should_stop)
        encoded = space.encode(features)
        probabilities = encoded.cell_probabilities
        if probabilities is None and options.estimator in ("cells", "hybrid"):
            raise OptionError(f"the {options.estimator} estimator needs trained features: run "
                              "`python -m geoloc_core train` on the database first")
        similarities, ids = space.search(encoded.vectors, options.k + extra)
        records = self.database.records(ids.ravel())
        results = []
        for i, photo in enumerate(photos):
            check_stop(should_stop)
            banned = exclude[i] if exclude else set()
            keep = [j for j, rid in enumerate(ids[i]) if rid >= 0 and int(rid) not in banned][: options.k]
            if not keep:
                raise PhotoError(photo, "the reference database is empty")
            sims = similarities[i, keep].astype(np.float64)
            refs = [records[int(ids[i, j])] for j in keep]
            lat = np.array([r.lat for r in refs])
            lon = np.array([r.lon for r in refs])
            prior = location = None
            if probabilities is not None:
                prior, location = space.cell_evidence(probabilities[i], lat, lon)
            if gallery is not None:
                from .geoclip_prior import prior_estimate

                est = prior_estimate(gallery[i], lat, lon, sims, options.bandwidth_km, options.temperature)
            else:
                est = estimate(options.estimator, lat, lon, sims, options.bandwidth_km, options.temperature, prior,
                               location)
            neighbours = [
                Neighbour(rank + 1, r.id, float(np.sqrt(max(2.0 - 2.0 * s, 0.0))), float(s), float(w), r.lat, r.lon,
                          r.path)
                for rank, (r, s, w) in enumerate(zip(refs, sims, est.weights))
            ]
            grid = None
            if options.density is not None:
                extent, resolution = options.density.extent, options.density.resolution_deg
                if extent is None:
                    extent = density_extent(est.lat, est.lon, est.radius90_km)
                    resolution = fitting_resolution(extent, resolution, AUTO_DENSITY_MAX_CELLS)
                grid = density_grid(lat, lon, est.weights, options.bandwidth_km, extent, resolution)
            results.append(LocationResult(str(photo), est.lat, est.lon, est.confidence, est.radius50_km,
                                          est.radius90_km, options.estimator, options.k, neighbours, grid))
        return results

    def locate_paths(self, paths: Sequence[str | os.PathLike], options: LocateOptions | None = None,
                     progress: ProgressCallback | None = None, should_stop: StopCheck | None = None,
                     batch_size: int = 16) -> LocateReport:
        """Locate photo files; unreadable ones are reported in `failed` and skipped. Raises
        Cancelled when should_stop() turns true (between batches and between photos)."""
        options = options or LocateOptions()
        return locate_files(self.query_embedder, paths, batch_size, progress, should_stop,
                            lambda indices, features: self.locate_features(
                                features, [str(paths[i]) for i in indices], options, should_stop=should_stop))


def locate_files(embedder: Embedder, paths: Sequence[str | os.PathLike], batch_size: int,
                 progress: ProgressCallback | None, should_stop: StopCheck | None,
                 locate_batch: Callable[[list[int], np.ndarray], list[LocationResult]]) -> LocateReport:
    """Embed photo files and locate each batch as it is embedded (`locate_batch(positions in paths,
    features)`); unreadable photos go to `failed`, results come in the order of `paths`."""
    started = time.perf_counter()
    located = LocateReport()

    def on_batch(indices, vectors):
        check_stop(should_stop)
        located.results.extend(locate_batch(indices, vectors))
        report(progress, len(located.results), len(paths), "locate", str(paths[indices[-1]]))

    outcome = embedder.embed_paths([Path(p) for p in paths], batch_size, progress, should_stop, on_batch,
                                   keep_features=False)
    located.failed = [Skipped(e.path, e.reason) for e in outcome.failures]
    order = {str(p): i for i, p in enumerate(paths)}
    located.results.sort(key=lambda r: order.get(r.photo, 0))
    located.seconds = time.perf_counter() - started
    return located


__all__ = ["Cancelled", "DensityOptions", "LocateOptions", "LocateReport", "LocationResult", "Locator", "Neighbour"]
