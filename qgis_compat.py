"""Enum names that moved between QGIS 3.22 and QGIS 4: each constant takes the newest spelling the
running QGIS has, so the same code runs on both (fully qualified, never bare)."""

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
SOURCE_VECTOR = _first(lambda: Qgis.ProcessingSourceType.Vector, lambda: QgsProcessing.SourceType.TypeVector)
FIELD_STRING = _first(lambda: Qgis.ProcessingFieldParameterDataType.String,
                      lambda: QgsProcessingParameterField.DataType.String)
WKB_POINT = _first(lambda: Qgis.WkbType.Point, lambda: QgsWkbTypes.Type.Point)
WKB_POLYGON = _first(lambda: Qgis.WkbType.Polygon, lambda: QgsWkbTypes.Type.Polygon)
WKB_MULTIPOLYGON = _first(lambda: Qgis.WkbType.MultiPolygon, lambda: QgsWkbTypes.Type.MultiPolygon)
WKB_NO_GEOMETRY = _first(lambda: Qgis.WkbType.NoGeometry, lambda: QgsWkbTypes.Type.NoGeometry)


def make_field(name: str, kind: type) -> QgsField:
    """A QgsField for a Python type (str, int, float), with the type enum this QGIS expects."""
    if Qgis.versionInt() >= 33800:
        from qgis.PyQt.QtCore import QMetaType

        meta = {int: QMetaType.Type.Int, float: QMetaType.Type.Double}.get(kind, QMetaType.Type.QString)
        return QgsField(name, meta)
    from qgis.PyQt.QtCore import QVariant

    variant = {int: QVariant.Type.Int, float: QVariant.Type.Double}.get(kind, QVariant.Type.String)
    return QgsField(name, variant)
