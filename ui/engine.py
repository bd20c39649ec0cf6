"""Two ways to run geoloc_core from QGIS, with one interface the dock's tasks call:

- InProcessEngine: the engine inside QGIS's own Python (its packages installed there);
- ExternalEngine: the engine in another Python (a venv or conda env the user points to), run as a
  subprocess (`python -m geoloc_core --progress json request -`) that reads one request as JSON on its
  stdin and answers JSON lines: progress, then the outcome or the failure. A crash or an out-of-memory
  kill there becomes an error message instead of a dead QGIS; cancelling terminates it.

Both make the same service requests (geoloc_core.service) in `Engine`, and differ only in `run`: the
in-process one hands the request to a Session, the external one sends it whole and reads the outcome
back with `from_dict`, so that no option of a request can be lost on one route. Methods that do work run
in a QgsTask's worker thread: they take `progress` and `should_stop` and return the service layer's
dataclasses, never QGIS objects. A failure the user can fix is a geoloc_core.errors.UserError.
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
from dataclasses import replace
from pathlib import Path

from ..geoloc_core.defaults import DEFAULT_ARCHITECTURE, PLUGIN_DIR
from ..geoloc_core.errors import EngineBug, EngineError
from ..geoloc_core.results import BuildReport
from ..geoloc_core.service import (
    BuildRequest,
    DatabaseInfo,
    InstallRequest,
    LocateOutcome,
    LocateRequest,
    OpenRequest,
    PackInfo,
    Request,
    Session,
    TrainRequest,
    WorldwideRequest,
    outcome_from_dict,
)


def _unique(path: Path) -> Path:
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def density_target(folder: Path, run_number: int) -> Path:
    return _unique(folder / f"photo-geolocator-run{run_number}-density.tif")


class Engine:
    """The panel's calls as service requests, the same on both routes; `run` answers one request."""

    label = ""

    def __init__(self):
        self._database: DatabaseInfo | None = None  # the open database
        self._records: list = []

    def run(self, request: Request, progress=None, should_stop=None):
        raise NotImplementedError

    def open(self, path) -> DatabaseInfo:
        opened = self.run(OpenRequest(str(path), records=True))
        self._database, self._records = opened.info, opened.records
        return opened.info

    def build(self, source, target, progress, should_stop, architecture=None, models_dir=None
              ) -> tuple[DatabaseInfo, BuildReport]:
        """Create the database at `target` (None: add to the open one) from the photos of `source` with
        `architecture` (default: the bundled one; a CLIP-family model from `models_dir`)."""
        models = str(models_dir) if models_dir else None
        if target is None:
            request = BuildRequest(self._database.path, add=True, source=str(source), models_dir=models)
        else:
            request = BuildRequest(str(target), architecture=architecture or DEFAULT_ARCHITECTURE, source=str(source),
                                   models_dir=models)
        built = self.run(request, progress, should_stop)
        return self.open(built.info.path), built.report

    def references(self) -> list:
        return self._records

    def train(self, progress, should_stop) -> tuple[DatabaseInfo, str]:
        """Train geolocation features on the open database (the head route); returns (info, summary)."""
        trained = self.run(TrainRequest(self._database.path), progress, should_stop)
        return self.open(trained.info.path), trained.brief

    def locate(self, request: LocateRequest, folder: Path, run_number: int, progress, should_stop) -> LocateOutcome:
        """The run's results; its density GeoTIFF (if asked for) in `folder`, named by the run's number."""
        target = density_target(folder, run_number) if request.density_resolution is not None else None
        return self.run(replace(request, density_path=target), progress, should_stop)

    def locate_worldwide(self, request: WorldwideRequest, progress, should_stop) -> LocateOutcome:
        return self.run(request, progress, should_stop)

    def install_pack(self, source: str, packs_dir, progress, should_stop) -> PackInfo:
        return self.run(InstallRequest(str(source), str(packs_dir) if packs_dir else None), progress, should_stop)

    def release_packs(self) -> None:
        """Close the databases opened for a search over several (before a pack is removed)."""

    def close(self) -> None:
        self._database = None
        self._records = []


class InProcessEngine(Engine):
    """geoloc_core in QGIS's Python: one Session, which keeps the open database and its network between
    runs."""

    label = "QGIS's own Python"

    def __init__(self):
        super().__init__()
        self.session = Session()

    def run(self, request: Request, progress=None, should_stop=None):
        return self.session.run(request, progress, should_stop)

    @staticmethod
    def model_problem(name: str, models_dir) -> str | None:
        """Why a downloadable model cannot run in this Python now (packages, download); None when it can."""
        from ..geoloc_core.service import model_availability as availability

        return availability(name, models_dir)

    def release_packs(self) -> None:
        self.session.release_packs()

    def close(self) -> None:
        super().close()
        self.session.close()


class ExternalEngine(Engine):
    """geoloc_core in another Python: each request is one run of its `request` command."""

    def __init__(self, python: str):
        super().__init__()
        self.python = python
        self.label = f"external Python {python}"
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

    def model_problem(self, name: str, models_dir) -> str | None:
        """Whether the model is downloaded; the packages are the other Python's, which says what it lacks
        when a run starts."""
        from ..geoloc_core.service import model_download_problem as download_problem

        return download_problem(name, models_dir)

    def run(self, request: Request, progress=None, should_stop=None):
        """Send the request whole to the other Python and read its outcome back; progress lines go to
        `progress`; `should_stop()` terminates the child (then Cancelled is raised)."""
        command = [self.python, "-m", "geoloc_core", "--progress", "json", "request", "-"]
        try:
            child = subprocess.Popen(command, cwd=PLUGIN_DIR, env=self.environment(), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        except OSError as exc:
            raise EngineError(f"{self.python}: cannot start the engine ({exc})") from None
        self.child = child
        readers: list[threading.Thread] = []
        try:
            try:
                child.stdin.write(json.dumps(request.to_dict()))
                child.stdin.close()
            except OSError:  # the child ended before reading: its own messages say why
                pass
            return outcome_from_dict(request, self._follow(child, readers, progress, should_stop))
        finally:
            self.child = None
            self._reap(child, readers)

    @staticmethod
    def _reap(child: subprocess.Popen, readers: list[threading.Thread]) -> None:
        """Wait for the child and close its pipes, whatever happened: a pipe or a process left to the
        garbage collector writes a ResourceWarning traceback into QGIS's log on every call."""
        if child.poll() is None:
            child.kill()
        child.wait()
        for reader in readers:
            reader.join(5)  # at the child's end its pipes reach end of file, so the readers return
        for pipe in (child.stdin, child.stdout, child.stderr):
            try:
                pipe.close()
            except OSError:  # the child ended before reading its request: the write was never flushed
                pass

    def _follow(self, child: subprocess.Popen, readers: list, progress, should_stop) -> dict:
        from ..geoloc_core.progress import Cancelled, Progress

        lines: queue.Queue = queue.Queue()
        errors: list[str] = []
        readers += [threading.Thread(target=lambda: [lines.put(line) for line in child.stdout] + [lines.put(None)],
                                     daemon=True),
                    threading.Thread(target=lambda: errors.extend(child.stderr), daemon=True)]
        for reader in readers:
            reader.start()
        result = failure = None
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
            elif event.get("stage") == "error":
                failure = event
            elif progress is not None:
                progress(Progress(event.get("done", 0), event.get("total", 0), event.get("stage", ""),
                                  event.get("message", "")))
        code = child.wait()
        readers[1].join(5)  # the child's last error lines
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            raise EngineError(f"the engine process crashed ({name}); QGIS is unaffected. "
                              f"Last messages: {''.join(errors[-5:]).strip() or 'none'}")
        if failure is not None:
            if failure.get("user"):
                raise EngineError(failure["message"])
            raise EngineBug(f"{failure['message']}, in the engine run by {self.python}", failure.get("details", ""))
        if result is None:
            message = "".join(errors).strip().splitlines()
            raise EngineError(message[-1].removeprefix("error: ") if message else f"the engine exited with {code}")
        return result

    def locate(self, request: LocateRequest, folder: Path, run_number: int, progress, should_stop) -> LocateOutcome:
        """As `Engine.locate`, the child writing its density files in a scratch folder first, so that a
        cancelled or crashed run leaves none behind; each photo's grid (`density_grids`) comes back from
        its GeoTIFF."""
        scratch = Path(tempfile.mkdtemp(prefix="photo-geolocator-"))
        try:
            sent = replace(request, density_path=scratch / "density.tif" if request.density_resolution is not None
                           else None, density_dir=request.density_dir or (scratch / "grids" if request.density_grids
                                                                          else None))
            outcome = self.run(sent, progress, should_stop)
            if outcome.density_path is not None:
                folder.mkdir(parents=True, exist_ok=True)
                outcome.density_path = str(shutil.move(outcome.density_path, density_target(folder, run_number)))
            if request.density_grids:
                for result in outcome.results:
                    result.density = read_density_grid(outcome.density_paths[result.photo])
                if request.density_dir is None:
                    outcome.density_paths = {}
            return outcome
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def read_density_grid(path):
    """A density GeoTIFF the engine wrote for one photo, as the DensityGrid it was written from."""
    from ..geoloc_core.service import read_density_geotiff

    return read_density_geotiff(path)
