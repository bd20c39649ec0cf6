"""Two ways to run geoloc_core from QGIS, with one interface the dock's tasks call:

- InProcessEngine: the engine inside QGIS's own Python (its packages installed there);
- ExternalEngine: the engine in another Python (a venv or conda env the user points to), run as a
  subprocess speaking JSON lines (`python -m geoloc_core --progress json ...`). A crash or an
  out-of-memory kill there becomes an error message instead of a dead QGIS; cancelling terminates it.

Methods that do work run in a QgsTask's worker thread: they take `progress` and `should_stop` and
return the service layer's dataclasses (geoloc_core.service, geoloc_core.results), the same from both
routes, never QGIS objects. A failure the user can fix is one of geoloc_core.errors.user_errors().
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
from pathlib import Path

from ..geoloc_core.defaults import DEFAULT_ARCHITECTURE, PLUGIN_DIR
from ..geoloc_core.errors import EngineError
from ..geoloc_core.results import BuildReport, Record
from ..geoloc_core.service import (
    BuildRequest,
    DatabaseInfo,
    LocateOutcome,
    LocateRequest,
    PackInfo,
    Session,
    TrainRequest,
    WorldwideRequest,
    install_pack,
    read_sources,
    training_brief,
    weights_for,
    write_run_density,
)


def _unique(path: Path) -> Path:
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def density_target(folder: Path, run_number: int) -> Path:
    return _unique(folder / f"photo-geolocator-run{run_number}-density.tif")


class InProcessEngine:
    """geoloc_core in QGIS's Python: the panel's calls as service requests to one Session, which keeps
    the open database and its network between runs."""

    label = "QGIS's own Python"

    def __init__(self):
        self.session = Session()

    @staticmethod
    def model_problem(name: str, models_dir) -> str | None:
        """Why a downloadable model cannot run in this Python now (packages, download); None when it can."""
        from ..geoloc_core.service import model_availability as availability

        return availability(name, models_dir)

    def open(self, path) -> DatabaseInfo:
        return self.session.open(path)

    def build(self, source, target, progress, should_stop, architecture=None, models_dir=None):
        """Create the database at `target` (None: add to the open one) with `architecture` (default: the
        bundled one; a CLIP-family model from `models_dir`); returns (info, report)."""
        candidates, skipped = read_sources(source)
        if target is None:
            database = self.session.database
            request = BuildRequest(str(database.path), add=True,
                                   weights=weights_for(database.identity.architecture, None, models_dir))
        else:
            architecture = architecture or DEFAULT_ARCHITECTURE
            request = BuildRequest(str(target), architecture=architecture,
                                   weights=weights_for(architecture, None, models_dir))
        info, report = self.session.build(request, candidates, progress, should_stop)
        report.skipped[:0] = skipped
        return info, report

    def references(self):
        return self.session.references()

    def train(self, progress, should_stop) -> tuple[DatabaseInfo, str]:
        """Train geolocation features on the open database (the head route); returns (info, summary)."""
        summary = self.session.train(TrainRequest(str(self.session.database.path)), progress, should_stop)
        return self.session.info(), training_brief(summary.to_dict())

    def locate(self, request: LocateRequest, folder: Path, run_number: int, progress, should_stop) -> LocateOutcome:
        """The run's results; its density GeoTIFF (if asked for) in `folder`, named by the run's number."""
        outcome = self.session.locate(request, progress, should_stop)
        if request.density_resolution is not None and outcome.results:
            folder.mkdir(parents=True, exist_ok=True)
            write_run_density(outcome, request, density_target(folder, run_number), should_stop=should_stop)
        return outcome

    def locate_worldwide(self, request: WorldwideRequest, progress, should_stop) -> LocateOutcome:
        return self.session.locate_worldwide(request, progress, should_stop)

    def install_pack(self, source: str, packs_dir, progress, should_stop) -> PackInfo:
        return install_pack(source, packs_dir, progress=progress, should_stop=should_stop)

    def release_packs(self) -> None:
        """Close the databases opened for a search over several (before a pack is removed)."""
        self.session.release_packs()

    def close(self) -> None:
        self.session.close()


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
        env.pop("PYTHONHOME", None)  # QGIS's own Python home must not leak into another interpreter
        # the engine runs as `-m geoloc_core` in the plugin folder: Python looks in the working folder
        # first, so the plugin's own engine answers (not another version installed there), unless told not to
        env.pop("PYTHONSAFEPATH", None)
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
        return DatabaseInfo.from_dict(data)

    def model_problem(self, name: str, models_dir) -> str | None:
        """Whether the model is downloaded; the packages are the other Python's, which says what it lacks
        when a run starts."""
        from ..geoloc_core.service import model_download_problem as download_problem

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
        return self.open(data["database"]), training_brief(data)

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
            return LocateOutcome.from_dict(data, density)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def locate_worldwide(self, request: WorldwideRequest, progress, should_stop) -> LocateOutcome:
        data = self.run_cli(["world", *request.photos, "--top-k", request.top_k, "--models-dir", request.models_dir],
                            progress, should_stop)
        return LocateOutcome.from_dict(data)

    def release_packs(self) -> None:
        """Nothing to close: each run's engine process opens its databases itself."""

    def install_pack(self, source: str, packs_dir, progress, should_stop):
        data = self.run_cli(["install", source, "--packs-dir", packs_dir], progress, should_stop)
        return PackInfo.from_dict(data)

    def close(self) -> None:
        self._database = None
        self._records = []
