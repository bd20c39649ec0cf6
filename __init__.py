"""QGIS entry point of the Photo Geolocator plugin."""


def classFactory(iface):
    """Return the plugin instance; QGIS calls this once when it loads the plugin."""
    from .plugin import PhotoGeolocatorPlugin
    from .ui.installer import activate_packages_folder

    activate_packages_folder()  # packages the panel installed into the profile, if any
    return PhotoGeolocatorPlugin(iface)
