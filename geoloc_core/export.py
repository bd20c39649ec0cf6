"""Writing results: CSV, GeoJSON (plain Python), GeoPackage and GeoTIFF (GDAL's Python bindings).

Every file is written beside its destination and renamed into place, so an interrupted export
never leaves a half-written file, and an existing file is never replaced unless asked. Where an export
is two files (CSV, GeoJSON), both are written before either is renamed: a full disk leaves neither.
Text cells that a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .circles import geodesic_polygons
from .errors import ExportError
from .estimators import DensityGrid
from .files import display_path, write_csv
from .locate import LocationResult
from .schema import (
    CELL_FIELDS,
    NEIGHBOUR_FIELDS,
    PREDICTION_FIELDS,
    UNCERTAINTY_FIELDS,
    UNCERTAINTY_LEVELS,
    names,
    neighbour_rows,
    prediction_rows,
    uncertainty_radius,
)
from .storage import atomic_write, atomic_write_bytes

PREDICTION_NAMES = names(PREDICTION_FIELDS)
NEIGHBOUR_NAMES = names(NEIGHBOUR_FIELDS)
DENSITY_BAND_DESCRIPTION = "probability density per km2"
ALL_PHOTOS_BAND = "all photos (highest density of any photo, per km2)"
FORMATS = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}


def _check_target(path: Path, overwrite: bool) -> None:
    if path.is_dir():
        raise ExportError(f"{display_path(path)}: is a folder; give a file name")
    if path.exists() and not overwrite:
        raise ExportError(f"{display_path(path)}: file exists; choose another name or allow overwriting")
    if not path.parent.is_dir():
        raise ExportError(f"{display_path(path.parent)}: folder not found")


def check_file_output(path: str | os.PathLike, overwrite: bool = False) -> None:
    """ExportError unless `path` can be written (callers check before the work)."""
    _check_target(Path(path), overwrite)


def _written(target: Path, write) -> None:
    """Run an atomic write of `target`, turning a full disk, a read-only folder or a GDAL failure into an
    ExportError naming the target (not its temporary file)."""
    try:
        write()
    except OSError as exc:
        reason = "no space left on the disk" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc.strerror or exc
        raise ExportError(f"{display_path(target)}: cannot be written ({reason}); nothing was replaced") from None
    except RuntimeError as exc:  # GDAL/OGR with exceptions on: disk full, unwritable folder...
        raise ExportError(f"{display_path(target)}: cannot be written ({' '.join(str(exc).split())}); "
                          "nothing was replaced") from None


def _csv_bytes(rows: list[dict], fields: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    write_csv(buffer, fields, rows, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def _valid_text(row: dict) -> dict:
    """A row whose text is valid UTF-8 (a database folder or photo name that is not is shown as its bytes)."""
    return {name: display_path(value) if isinstance(value, str) else value for name, value in row.items()}


def _geojson_bytes(rows: list[dict]) -> bytes:
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
                 "properties": _valid_text(row)} for row in rows]
    return json.dumps({"type": "FeatureCollection", "features": features}, indent=1).encode("utf-8")


def _clip_ring(ring: list[tuple[float, float]], west: float, east: float) -> list[tuple[float, float]]:
    """The part of a closed (lon, lat) ring between two meridians (Sutherland-Hodgman against each)."""
    points = ring[:-1]
    for edge, inside in ((west, lambda x: x >= west), (east, lambda x: x <= east)):
        clipped = []
        for k, (x, y) in enumerate(points):
            px, py = points[k - 1]
            if inside(x) != inside(px):
                t = (edge - px) / (x - px)
                clipped.append((edge, py + t * (y - py)))
            if inside(x):
                clipped.append((x, y))
        points = clipped
    return points + points[:1] if len(points) >= 3 else []


def world_polygons(ring: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """A ring whose longitudes run past +-180 (a cell across the antimeridian) split there into rings within
    the world, as RFC 7946 asks of GeoJSON; a ring within the world as it is."""
    if all(-180.0 <= x <= 180.0 for x, _ in ring):
        return [ring]
    pieces = []
    for shift in (-360.0, 0.0, 360.0):
        piece = _clip_ring([(x + shift, y) for x, y in ring], -180.0, 180.0)
        width = max((x for x, _ in piece), default=0.0) - min((x for x, _ in piece), default=0.0)
        if piece and width > 1e-9:
            pieces.append(piece)
    return pieces


def write_cells(output: str | os.PathLike, cells, overwrite: bool = False) -> Path:
    """Geocells as polygons (token, face, level, count, centroid) in GeoJSON or a GeoPackage layer; a cell
    across the antimeridian is split there (a MultiPolygon), so that every longitude stays within +-180."""
    output = Path(output)
    _check_target(output, overwrite)
    rows = [{"token": c.token, "face": c.face, "level": c.level, "count": c.count, "lat": c.lat, "lon": c.lon,
             "rings": world_polygons(c.boundary())} for c in cells.cells]
    if output.suffix.lower() in (".geojson", ".json"):
        features = [{"type": "Feature", "geometry": _polygon_json(row.pop("rings")), "properties": row}
                    for row in rows]
        data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
        _written(output, lambda: atomic_write_bytes(output, data))
        return output
    if output.suffix.lower() != ".gpkg":
        raise ExportError(f"{output}: use .geojson or .gpkg for geocells")
    ogr, osr = _ogr(output)

    def write(tmp: Path) -> None:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(4326)
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        source = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp))
        try:
            layer = source.CreateLayer("geocells", srs, ogr.wkbMultiPolygon)
            for name, kind in CELL_FIELDS:
                layer.CreateField(ogr.FieldDefn(name, _ogr_type(ogr, kind)))
            for row in rows:
                feature = ogr.Feature(layer.GetLayerDefn())
                for name, _ in CELL_FIELDS:
                    feature.SetField(name, row[name])
                feature.SetGeometry(ogr.CreateGeometryFromJson(json.dumps(
                    {"type": "MultiPolygon", "coordinates": [[ring] for ring in row["rings"]]})))
                layer.CreateFeature(feature)
        finally:
            with _closing_checked():
                layer = feature = source = None

    _written(output, lambda: atomic_write(output, write))
    return output


def _polygon_json(rings: list) -> dict:
    if len(rings) == 1:
        return {"type": "Polygon", "coordinates": rings}
    return {"type": "MultiPolygon", "coordinates": [[ring] for ring in rings]}


def neighbours_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}-neighbours{output.suffix}")


def check_results_output(output: str | os.PathLike, overwrite: bool = False) -> str:
    """The format of a results file ('csv', 'geojson' or 'gpkg'), once its files are known writable
    (ExportError otherwise); callers check it before the work, write_results again."""
    output = Path(output)
    kind = FORMATS.get(output.suffix.lower())
    if kind is None:
        raise ExportError(f"{display_path(output)}: unknown output format; use .csv, .geojson or .gpkg")
    for target in (output,) if kind == "gpkg" else (output, neighbours_path(output)):
        _check_target(target, overwrite)
    return kind


def write_results(output: str | os.PathLike, results: Sequence[LocationResult], database: str = "",
                  run_time: str = "", overwrite: bool = False, uncertainty: bool = True) -> list[Path]:
    """Write predictions and neighbours; CSV and GeoJSON get a second `-neighbours` file, a
    GeoPackage gets layers `predictions`, `neighbours` and (optionally) `uncertainty`."""
    output = Path(output)
    kind = check_results_output(output, overwrite)
    predictions = prediction_rows(results, database, run_time)
    neighbours = neighbour_rows(results)
    if kind == "gpkg":
        _written(output, lambda: atomic_write(
            output, lambda tmp: _write_gpkg(tmp, results, predictions, neighbours, uncertainty)))
        return [output]
    second = neighbours_path(output)
    if kind == "csv":
        first_bytes, second_bytes = _csv_bytes(predictions, PREDICTION_NAMES), _csv_bytes(neighbours, NEIGHBOUR_NAMES)
    else:
        first_bytes, second_bytes = _geojson_bytes(predictions), _geojson_bytes(neighbours)

    def write_both(first_tmp: Path) -> None:
        # The neighbours are written and renamed only once the predictions' temporary file is complete,
        # and the predictions are renamed last: a failure leaves neither file replaced.
        first_tmp.write_bytes(first_bytes)
        atomic_write_bytes(second, second_bytes)

    _written(output, lambda: atomic_write(output, write_both))
    return [output, second]


def _ogr(target: Path):
    if display_path(target) != str(target):
        raise ExportError(f"{display_path(target)}: GDAL cannot write a file whose name is not valid UTF-8; "
                          "choose another name")
    try:
        from osgeo import ogr, osr
    except ImportError as exc:
        raise ExportError("GeoPackage and GeoTIFF output need GDAL's Python bindings (osgeo), which come "
                          "with QGIS; use .csv or .geojson otherwise") from exc
    ogr.UseExceptions()
    osr.UseExceptions()
    return ogr, osr


def _write_gpkg(path: Path, results, predictions: list[dict], neighbours: list[dict], uncertainty: bool) -> None:
    ogr, osr = _ogr(path)
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    try:
        _add_point_layer(ogr, source, "predictions", wgs84, PREDICTION_FIELDS, predictions)
        _add_point_layer(ogr, source, "neighbours", wgs84, NEIGHBOUR_FIELDS, neighbours)
        if uncertainty:
            layer = source.CreateLayer("uncertainty", wgs84, ogr.wkbMultiPolygon)
            for name, kind in UNCERTAINTY_FIELDS:
                layer.CreateField(ogr.FieldDefn(name, _ogr_type(ogr, kind)))
            for result in results:
                for level in UNCERTAINTY_LEVELS:
                    radius = uncertainty_radius(result, level)
                    feature = ogr.Feature(layer.GetLayerDefn())
                    feature.SetField("photo", display_path(result.photo))
                    feature.SetField("level", level)
                    feature.SetField("radius_km", radius)
                    feature.SetGeometry(ogr.CreateGeometryFromJson(json.dumps(
                        {"type": "MultiPolygon", "coordinates": geodesic_polygons(result.lat, result.lon, radius)})))
                    layer.CreateFeature(feature)
    finally:
        with _closing_checked():
            layer = feature = source = None


@contextlib.contextmanager
def _closing_checked():
    """Around dropping the last reference to a GDAL dataset: with exceptions on, a failed close (the last
    blocks flushed to a full disk) raises inside a destructor, where Python can only print it; here
    it is caught as GDAL's last error and raised as a RuntimeError from the write instead. GDAL keeps
    one stack of the modules whose exceptions are on (the QGIS application turns them on in its own
    order), so they are turned off in the stack's order; where that is refused, the close goes unchecked
    (the data was flushed, with its errors raised, before)."""
    from osgeo import gdal, ogr, osr

    turned_off = []
    waiting = [module for module in (gdal, ogr, osr) if module.GetUseExceptions()]
    while waiting:  # only the top of the stack may be turned off: find it, again and again
        for module in waiting:
            try:
                module.DontUseExceptions()
            except RuntimeError:
                continue
            turned_off.append(module)
            waiting.remove(module)
            break
        else:
            break
    if waiting:
        for module in reversed(turned_off):
            module.UseExceptions()
        yield
        return
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    gdal.ErrorReset()
    try:
        yield
        failed = gdal.GetLastErrorType() >= gdal.CE_Failure
        message = gdal.GetLastErrorMsg()
    finally:
        gdal.PopErrorHandler()
        for module in reversed(turned_off):
            module.UseExceptions()
    if failed:
        raise RuntimeError(message)


def _ogr_type(ogr, kind):
    return {int: ogr.OFTInteger, float: ogr.OFTReal}.get(kind, ogr.OFTString)


def _add_point_layer(ogr, source, name: str, srs, fields, rows: list[dict]) -> None:
    layer = source.CreateLayer(name, srs, ogr.wkbPoint)
    for field, kind in fields:
        layer.CreateField(ogr.FieldDefn(field, _ogr_type(ogr, kind)))
    layer.StartTransaction()
    for row in map(_valid_text, rows):
        feature = ogr.Feature(layer.GetLayerDefn())
        for field, _ in fields:
            if row.get(field) is not None:
                feature.SetField(field, row[field])
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(row["lon"], row["lat"])
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    layer.CommitTransaction()


def _write_geotiff(path: Path, band_count: int, grid_shape: tuple[int, int], geotransform, overwrite: bool,
                   fill) -> Path:
    """A float32 GeoTIFF in EPSG:4326, deflate-compressed; fill(dataset) writes its bands."""
    _check_target(path, overwrite)
    _, osr = _ogr(path)
    from osgeo import gdal

    gdal.UseExceptions()

    def write(tmp: Path) -> None:
        rows, cols = grid_shape
        dataset = gdal.GetDriverByName("GTiff").Create(str(tmp), cols, rows, band_count, gdal.GDT_Float32,
                                                       options=["COMPRESS=DEFLATE", "PREDICTOR=3"])
        failure = None
        try:
            dataset.SetGeoTransform(geotransform)
            srs = osr.SpatialReference()
            srs.ImportFromEPSG(4326)
            dataset.SetProjection(srs.ExportToWkt())
            fill(dataset)
            dataset.FlushCache()
        except RuntimeError as exc:  # keep only the message: its traceback would keep the dataset open
            failure = str(exc)
        with _closing_checked():
            dataset = None
        if failure:
            raise RuntimeError(failure)

    _written(path, lambda: atomic_write(path, write))
    return path


def _write_band(dataset, number: int, values, description: str) -> None:
    band = dataset.GetRasterBand(number)
    band.WriteArray(values)
    band.SetDescription(description)


def write_density_geotiff(path: str | os.PathLike, grid: DensityGrid, overwrite: bool = False) -> Path:
    """The density as a float32 GeoTIFF in EPSG:4326 (probability per km^2), deflate-compressed."""
    return _write_geotiff(Path(path), 1, grid.values.shape, grid.geotransform, overwrite,
                          lambda dataset: _write_band(dataset, 1, grid.values, DENSITY_BAND_DESCRIPTION))


def write_density_stack(path: str | os.PathLike, results: Sequence[LocationResult], bandwidth_km: float,
                        resolution_deg: float, extent: tuple[float, float, float, float] | None = None,
                        overwrite: bool = False, max_values: int = 16_000_000) -> Path:
    """One raster for a whole run: band 1 holds, per cell, the highest density of any photo (what the map
    shows), then one band per photo (described by the photo's file name) on a common grid: `extent`, or
    the union of the photos' surroundings. The resolution is coarsened where the file would hold more than
    max_values cells over all bands (at most 4 million per band)."""
    from .estimators import density_grid
    from .locate import density_extent, fitting_resolution, union_extent

    if not results:
        raise ExportError(f"{path}: no located photo to write a density for")
    if extent is None:
        extent = union_extent([density_extent(r.lat, r.lon, r.radius90_km) for r in results])
    per_band = max(10_000, min(4_000_000, max_values // (len(results) + 1)))
    resolution = fitting_resolution(extent, resolution_deg, per_band)

    def grid(result):
        return density_grid([n.lat for n in result.neighbours], [n.lon for n in result.neighbours],
                            [n.weight for n in result.neighbours], bandwidth_km, extent, resolution, per_band)

    first = grid(results[0])

    def fill(dataset) -> None:
        highest = first.values.copy()
        for number, result in enumerate(results, start=2):
            values = first.values if number == 2 else grid(result).values
            highest = highest if number == 2 else np.maximum(highest, values)
            _write_band(dataset, number, values, display_path(Path(result.photo).name))
        _write_band(dataset, 1, highest, ALL_PHOTOS_BAND)

    return _write_geotiff(Path(path), len(results) + 1, first.values.shape, first.geotransform, overwrite, fill)
