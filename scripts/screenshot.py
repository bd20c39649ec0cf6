"""Render the README's screenshots in the real QGIS main window (as `make run` starts it) after a real run:
the whole window (dock and map) and the map canvas alone. Run by QGIS itself, under Xvfb:

    xvfb-run -a -s "-screen 0 1600x1000x24" make -s run \
        QGIS_ARGS="--nologo --code scripts/screenshot.py"

It writes docs/screenshot.png and docs/screenshot-map.png; it builds its reference database (the walk
photos and the flickr-cc photos of ../shared, ~620 photos) in a temporary folder first (minutes on a CPU).
"""

import tempfile
import time
import traceback
from pathlib import Path

import qgis.utils
from qgis.core import QgsApplication, QgsRectangle
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QDockWidget


def locate_root() -> Path:
    import photo_geolocator

    return Path(photo_geolocator.__file__).resolve().parent


ROOT = locate_root()
SHARED = ROOT.parent / "shared"
WALK = SHARED / "photos" / "exif-samples" / "jpg" / "gps"
iface = qgis.utils.iface
window = iface.mainWindow()
dock = window.findChild(QDockWidget, "PhotoGeolocatorDock")
scratch = tempfile.TemporaryDirectory()


def idle():
    while dock.task is not None:
        yield


def steps():
    from photo_geolocator.geoloc_core.embedders import load_embedder
    from photo_geolocator.geoloc_core.ingest import build_database
    from photo_geolocator.geoloc_core.sources import from_csv, from_folder

    walk, _ = from_folder(WALK)
    query = [c for c in walk if c.path.name in ("DSCN0010.jpg", "DSCN0040.jpg")]
    world, _ = from_csv(SHARED / "flickr-cc" / "manifest.csv")
    database, _ = build_database(Path(scratch.name) / "field-photos.geoloc",
                                 [c for c in walk if c not in query] + world, load_embedder())
    database.close()
    window.resize(1600, 1000)
    window.showMaximized()
    dock.show()
    dock.output_widget.setFilePath(scratch.name)
    dock.open_database(Path(scratch.name) / "field-photos.geoloc")
    yield from idle()
    dock.add_photos([str(c.path) for c in query] + [str(SHARED / "photos" / "exif-samples" / "heic" / "IMG_5195.HEIC")])
    dock.k_spin.setValue(30)
    dock.start_run()
    yield from idle()
    iface.messageBar().clearWidgets()
    dock.results_table.selectRow(0)
    canvas = iface.mapCanvas()
    canvas.setExtent(QgsRectangle(-2.0, 34.0, 26.0, 50.0))
    canvas.refreshAllLayers()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        canvas.waitWhileRendering()
        yield
    window.grab().save(str(ROOT / "docs" / "screenshot.png"))
    canvas.grab().save(str(ROOT / "docs" / "screenshot-map.png"))
    print("wrote docs/screenshot.png and docs/screenshot-map.png", flush=True)


driver = steps()


def tick():
    try:
        next(driver)
    except StopIteration:
        QgsApplication.exit(0)
        return
    except Exception:
        traceback.print_exc()
        QgsApplication.exit(1)
        return
    QTimer.singleShot(50, tick)


QTimer.singleShot(1000, tick)
