"""QGIS entry point of the Photo Geolocator plugin."""


def classFactory(iface):  # noqa: N802 (name required by QGIS)
    """Return the plugin instance; QGIS calls this once when it loads the plugin."""
    from .plugin import PhotoGeolocatorPlugin

    return PhotoGeolocatorPlugin(iface)
