"""The engine's service layer: the one set of operations (build, train, locate, locate worldwide,
evaluate, install a pack) that every front end calls. The CLI, the Processing algorithms and the dock's
in-process engine take their requests here, and the dock's external engine reads the CLI's JSON of the
same outcomes back with `from_dict`, so that both dock routes hand the panel the same types.

Requests and outcomes are plain dataclasses, light enough for QGIS's Python at start-up (no numpy, torch
or faiss at import: the heavy modules are imported when an operation runs). Defaults come from
`defaults.py`; a failure the user can fix is one of `errors.user_errors()`, worded by `user_message`.
`Session` keeps the open database, the searched databases and the loaded networks between calls.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .defaults import (
    DEFAULT_ARCHITECTURE,
    DEFAULT_GEO_DIM,
    DEFAULT_POOLING,
    DEFAULT_SMOOTHING_KM,
    DEFAULT_T_MAX,
    DEFAULT_T_MIN,
    DEFAULT_TRAINING_EPOCHS,
    DEFAULT_VIEW_NAME,
    training_size_warning,
)
from .errors import UserError
from .files import display_path
from .progress import Progress, ProgressCallback, StopCheck, check_stop
from .results import BuildReport, LocationResult, Skipped, skipped_from_dicts, skipped_to_dicts

if TYPE_CHECKING:
    from .clip_embedders import HubListing
    from .database import ReferenceDatabase
    from .evaluate import EvaluationReport
    from .feature_space import TrainingSummary
    from .locate import LocateOptions
    from .packs import PackInfo
    from .searchset import SearchSet
    from .sources import Candidate

WORLD_EXTENT = (-180.0, -90.0, 180.0, 90.0)
LOADING_MESSAGE = "loading the network (a few seconds the first time)…"
GALLERY_NAME = "GeoCLIP GPS gallery"  # what worldwide results were found in


@dataclass
class DatabaseInfo:
    """What a front end shows of an open database."""

    path: str
    name: str
    count: int
    embedder: str  # the embedder's description
    warnings: list = field(default_factory=list)
    architecture: str = ""  # the embedder it was built with (the geoclip estimator needs "geoclip")
    view: str | None = None  # the trained view locate uses, if any

    @classmethod
    def of(cls, database: ReferenceDatabase) -> DatabaseInfo:
        return cls(str(database.path), database.name, database.count, database.identity.describe(),
                   list(database.warnings), database.identity.architecture,
                   database.view.name if database.view is not None else None)

    @property
    def description(self) -> str:
        """The embedder, and the trained features locate uses."""
        return self.embedder + (f"; trained features '{self.view}'" if self.view else "")

    def to_dict(self) -> dict:
        return {"database": self.path, "name": self.name, "count": self.count, "description": self.embedder,
                "warnings": self.warnings, "architecture": self.architecture, "view": self.view}

    @classmethod
    def from_dict(cls, data: dict) -> DatabaseInfo:
        return cls(str(data["database"]), str(data["name"]), int(data["count"]), str(data["description"]),
                   list(data["warnings"]), str(data["architecture"]), data.get("view"))


@dataclass
class BuildRequest:
    """Create the database at `database` (or resume the one there), or with `add` add to it."""

    database: str | os.PathLike
    add: bool = False
    architecture: str = DEFAULT_ARCHITECTURE  # a new database's (an added-to one keeps its own)
    weights: str | None = None  # a weights file, or a downloadable model's folder (see `weights_for`)
    pooling: str = DEFAULT_POOLING
    device: str | None = None  # where the network runs (auto, cpu, cuda); None: the CPU it loads on
    batch_size: int | None = None  # None: the device's (batch_size_for)


@dataclass
class DatasetRequest:
    """Where and how a build reads a web-scale dataset: WebDataset shards or a URL list (downloaded
    first, into `download_dir`), embedded in this process or on Ray (`engine`)."""

    source: str | os.PathLike  # a folder of .tar shards, or a .csv/.parquet URL list
    engine: str = "local"  # local, or ray
    address: str | None = None  # a Ray cluster's; None: a local Ray started for the build
    workers: int | None = None  # Ray's embedding actors
    work_dir: str | os.PathLike | None = None  # the shards' embeddings while Ray builds (resumable)
    download_dir: str | os.PathLike | None = None  # a URL list's shards; None: <database>.download
    lat_field: str | None = None  # None: the usual names (lat, latitude...)
    lon_field: str | None = None

    def check_engine(self) -> None:
        """For a Ray build: Ray installed and the cluster at `address` answering, or a UserError saying
        what to do, before anything is downloaded (the build's photos, or a model)."""
        if self.engine == "ray":
            from .distributed import check_cluster_answers, import_ray

            import_ray()
            if self.address is not None:
                check_cluster_answers(self.address)

    def download_folder(self, database: str | os.PathLike) -> Path:
        """Where a URL list's shards go: `download_dir`, else <database>.download beside the database."""
        path = Path(database)
        return Path(self.download_dir) if self.download_dir else path.with_name(path.name + ".download")


@dataclass
class TrainRequest:
    """Train a view (geocell classifier, and with `finetune_epochs` the backbone end to end)."""

    database: str | os.PathLike
    name: str = DEFAULT_VIEW_NAME
    t_max: int = DEFAULT_T_MAX
    t_min: int = DEFAULT_T_MIN
    geo_dim: int = DEFAULT_GEO_DIM
    epochs: int = DEFAULT_TRAINING_EPOCHS
    smoothing_km: float = DEFAULT_SMOOTHING_KM  # 0: no smoothing
    finetune_epochs: int | None = None  # None: the head only
    device: str = "auto"  # where fine-tuning runs


@dataclass
class LocateRequest:
    database: str | os.PathLike  # a database folder, a pack file or an installed pack's name
    photos: list
    k: int
    estimator: str
    bandwidth_km: float
    temperature: float
    density_resolution: float | None  # None: no density raster
    density_world: bool = False  # the density over the whole world, not around each prediction
    also: list = field(default_factory=list)  # more databases or packs searched with `database`
    weights: str | None = None  # the weights the database was built with, if not found by itself
    models_dir: str | None = None  # downloaded (CLIP-family) models, if not in the default folder
    packs_dir: str | None = None  # where packs are installed (None: packs.default_packs_dir())
    density_grids: bool = False  # each result keeps its density grid (one GeoTIFF per photo)

    @property
    def references(self) -> list[str]:
        return [str(self.database), *map(str, self.also)]

    @property
    def density_extent(self) -> tuple[float, float, float, float] | None:
        return WORLD_EXTENT if self.density_world else None

    def options(self) -> LocateOptions:
        """The locate options (checked: a bad value is a ValueError naming it)."""
        from .locate import DensityOptions, LocateOptions

        density = DensityOptions(self.density_resolution, self.density_extent) \
            if self.density_resolution is not None else None
        return LocateOptions(self.k, self.estimator, self.bandwidth_km, self.temperature,
                             density if self.density_grids else None)


@dataclass
class WorldwideRequest:
    """Locating with no reference database: GeoCLIP's GPS gallery, the model from `models_dir`."""

    photos: list
    top_k: int
    models_dir: str | None


@dataclass
class LocateOutcome:
    results: list[LocationResult]
    failed: list[Skipped]
    density_path: str | None = None  # the run's density GeoTIFF: band 1 all photos, then one band per photo
    reference: str = ""  # the name of what was searched (results' provenance)

    def to_dict(self, density_paths: dict | None = None) -> dict:
        """The CLI's JSON answer (`density_paths`: each photo's own density GeoTIFF, where written)."""
        extra = density_paths is not None
        return {"results": [{**r.to_dict(), **({"density_path": density_paths.get(r.photo)} if extra else {})}
                            for r in self.results],
                "failed": skipped_to_dicts(self.failed)}

    @classmethod
    def from_dict(cls, data: dict, density_path: str | None = None) -> LocateOutcome:
        return cls([LocationResult.from_dict(r) for r in data["results"]], skipped_from_dicts(data["failed"]),
                   density_path)


def training_brief(summary: dict) -> str:
    """One line on a trained view (TrainingSummary.to_dict(), or the CLI's JSON of it) for the panel."""
    return (f"trained features on {summary['photos']} photos: {summary['cells']} geocells, held-out cell accuracy "
            f"{summary['validation_accuracy']:.0%}")


def weights_for(architecture: str | None, weights: str | None = None, models_dir=None) -> str | None:
    """The weights a user gave, else for a downloadable (CLIP-family) model its models folder."""
    from .clip_embedders import DOWNLOADABLE

    if weights:
        return str(weights)
    return str(models_dir) if models_dir and architecture in DOWNLOADABLE else None


def download_model(name: str, models_dir, revision: str = "main", progress: ProgressCallback | None = None,
                   should_stop: StopCheck | None = None, announce: Callable[[HubListing], None] | None = None) -> dict:
    """Fetch a CLIP-family model (resuming an interrupted download); `announce` hears its files and size
    before the download starts. Returns the installed model's record."""
    from .clip_embedders import download_model as fetch
    from .clip_embedders import list_model_files

    listing = list_model_files(name, models_dir, revision, should_stop)
    if announce is not None:
        announce(listing)
    return fetch(name, models_dir, revision, progress, should_stop, listing=listing)


def download_missing_model(architecture: str, models_dir, progress: ProgressCallback | None = None,
                           should_stop: StopCheck | None = None,
                           announce: Callable[[HubListing], None] | None = None) -> None:
    """`download_model` for a downloadable architecture that cannot run yet; nothing for the others."""
    from .clip_embedders import DOWNLOADABLE, availability

    if architecture in DOWNLOADABLE and availability(architecture, models_dir) is not None:
        download_model(architecture, models_dir, "main", progress, should_stop, announce)


def install_pack(source: str, packs_dir=None, sha256: str | None = None, progress: ProgressCallback | None = None,
                 should_stop: StopCheck | None = None) -> PackInfo:
    """Install a pack file or http(s) URL into packs_dir (None: packs.default_packs_dir())."""
    from .packs import default_packs_dir, install

    return install(source, packs_dir or default_packs_dir(), sha256, progress, should_stop)


def read_sources(source) -> tuple[list[Candidate], list]:
    """Reference photos with a usable location from a folder or CSV; refused when there are none."""
    from .sources import from_source

    candidates, skipped = from_source(source)
    if not candidates:
        raise UserError(f"{source}: no photo with a usable EXIF GPS location"
                        + (f" ({len(skipped)} photos without one)" if skipped else "")
                        + "; nothing was built. Reference photos need their location.")
    return candidates, skipped


def build(request: BuildRequest, candidates: Sequence[Candidate], progress: ProgressCallback | None = None,
          should_stop: StopCheck | None = None) -> tuple[ReferenceDatabase, BuildReport]:
    """Embed and store the candidates; returns the database (writable, still open) and what was done."""
    from .database import ReferenceDatabase
    from .embedders import batch_size_for, embedder_for, load_embedder
    from .ingest import add_photos, build_database

    if request.add:
        database = ReferenceDatabase.open(request.database, writable=True)
        try:
            embedder = embedder_for(database.identity, request.weights)
        except BaseException:
            database.close()
            raise
    else:
        embedder = load_embedder(request.architecture, request.weights, request.pooling)
    if request.device is not None:
        embedder.to_device(request.device)
    batch_size = request.batch_size or batch_size_for(embedder.device)
    if request.add:
        return database, add_photos(database, candidates, embedder, progress, should_stop, batch_size=batch_size)
    return build_database(request.database, candidates, embedder, progress, should_stop, batch_size=batch_size)


def build_dataset(request: BuildRequest, dataset: DatasetRequest, progress: ProgressCallback | None = None,
                  should_stop: StopCheck | None = None) -> tuple[ReferenceDatabase, BuildReport]:
    """A build from WebDataset shards or a URL list, in this process or on Ray; the URLs that could not be
    downloaded come first in the report's `failed`."""
    from .embedders import load_embedder
    from .shards import LocationColumns, build_from_shards, download_url_list, is_shard_folder, is_url_list, shard_files

    dataset.check_engine()
    failures = []
    database_path = Path(request.database)
    if is_url_list(dataset.source):
        folder = dataset.download_folder(database_path)
        download = download_url_list(dataset.source, folder, progress=progress)
        failures, shards = download.failures, download.shards
        if not shards:
            raise UserError(f"{display_path(dataset.source)}: no photo could be downloaded into {display_path(folder)}")
    elif is_shard_folder(dataset.source):
        shards = shard_files(dataset.source)
    else:
        raise UserError(f"{display_path(dataset.source)}: --engine ray reads WebDataset .tar shards or a URL list "
                        "(.csv/.parquet with url,lat,lon); for a folder of photos or a CSV of paths use --engine local")
    columns = LocationColumns(dataset.lat_field, dataset.lon_field)
    embedder = load_embedder(request.architecture, request.weights, request.pooling)
    if dataset.engine == "ray":
        from .distributed import build_on_ray

        database, report = build_on_ray(database_path, shards, embedder, columns, dataset.address, dataset.workers,
                                        request.device or "auto", dataset.work_dir, request.weights, progress,
                                        should_stop)
    else:
        if request.device is not None:
            embedder.to_device(request.device)
        database, report = build_from_shards(database_path, shards, embedder, columns, progress, should_stop,
                                             batch_size=request.batch_size)
    report.failed[:0] = failures
    return database, report


def train(request: TrainRequest, progress: ProgressCallback | None = None, should_stop: StopCheck | None = None,
          warn: Callable[[str], None] | None = None) -> TrainingSummary:
    """Train a view on the database and make it the one locate uses; `warn` hears first whether the
    database is too small for training to help."""
    from .database import ReferenceDatabase
    from .feature_space import train_view
    from .training import TrainOptions

    options = TrainOptions(t_max=request.t_max, t_min=request.t_min, geo_dim=request.geo_dim, epochs=request.epochs,
                           smoothing_km=request.smoothing_km or None)
    tune = None
    if request.finetune_epochs is not None:
        from .finetune import FinetuneOptions

        tune = FinetuneOptions(epochs=request.finetune_epochs, device=request.device)
    with ReferenceDatabase.open(request.database, writable=True) as database:
        warning = training_size_warning(database.count)
        if warning and warn is not None:
            warn(warning)
        return train_view(database, request.name, options, tune, progress, should_stop)


def write_run_density(outcome: LocateOutcome, request: LocateRequest, target, overwrite: bool = False,
                      should_stop: StopCheck | None = None) -> str:
    """The run's density GeoTIFF at `target`; a run that stops or fails here leaves no file."""
    from .export import write_density_stack

    target = Path(target)
    existed = target.exists()
    try:
        check_stop(should_stop)
        outcome.density_path = str(write_density_stack(target, outcome.results, request.bandwidth_km,
                                                       request.density_resolution, request.density_extent,
                                                       overwrite))
        check_stop(should_stop)
    except BaseException:
        if not existed:
            target.unlink(missing_ok=True)
        outcome.density_path = None
        raise
    return outcome.density_path


class Session:
    """The engine between calls: the open database, what the last locate searched (a database or a
    SearchSet over several and packs) with its network, and the worldwide model, each kept while the
    next request asks for the same."""

    def __init__(self):
        self.database: ReferenceDatabase | None = None  # the database the front end opened or built
        self._searched = None  # what the last locate opened besides the open database (a SearchSet for several)
        self._locator = None
        self._locator_key = None  # (references, weights, models folder) the locator was made for
        self._worldwide = None  # (models folder, GeoCLIP embedder) of the last worldwide run

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def info(self) -> DatabaseInfo:
        return DatabaseInfo.of(self.database)

    def open(self, path) -> DatabaseInfo:
        from .database import ReferenceDatabase

        database = ReferenceDatabase.open(path)
        self.close()
        self.database = database
        return self.info()

    def build(self, request: BuildRequest, candidates: Sequence[Candidate], progress: ProgressCallback | None = None,
              should_stop: StopCheck | None = None) -> tuple[DatabaseInfo, BuildReport]:
        """`build`, the result becoming the open database."""
        database, report = build(request, candidates, progress, should_stop)
        self.close()
        self.database = database
        return self.info(), report

    def train(self, request: TrainRequest, progress: ProgressCallback | None = None,
              should_stop: StopCheck | None = None, warn: Callable[[str], None] | None = None) -> TrainingSummary:
        """`train`; the trained database becomes the open database (its new view in use)."""
        summary = train(request, progress, should_stop, warn)
        self.open(request.database)
        return summary

    def references(self) -> list:
        return self.database.all_records() if self.database is not None else []

    def searched(self, request: LocateRequest) -> ReferenceDatabase | SearchSet:
        """What the request searches, opened (pack files installed first) or kept from the last request:
        the open database alone, one other database, or a SearchSet over several and packs."""
        from .embedders import embedder_for
        from .locate import Locator
        from .packs import is_pack, resolve_reference
        from .searchset import open_references

        key = (request.references, request.weights, request.models_dir)
        if self._locator is not None and self._locator_key == key:
            return self._locator.database
        paths = [str(resolve_reference(reference, request.packs_dir)) for reference in request.references]
        self.release_packs()
        if (len(paths) == 1 and self.database is not None and str(self.database.path) == paths[0]
                and not is_pack(paths[0])):
            searched = self.database
        else:
            searched = self._searched = open_references(paths)
        weights = weights_for(searched.identity.architecture, request.weights, request.models_dir)
        self._locator = Locator(searched, embedder_for(searched.identity, weights))
        self._locator_key = key
        return searched

    def locate(self, request: LocateRequest, progress: ProgressCallback | None = None,
               should_stop: StopCheck | None = None) -> LocateOutcome:
        """Locate the request's photos (unreadable ones in `failed`; the run's density GeoTIFF is
        `write_run_density`'s)."""
        options = request.options()  # bad values are refused before any work
        if progress is not None and self._locator is None:  # seconds with nothing to count: say what happens
            progress(Progress(0, len(request.photos), "load", LOADING_MESSAGE))
        searched = self.searched(request)
        report = self._locator.locate_paths(request.photos, options, progress, should_stop)
        return LocateOutcome(report.results, report.failed, None, searched.name)

    def evaluate(self, request: LocateRequest, items: Sequence[Candidate], progress: ProgressCallback | None = None,
                 should_stop: StopCheck | None = None) -> EvaluationReport:
        """Locate photos of known location and score the answers (leave-one-out)."""
        from .evaluate import evaluate

        options = request.options()
        self.searched(request)
        return evaluate(self._locator, items, options, progress, should_stop)

    def locate_worldwide(self, request: WorldwideRequest, progress: ProgressCallback | None = None,
                         should_stop: StopCheck | None = None) -> LocateOutcome:
        """GeoCLIP's gallery answer for each photo (no density: worldwide locating gives none)."""
        from .embedders import load_embedder
        from .geoclip_prior import locate_worldwide

        loaded = self._worldwide is not None and self._worldwide[0] == request.models_dir
        if progress is not None and not loaded:
            progress(Progress(0, len(request.photos), "load", LOADING_MESSAGE))
        if not loaded:
            self._worldwide = (request.models_dir, load_embedder("geoclip", request.models_dir))
        report = locate_worldwide(self._worldwide[1], request.photos, request.top_k, progress, should_stop)
        return LocateOutcome(report.results, report.failed, None, GALLERY_NAME)

    def release_packs(self) -> None:
        """Close what the last locate opened besides the open database (before a pack is removed)."""
        if self._searched is not None:
            self._searched.close()
            self._searched = None
        self._locator = self._locator_key = None

    def close(self) -> None:
        self.release_packs()
        if self.database is not None:
            self.database.close()
        self.database = None
        self._worldwide = None

