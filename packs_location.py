"""Where the plugin keeps reference packs: the QGIS profile's data folder, so that each profile has its
own and `qgis_process` finds the ones the panel installed; and the packs shipped in resources/packs."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsApplication

BUNDLED_PACKS_DIR = Path(__file__).resolve().parent / "resources" / "packs"


def packs_dir() -> Path:
    return Path(QgsApplication.qgisSettingsDirPath()) / "photo_geolocator" / "packs"


def bundled_packs() -> list[Path]:
    """Pack files shipped with the plugin (the world starter pack)."""
    return sorted(BUNDLED_PACKS_DIR.glob("*.geolocpack"))
