"""Writing results: CSV, GeoJSON (plain Python), GeoPackage and GeoTIFF (GDAL's Python bindings).

Every file is written beside its destination and renamed into place, so an interrupted export
never leaves a half-written file, and an existing file is never replaced unless asked.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path

from .estimators import DensityGrid
from .geo import geodesic_circle
from .locate import LocationResult
from .storage import atomic_write, atomic_write_bytes

PREDICTION_FIELDS = ("photo", "file_name", "lat", "lon", "confidence", "radius50_km", "radius90_km", "estimator",
                     "k", "nearest_distance", "database", "run_time")
NEIGHBOUR_FIELDS = ("photo", "rank", "distance", "similarity", "weight", "lat", "lon", "reference_path",
                    "record_id")
FORMATS = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}


class ExportError(Exception):
    pass


def prediction_rows(results: Sequence[LocationResult], database: str = "", run_time: str = "") -> list[dict]:
    return [{
        "photo": r.photo, "file_name": Path(r.photo).name, "lat": r.lat, "lon": r.lon,
        "confidence": r.confidence, "radius50_km": r.radius50_km, "radius90_km": r.radius90_km,
        "estimator": r.estimator, "k": r.k, "nearest_distance": r.neighbours[0].distance if r.neighbours else None,
        "database": database, "run_time": run_time,
    } for r in results]


def neighbour_rows(results: Sequence[LocationResult]) -> list[dict]:
    return [{
        "photo": r.photo, "rank": n.rank, "distance": n.distance, "similarity": n.similarity, "weight": n.weight,
        "lat": n.lat, "lon": n.lon, "reference_path": n.path, "record_id": n.record_id,
    } for r in results for n in r.neighbours]


def _check_target(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise ExportError(f"{path}: file exists; choose another name or allow overwriting")
    if not path.parent.is_dir():
        raise ExportError(f"{path.parent}: folder not found")


def _csv_bytes(rows: list[dict], fields: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _geojson_bytes(rows: list[dict]) -> bytes:
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
                 "properties": row} for row in rows]
    return json.dumps({"type": "FeatureCollection", "features": features}, indent=1).encode("utf-8")


def neighbours_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}-neighbours{output.suffix}")


def write_results(output: str | os.PathLike, results: Sequence[LocationResult], database: str = "",
                  run_time: str = "", overwrite: bool = False, uncertainty: bool = True) -> list[Path]:
    """Write predictions and neighbours; CSV and GeoJSON get a second `-neighbours` file, a
    GeoPackage gets layers `predictions`, `neighbours` and (optionally) `uncertainty`."""
    output = Path(output)
    kind = FORMATS.get(output.suffix.lower())
    if kind is None:
        raise ExportError(f"{output}: unknown output format; use .csv, .geojson or .gpkg")
    predictions = prediction_rows(results, database, run_time)
    neighbours = neighbour_rows(results)
    if kind == "gpkg":
        _check_target(output, overwrite)
        atomic_write(output, lambda tmp: _write_gpkg(tmp, results, predictions, neighbours, uncertainty))
        return [output]
    second = neighbours_path(output)
    for target in (output, second):
        _check_target(target, overwrite)
    if kind == "csv":
        atomic_write_bytes(output, _csv_bytes(predictions, PREDICTION_FIELDS))
        atomic_write_bytes(second, _csv_bytes(neighbours, NEIGHBOUR_FIELDS))
    else:
        atomic_write_bytes(output, _geojson_bytes(predictions))
        atomic_write_bytes(second, _geojson_bytes(neighbours))
    return [output, second]


def _ogr():
    try:
        from osgeo import ogr, osr
    except ImportError as exc:
        raise ExportError("GeoPackage and GeoTIFF output need GDAL's Python bindings (osgeo), which come "
                          "with QGIS; use .csv or .geojson otherwise") from exc
    ogr.UseExceptions()
    osr.UseExceptions()
    return ogr, osr


def _write_gpkg(path: Path, results, predictions: list[dict], neighbours: list[dict], uncertainty: bool) -> None:
    ogr, osr = _ogr()
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    if path.exists():
        path.unlink()
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    try:
        _add_point_layer(ogr, source, "predictions", wgs84, PREDICTION_FIELDS, predictions)
        _add_point_layer(ogr, source, "neighbours", wgs84, NEIGHBOUR_FIELDS, neighbours)
        if uncertainty:
            layer = source.CreateLayer("uncertainty", wgs84, ogr.wkbPolygon)
            for name, kind in (("photo", ogr.OFTString), ("level", ogr.OFTInteger), ("radius_km", ogr.OFTReal)):
                layer.CreateField(ogr.FieldDefn(name, kind))
            for result in results:
                for level, radius in ((50, result.radius50_km), (90, result.radius90_km)):
                    feature = ogr.Feature(layer.GetLayerDefn())
                    feature.SetField("photo", result.photo)
                    feature.SetField("level", level)
                    feature.SetField("radius_km", radius)
                    ring = ogr.Geometry(ogr.wkbLinearRing)
                    for x, y in geodesic_circle(result.lat, result.lon, radius):
                        ring.AddPoint_2D(x, y)
                    polygon = ogr.Geometry(ogr.wkbPolygon)
                    polygon.AddGeometry(ring)
                    feature.SetGeometry(polygon)
                    layer.CreateFeature(feature)
    finally:
        source = None  # closes the file  # noqa: F841


def _add_point_layer(ogr, source, name: str, srs, fields: Sequence[str], rows: list[dict]) -> None:
    layer = source.CreateLayer(name, srs, ogr.wkbPoint)
    sample = rows[0] if rows else {}
    for field in fields:
        value = sample.get(field)
        kind = ogr.OFTInteger if isinstance(value, int) and not isinstance(value, bool) else (
            ogr.OFTReal if isinstance(value, float) else ogr.OFTString)
        if field in ("lat", "lon", "confidence", "radius50_km", "radius90_km", "distance", "similarity", "weight",
                     "nearest_distance"):
            kind = ogr.OFTReal
        layer.CreateField(ogr.FieldDefn(field, kind))
    layer.StartTransaction()
    for row in rows:
        feature = ogr.Feature(layer.GetLayerDefn())
        for field in fields:
            if row.get(field) is not None:
                feature.SetField(field, row[field])
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(row["lon"], row["lat"])
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    layer.CommitTransaction()


def write_density_geotiff(path: str | os.PathLike, grid: DensityGrid, overwrite: bool = False) -> Path:
    """The density as a float32 GeoTIFF in EPSG:4326 (probability per km^2), deflate-compressed."""
    path = Path(path)
    _check_target(path, overwrite)
    _, osr = _ogr()
    from osgeo import gdal

    gdal.UseExceptions()

    def write(tmp: Path) -> None:
        rows, cols = grid.values.shape
        dataset = gdal.GetDriverByName("GTiff").Create(str(tmp), cols, rows, 1, gdal.GDT_Float32,
                                                       options=["COMPRESS=DEFLATE", "PREDICTOR=3"])
        dataset.SetGeoTransform(grid.geotransform)
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(4326)
        dataset.SetProjection(srs.ExportToWkt())
        band = dataset.GetRasterBand(1)
        band.WriteArray(grid.values)
        band.SetDescription("probability density per km2")
        dataset.FlushCache()
        dataset = None  # noqa: F841

    atomic_write(path, write)
    return path
