"""The list of algorithms the provider offers."""


def all_algorithms():
    """Fresh instances of every algorithm (QGIS takes ownership of each)."""
    return []
