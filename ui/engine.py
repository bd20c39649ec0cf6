"""Two ways to run geoloc_core from QGIS, with one interface the dock's tasks call:

- InProcessEngine: the engine inside QGIS's own Python (its packages installed there);
- ExternalEngine: the engine in another Python (a venv or conda env the user points to), run as a
  subprocess speaking JSON lines (`python -m geoloc_core --progress json ...`). A crash or an
  out-of-memory kill there becomes an error message instead of a dead QGIS; cancelling terminates it.

Methods that do work run in a QgsTask's worker thread: they take `progress` and `should_stop` and
return plain data (results duck-typed as geoloc_core's LocationResult), never QGIS objects.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..geoloc_core.defaults import PLUGIN_DIR
from ..geoloc_core.packs import PackInfo
from ..geoloc_core.results import BuildReport, LocationResult, Record, skipped_from_dicts

LOADING_MESSAGE = "loading the network (a few seconds the first time)…"


class EngineError(Exception):
    """The engine could not do what was asked; the message is for the user."""


@dataclass
class DatabaseInfo:
    path: str
    name: str
    count: int
    description: str
    warnings: list = field(default_factory=list)
    architecture: str = ""  # the embedder it was built with (the geoclip estimator needs "geoclip")


@dataclass
class LocateRequest:
    database: str
    photos: list
    k: int
    estimator: str
    bandwidth_km: float
    temperature: float
    density_resolution: float | None  # None: no density raster
    density_world: bool = False
    also: list = field(default_factory=list)  # more databases or installed packs searched with `database`


@dataclass
class WorldwideRequest:
    """Locating with no reference database: GeoCLIP's GPS gallery, the model from `models_dir`."""

    photos: list
    top_k: int
    models_dir: str


@dataclass
class LocateOutcome:
    results: list  # geoloc_core.results.LocationResult, from either engine route
    failed: list  # geoloc_core.results.Skipped
    density_path: str | None  # the run's density GeoTIFF (in the folder given to locate): band 1 all photos,
    # then one band per photo


def _unique(path: Path) -> Path:
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def density_target(folder: Path, run_number: int) -> Path:
    return _unique(folder / f"photo-geolocator-run{run_number}-density.tif")


class InProcessEngine:
    """geoloc_core in QGIS's Python; keeps the open database and its network between runs."""

    label = "QGIS's own Python"

    def __init__(self):
        self._database = None
        self._locator = None
        self._search_set = None  # the SearchSet of the last locate over several databases or a pack
        self._worldwide = None  # (models folder, GeoCLIP embedder) of the last worldwide run

    def _errors(self):
        from ..geoloc_core.errors import user_errors

        return user_errors()

    @staticmethod
    def _failure(exc: BaseException) -> EngineError:
        from ..geoloc_core.errors import user_message

        return EngineError(user_message(exc))

    def _info(self, database) -> DatabaseInfo:
        features = f"; trained features '{database.view.name}'" if database.view is not None else ""
        return DatabaseInfo(str(database.path), database.name, database.count,
                            database.identity.describe() + features, list(database.warnings),
                            database.identity.architecture)

    @staticmethod
    def model_problem(name: str, models_dir) -> str | None:
        """Why a downloadable model cannot run in this Python now (packages, download); None when it can."""
        from ..geoloc_core.clip_embedders import availability

        return availability(name, models_dir)

    def open(self, path) -> DatabaseInfo:
        from ..geoloc_core.database import ReferenceDatabase

        try:
            database = ReferenceDatabase.open(path)
        except self._errors() as exc:
            raise self._failure(exc) from None
        self.close()
        self._database = database
        return self._info(database)

    def build(self, source, target, progress, should_stop, architecture=None, models_dir=None):
        """Create the database at `target` (None: add to the open one) with `architecture` (default: the
        bundled one; a CLIP-family model from `models_dir`); returns (info, report)."""
        from ..geoloc_core.database import ReferenceDatabase, build_database
        from ..geoloc_core.embedders import DEFAULT_ARCHITECTURE, embedder_for, load_embedder
        from ..geoloc_core.sources import from_source

        try:
            candidates, skipped = from_source(source)
            if not candidates:
                raise EngineError(f"{source}: no photo with a usable EXIF GPS location"
                                  + (f" ({len(skipped)} photos without one)" if skipped else "")
                                  + "; nothing was built. Reference photos need their location.")
            if target is None:
                database = ReferenceDatabase.open(self._database.path, writable=True)
                report = database.add(candidates, embedder_for(database.identity, _models_weights(
                    database.identity.architecture, models_dir)), progress, should_stop)
            else:
                embedder = load_embedder(architecture or DEFAULT_ARCHITECTURE, _models_weights(architecture, models_dir))
                database, report = build_database(target, candidates, embedder, progress, should_stop)
        except self._errors() as exc:
            raise self._failure(exc) from None
        report.skipped[:0] = skipped
        self.close()
        self._database = database
        return self._info(database), report

    def references(self):
        return self._database.all_records() if self._database is not None else []

    def train(self, progress, should_stop) -> tuple[DatabaseInfo, str]:
        """Train geolocation features on the open database (the head route); returns (info, summary)."""
        from ..geoloc_core.database import ReferenceDatabase
        from ..geoloc_core.feature_space import train_view

        try:
            database = ReferenceDatabase.open(self._database.path, writable=True)
            summary = train_view(database, progress=progress, should_stop=should_stop)
        except self._errors() as exc:
            raise self._failure(exc) from None
        self.close()
        self._database = database
        return self._info(database), (f"trained features on {summary.photos} photos: "
                                      f"{len(summary.trained.partition)} geocells, held-out cell accuracy "
                                      f"{summary.best[3]:.0%}")

    def locate(self, request: LocateRequest, folder: Path, run_number: int, progress, should_stop) -> LocateOutcome:
        from ..geoloc_core.export import write_density_stack
        from ..geoloc_core.locate import DensityOptions, LocateOptions
        from ..geoloc_core.progress import Cancelled, Progress, check_stop

        if progress is not None and self._locator is None:  # seconds with nothing to count: say what happens
            progress(Progress(0, len(request.photos), "load", LOADING_MESSAGE))
        world = (-180.0, -90.0, 180.0, 90.0) if request.density_world else None
        try:
            options = LocateOptions(request.k, request.estimator, request.bandwidth_km, request.temperature)
            if request.density_resolution is not None:
                DensityOptions(request.density_resolution, world)  # its values are checked before the work
            self._prepare_locator(request)
            report = self._locator.locate_paths(request.photos, options, progress, should_stop)
        except self._errors() as exc:
            raise self._failure(exc) from None
        outcome = LocateOutcome(report.results, report.failed, None)
        if request.density_resolution is None or not report.results:
            return outcome
        target = density_target(folder, run_number)
        try:
            check_stop(should_stop)
            folder.mkdir(parents=True, exist_ok=True)
            outcome.density_path = str(write_density_stack(target, report.results, request.bandwidth_km,
                                                           request.density_resolution, world))
            check_stop(should_stop)
        except (Cancelled, *self._errors()) as exc:  # a run that stops or fails adds nothing
            target.unlink(missing_ok=True)
            if isinstance(exc, Cancelled):
                raise
            raise self._failure(exc) from None
        return outcome

    def locate_worldwide(self, request: WorldwideRequest, progress, should_stop) -> LocateOutcome:
        """GeoCLIP's gallery answer for each photo (no density: the engine's worldwide mode gives none)."""
        from ..geoloc_core.embedders import load_embedder
        from ..geoloc_core.geoclip_prior import locate_worldwide
        from ..geoloc_core.progress import Progress

        loaded = self._worldwide is not None and self._worldwide[0] == request.models_dir
        if progress is not None and not loaded:
            progress(Progress(0, len(request.photos), "load", LOADING_MESSAGE))
        try:
            if not loaded:
                self._worldwide = (request.models_dir, load_embedder("geoclip", request.models_dir))
            report = locate_worldwide(self._worldwide[1], request.photos, request.top_k, progress, should_stop)
        except self._errors() as exc:
            raise self._failure(exc) from None
        return LocateOutcome(report.results, report.failed, None)

    def _prepare_locator(self, request: LocateRequest) -> None:
        """The open database alone, or a SearchSet over it (or the request's database) and the packs
        asked for; kept between runs that ask for the same ones."""
        from ..geoloc_core.locate import Locator
        from ..geoloc_core.packs import is_pack
        from ..geoloc_core.searchset import SearchSet

        paths = [str(request.database), *map(str, request.also)]
        alone = (len(paths) == 1 and self._database is not None and str(self._database.path) == paths[0]
                 and not is_pack(paths[0]))
        if alone:
            if self._locator is None or self._locator.database is not self._database:
                self._locator = Locator(self._database)
            return
        if self._search_set is None or [str(d.path) for d in self._search_set.databases] != paths:
            self.release_packs()
            self._search_set = SearchSet.open(paths)
        if self._locator is None or self._locator.database is not self._search_set:
            self._locator = Locator(self._search_set)

    def install_pack(self, source: str, packs_dir, progress, should_stop):
        """Install a pack file or URL into packs_dir; returns its PackInfo."""
        from ..geoloc_core.packs import install

        try:
            return install(source, packs_dir, progress=progress, should_stop=should_stop)
        except self._errors() as exc:
            raise self._failure(exc) from None

    def release_packs(self) -> None:
        """Close the databases opened for a search over several (before a pack is removed)."""
        if self._search_set is not None:
            self._search_set.close()
            self._search_set = None
            self._locator = None

    def close(self) -> None:
        self.release_packs()
        if self._database is not None:
            self._database.close()
        self._database = None
        self._locator = None
        self._worldwide = None


def _outcome(data: dict, density: str | None) -> LocateOutcome:
    """A run's answer from the other engine's JSON, as the same types the in-process engine gives."""
    return LocateOutcome([LocationResult.from_dict(r) for r in data["results"]], skipped_from_dicts(data["failed"]),
                         density)


def _models_weights(architecture: str | None, models_dir):
    """The models folder for a downloaded (CLIP-family) model, None for the others."""
    from ..geoloc_core.clip_embedders import DOWNLOADABLE

    return str(models_dir) if models_dir and architecture in DOWNLOADABLE else None


class ExternalEngine:
    """geoloc_core in another Python, driven through its CLI."""

    def __init__(self, python: str):
        self.python = python
        self.label = f"external Python {python}"
        self._database: str | None = None
        self._records: list = []
        self.child: subprocess.Popen | None = None  # the running engine process, if any

    def environment(self) -> dict:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(PLUGIN_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.pop("PYTHONHOME", None)  # QGIS's own Python home must not leak into another interpreter
        return env

    def check(self) -> str:
        """Whether the interpreter runs the engine; its versions of the engine's packages."""
        try:
            result = subprocess.run(
                [self.python, "-c", "import sys; from geoloc_core import dependencies; "
                 "missing = dependencies.missing(); print(dependencies.describe()); sys.exit(1 if missing else 0)"],
                capture_output=True, text=True, timeout=120, cwd=PLUGIN_DIR, env=self.environment())
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineError(f"{self.python}: cannot run this Python ({exc})") from None
        if result.returncode != 0:
            raise EngineError(f"{self.python} lacks some of the engine's packages:\n{result.stdout}{result.stderr}")
        return result.stdout

    def run_cli(self, arguments: list, progress=None, should_stop=None) -> dict:
        """Run one CLI command; returns its final result object. Progress lines go to `progress`;
        `should_stop()` terminates the child (then Cancelled is raised)."""
        command = [self.python, "-m", "geoloc_core", "--progress", "json", *map(str, arguments)]
        try:
            child = subprocess.Popen(command, cwd=PLUGIN_DIR, env=self.environment(), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        except OSError as exc:
            raise EngineError(f"{self.python}: cannot start the engine ({exc})") from None
        self.child = child
        try:
            return self._follow(child, progress, should_stop)
        finally:
            self.child = None

    def _follow(self, child: subprocess.Popen, progress, should_stop) -> dict:
        from ..geoloc_core.progress import Cancelled, Progress

        lines: queue.Queue = queue.Queue()
        errors: list[str] = []
        threading.Thread(target=lambda: [lines.put(line) for line in child.stdout] + [lines.put(None)],
                         daemon=True).start()
        threading.Thread(target=lambda: errors.extend(child.stderr), daemon=True).start()
        result = None
        while True:
            if should_stop is not None and should_stop():
                child.terminate()
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
                raise Cancelled("stopped at the user's request")
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                break
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("stage") == "result":
                result = event
            elif progress is not None:
                progress(Progress(event.get("done", 0), event.get("total", 0), event.get("stage", ""),
                                  event.get("message", "")))
        code = child.wait()
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            raise EngineError(f"the engine process crashed ({name}); QGIS is unaffected. "
                              f"Last messages: {''.join(errors[-5:]).strip() or 'none'}")
        if result is None:
            message = "".join(errors).strip().splitlines()
            raise EngineError(message[-1].removeprefix("error: ") if message else f"the engine exited with {code}")
        for line in errors:
            if line.startswith("skipped "):
                result.setdefault("skipped_lines", []).append(line[8:].strip())
        return result

    def open(self, path) -> DatabaseInfo:
        data = self.run_cli(["info", path, "--records"])
        self._database = data["database"]
        self._records = [Record(**r) for r in data.get("records", [])]
        features = f"; trained features '{data['view']}'" if data.get("view") else ""
        return DatabaseInfo(data["database"], data["name"], data["count"], data["description"] + features,
                            data["warnings"], data["manifest"]["embedder"]["architecture"])

    def model_problem(self, name: str, models_dir) -> str | None:
        """Whether the model is downloaded; the packages are the other Python's, which says what it lacks
        when a run starts."""
        from ..geoloc_core.clip_embedders import download_problem

        return download_problem(name, models_dir)

    def build(self, source, target, progress, should_stop, architecture=None, models_dir=None):
        if target is None:
            data = self.run_cli(["add", self._database, source], progress, should_stop)
        else:
            model = ["--architecture", architecture] if architecture else []
            model += ["--models-dir", str(models_dir)] if models_dir else []
            data = self.run_cli(["build", target, source, *model], progress, should_stop)
        info = self.open(data["database"])
        report = BuildReport.from_dict(data)
        return info, report

    def references(self):
        return self._records

    def train(self, progress, should_stop) -> tuple[DatabaseInfo, str]:
        data = self.run_cli(["train", self._database], progress, should_stop)
        return self.open(data["database"]), (f"trained features: {data['cells']} geocells, held-out cell "
                                             f"accuracy {data['validation_accuracy']:.0%}")

    def locate(self, request: LocateRequest, folder: Path, run_number: int, progress, should_stop) -> LocateOutcome:
        arguments = ["locate", request.database, *request.photos, "-k", request.k, "--estimator", request.estimator,
                     "--bandwidth", repr(request.bandwidth_km), "--temperature", repr(request.temperature)]
        for extra in request.also:
            arguments += ["--also", extra]
        scratch = Path(tempfile.mkdtemp(prefix="photo-geolocator-"))
        try:
            if request.density_resolution is not None:
                arguments += ["--density", scratch / "density.tif", "--density-resolution",
                              repr(request.density_resolution),
                              "--density-extent", "world" if request.density_world else "around"]
            data = self.run_cli(arguments, progress, should_stop)
            density = None
            if (scratch / "density.tif").is_file():
                folder.mkdir(parents=True, exist_ok=True)
                density = str(shutil.move(scratch / "density.tif", density_target(folder, run_number)))
            return _outcome(data, density)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def locate_worldwide(self, request: WorldwideRequest, progress, should_stop) -> LocateOutcome:
        data = self.run_cli(["world", *request.photos, "--top-k", request.top_k, "--models-dir", request.models_dir],
                            progress, should_stop)
        return _outcome(data, None)

    def release_packs(self) -> None:
        """Nothing to close: each run's engine process opens its databases itself."""

    def install_pack(self, source: str, packs_dir, progress, should_stop):
        data = self.run_cli(["install", source, "--packs-dir", packs_dir], progress, should_stop)
        return PackInfo.from_dict(data)

    def close(self) -> None:
        self._database = None
        self._records = []
