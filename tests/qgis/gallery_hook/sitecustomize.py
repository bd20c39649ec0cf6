"""Put on PYTHONPATH (before the repository) by tests whose engine runs in a child Python (the external route): with
GEOLOC_TEST_GALLERY_ROWS=N, GeoCLIP's GPS gallery holds only the first N of its 100,000 points, as the
in-process tests' small_gallery fixture does, so that the child does not encode the whole gallery (about a
minute on a CPU). Production code has no such hook."""

import os

_ROWS = int(os.environ.get("GEOLOC_TEST_GALLERY_ROWS", "0") or 0)

if _ROWS:
    from functools import lru_cache

    import numpy as np

    from geoloc_core import geoclip_prior

    @lru_cache(maxsize=1)
    def _first_rows(cache_dir):
        points = np.loadtxt(geoclip_prior._geoclip_package_dir() / geoclip_prior.GALLERY_CSV, delimiter=",",
                            skiprows=1, max_rows=_ROWS)
        return geoclip_prior.GeoClipGallery(coordinates=points)

    geoclip_prior.gallery_for = _first_rows
