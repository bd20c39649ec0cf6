"""Enum names and calls that moved between QGIS 3.22 and QGIS 4: each constant takes the newest spelling
the running QGIS has (fully qualified, never bare), and each function calls the current API where this QGIS
has it and the one it replaced otherwise, so the same code runs on 3.22, 3.40 and 3.44 without deprecation
warnings."""

from __future__ import annotations

from qgis.core import (
    Qgis,
    QgsField,
    QgsProcessing,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsWkbTypes,
)


def _first(*getters):
    for getter in getters:
        try:
            return getter()
        except AttributeError:
            continue
    raise AttributeError("none of the enum spellings exists in this QGIS")


FILE_BEHAVIOUR_FOLDER = _first(lambda: Qgis.ProcessingFileParameterBehavior.Folder,
                               lambda: QgsProcessingParameterFile.Behavior.Folder)
FILE_BEHAVIOUR_FILE = _first(lambda: Qgis.ProcessingFileParameterBehavior.File,
                             lambda: QgsProcessingParameterFile.Behavior.File)
NUMBER_INTEGER = _first(lambda: Qgis.ProcessingNumberParameterType.Integer,
                        lambda: QgsProcessingParameterNumber.Type.Integer)
NUMBER_DOUBLE = _first(lambda: Qgis.ProcessingNumberParameterType.Double,
                       lambda: QgsProcessingParameterNumber.Type.Double)
SOURCE_VECTOR_POINT = _first(lambda: Qgis.ProcessingSourceType.VectorPoint,
                             lambda: QgsProcessing.SourceType.TypeVectorPoint)
SOURCE_VECTOR_POLYGON = _first(lambda: Qgis.ProcessingSourceType.VectorPolygon,
                               lambda: QgsProcessing.SourceType.TypeVectorPolygon)
SOURCE_VECTOR_LINE = _first(lambda: Qgis.ProcessingSourceType.VectorLine,
                            lambda: QgsProcessing.SourceType.TypeVectorLine)
SOURCE_VECTOR = _first(lambda: Qgis.ProcessingSourceType.Vector, lambda: QgsProcessing.SourceType.TypeVector)
SOURCE_FILE = _first(lambda: Qgis.ProcessingSourceType.File, lambda: QgsProcessing.SourceType.TypeFile)
FIELD_STRING = _first(lambda: Qgis.ProcessingFieldParameterDataType.String,
                      lambda: QgsProcessingParameterField.DataType.String)
WKB_POINT = _first(lambda: Qgis.WkbType.Point, lambda: QgsWkbTypes.Type.Point)
WKB_POLYGON = _first(lambda: Qgis.WkbType.Polygon, lambda: QgsWkbTypes.Type.Polygon)
WKB_MULTIPOLYGON = _first(lambda: Qgis.WkbType.MultiPolygon, lambda: QgsWkbTypes.Type.MultiPolygon)
WKB_LINESTRING = _first(lambda: Qgis.WkbType.LineString, lambda: QgsWkbTypes.Type.LineString)
WKB_LINESTRING_M = _first(lambda: Qgis.WkbType.LineStringM, lambda: QgsWkbTypes.Type.LineStringM)
GEOMETRY_POLYGON = _first(lambda: Qgis.GeometryType.Polygon, lambda: QgsWkbTypes.GeometryType.PolygonGeometry)
WKB_NO_GEOMETRY = _first(lambda: Qgis.WkbType.NoGeometry, lambda: QgsWkbTypes.Type.NoGeometry)


def raster_band_maximum(layer, band: int) -> float:
    """The largest value in a band of a GDAL raster layer (0 where it holds none). GDAL reads it from the
    layer's source: on QGIS 3.40 and newer every overload of QgsRasterInterface.bandStatistics() that
    Python reaches is deprecated."""
    from osgeo import gdal

    try:
        dataset = gdal.Open(layer.source())
        extremes = dataset.GetRasterBand(band).ComputeRasterMinMax(False) if dataset is not None else None
    except RuntimeError:  # where gdal.UseExceptions() is on: no data in the band, or an unreadable source
        return 0.0
    return float(extremes[1]) if extremes else 0.0


def layer_abstract(layer) -> str:
    """A layer's abstract: on its server properties from QGIS 3.38 (QgsMapLayer.abstract() is deprecated)."""
    properties = layer.serverProperties() if hasattr(layer, "serverProperties") else None
    if properties is not None and hasattr(properties, "abstract"):
        return properties.abstract()
    return layer.abstract()


def set_layer_abstract(layer, text: str) -> None:
    properties = layer.serverProperties() if hasattr(layer, "serverProperties") else None
    if properties is not None and hasattr(properties, "setAbstract"):
        properties.setAbstract(text)
    else:
        layer.setAbstract(text)


def empty_rectangle():
    """A rectangle that any combineExtentWith() replaces (setNull() from 3.34; setMinimal() before)."""
    from qgis.core import QgsRectangle

    rectangle = QgsRectangle()
    if hasattr(rectangle, "setNull"):
        rectangle.setNull()
    else:
        rectangle.setMinimal()
    return rectangle


def save_style_to_database(layer, name: str, description: str, use_as_default: bool) -> None:
    """Store the layer's current style in its data source (a GeoPackage's layer_styles table); raises
    OSError with the provider's message when it cannot."""
    if hasattr(layer, "saveStyleToDatabaseV2"):  # 3.44: saveStyleToDatabase() is deprecated
        from qgis.core import QgsMapLayer

        results, message = layer.saveStyleToDatabaseV2(name, description, use_as_default, "")
        fatal = QgsMapLayer.SaveStyleResult.DatabaseWriteFailed | QgsMapLayer.SaveStyleResult.QmlGenerationFailed
        failed = bool(int(results) & int(fatal))  # an SLD that cannot be generated is no loss: QGIS reads the QML
    else:
        message = layer.saveStyleToDatabase(name, description, use_as_default, "")
        failed = bool(message)
    if failed:
        raise OSError(f"the style {name!r} could not be stored in {layer.source()}: {message}")


def make_field(name: str, kind: type) -> QgsField:
    """A QgsField for a Python type (str, int, float, bytes), with the type enum this QGIS expects."""
    if Qgis.versionInt() >= 33800:
        from qgis.PyQt.QtCore import QMetaType

        meta = {int: QMetaType.Type.Int, float: QMetaType.Type.Double,
                bytes: QMetaType.Type.QByteArray}.get(kind, QMetaType.Type.QString)
        return QgsField(name, meta)
    from qgis.PyQt.QtCore import QVariant

    variant = {int: QVariant.Type.Int, float: QVariant.Type.Double,
               bytes: QVariant.Type.ByteArray}.get(kind, QVariant.Type.String)
    return QgsField(name, variant)
