"""What differs between QGIS releases (3.22, 3.40 LTR, 3.44): HEIC pixels decoded through the running QGIS's
GDAL against the engine's own decoder (pillow-heif), the API calls qgis_compat routes, and a short engine run
(`make test-qgis QGIS=3.44` runs this file on each release's Python and numpy)."""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np
import pytest
from PIL import Image

from geoloc_core import photos

from ..conftest import shared_path

pytestmark = pytest.mark.qgis


def _gdal_heif_driver() -> bool:
    try:
        from osgeo import gdal
    except ImportError:
        return False
    return gdal.GetDriverByName("HEIF") is not None


needs_gdal_heif = pytest.mark.skipif(not _gdal_heif_driver(), reason="this GDAL has no HEIF driver")


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_pillow_heif_decodes_the_reference_heic_to_its_recorded_pixels():
    decoded = np.asarray(photos.load_photo(photos.HEIF_REFERENCE, 0), dtype=np.int16)
    recorded = np.asarray(Image.open(photos.HEIF_REFERENCE_PIXELS).convert("RGB"), dtype=np.int16)
    assert decoded.shape == recorded.shape
    assert np.abs(decoded - recorded).mean() <= photos.HEIF_TOLERANCE


@pytest.fixture
def as_inside_qgis(monkeypatch):
    """The HEIC route of the QGIS application, where GDAL has loaded the system's libheif globally."""
    library = ctypes.util.find_library("heif")
    if library is None:
        pytest.skip("no system libheif (QGIS's GDAL links one)")
    photos.heif_decoder.cache_clear()
    photos.heif_mismatch.cache_clear()
    monkeypatch.setattr(photos, "libheif_in_global_scope", lambda: True)
    monkeypatch.setattr(photos, "loaded_libheif", lambda: ctypes.CDLL(library))
    yield
    photos.heif_decoder.cache_clear()
    photos.heif_mismatch.cache_clear()


def test_the_system_libheif_decodes_the_reference_heic_as_pillow_heif(as_inside_qgis):
    assert photos.heif_mismatch() is None
    assert photos.heif_decoder() == "libheif"
    decoded = np.asarray(photos.load_photo(photos.HEIF_REFERENCE, 0), dtype=np.int16)
    recorded = np.asarray(Image.open(photos.HEIF_REFERENCE_PIXELS).convert("RGB"), dtype=np.int16)
    assert np.abs(decoded - recorded).mean() <= photos.HEIF_TOLERANCE


def test_a_libheif_that_decodes_wrong_pixels_is_not_used(as_inside_qgis, monkeypatch, tmp_path):
    wrong = tmp_path / "wrong.png"
    Image.new("RGB", (96, 64), (0, 136, 0)).save(wrong)
    monkeypatch.setattr(photos, "HEIF_REFERENCE_PIXELS", wrong)
    assert "levels off" in photos.heif_mismatch()
    with pytest.raises(photos.PhotoError, match="cannot be decoded inside this QGIS: the libheif loaded here"):
        photos.load_photo(photos.HEIF_REFERENCE)


@pytest.mark.slow
@needs_gdal_heif
@pytest.mark.parametrize("name", ["IMG_5195.HEIC", "mobile/HMD_Nokia_8.3_5G.heif"])
def test_a_real_heic_gives_the_same_features_inside_qgis_as_in_the_engine(embedder, monkeypatch, name):
    """The Nokia photo is rotated: GDAL 3.13's HEIF driver (QGIS 3.44) decodes its tiles wrong."""
    path = shared_path("photos", "exif-samples", "heic", *name.split("/"))
    photos.heif_decoder.cache_clear()
    engine = embedder.embed_images([photos.load_photo(path)])[0]
    photos.heif_decoder.cache_clear()
    library = ctypes.util.find_library("heif")
    monkeypatch.setattr(photos, "libheif_in_global_scope", lambda: True)
    monkeypatch.setattr(photos, "loaded_libheif", lambda: ctypes.CDLL(library))
    try:
        assert photos.heif_decoder() == "libheif", photos.heif_mismatch()
        in_qgis = embedder.embed_images([photos.load_photo(path)])[0]
        assert photos.image_size(path) == photos.load_photo(path, 0).size
    finally:
        photos.heif_decoder.cache_clear()
        photos.heif_mismatch.cache_clear()
    assert cosine(engine, in_qgis) >= 0.999


def test_compat_calls_give_the_current_api_s_results(qgis_new_project, plugin_module, tmp_path):
    from qgis.core import QgsPointXY, QgsRasterLayer, QgsVectorLayer

    qgis_compat = plugin_module("qgis_compat")

    layer = QgsVectorLayer("Point?crs=EPSG:4326", "points", "memory")
    qgis_compat.set_layer_abstract(layer, "where the photos were taken")
    assert qgis_compat.layer_abstract(layer) == "where the photos were taken"
    rectangle = qgis_compat.empty_rectangle()
    rectangle.combineExtentWith(QgsPointXY(10, 45))
    rectangle.combineExtentWith(QgsPointXY(12, 46))
    assert (rectangle.xMinimum(), rectangle.yMaximum(), rectangle.width()) == (10, 46, 2)
    pixels = tmp_path / "pixels.png"  # GDAL writes its statistics beside the file
    pixels.write_bytes(photos.HEIF_REFERENCE_PIXELS.read_bytes())
    raster = QgsRasterLayer(str(pixels), "pixels", "gdal")
    assert raster.isValid()
    assert qgis_compat.raster_band_maximum(raster, 1) >= 250
    assert qgis_compat.raster_band_maximum(QgsRasterLayer(str(tmp_path / "missing.tif"), "missing", "gdal"), 1) == 0


def test_a_style_is_stored_in_a_geopackage_and_read_back(qgis_new_project, plugin_module, tmp_path):
    from qgis.core import QgsProject, QgsVectorFileWriter, QgsVectorLayer

    qgis_compat = plugin_module("qgis_compat")

    source = QgsVectorLayer("Point?crs=EPSG:4326&field=name:string", "points", "memory")
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    error = QgsVectorFileWriter.writeAsVectorFormatV3(source, str(tmp_path / "styled.gpkg"),
                                                      QgsProject.instance().transformContext(), options)
    assert error[0] == QgsVectorFileWriter.WriterError.NoError, error
    layer = QgsVectorLayer(str(tmp_path / "styled.gpkg"), "points", "ogr")
    qgis_compat.save_style_to_database(layer, "points", "a style", True)
    names = layer.listStylesInDatabase()
    assert "points" in names[2], names


@pytest.mark.engine_smoke
def test_the_engine_embeds_on_this_python_and_numpy(embedder):
    import skimage.data

    features = embedder.embed_images([Image.fromarray(skimage.data.chelsea()), Image.fromarray(skimage.data.coffee())])
    assert features.shape == (2, 1280) and features.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, atol=1e-5)
    cat, coffee = embedder.imagenet_logits([Image.fromarray(skimage.data.chelsea()),
                                            Image.fromarray(skimage.data.coffee())]).argmax(axis=1)
    assert 281 <= cat <= 285 and coffee == 967
