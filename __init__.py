"""QGIS entry point of the Photo Geolocator plugin."""


def classFactory(iface):
    """Return the plugin instance; QGIS calls this once when it loads the plugin."""
    from .plugin import PhotoGeolocatorPlugin
    from .ui.installer import activate_packages_folder, keep_triton_out

    activate_packages_folder()  # packages the panel installed into the profile, if any
    keep_triton_out()
    return PhotoGeolocatorPlugin(iface)
