"""Translations: tr() marks user-visible text; install_translator() loads i18n/photo_geolocator_<lang>.qm
for QGIS's user interface language. scripts/update_translations.py collects the tr() texts into the
template i18n/photo_geolocator.ts that translators copy (photo_geolocator_de.ts, …); lrelease compiles them."""

from __future__ import annotations

from pathlib import Path

from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator

from . import settings

CONTEXT = "PhotoGeolocator"
I18N_DIR = Path(__file__).resolve().parent.parent / "i18n"


def tr(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


def interface_language() -> str:
    """QGIS's interface language ('de'), as set in its options, else the system's."""
    chosen = settings.value(settings.LOCALE_USER) if settings.value(settings.LOCALE_OVERRIDE) else ""
    return (chosen or QLocale.system().name())[:2]


def install_translator() -> QTranslator | None:
    """Load and install this plugin's translation for the interface language, where there is one."""
    path = I18N_DIR / f"photo_geolocator_{interface_language()}.qm"
    translator = QTranslator()
    if not path.is_file() or not translator.load(str(path)):
        return None
    QCoreApplication.installTranslator(translator)
    return translator
