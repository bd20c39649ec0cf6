"""Result tables as QGIS fields and features (EPSG:4326), shared by the dock's layers and Processing."""

from __future__ import annotations

from qgis.core import QgsFeature, QgsFields, QgsGeometry, QgsPointXY

from .geoloc_core.circles import geodesic_polygons
from .geoloc_core.files import display_path
from .geoloc_core.schema import (
    CELL_FIELDS,
    EVALUATION_FIELDS,
    NEIGHBOUR_FIELDS,
    PREDICTION_FIELDS,
    REFERENCE_FIELDS,
    UNCERTAINTY_FIELDS,
    UNCERTAINTY_LEVELS,
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
