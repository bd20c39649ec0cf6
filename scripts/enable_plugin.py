"""Mark the plugin enabled in a QGIS profile's QGIS3.ini (used by `make run`)."""

import configparser
import sys
from pathlib import Path


def enable(ini_path: Path) -> None:
    config = configparser.ConfigParser(interpolation=None, strict=False)
    config.optionxform = str  # QGIS keys are case sensitive
    if ini_path.exists():
        config.read(ini_path, encoding="utf-8")
    if not config.has_section("PythonPlugins"):
        config.add_section("PythonPlugins")
    config.set("PythonPlugins", "photo_geolocator", "true")
    ini_path.parent.mkdir(parents=True, exist_ok=True)
    with ini_path.open("w", encoding="utf-8") as handle:
        config.write(handle, space_around_delimiters=False)


if __name__ == "__main__":
    enable(Path(sys.argv[1]))
