"""Render the README's screenshot: a QGIS main window with the dock after a real run, under Xvfb.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot.py docs/screenshot.png
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def main(output: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        plugins = Path(tmp) / "plugins"
        plugins.mkdir()
        (plugins / "photo_geolocator").symlink_to(ROOT, target_is_directory=True)
        sys.path[:0] = [str(plugins), str(ROOT)]

        from qgis.core import QgsApplication, QgsCoordinateReferenceSystem, QgsProject, QgsRectangle, QgsVectorLayer
        from qgis.gui import QgsMapCanvas, QgsMessageBar
        from qgis.PyQt.QtCore import QSize, Qt
        from qgis.PyQt.QtWidgets import QMainWindow, QVBoxLayout, QWidget

        app = QgsApplication([], True)
        app.initQgis()
        from qgis.gui import QgsLayerTreeMapCanvasBridge

        window = QMainWindow()
        window.setWindowTitle("QGIS: Photo Geolocator")
        central = QWidget(window)
        layout = QVBoxLayout(central)
        bar = QgsMessageBar(central)
        canvas = QgsMapCanvas(central)
        canvas.setCanvasColor(Qt.GlobalColor.white)
        layout.addWidget(bar)
        layout.addWidget(canvas)
        window.setCentralWidget(central)
        bridge = QgsLayerTreeMapCanvasBridge(QgsProject.instance().layerTreeRoot(), canvas)
        canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))

        class Iface:
            def messageBar(self):  # noqa: N802
                return bar

            def mapCanvas(self):  # noqa: N802
                return canvas

        world = QgsVectorLayer("/usr/share/qgis/resources/data/world_map.gpkg|layername=countries", "Countries", "ogr")
        world.renderer().symbol().setColor(Qt.GlobalColor.lightGray)
        QgsProject.instance().addMapLayer(world)

        from geoloc_core.database import build_database
        from geoloc_core.embedders import load_embedder
        from geoloc_core.sources import from_csv, from_folder

        walk, _ = from_folder(SHARED / "photos" / "exif-samples" / "jpg" / "gps")
        query = next(c for c in walk if c.path.name == "DSCN0010.jpg")
        world_refs, _ = from_csv(SHARED / "flickr-cc" / "manifest.csv")
        database, _ = build_database(Path(tmp) / "field-photos.geoloc",
                                     [c for c in walk if c is not query] + world_refs, load_embedder())
        database.close()

        from photo_geolocator.ui.dock import PhotoGeolocatorDock

        dock = PhotoGeolocatorDock(Iface(), window)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.output_widget.setFilePath(tmp)
        def wait_for_dock():
            while dock.task is not None:
                app.processEvents()
                time.sleep(0.02)

        dock.open_database(Path(tmp) / "field-photos.geoloc")
        wait_for_dock()
        dock.add_photos([str(query.path), str(SHARED / "photos" / "exif-samples" / "jpg" / "gps" / "DSCN0040.jpg")])
        dock.k_spin.setValue(30)
        window.resize(QSize(1600, 1000))
        window.show()
        dock.start_run()
        wait_for_dock()
        dock.results_table.selectRow(0)
        canvas.setExtent(QgsRectangle(-2.0, 34.0, 26.0, 50.0))
        canvas.refreshAllLayers()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            app.processEvents()
            canvas.waitWhileRendering()
            time.sleep(0.05)
        window.grab().save(str(output))
        print("wrote", output)
        dock.shutdown()
        del bridge
        QgsProject.instance().clear()
        app.exitQgis()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshot.png")
