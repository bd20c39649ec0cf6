"""The map tool that moves a prediction's pin: press on the map, drag, release where the photo was taken.
With snapping on, the pin jumps to the nearest of the photo's neighbours within a few pixels (a reference
photo's place is often exactly where the analyst recognises the scene). Escape gives the canvas back."""

from __future__ import annotations

from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsPointXY, QgsProject
from qgis.gui import QgsMapTool, QgsVertexMarker
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor

WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")
SNAP_PIXELS = 15  # how near (on screen) a neighbour must be for the pin to snap to it
PIN_COLOUR = QColor(0, 140, 70)


class MovePinTool(QgsMapTool):
    """Drags one photo's pin; `moved(lat, lon)` on release, `cancelled()` on Escape."""

    moved = pyqtSignal(float, float)
    cancelled = pyqtSignal()

    def __init__(self, canvas, start: tuple[float, float], snap_targets: list[tuple[float, float]],
                 snap_pixels: int | None = SNAP_PIXELS):
        super().__init__(canvas)
        self.start = start  # (lat, lon) where the pin stands now
        self.snap_targets = snap_targets  # (lat, lon) of the photo's neighbours
        self.snap_pixels = snap_pixels  # None: no snapping
        self.dragging = False
        self.position = start
        self.pin = None
        self.setCursor(Qt.CursorShape.CrossCursor)

    def _to_canvas(self) -> QgsCoordinateTransform:
        return QgsCoordinateTransform(WGS84, self.canvas().mapSettings().destinationCrs(), QgsProject.instance())

    def _place(self, pixel) -> tuple[float, float]:
        """(lat, lon) under a canvas pixel, or the nearest neighbour's place within snap_pixels of it."""
        if self.snap_pixels:
            to_canvas, to_pixels = self._to_canvas(), self.canvas().getCoordinateTransform()
            best, nearest = None, float(self.snap_pixels)
            for lat, lon in self.snap_targets:
                on_screen = to_pixels.transform(to_canvas.transform(QgsPointXY(lon, lat)))
                gap = ((on_screen.x() - pixel.x()) ** 2 + (on_screen.y() - pixel.y()) ** 2) ** 0.5
                if gap <= nearest:
                    best, nearest = (lat, lon), gap
            if best is not None:
                return best
        to_wgs84 = QgsCoordinateTransform(self.canvas().mapSettings().destinationCrs(), WGS84, QgsProject.instance())
        point = to_wgs84.transform(self.toMapCoordinates(pixel))
        return point.y(), point.x()

    def _show_pin(self, lat: float, lon: float) -> None:
        if self.pin is None:
            self.pin = QgsVertexMarker(self.canvas())
            self.pin.setIconType(QgsVertexMarker.IconType.ICON_CIRCLE)
            self.pin.setColor(PIN_COLOUR)
            self.pin.setIconSize(14)
            self.pin.setPenWidth(3)
        self.pin.setCenter(self._to_canvas().transform(QgsPointXY(lon, lat)))

    def activate(self):
        super().activate()
        self._show_pin(*self.start)

    def deactivate(self):
        if self.pin is not None:
            self.canvas().scene().removeItem(self.pin)
            self.pin = None
        self.dragging = False
        super().deactivate()

    def canvasPressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            self.dragging = True
            self.position = self._place(event.pos())
            self._show_pin(*self.position)

    def canvasMoveEvent(self, event):
        if self.dragging:
            self.position = self._place(event.pos())
            self._show_pin(*self.position)

    def canvasReleaseEvent(self, event):
        if self.dragging and event.button() == Qt.MouseButton.LeftButton:
            self.dragging = False
            self.position = self._place(event.pos())
            self.moved.emit(*self.position)

    def keyPressEvent(self, event):
        if event.key() == Qt.Key.Key_Escape:
            self.dragging = False
            self.cancelled.emit()
            event.accept()
