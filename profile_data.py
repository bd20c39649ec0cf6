"""The plugin's folders in the QGIS profile's data folder, `<profile>/photo_geolocator/`: installed
reference packs, models downloaded on request and privately installed packages. One set per profile,
so that the panel, Processing and `qgis_process` of a profile share them; the engine takes each
folder as a parameter. Also the packs shipped with the plugin, in resources/packs."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsApplication

BUNDLED_PACKS_DIR = Path(__file__).resolve().parent / "resources" / "packs"


def data_dir() -> Path:
    return Path(QgsApplication.qgisSettingsDirPath()) / "photo_geolocator"


def packs_dir() -> Path:
    return data_dir() / "packs"


def models_dir() -> Path:
    return data_dir() / "models"


def packages_dir() -> Path:
    return data_dir() / "python-packages"


def bundled_packs() -> list[Path]:
    """Pack files shipped with the plugin (the world starter pack)."""
    return sorted(BUNDLED_PACKS_DIR.glob("*.geolocpack"))
