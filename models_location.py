"""Where the plugin keeps models downloaded on request (CLIP family): the QGIS profile's data folder, so
that the panel, Processing and `qgis_process` of one profile share one download."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsApplication


def models_dir() -> Path:
    return Path(QgsApplication.qgisSettingsDirPath()) / "photo_geolocator" / "models"


def weights_or_models_dir(architecture: str, weights: str | None) -> str | None:
    """The weights a user gave, else for a downloadable model this profile's models folder."""
    from .geoloc_core.clip_embedders import DOWNLOADABLE

    return weights or (str(models_dir()) if architecture in DOWNLOADABLE else None)
