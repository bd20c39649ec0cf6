"""Mark the plugin enabled in a QGIS profile's QGIS3.ini (used by `make run`), and clear the watchdog
flag that QGIS leaves when it was killed while loading the plugin (it would disable the plugin at the
next start of this development profile)."""

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
    config.remove_option("PythonPlugins", "watchDog\\photo_geolocator")
    ini_path.parent.mkdir(parents=True, exist_ok=True)
    with ini_path.open("w", encoding="utf-8") as handle:
        config.write(handle, space_around_delimiters=False)


if __name__ == "__main__":
    enable(Path(sys.argv[1]))
