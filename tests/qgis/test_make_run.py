"""`make run` (the README's main command) starts QGIS with the plugin enabled, under Xvfb."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from ..conftest import REPO_ROOT

CHECK = '''
import json
import qgis.utils
from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QDockWidget

errors = []
QgsApplication.messageLog().messageReceived.connect(
    lambda message, tag, level: errors.append([tag, message]) if level >= 2 else None)


def report():
    provider = QgsApplication.processingRegistry().providerById("photo_geolocator")
    dock = qgis.utils.iface.mainWindow().findChild(QDockWidget, "PhotoGeolocatorDock")
    json.dump({"active": qgis.utils.active_plugins,
               "dock": dock is not None,
               "packs": dock.packs_panel.checked_paths() if dock is not None else [],
               "can_run": dock is not None and dock.run_button.isEnabled(),
               "algorithms": len(provider.algorithms()) if provider else 0, "errors": errors},
              open(OUTPUT, "w"))
    QgsApplication.exit(0)


QTimer.singleShot(10000, report)  # stays up ten seconds first
'''


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run (Debian package xvfb)")
def test_make_run_starts_qgis_with_the_plugin(tmp_path):
    output = tmp_path / "state.json"
    script = tmp_path / "check.py"
    script.write_text(f"OUTPUT = {str(output)!r}\n{CHECK}")
    # a real X display (Xvfb): QGIS's main window crashes on Qt's offscreen platform, which the suite uses
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "QGIS_CUSTOM_CONFIG_PATH",
                                                             "QGIS_OPTIONS_PATH")}
    result = subprocess.run(["xvfb-run", "-a", "make", "-s", "run", f"QGIS_ARGS=--nologo --code {script}"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert output.is_file(), f"QGIS did not run the check script:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    state = json.loads(output.read_text())
    assert "photo_geolocator" in state["active"]
    assert state["dock"] and state["algorithms"] == 6
    # a first-time user can locate at once: the starter pack is installed in the profile and ticked
    assert [os.path.basename(p) for p in state["packs"]] == ["world-starter"] and state["can_run"]
    assert not [e for e in state["errors"] if "python" in e[0].lower() or "photo" in e[0].lower()], state["errors"]
    assert "Traceback" not in result.stderr
