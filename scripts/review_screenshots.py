"""Render the user guide's review screenshots in the real QGIS main window (as `make run` starts it): the
evidence view of a located photo, and the review after accepting one photo, moving one and rejecting one
(the map, the moved pin beside the star of the prediction, the density hidden; and the panel).
Run by QGIS itself, under Xvfb:

    xvfb-run -a -s "-screen 0 1600x1000x24" make -s run \
        QGIS_ARGS="--nologo --code scripts/review_screenshots.py"

It locates three photos of ../shared against the world starter pack that `make run` installs, and writes
docs/images/evidence-view.png and docs/images/review.png (each kept under 200 KB).
"""

import tempfile
import traceback
from pathlib import Path

import qgis.utils
from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsProject,
    QgsRectangle,
)
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtGui import QPainter, QPixmap
from qgis.PyQt.QtWidgets import QDockWidget


def locate_root() -> Path:
    import photo_geolocator

    return Path(photo_geolocator.__file__).resolve().parent


ROOT = locate_root()
SHARED = ROOT.parent / "shared"
PHOTOS = [SHARED / "photos" / "exif-samples" / "jpg" / "gps" / "DSCN0010.jpg",
          SHARED / "flickr-cc" / "photos" / "35642138.jpg", SHARED / "flickr-cc" / "photos" / "28042777.jpg"]
IMAGES = ROOT / "docs" / "images"
MAX_BYTES = 200_000
iface = qgis.utils.iface
window = iface.mainWindow()
dock = window.findChild(QDockWidget, "PhotoGeolocatorDock")
scratch = tempfile.TemporaryDirectory()


def idle():
    while dock.task is not None or dock.photos.reading() or dock.review.evidence.reader.pending:
        yield


def save(pixmap, name: str) -> None:
    """As PNG, scaled down until it fits MAX_BYTES."""
    target = IMAGES / name
    while True:
        pixmap.save(str(target))
        if target.stat().st_size <= MAX_BYTES:
            break
        pixmap = pixmap.scaledToWidth(int(pixmap.width() * 0.85), Qt.TransformationMode.SmoothTransformation)
    print(f"wrote {target.relative_to(ROOT)} ({pixmap.width()}x{pixmap.height()}, {target.stat().st_size} bytes)",
          flush=True)


def steps():
    IMAGES.mkdir(parents=True, exist_ok=True)
    window.resize(1600, 1000)
    window.showMaximized()
    dock.show()
    yield from idle()
    dock.context.set_database(None)  # the starter pack alone: its thumbnails come with their credits
    dock.options.output_widget.setFilePath(scratch.name)
    dock.photos.add_photos([str(p) for p in PHOTOS])
    yield from idle()
    dock.options.k_spin.setValue(12)
    dock.run_button.click()
    yield from idle()
    iface.messageBar().clearWidgets()
    run = dock.runs[-1]
    dock.results_section.results_table.selectRow(0)
    yield from idle()
    for _ in range(20):
        yield
    dock.scroll.ensureWidgetVisible(dock.review)
    save(dock.review.grab(), "evidence-view.png")

    dock.review.accept()
    dock.review.stepRequested.emit(1)
    yield from idle()
    result = dock.review.result
    dock.review.move_to(result.lat + 0.12, result.lon - 0.18)
    dock.review.note_edit.setText("the harbour, not the old town")
    dock.review.save_note()
    dock.review.stepRequested.emit(1)
    yield from idle()
    dock.review.reject()
    dock.review.stepRequested.emit(-1)  # back to the moved photo: its pin and its note
    yield from idle()
    canvas = iface.mapCanvas()
    QgsProject.instance().mapLayer(run.layer_ids["predictions"]).removeSelection()
    QgsProject.instance().layerTreeRoot().findLayer(run.layer_ids["density"]).setItemVisibilityChecked(False)
    moved = dock.review.current_review()
    around = QgsRectangle(min(moved.lon, result.lon) - 0.3, min(moved.lat, result.lat) - 0.2,
                          max(moved.lon, result.lon) + 0.3, max(moved.lat, result.lat) + 0.2)
    canvas.setExtent(QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"),
                                            canvas.mapSettings().destinationCrs(),
                                            QgsProject.instance()).transformBoundingBox(around))
    canvas.refreshAllLayers()
    for _ in range(40):
        canvas.waitWhileRendering()
        yield
    dock.scroll.ensureWidgetVisible(dock.review.note_edit)
    for _ in range(10):
        yield
    panel, map_area = dock.grab(), canvas.grab()
    side = map_area.copy(map_area.rect().adjusted(map_area.width() // 6, 0, -map_area.width() // 6, 0))
    combined = QPixmap(side.width() + panel.width(), max(side.height(), panel.height()))
    combined.fill(Qt.GlobalColor.white)
    painter = QPainter(combined)
    painter.drawPixmap(0, 0, side)
    painter.drawPixmap(side.width(), 0, panel)
    painter.end()
    save(combined, "review.png")


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
