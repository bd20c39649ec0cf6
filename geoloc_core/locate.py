"""Locating photos: embed, search the k nearest references (a PhotoCase per photo), then let the evidence
sources decide each location (evidence.py; the neighbours' density with the chosen estimator today)."""

from __future__ import annotations

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
    DEFAULT_GALLERY_TOP_K,
    DEFAULT_K,
    DEFAULT_TEMPERATURE,
)
from .embedders import Embedder, embedder_for
from .errors import OptionError
from .estimator_registry import GEOCLIP_FEATURES, TRAINED_VIEW, EstimatorSpec, estimator_spec, neighbourhood
from .estimators import MODE_COUNT, density_modes, photo_density
from .evidence import EvidenceBatch, Finding, PhotoCase, weigh
from .feature_space import FeatureSpace, space_of
from .files import PhotoError
from .geo import haversine_km
from .geoclip_prior import GeoClipGallery, gallery_of, worldwide_estimate
from .options import check
from .progress import Cancelled, ProgressCallback, StopCheck, check_stop, report
from .results import Alternative, LocationResult, Neighbour
from .sources import Skipped


@dataclass(frozen=True)
class DensityOptions:
    """The density rasters at resolution_deg (degrees, given as asked unless a memory cap must coarsen it,
    which the result's note says; AUTO_DENSITY_RESOLUTION, the default: estimators.density_resolution):
    each photo's over the window where its density holds mass; the run's raster over the union of those
    windows, or over a fixed (west, south, east, north) extent."""

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
        estimator_spec(self.estimator)  # the one check of the name: every later step trusts it
        check("k", self.k)
        check("bandwidth_km", self.bandwidth_km)
        check("temperature", self.temperature)


@dataclass
class LocateReport:
    results: list[LocationResult] = field(default_factory=list)
    failed: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0


def alternatives(lat: float, lon: float, neighbourhood_lat, neighbourhood_lon, weights, bandwidth_km: float,
                 count: int = MODE_COUNT) -> list[Alternative]:
    """The density's separate modes as alternatives, rank 1 the prediction (lat, lon) with the mass of the
    basin it lies in, then the other modes by mass."""
    modes = density_modes(neighbourhood_lat, neighbourhood_lon, weights, bandwidth_km, start=(lat, lon))
    chosen = [(lat, lon, modes[0][2])] + modes[1:count]
    return [Alternative(rank, float(a), float(b), float(mass), float(haversine_km(lat, lon, a, b)))
            for rank, (a, b, mass) in enumerate(chosen, start=1)]


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
                        should_stop: StopCheck | None = None,
                        search: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]] | None = None
                        ) -> list[LocationResult]:
        """Estimate locations for already-embedded photos. `exclude[i]` lists record ids that photo i
        must not use (its own record, for leave-one-out evaluation). `search(vectors, k)` replaces the
        space's search (context.search: only the references inside an area of interest)."""
        if len(features) == 0:
            return []
        cases = self.photo_cases(features, photos, options, exclude, should_stop, search)
        findings = weigh(EvidenceBatch(cases, options, should_stop))
        results = []
        for case, finding in zip(cases, findings):
            check_stop(should_stop)
            results.append(self.result(case, finding, options))
        return results

    def photo_cases(self, features: np.ndarray, photos: Sequence[str], options: LocateOptions,
                    exclude: Sequence[set[int]] | None, should_stop: StopCheck | None,
                    search: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]] | None = None
                    ) -> list[PhotoCase]:
        """Each photo's k nearest references (without its excluded ids) and the inputs its estimator needs."""
        vectors, probabilities, galleries = self.estimator_inputs(estimator_spec(options.estimator), features,
                                                                  should_stop)
        extra = max((len(e) for e in exclude), default=0) if exclude else 0
        similarities, ids = (search or self.space.search)(vectors, options.k + extra)
        records = self.database.records(ids.ravel())
        cases = []
        for i, photo in enumerate(photos):
            check_stop(should_stop)
            keep = kept_neighbours(ids[i], exclude[i] if exclude else set(), options.k)
            if not keep:
                raise PhotoError(photo, "the reference database is empty")
            cases.append(self.photo_case(str(photo), [records[int(ids[i, j])] for j in keep], similarities[i, keep],
                                         options, probabilities[i], galleries[i]))
        return cases

    def estimator_inputs(self, spec: EstimatorSpec, features: np.ndarray, should_stop: StopCheck | None):
        """The features in the space searched, and per photo what the estimator needs beyond its neighbours
        (None where it needs nothing): the trained view's cell probabilities, GeoCLIP's gallery prediction."""
        # GeoCLIP's gallery prior reads the features before any view
        galleries = self.gallery_predictions(features, should_stop) if GEOCLIP_FEATURES in spec.requires \
            else [None] * len(features)
        encoded = self.space.encode(features)
        probabilities = [None] * len(features)
        if TRAINED_VIEW in spec.requires:
            if encoded.cell_probabilities is None:
                raise OptionError(f"the {spec.name} estimator needs {TRAINED_VIEW.text}")
            probabilities = encoded.cell_probabilities
        return encoded.vectors, probabilities, galleries

    def photo_case(self, photo: str, references: list, similarities: np.ndarray, options: LocateOptions,
                   cell_probabilities: np.ndarray | None, gallery) -> PhotoCase:
        """One photo's neighbours as the estimators read them, with the trained view's cell evidence and
        GeoCLIP's gallery prediction where the estimator needs them."""
        lat = np.array([r.lat for r in references])
        lon = np.array([r.lon for r in references])
        prior = location = None
        if cell_probabilities is not None:
            prior, location = self.space.cell_evidence(cell_probabilities, lat, lon)
        return PhotoCase(photo, references, neighbourhood(lat, lon, similarities, options.bandwidth_km,
                                                          options.temperature, prior, location, gallery))

    def gallery_predictions(self, features: np.ndarray, should_stop: StopCheck | None) -> list:
        return gallery_of(self.embedder).predict(features, should_stop=should_stop)

    @staticmethod
    def result(case: PhotoCase, finding: Finding, options: LocateOptions) -> LocationResult:
        """The located photo: the finding's point and uncertainty, its neighbours and weights, the
        density's separate modes (for the estimators that take the kernel density's mode) and its density
        grid when asked for."""
        n, est = case.neighbourhood, finding.estimate
        neighbours = [
            Neighbour(rank + 1, r.id, float(np.sqrt(max(2.0 - 2.0 * s, 0.0))), float(s), float(w), r.lat, r.lon, r.path)
            for rank, (r, s, w) in enumerate(zip(case.references, n.similarities, est.weights))
        ]
        grid = None
        if options.density is not None:
            grid = photo_density(n.lat, n.lon, est.weights, options.bandwidth_km, options.density.resolution_deg)
        modes = alternatives(est.lat, est.lon, n.lat, n.lon, est.weights, options.bandwidth_km) \
            if estimator_spec(options.estimator).density else []
        note = grid.note if grid is not None else ""
        return LocationResult(case.photo, est.lat, est.lon, est.confidence, est.radius50_km, est.radius90_km,
                              options.estimator, options.k, neighbours, grid, finding.evidence, note=note,
                              alternatives=modes)

    def locate_paths(self, paths: Sequence[str | os.PathLike], options: LocateOptions | None = None,
                     progress: ProgressCallback | None = None, should_stop: StopCheck | None = None,
                     batch_size: int = 16) -> LocateReport:
        """Locate photo files; unreadable ones are reported in `failed` and skipped. Raises
        Cancelled when should_stop() turns true (between batches and between photos)."""
        options = options or LocateOptions()
        return locate_files(self.query_embedder, paths, batch_size, progress, should_stop,
                            lambda indices, features: self.locate_features(
                                features, [str(paths[i]) for i in indices], options, should_stop=should_stop))


def kept_neighbours(ids: np.ndarray, banned: set[int], k: int) -> list[int]:
    """Positions of the first k ids found (faiss pads a short answer with -1) that are not banned."""
    return [j for j, rid in enumerate(ids) if rid >= 0 and int(rid) not in banned][:k]


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



def locate_worldwide(embedder, paths: Sequence[str | os.PathLike], top_k: int = DEFAULT_GALLERY_TOP_K,
                     progress: ProgressCallback | None = None, should_stop: StopCheck | None = None,
                     batch_size: int = 16, gallery: GeoClipGallery | None = None):
    """Locate photos with no reference database: GeoCLIP's gallery answer for each (a LocateReport whose
    neighbours are the top-k gallery points; their record ids are gallery row numbers)."""
    gallery = gallery or gallery_of(embedder)
    gallery.features(progress, should_stop)
    index = {tuple(point): row for row, point in enumerate(gallery.coordinates)}

    def locate_batch(indices, vectors) -> list:
        results = []
        for i, prediction in zip(indices, gallery.predict(vectors, top_k, should_stop)):
            check_stop(should_stop)
            est = worldwide_estimate(prediction)
            neighbours = [Neighbour(rank + 1, index[(a, b)], float(np.sqrt(max(2.0 - 2.0 * s, 0.0))), float(s),
                                    float(w), float(a), float(b), "")
                          for rank, (a, b, s, w) in enumerate(zip(prediction.lat, prediction.lon,
                                                                  prediction.similarity, est.weights))]
            results.append(LocationResult(str(paths[i]), est.lat, est.lon, est.confidence, est.radius50_km,
                                          est.radius90_km, "geoclip", top_k, neighbours))
        return results

    return locate_files(embedder, paths, batch_size, progress, should_stop, locate_batch)


__all__ = ["Cancelled", "DensityOptions", "LocateOptions", "LocateReport", "LocationResult", "Locator", "Neighbour"]
