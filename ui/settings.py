"""Every QgsSettings key the plugin reads or writes, with its default, in one module: the panel's
sections, the engine choice and the translator go through `value`/`set_value`/`remove` here, so a key
is named once and a renamed key cannot leave a reader behind."""

from __future__ import annotations

from qgis.core import QgsSettings

from ..geoloc_core.defaults import DEFAULT_ARCHITECTURE

PREFIX = "photo_geolocator"
EXTERNAL_PYTHON = f"{PREFIX}/external_python"  # the Python the engine runs in ("": QGIS's own)
LAST_FOLDER = f"{PREFIX}/last_folder"  # where file dialogs open next
RECENT_DATABASES = f"{PREFIX}/recent_databases"  # most recent first; the first is reopened
UNCHECKED_PACKS = f"{PREFIX}/unchecked_packs"  # packs the user chose not to search
BUILD_MODEL = f"{PREFIX}/build_model"  # the network new databases are built with
PARAMETERS = f"{PREFIX}/parameters"  # group: one key per Parameters field (their defaults: the engine's)
CONTEXT = f"{PREFIX}/context"  # group: one key per "Area and trip" choice
# QGIS's own keys, read only: the interface language chosen in QGIS's options
LOCALE_OVERRIDE = "locale/overrideFlag"
LOCALE_USER = "locale/userLocale"

DEFAULTS = {
    EXTERNAL_PYTHON: "",
    LAST_FOLDER: "",
    RECENT_DATABASES: [],
    UNCHECKED_PACKS: [],
    BUILD_MODEL: DEFAULT_ARCHITECTURE,
    LOCALE_OVERRIDE: False,
    LOCALE_USER: "",
}


def value(key: str, default=None):
    """The stored value, else `default`, else the key's default in DEFAULTS. A list's key gives a list
    (QgsSettings gives a one-item list back as a string, an empty one as None)."""
    fallback = DEFAULTS.get(key) if default is None else default
    stored = QgsSettings().value(key, fallback)
    if isinstance(fallback, list):
        return [stored] if isinstance(stored, str) else list(stored or [])
    if isinstance(fallback, bool):
        return stored if isinstance(stored, bool) else str(stored).lower() == "true"
    return stored


def set_value(key: str, stored) -> None:
    QgsSettings().setValue(key, stored)


def remove(key: str) -> None:
    """Forget a key (or a group of keys, e.g. PARAMETERS)."""
    QgsSettings().remove(key)


def parameter(name: str) -> str:
    """The key of one remembered Parameters field."""
    return f"{PARAMETERS}/{name}"


def context_choice(name: str) -> str:
    """The key of one remembered "Area and trip" choice."""
    return f"{CONTEXT}/{name}"
