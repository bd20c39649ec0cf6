"""The density layer is drawn with its values interpolated between cell centres (bilinear), so that a
density at the auto resolution (cells of the bandwidth / 8) looks as smooth as it is."""

from __future__ import annotations

import numpy as np
from qgis.core import QgsRasterDataProvider

from geoloc_core import estimators as est
from geoloc_core.defaults import AUTO_DENSITY_RESOLUTION
from geoloc_core.export import write_density_geotiff

from ..engine.test_density_windows import cluster


def test_the_density_layer_is_drawn_bilinear(qgis_app, plugin_module, tmp_path):
    lat, lon = cluster(45.0, 10.0, 20, 2.0)
    grid = est.photo_density(lat, lon, np.ones(20), 500.0, AUTO_DENSITY_RESOLUTION)
    layer = plugin_module("ui.results").density_layer(str(write_density_geotiff(tmp_path / "d.tif", grid)), "d")
    provider = layer.dataProvider()
    assert layer.isValid() and layer.rasterUnitsPerPixelX() == grid.resolution == 0.5
    assert provider.isProviderResamplingEnabled()
    assert provider.zoomedInResamplingMethod() == QgsRasterDataProvider.ResamplingMethod.Bilinear
