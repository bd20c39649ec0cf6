"""QGIS start-up time with the plugin enabled against disabled, measured in one run (under Xvfb).

Each start opens QGIS on a throwaway profile, runs a one-line script that quits at once, and is
timed from launch to exit; the two settings alternate so that drift hits both alike.

    .venv/bin/python bench/startup.py [--runs 4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from common import REPO_ROOT

QUIT = ("from qgis.PyQt.QtCore import QTimer\nfrom qgis.core import QgsApplication\n"
        "QTimer.singleShot(0, QgsApplication.exit)\n")


def start_once(profiles: Path, enabled: bool, script: Path) -> float:
    settings = profiles / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(f"[PythonPlugins]\nphoto_geolocator={'true' if enabled else 'false'}\n")
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["PYTHONPATH"] = sysconfig.get_paths()["purelib"]
    started = time.perf_counter()
    subprocess.run(["xvfb-run", "-a", "qgis", "--profiles-path", str(profiles), "--profile", "default", "--nologo",
                    "--code", str(script)], env=env, capture_output=True, timeout=300, check=False)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args()
    if not shutil.which("xvfb-run") or not shutil.which("qgis"):
        sys.exit("needs qgis and xvfb-run (make setup installs them)")
    with tempfile.TemporaryDirectory() as tmp:
        profiles = Path(tmp) / "profiles"
        plugin = profiles / "profiles" / "default" / "python" / "plugins" / "photo_geolocator"
        plugin.parent.mkdir(parents=True)
        plugin.symlink_to(REPO_ROOT, target_is_directory=True)
        script = Path(tmp) / "quit.py"
        script.write_text(QUIT)
        start_once(profiles, True, script)  # warm the disk cache and QGIS's first-run set-up
        times = {True: [], False: []}
        for _ in range(args.runs):
            for enabled in (False, True):
                times[enabled].append(start_once(profiles, enabled, script))
    off, on = statistics.median(times[False]), statistics.median(times[True])
    spread = max(statistics.pstdev(times[False]), statistics.pstdev(times[True]))
    print(f"QGIS start to exit, median of {args.runs}: plugin disabled {off:.2f} s, enabled {on:.2f} s "
          f"(difference {on - off:+.2f} s, ratio {on / off:.3f}; run-to-run spread {spread:.2f} s)")
    print("within noise" if abs(on - off) <= max(2 * spread, 0.05 * off) else "NOT within noise")


if __name__ == "__main__":
    main()
