"""The Photo Geolocator dock panel."""

from __future__ import annotations

from qgis.gui import QgsDockWidget
from qgis.PyQt.QtWidgets import QLabel, QVBoxLayout, QWidget


class PhotoGeolocatorDock(QgsDockWidget):
    """Where the user picks a reference database and the photos to locate."""

    def __init__(self, iface, parent=None):
        super().__init__("Photo Geolocator", parent)
        self.iface = iface
        body = QWidget(self)
        layout = QVBoxLayout(body)
        self.database_label = QLabel("No reference database is open yet.", body)
        self.database_label.setObjectName("databaseLabel")
        self.database_label.setWordWrap(True)
        layout.addWidget(self.database_label)
        layout.addStretch(1)
        self.setWidget(body)

    def shutdown(self):
        """Stop whatever the panel started; called when the plugin unloads."""
