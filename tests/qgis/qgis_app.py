"""Running a script inside the real QGIS application (its main window, under Xvfb), as `make run` starts it.

Headless PyQGIS tests load GDAL privately; the QGIS application links it, so native libraries clash
only there (pillow-heif's libheif against GDAL's crashed QGIS on every HEIC photo). Scripts run with
`--code`, write their findings as JSON to OUTPUT and quit QGIS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ..conftest import REPO_ROOT

needs_xvfb = pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run (Debian package xvfb)")

PRELUDE = '''
import faulthandler, json, sys, traceback
faulthandler.enable()
import qgis.utils
from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QDockWidget

errors = []
QgsApplication.messageLog().messageReceived.connect(
    lambda message, tag, level: errors.append([tag, message]) if level >= 2 else None)
state = {"errors": errors}


def finish():
    with open(OUTPUT, "w") as handle:
        json.dump(state, handle)
    QgsApplication.exit(0)


def guarded(step):
    """Run one step of the script; a Python error is recorded, then QGIS quits."""
    def run():
        try:
            step()
        except Exception:
            state["traceback"] = traceback.format_exc()
            finish()
    return run


iface = qgis.utils.iface
dock = iface.mainWindow().findChild(QDockWidget, "PhotoGeolocatorDock")
'''


def run_in_qgis(tmp_path: Path, script: str, timeout: int = 240) -> tuple[dict, subprocess.CompletedProcess]:
    """Start QGIS (`make run`) under Xvfb with `script` after PRELUDE; returns the state it wrote."""
    output = tmp_path / "state.json"
    code = tmp_path / "script.py"
    code.write_text(f"OUTPUT = {str(output)!r}\n{PRELUDE}\n{script}")
    # a real X display: QGIS's main window crashes on Qt's offscreen platform, which the suite uses
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "QGIS_CUSTOM_CONFIG_PATH",
                                                             "QGIS_OPTIONS_PATH")}
    result = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", "make", "-s", "run",
                             f"QGIS_ARGS=--nologo --code {code}"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    assert output.is_file(), (f"QGIS ended without finishing the script (exit {result.returncode}):\n"
                              f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    state = json.loads(output.read_text())
    assert "traceback" not in state, state["traceback"]
    return state, result


# steps a generator `walk()` on the Qt event loop, one step per timer tick, then quits QGIS
DRIVER = '''
driver = walk()


def tick():
    try:
        next(driver)
    except StopIteration:
        finish()
        return
    except Exception:
        state["traceback"] = traceback.format_exc()
        finish()
        return
    QTimer.singleShot(50, tick)


QTimer.singleShot(1000, tick)
'''
