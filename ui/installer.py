"""Installing the engine's packages for a stock QGIS, without a terminal.

Packages go with pip into a private folder in the QGIS profile (not the plugin folder, so plugin
upgrades keep them, and never QGIS's own site-packages). The folder is appended to sys.path, so
QGIS's own packages (numpy and GDAL's bindings above all) keep precedence over anything installed.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from qgis.core import QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from ..profile_data import packages_dir
from .i18n import tr

# CPU-only PyTorch builds (a few hundred MB instead of several GB of CUDA libraries). Where that index
# cannot be reached, pip takes PyPI's torch, which on Linux is the CUDA build (about 3 GB of wheels).
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_SIZE_NOTE = ("Linux: where download.pytorch.org cannot be reached, torch comes from PyPI as its CUDA build "
                   "(about 3 GB to download, 5 GB on disk)")


def packages_folder() -> Path:
    return packages_dir()


def activate_packages_folder(folder: Path | None = None) -> bool:
    """Make packages installed there importable now (appended: QGIS's own packages win)."""
    folder = folder or packages_folder()
    if not folder.is_dir():
        return False
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
        importlib.invalidate_caches()
    return True


def keep_triton_out() -> None:
    """Tell QGIS's Python that there is no triton. A CUDA build of torch imports triton (its GPU kernel
    compiler) as soon as torch._dynamo loads, which torchvision and transformers import (GeoCLIP, the CLIP
    models); triton's own LLVM then clashes with the libLLVM that Mesa has loaded into the QGIS application
    and the import kills QGIS (SIGSEGV; tests/test_worldwide_dock.py walks it in the real window). The
    engine runs torch eagerly on the CPU and compiles no kernels, so nothing is lost."""
    sys.modules.setdefault("triton", None)


def _python_candidates() -> list[Path]:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    executable = Path(sys.executable)
    candidates = []
    if executable.name.lower().startswith("python"):
        candidates.append(executable)  # a plain interpreter (also what tests run under)
    if sys.platform == "win32":  # OSGeo4W and the standalone installer: apps/Python3x/python.exe
        candidates += [Path(sys.exec_prefix) / "python.exe", Path(sys.base_exec_prefix) / "python.exe"]
    elif sys.platform == "darwin":  # QGIS.app/Contents/MacOS/bin/python3
        candidates += [Path(sys.prefix) / "bin" / f"python{version}", Path(sys.prefix) / "bin" / "python3"]
    else:
        candidates += [Path(sys.base_prefix) / "bin" / f"python{version}", Path("/usr/bin") / f"python{version}",
                       Path(sys.base_prefix) / "bin" / "python3"]
    return candidates


def qgis_python() -> str:
    """The interpreter matching the Python running inside QGIS (same major.minor), to run pip with."""
    wanted = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in _python_candidates():
        if not candidate.is_file():
            continue
        try:
            found = subprocess.run([str(candidate), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                   capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            continue
        if found == wanted:
            return str(candidate)
    raise FileNotFoundError(f"no Python {wanted} interpreter found beside QGIS (looked at "
                            + ", ".join(str(c) for c in _python_candidates()) + ")")


def pip_command(python: str, specs: list[str], target: Path, cpu_torch: bool = True) -> list[str]:
    command = [python, "-m", "pip", "install", "--target", str(target), "--upgrade", "--no-input",
               "--disable-pip-version-check", "--progress-bar", "off"]
    if cpu_torch and sys.platform != "darwin" and any(s.split("<")[0].split("=")[0] in ("torch", "torchvision")
                                                       for s in specs):
        command += ["--extra-index-url", TORCH_CPU_INDEX]
    return command + specs


def numpy_spec(version: str) -> str:
    """numpy on the major version of the one QGIS runs: QGIS's GDAL bindings are built against it (numpy 1
    on QGIS 3.22-3.34 builds, 2 on Debian's 3.40 and 3.44), and packages built for the other major do not load
    beside it."""
    major = int(version.split(".")[0])
    return f"numpy>={major},<{major + 1}"


def missing_specs() -> list[str]:
    from ..geoloc_core.service import missing_dependencies

    missing = [d.distribution for d in missing_dependencies()]
    if not missing or "numpy" in missing:
        return missing
    import numpy

    return missing + [numpy_spec(numpy.__version__)]


class InstallTask(QgsTask):
    """Runs pip in the background; each line of its output goes to `logLine`; cancel stops pip."""

    logLine = pyqtSignal(str)

    def __init__(self, specs: list[str], target: Path, on_finished, python: str | None = None):
        super().__init__(tr("Installing Photo Geolocator's packages"), QgsTask.Flag.CanCancel)
        self.specs = specs
        self.target = target
        self.python = python
        self._on_finished = on_finished
        self.error: str | None = None
        self.log: list[str] = []

    def setOnFinished(self, on_finished) -> None:
        self._on_finished = on_finished

    def _say(self, line: str) -> None:
        self.log.append(line)
        self.logLine.emit(line)

    def run(self) -> bool:
        try:
            python = self.python or qgis_python()
        except FileNotFoundError as exc:
            self.error = str(exc)
            return False
        self.target.mkdir(parents=True, exist_ok=True)
        command = pip_command(python, self.specs, self.target)
        if sys.platform.startswith("linux") and TORCH_CPU_INDEX in command:
            self._say(TORCH_SIZE_NOTE)
        self._say("$ " + " ".join(command))
        try:
            child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        except OSError as exc:
            self.error = f"cannot run pip: {exc}"
            return False
        for line in child.stdout:
            self._say(line.rstrip())
            if self.isCanceled():
                child.terminate()
                child.wait()
                self._say("cancelled")
                return False
        code = child.wait()
        if code != 0:
            errors = [line for line in self.log if "error" in line.lower()]
            self.error = (errors[-1] if errors else f"pip exited with status {code}")
            return False
        return True

    def finished(self, ok: bool) -> None:
        self._on_finished(self, ok)
