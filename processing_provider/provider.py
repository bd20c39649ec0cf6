"""The Processing provider: the engine's algorithms in the Toolbox, models and qgis_process."""

from __future__ import annotations

from pathlib import Path

from qgis.core import Qgis, QgsMessageLog, QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from ..geoloc_core import dependencies
from ..ui.i18n import tr

PROVIDER_ID = "photo_geolocator"
ICON_PATH = Path(__file__).resolve().parent.parent / "resources" / "icon.svg"


class PhotoGeolocatorProvider(QgsProcessingProvider):
    """Registers the photo geolocation algorithms, or, where the engine's packages are missing,
    none, with a message saying which are missing instead of breaking the Toolbox."""

    def __init__(self):
        super().__init__()
        self.missing = []

    def id(self):
        return PROVIDER_ID

    def name(self):
        return tr("Photo Geolocator")

    def longName(self):
        if self.missing:
            return tr("Photo Geolocator (missing Python packages: {})").format(
                ", ".join(d.distribution for d in self.missing))
        return tr("Photo Geolocator: locate photos by image retrieval")

    def icon(self):
        return QIcon(str(ICON_PATH))

    def loadAlgorithms(self):
        self.missing = dependencies.missing()
        if self.missing:
            QgsMessageLog.logMessage(
                "Photo Geolocator's algorithms need these Python packages, which QGIS's Python lacks: "
                + ", ".join(d.distribution for d in self.missing) + ". Open the Photo Geolocator panel for help.",
                "Photo Geolocator", Qgis.MessageLevel.Warning)
            return
        try:
            from .algorithms import all_algorithms

            algorithms = all_algorithms()
        except Exception as exc:
            QgsMessageLog.logMessage(f"Photo Geolocator's algorithms could not be loaded: {exc!r}",
                                     "Photo Geolocator", Qgis.MessageLevel.Critical)
            return
        for algorithm in algorithms:
            self.addAlgorithm(algorithm)
