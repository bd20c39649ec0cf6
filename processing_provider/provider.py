"""The Processing provider: the engine's algorithms in the Toolbox, models and qgis_process."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

PROVIDER_ID = "photo_geolocator"
ICON_PATH = Path(__file__).resolve().parent.parent / "resources" / "icon.svg"


class PhotoGeolocatorProvider(QgsProcessingProvider):
    """Registers the photo geolocation algorithms."""

    def id(self):
        return PROVIDER_ID

    def name(self):
        return "Photo Geolocator"

    def longName(self):  # noqa: N802 (QGIS API name)
        return "Photo Geolocator: locate photos by image retrieval"

    def icon(self):
        return QIcon(str(ICON_PATH))

    def loadAlgorithms(self):  # noqa: N802 (QGIS API name)
        from .algorithms import all_algorithms

        for algorithm in all_algorithms():
            self.addAlgorithm(algorithm)
