"""The engine's service layer: the one set of operations (open, build, train, locate, locate worldwide,
evaluate, install a pack) that every front end calls. The CLI, the Processing algorithms and the dock's
in-process engine take their requests here; the dock's external engine sends the same request whole, as
JSON (`Request.to_dict`), to `python -m geoloc_core request` in another Python, which runs it through
`Session.run` and answers the outcome's JSON, read back with `from_dict`: both routes run the same
request and hand the panel the same types.

Requests and outcomes are plain dataclasses, light enough for QGIS's Python at start-up (no numpy, torch
or faiss at import: the heavy modules are imported when an operation runs). A request's fields travel by
name, so a new field is one line in its dataclass. Defaults come from `defaults.py`, bounds from
`options.py`; a failure the user can fix is an `errors.UserError`, anything else a bug.
`Session` keeps the open database, the searched databases and the loaded networks between calls.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from . import circles, clip_embedders, dependencies, embedder_registry, estimator_registry, files, options, packs, storage
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
from .options import check
from .progress import Progress, ProgressCallback, StopCheck, check_stop
from .progress import report as report_progress
from .results import BuildReport, LocationResult, Record, Skipped, skipped_from_dicts, skipped_to_dicts

if TYPE_CHECKING:
    from .clip_embedders import HubListing
    from .context.run import ContextRequest
    from .database import ReferenceDatabase
    from .evaluate import EvaluationReport
    from .feature_space import TrainingSummary
    from .gps_write import GpsWriteReport
    from .locate import LocateOptions
    from .searchset import SearchSet
    from .sources import Candidate

# What the QGIS panel reads between operations, named here so that ui/ reaches the engine through this
# module only (tests/test_ui_seams.py checks it); all from light modules (the standard library only).
DOWNLOADABLE = clip_embedders.DOWNLOADABLE
list_embedders = embedder_registry.list_embedders
model_availability = clip_embedders.availability
model_download_problem = clip_embedders.download_problem
installed_model = clip_embedders.installed_model
list_model_files = clip_embedders.list_model_files
fetch_model = clip_embedders.download_model  # one listed model's files (download_model below lists first)
PACK_SUFFIX = packs.PACK_SUFFIX
PackInfo = packs.PackInfo
installed_packs = packs.installed_packs
credit_line = packs.credit_line
remove_pack = packs.remove
PHOTO_EXTENSIONS = files.PHOTO_EXTENSIONS
PhotoError = files.PhotoError
find_photos = files.find_photos
missing_dependencies = dependencies.missing
describe_dependencies = dependencies.describe
distance_km = circles.distance_km
utc_now = storage.utc_now
ESTIMATORS = estimator_registry.ESTIMATORS
estimator_spec = estimator_registry.estimator_spec
spin_range = options.spin_range


COUNTRIES_FILE = Path(__file__).resolve().parent.parent / "resources" / "countries.geojson"  # as context/area.py


def country_names() -> list[str]:
    """The names of the bundled countries layer, in its order, as context/area.py resolves them: the panel's
    country choice, read with the standard library alone (the panel opens without numpy)."""
    import json

    features = json.loads(COUNTRIES_FILE.read_text(encoding="utf-8"))["features"]
    return [str(f["properties"]["name"]) for f in features
            if (f.get("geometry") or {}).get("type") in ("Polygon", "MultiPolygon")]


def __getattr__(name: str):
    """DensityGrid, its reader and ContextRequest on first use (they bring numpy): the panel rebuilds the
    grids the other engine wrote, and builds (and so checks) a run's area and trip."""
    if name == "DensityGrid":
        from .estimators import DensityGrid

        return DensityGrid
    if name == "ContextRequest":
        from .context.run import ContextRequest

        return ContextRequest
    if name == "read_density_geotiff":
        from .export import read_density_geotiff

        return read_density_geotiff
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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


def _plain(value):
    """A request field as JSON holds it: paths as text, nested requests as their dicts."""
    if isinstance(value, Request):
        return value.to_dict()
    if hasattr(value, "to_dict"):  # a part of a request that is no request of its own (a ContextRequest)
        return value.to_dict()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


class Request:
    """What every request shares: it travels whole as JSON, field by field (`to_dict`, `from_dict`), so
    that the external engine runs exactly the request the panel made. `kind` names it on the wire."""

    kind: ClassVar[str]

    def to_dict(self) -> dict:
        return {"request": self.kind, **{f.name: _plain(getattr(self, f.name)) for f in fields(self)}}

    @classmethod
    def from_dict(cls, data: dict):
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names - {"request"})
        if data.get("request", cls.kind) != cls.kind or unknown:
            raise UserError(f"not a {cls.kind} request the engine knows (fields {', '.join(unknown) or 'none'}, "
                            f"kind {data.get('request')!r}): QGIS's plugin and the engine are different versions")
        return cls(**{name: request_from_dict(value) if isinstance(value, dict) and "request" in value else value
                      for name, value in data.items() if name in names})


def request_from_dict(data: dict) -> Request:
    """The request a `Request.to_dict` wrote (its `request` entry names the kind)."""
    kinds = {kind.kind: kind for kind in (OpenRequest, BuildRequest, DatasetRequest, TrainRequest, LocateRequest,
                                         WorldwideRequest, InstallRequest, WriteGpsRequest, AddReviewedRequest)}
    if not isinstance(data, dict) or data.get("request") not in kinds:
        raise UserError(f"not an engine request (kind {data.get('request') if isinstance(data, dict) else data!r}); "
                        f"one of {', '.join(kinds)}")
    return kinds[data["request"]].from_dict(data)


@dataclass
class OpenRequest(Request):
    """Open a database (the one the next requests work on); with `records`, list its reference photos."""

    kind: ClassVar[str] = "open"
    database: str | os.PathLike
    records: bool = False


@dataclass
class DatasetRequest(Request):
    """Where and how a build reads a web-scale dataset: WebDataset shards or a URL list (downloaded
    first, into `download_dir`), embedded in this process or on Ray (`engine`)."""

    kind: ClassVar[str] = "dataset"
    source: str | os.PathLike  # a folder of .tar shards, or a .csv/.parquet URL list
    engine: str = "local"  # local, or ray
    address: str | None = None  # a Ray cluster's; None: a local Ray started for the build
    workers: int | None = None  # Ray's embedding actors
    work_dir: str | os.PathLike | None = None  # the shards' embeddings while Ray builds (resumable)
    download_dir: str | os.PathLike | None = None  # a URL list's shards; None: <database>.download
    lat_field: str | None = None  # None: the usual names (lat, latitude...)
    lon_field: str | None = None

    def check(self) -> None:
        """The options' bounds (OptionError naming the one out of them)."""
        if self.workers is not None:
            check("workers", self.workers)

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
class BuildRequest(Request):
    """Create the database at `database` (or resume the one there), or with `add` add to it, from the
    photos of `source` (a folder or CSV) or from the web-scale `dataset`."""

    kind: ClassVar[str] = "build"
    database: str | os.PathLike
    add: bool = False
    architecture: str = DEFAULT_ARCHITECTURE  # a new database's (an added-to one keeps its own)
    weights: str | None = None  # a weights file, or a downloadable model's folder (see `weights_for`)
    pooling: str = DEFAULT_POOLING
    device: str | None = None  # where the network runs (auto, cpu, cuda); None: the CPU it loads on
    batch_size: int | None = None  # None: the device's (batch_size_for)
    source: str | os.PathLike | None = None  # the photos (a folder or CSV) when no candidates are handed over
    models_dir: str | os.PathLike | None = None  # downloaded (CLIP-family) models, where `weights` is not given
    dataset: DatasetRequest | None = None  # a build from shards or a URL list instead of `source`

    def check(self) -> None:
        """The options' bounds (OptionError naming the one out of them)."""
        if self.batch_size is not None:
            check("batch_size", self.batch_size)
        if self.dataset is not None:
            self.dataset.check()

    def weights_for(self, architecture: str) -> str | None:
        """The weights to load the network with: `weights`, else a downloadable model's folder."""
        return weights_for(architecture, self.weights, self.models_dir)


@dataclass
class TrainRequest(Request):
    """Train a view (geocell classifier, and with `finetune_epochs` the backbone end to end)."""

    kind: ClassVar[str] = "train"
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
class LocateRequest(Request):
    kind: ClassVar[str] = "locate"
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
    density_grids: bool = False  # each result keeps its density grid
    density_path: str | os.PathLike | None = None  # the run's density GeoTIFF is written here (if located any)
    density_dir: str | os.PathLike | None = None  # each result's density grid is written here as a GeoTIFF
    overwrite: bool = False  # density files may replace existing ones
    context: ContextRequest | None = None  # area, track, times, streams (context/run.py); None: one by one

    def __post_init__(self):
        if isinstance(self.context, dict):  # as it travels in JSON
            from .context.run import ContextRequest

            self.context = ContextRequest.from_dict(self.context)

    @property
    def references(self) -> list[str]:
        return [str(self.database), *map(str, self.also)]

    @property
    def density_extent(self) -> tuple[float, float, float, float] | None:
        return WORLD_EXTENT if self.density_world else None

    def options(self) -> LocateOptions:
        """The locate options (checked: a bad value is an OptionError naming it)."""
        from .locate import DensityOptions, LocateOptions

        density = DensityOptions(self.density_resolution, self.density_extent) \
            if self.density_resolution is not None else None
        grids = self.density_grids or self.density_dir is not None
        return LocateOptions(self.k, self.estimator, self.bandwidth_km, self.temperature, density if grids else None)


@dataclass
class WorldwideRequest(Request):
    """Locating with no reference database: GeoCLIP's GPS gallery, the model from `models_dir`."""

    kind: ClassVar[str] = "world"
    photos: list
    top_k: int
    models_dir: str | None

    def check(self) -> None:
        check("top_k", self.top_k)


@dataclass
class InstallRequest(Request):
    """Install a pack file or http(s) URL into `packs_dir` (None: packs.default_packs_dir())."""

    kind: ClassVar[str] = "install"
    source: str
    packs_dir: str | os.PathLike | None = None
    sha256: str | None = None  # the pack's published SHA-256: any other file is refused


REVIEWED_STATUSES = ("accepted", "moved")  # the review states written back and added by default


@dataclass
class WriteGpsRequest(Request):
    """Write the reviewed places of a results file into its photos or their sidecars (`write_gps`), or with
    `undo` put back what earlier writes for it changed (`undo_gps`); answered with a GpsWriteReport."""

    kind: ClassVar[str] = "write-gps"
    results: str | os.PathLike  # the .gpkg or .csv that locate -o or the panel wrote
    statuses: list[str] = field(default_factory=lambda: list(REVIEWED_STATUSES))
    sidecar_only: bool = False
    dry_run: bool = False
    backup: bool = True
    sidecar_name: str = "full"  # full: IMG_1.HEIC.xmp, stem: IMG_1.xmp
    allow_changed: bool = False
    undo: bool = False


@dataclass
class AddReviewedRequest(Request):
    """Add the reviewed photos of a results file to a database at their reviewed place
    (`add_reviewed_to_database`); answered with a BuildReport."""

    kind: ClassVar[str] = "add-reviewed"
    results: str | os.PathLike
    database: str | os.PathLike
    statuses: list[str] = field(default_factory=lambda: list(REVIEWED_STATUSES))
    weights: str | None = None
    models_dir: str | os.PathLike | None = None


@dataclass
class OpenedDatabase:
    """An OpenRequest's outcome: the database, and its reference photos when asked for."""

    info: DatabaseInfo
    records: list[Record] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {**self.info.to_dict(), "records": [vars(record) for record in self.records]}

    @classmethod
    def from_dict(cls, data: dict) -> OpenedDatabase:
        return cls(DatabaseInfo.from_dict(data), [Record(**record) for record in data.get("records", [])])


@dataclass
class BuildOutcome:
    """A BuildRequest's outcome: the database built or added to, and what was done."""

    info: DatabaseInfo
    report: BuildReport

    def to_dict(self) -> dict:
        return {**self.info.to_dict(), **self.report.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> BuildOutcome:
        return cls(DatabaseInfo.from_dict(data), BuildReport.from_dict(data))


@dataclass
class TrainOutcome:
    """A TrainRequest's outcome: the database (its new view in use) and the training's summary
    (feature_space.TrainingSummary.to_dict())."""

    info: DatabaseInfo
    summary: dict

    @property
    def brief(self) -> str:
        return training_brief(self.summary)

    def to_dict(self) -> dict:
        return {**self.info.to_dict(), "summary": self.summary}

    @classmethod
    def from_dict(cls, data: dict) -> TrainOutcome:
        return cls(DatabaseInfo.from_dict(data), dict(data["summary"]))


@dataclass
class LocateOutcome:
    results: list[LocationResult]
    failed: list[Skipped]
    density_path: str | None = None  # the run's density GeoTIFF: band 1 all photos, then one band per photo
    reference: str = ""  # the name of what was searched (results' provenance)
    density_paths: dict = field(default_factory=dict)  # each photo's own density GeoTIFF, where written

    def to_dict(self) -> dict:
        """The CLI's JSON answer (each result with its `density_path` where the request wrote one per photo)."""
        extra = bool(self.density_paths)
        return {"results": [{**r.to_dict(), **({"density_path": self.density_paths.get(r.photo)} if extra else {})}
                            for r in self.results],
                "failed": skipped_to_dicts(self.failed), "density_path": self.density_path,
                "reference": self.reference}

    @classmethod
    def from_dict(cls, data: dict) -> LocateOutcome:
        results = data["results"]
        return cls([LocationResult.from_dict(r) for r in results], skipped_from_dicts(data["failed"]),
                   data.get("density_path"), str(data.get("reference", "")),
                   {r["photo"]: r["density_path"] for r in results if r.get("density_path")})


def outcome_from_dict(request: Request, data: dict):
    """The outcome of `request` from the JSON the engine answered it with."""
    from .gps_write import GpsWriteReport
    from .packs import PackInfo

    kinds = {OpenRequest: OpenedDatabase, BuildRequest: BuildOutcome, TrainRequest: TrainOutcome,
             LocateRequest: LocateOutcome, WorldwideRequest: LocateOutcome, InstallRequest: PackInfo,
             WriteGpsRequest: GpsWriteReport, AddReviewedRequest: BuildReport}
    return kinds[type(request)].from_dict(data)


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

    request.check()
    if request.add:
        database = ReferenceDatabase.open(request.database, writable=True)
        try:
            embedder = embedder_for(database.identity, request.weights_for(database.identity.architecture))
        except BaseException:
            database.close()
            raise
    else:
        embedder = load_embedder(request.architecture, request.weights_for(request.architecture), request.pooling)
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

    request.check()
    dataset.check()
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
    weights = request.weights_for(request.architecture)
    embedder = load_embedder(request.architecture, weights, request.pooling)
    if dataset.engine == "ray":
        from .distributed import build_on_ray

        database, report = build_on_ray(database_path, shards, embedder, columns, dataset.address, dataset.workers,
                                        request.device or "auto", dataset.work_dir, weights, progress, should_stop)
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
                      should_stop: StopCheck | None = None, progress: ProgressCallback | None = None) -> str:
    """The run's density GeoTIFF at `target` (its folder made if missing), reporting the stage "density"
    photo by photo; a run that stops or fails here leaves no file."""
    from .export import write_density_stack

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    existed = target.exists()
    try:
        check_stop(should_stop)
        outcome.density_path = str(write_density_stack(target, outcome.results, request.bandwidth_km,
                                                       request.density_resolution, request.density_extent,
                                                       overwrite, progress, should_stop))
        check_stop(should_stop)
    except BaseException:
        if not existed:
            target.unlink(missing_ok=True)
        outcome.density_path = None
        raise
    return outcome.density_path


def write_photo_densities(outcome: LocateOutcome, folder, overwrite: bool = False,
                          should_stop: StopCheck | None = None, progress: ProgressCallback | None = None) -> list[str]:
    """Each result's density grid as its own GeoTIFF in `folder`, named after the photo; the paths are
    kept in `outcome.density_paths`. A run that stops or fails here removes the files it wrote."""
    from .export import write_density_geotiff

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        for done, result in enumerate(outcome.results):
            check_stop(should_stop)
            report_progress(progress, done, len(outcome.results), "density",
                            f"Density maps: {done} of {len(outcome.results)}")
            target = folder / f"{display_path(Path(result.photo).stem)}-density.tif"
            existed = target.exists()
            outcome.density_paths[result.photo] = str(write_density_geotiff(target, result.density, overwrite))
            if not existed:
                written.append(target)
    except BaseException:
        for target in written:
            target.unlink(missing_ok=True)
        outcome.density_paths.clear()
        raise
    return list(outcome.density_paths.values())


def write_gps(results_path, statuses: Sequence[str] = REVIEWED_STATUSES, sidecar_only: bool = False,
              dry_run: bool = False, backup: bool = True, sidecar_name: str = "full", allow_changed: bool = False,
              progress: ProgressCallback | None = None, should_stop: StopCheck | None = None) -> GpsWriteReport:
    """Write the reviewed place of each photo of a results file (.gpkg or .csv) whose review status is in
    `statuses` into its EXIF GPS, or an XMP sidecar (HEIC and other formats, or all with `sidecar_only`;
    `sidecar_name` 'full' IMG_1.HEIC.xmp or 'stem' IMG_1.xmp). Originals are kept as `<name>_original` unless
    `backup` is off, and every write is listed for `undo_gps`. A photo that cannot be written is a skipped
    row with its reason; the others are written."""
    from .gps_write import write_gps as write

    return write(results_path, statuses, sidecar_only, dry_run, backup, sidecar_name, allow_changed, progress,
                 should_stop)


def undo_gps(results_path, dry_run: bool = False) -> GpsWriteReport:
    """Put back the photos and sidecars `write_gps` wrote for this results file, from their backups
    (`dry_run`: list what would be put back, change nothing)."""
    from .gps_write import undo_gps as undo

    return undo(results_path, dry_run)


def add_reviewed_to_database(results_path, database_path, statuses: Sequence[str] = REVIEWED_STATUSES,
                             progress: ProgressCallback | None = None, should_stop: StopCheck | None = None,
                             weights: str | None = None, models_dir=None) -> BuildReport:
    """Add the reviewed photos of a results file to a reference database at the place the analyst kept
    (not their own EXIF GPS, which they may lack), marked in their attributes as analyst-reviewed
    (source, review_status, review_note, located_at). Photos already in it are counted, not added twice."""
    from .gps_write import reviewed_photos
    from .sources import Candidate

    photos, unusable = reviewed_photos(results_path, statuses)
    if not photos:
        raise UserError(f"{display_path(results_path)}: no photo reviewed as {' or '.join(statuses)} with a "
                        "location; nothing was added")
    candidates = [Candidate(Path(p.path), p.lat, p.lon, time=p.capture_time or None, attributes=p.attributes())
                  for p in photos]
    database, report = build(BuildRequest(database_path, add=True, weights=weights, models_dir=models_dir),
                             candidates, progress, should_stop)
    database.close()
    report.skipped[:0] = unusable
    return report


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

    def run(self, request: Request, progress: ProgressCallback | None = None, should_stop: StopCheck | None = None,
            warn: Callable[[str], None] | None = None):
        """Any request, answered with its outcome (`outcome_from_dict` reads the outcome's JSON back):
        what `python -m geoloc_core request` runs for the dock's external engine."""
        if isinstance(request, OpenRequest):
            info = self.open(request.database)
            return OpenedDatabase(info, self.references() if request.records else [])
        if isinstance(request, BuildRequest):
            return BuildOutcome(*self.build(request, None, progress, should_stop))
        if isinstance(request, TrainRequest):
            summary = self.train(request, progress, should_stop, warn)
            return TrainOutcome(self.info(), summary.to_dict())
        if isinstance(request, LocateRequest):
            return self.locate(request, progress, should_stop)
        if isinstance(request, WorldwideRequest):
            return self.locate_worldwide(request, progress, should_stop)
        if isinstance(request, InstallRequest):
            return install_pack(request.source, request.packs_dir, request.sha256, progress, should_stop)
        if isinstance(request, WriteGpsRequest):
            if request.undo:
                return undo_gps(request.results, request.dry_run)
            return write_gps(request.results, request.statuses, request.sidecar_only, request.dry_run, request.backup,
                             request.sidecar_name, request.allow_changed, progress, should_stop)
        if isinstance(request, AddReviewedRequest):
            return self.add_reviewed(request, progress, should_stop)
        raise UserError(f"a {request.kind} request is no operation of its own")

    def build(self, request: BuildRequest, candidates: Sequence[Candidate] | None = None,
              progress: ProgressCallback | None = None,
              should_stop: StopCheck | None = None) -> tuple[DatabaseInfo, BuildReport]:
        """`build` (or `build_dataset` for a request with a dataset), the result becoming the open
        database; without `candidates`, the photos of the request's source (those without a location
        first in the report's `skipped`)."""
        skipped = []
        if request.dataset is not None:
            database, report = build_dataset(request, request.dataset, progress, should_stop)
        else:
            if candidates is None:
                candidates, skipped = read_sources(request.source)
            database, report = build(request, candidates, progress, should_stop)
        report.skipped[:0] = skipped
        self.close()
        self.database = database
        return self.info(), report

    def train(self, request: TrainRequest, progress: ProgressCallback | None = None,
              should_stop: StopCheck | None = None, warn: Callable[[str], None] | None = None) -> TrainingSummary:
        """`train`; the trained database becomes the open database (its new view in use)."""
        summary = train(request, progress, should_stop, warn)
        self.open(request.database)
        return summary

    def add_reviewed(self, request: AddReviewedRequest, progress: ProgressCallback | None = None,
                     should_stop: StopCheck | None = None) -> BuildReport:
        """`add_reviewed_to_database`; the open database, when it is the one added to, is opened again, and
        the next locate opens what it searches afresh, so that both see the added photos."""
        reopen = self.database is not None and Path(self.database.path).resolve() == Path(request.database).resolve()
        self.release_packs()
        report = add_reviewed_to_database(request.results, request.database, request.statuses, progress, should_stop,
                                          request.weights, request.models_dir)
        if reopen:
            self.open(request.database)
        return report

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
            searched = self._searched = open_references(paths, request.packs_dir)
        weights = weights_for(searched.identity.architecture, request.weights, request.models_dir)
        self._locator = Locator(searched, embedder_for(searched.identity, weights))
        self._locator_key = key
        return searched

    def locate(self, request: LocateRequest, progress: ProgressCallback | None = None,
               should_stop: StopCheck | None = None) -> LocateOutcome:
        """Locate the request's photos (unreadable ones in `failed`); when any is located, the run's
        density GeoTIFF is written at the request's `density_path` and each photo's at `density_dir`."""
        options = request.options()  # bad values are refused before any work
        if progress is not None and self._locator is None:  # seconds with nothing to count: say what happens
            progress(Progress(0, len(request.photos), "load", LOADING_MESSAGE))
        searched = self.searched(request)
        if request.context is not None:
            from .context.run import locate_with_context

            report = locate_with_context(self._locator, request.photos, options, request.context, progress,
                                         should_stop)
        else:  # photos of the batch with EXIF GPS anchor their streams even when no context is asked for
            from .context.run import with_batch_anchors

            report = self._locator.locate_paths(request.photos, options, progress, should_stop)
            report.results = with_batch_anchors(report.results)
        outcome = LocateOutcome(report.results, report.failed, None, searched.name)
        if outcome.results and request.density_path is not None and request.density_resolution is not None:
            write_run_density(outcome, request, request.density_path, request.overwrite, should_stop, progress)
        if outcome.results and request.density_dir is not None:
            try:
                write_photo_densities(outcome, request.density_dir, request.overwrite, should_stop, progress)
            except BaseException:  # a stopped run keeps none of its density files
                if outcome.density_path is not None:
                    Path(outcome.density_path).unlink(missing_ok=True)
                raise
        return outcome

    def evaluate(self, request: LocateRequest, items: Sequence[Candidate], progress: ProgressCallback | None = None,
                 should_stop: StopCheck | None = None) -> EvaluationReport:
        """Locate photos of known location and score the answers (leave-one-out)."""
        from .evaluate import evaluate

        options = request.options()
        self.searched(request)
        return evaluate(self._locator, items, options, progress, should_stop, context=request.context)

    def locate_worldwide(self, request: WorldwideRequest, progress: ProgressCallback | None = None,
                         should_stop: StopCheck | None = None) -> LocateOutcome:
        """GeoCLIP's gallery answer for each photo (no density: worldwide locating gives none)."""
        from .embedders import load_embedder
        from .locate import locate_worldwide

        request.check()
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


def read_gps(path):
    """A photo's EXIF GPS fix, or None (PhotoError when unreadable). Needs Pillow: ImportError where the
    engine lives in another Python."""
    from .photos import read_gps as read

    return read(path)


def load_photo(path, min_side: int):
    """A photo decoded upright at reduced size (a PIL image). Needs Pillow, as read_gps."""
    from .photos import load_photo as load

    return load(path, min_side)
