"""Result tables as QGIS fields and features (EPSG:4326), shared by the dock's layers and Processing."""

from __future__ import annotations

from pathlib import PurePath

from qgis.core import QgsEditorWidgetSetup, QgsFeature, QgsFields, QgsGeometry, QgsPointXY
from qgis.PyQt.QtCore import QByteArray

from .geoloc_core.circles import geodesic_polygons
from .geoloc_core.files import display_path
from .geoloc_core.schema import (
    ALTERNATIVE_FIELDS,
    CELL_FIELDS,
    ERROR_LINE_FIELDS,
    EVALUATION_FIELDS,
    GPS_ERROR_FIELD,
    KNOWN_FIELDS,
    NEIGHBOUR_FIELDS,
    PREDICTION_FIELDS,
    REFERENCE_FIELDS,
    REVIEW_STATUSES,
    THUMBNAIL_FIELD,
    UNCERTAINTY_FIELDS,
    UNCERTAINTY_LEVELS,
    alternative_rows,
    error_summary,
    field_help,
    neighbour_rows,
    prediction_rows,
    uncertainty_radius,
)
from .qgis_compat import make_field


def qgs_fields(schema) -> QgsFields:
    """The fields of a result table, each with its alias (units) and comment (meaning): schema.FIELD_HELP."""
    fields = QgsFields()
    for name, kind in schema:
        field = make_field(name, kind)
        alias, comment = field_help(name)
        field.setAlias(alias)
        field.setComment(comment)
        fields.append(field)
    return fields


PREDICTIONS = qgs_fields(PREDICTION_FIELDS)
# the panel's layer: with each photo's face and, where known, its error
MAP_PREDICTIONS = qgs_fields(PREDICTION_FIELDS + (THUMBNAIL_FIELD, GPS_ERROR_FIELD))
ALTERNATIVES = qgs_fields(ALTERNATIVE_FIELDS)
KNOWN = qgs_fields(KNOWN_FIELDS)
ERROR_LINES = qgs_fields(ERROR_LINE_FIELDS)
NEIGHBOURS = qgs_fields(NEIGHBOUR_FIELDS)
UNCERTAINTY = qgs_fields(UNCERTAINTY_FIELDS)
EVALUATION = qgs_fields(EVALUATION_FIELDS)
REFERENCES = qgs_fields(REFERENCE_FIELDS)
CELLS = qgs_fields(CELL_FIELDS)


def _feature(fields: QgsFields, values: dict, geometry: QgsGeometry | None) -> QgsFeature:
    feature = QgsFeature(fields)
    feature.setAttributes([values.get(fields.at(i).name()) for i in range(fields.count())])
    if geometry is not None:
        feature.setGeometry(geometry)
    return feature


def _point(lat: float, lon: float) -> QgsGeometry:
    return QgsGeometry.fromPointXY(QgsPointXY(lon, lat))


def prediction_features(results, database: str, run_time: str) -> list[QgsFeature]:
    return [_feature(PREDICTIONS, row, _point(row["lat"], row["lon"]))
            for row in prediction_rows(results, database, run_time)]


def map_prediction_features(results, database: str, run_time: str, thumbnails: dict, error_km) -> list[QgsFeature]:
    """The panel's predictions: `thumbnails` photo -> JPEG bytes, `error_km(result)` (None where unknown)."""
    def blob(data: bytes | None):
        return QByteArray(data) if data else None  # a Python bytes value does not convert to a blob field

    return [_feature(MAP_PREDICTIONS, {**row, "thumbnail": blob(thumbnails.get(r.photo)), "gps_error_km": error_km(r)},
                     _point(row["lat"], row["lon"]))
            for r, row in zip(results, prediction_rows(results, database, run_time))]


def alternative_features(results) -> list[QgsFeature]:
    return [_feature(ALTERNATIVES, row, _point(row["lat"], row["lon"])) for row in alternative_rows(results)]


def known_features(results, known: dict, error_km) -> list[QgsFeature]:
    """A point at each GPS-tagged photo's own place; `known`: photo -> (lat, lon), `error_km(result)`."""
    return [_feature(KNOWN, {"photo": display_path(r.photo), "file_name": display_path(PurePath(r.photo).name),
                             "lat": known[r.photo][0], "lon": known[r.photo][1], "error_km": error_km(r)},
                     _point(*known[r.photo])) for r in results if r.photo in known]


def error_line_features(results, known: dict, error_km) -> list[QgsFeature]:
    """A line from each GPS-tagged photo's prediction to its own place, carrying the error (km); none where
    the error is not scored (`error_km` None: an anchor placed at its own GPS)."""
    return [_feature(ERROR_LINES, {"photo": display_path(r.photo), "file_name": display_path(PurePath(r.photo).name),
                                   "error_km": error_km(r)},
                     QgsGeometry.fromPolylineXY([QgsPointXY(r.lon, r.lat), QgsPointXY(known[r.photo][1],
                                                                                       known[r.photo][0])]))
            for r in results if r.photo in known and error_km(r) is not None]


def neighbour_features(results) -> list[QgsFeature]:
    return [_feature(NEIGHBOURS, row, _point(row["lat"], row["lon"])) for row in neighbour_rows(results)]


def uncertainty_features(results) -> list[QgsFeature]:
    features = []
    for r in results:
        for level in UNCERTAINTY_LEVELS:
            radius = uncertainty_radius(r, level)
            polygons = [[[QgsPointXY(x, y) for x, y in ring] for ring in polygon]
                        for polygon in geodesic_polygons(r.lat, r.lon, radius)]
            features.append(_feature(UNCERTAINTY, {"photo": display_path(r.photo), "level": level, "radius_km": radius},
                                     QgsGeometry.fromMultiPolygonXY(polygons)))
    return features


def reference_features(records) -> list[QgsFeature]:
    return [_feature(REFERENCES, {"record_id": rec.id, "path": display_path(rec.path), "lat": rec.lat, "lon": rec.lon,
                                  "time": rec.time, "width": rec.width, "height": rec.height},
                     _point(rec.lat, rec.lon)) for rec in records]


def evaluation_features(rows) -> list[QgsFeature]:
    return [_feature(EVALUATION, {**vars(row), "left_out": int(row.left_out)}, None) for row in rows]


def cell_features(partition) -> list[QgsFeature]:
    return [_feature(CELLS, {"token": c.token, "face": c.face, "level": c.level, "count": c.count, "lat": c.lat,
                             "lon": c.lon}, QgsGeometry.fromPolygonXY([[QgsPointXY(x, y) for x, y in c.boundary()]]))
            for c in partition.cells]


def review_status_widget() -> QgsEditorWidgetSetup:
    """A drop-down of the review states for the predictions' `review_status` field."""
    return QgsEditorWidgetSetup("ValueMap", {"map": [{status: status} for status in REVIEW_STATUSES]})


def batch_summary(results, error_km) -> dict | None:
    """The batch summary (schema.error_summary) over the results whose `error_km(result)` is known."""
    return error_summary(e for e in map(error_km, results) if e is not None)
