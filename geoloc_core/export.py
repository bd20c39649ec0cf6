"""Writing results: CSV, GeoJSON (plain Python), GeoPackage and GeoTIFF (GDAL's Python bindings).

Every file is written beside its destination and renamed into place, so an interrupted export
never leaves a half-written file, and an existing file is never replaced unless asked. Where an export
is several files (CSV, GeoJSON), all are written before any is renamed: a full disk leaves none.
Text cells that a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import math
import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .circles import geodesic_polygons
from .errors import ExportError
from .estimators import DensityGrid
from .files import display_path, write_csv
from .locate import LocationResult
from .progress import ProgressCallback, StopCheck, check_stop, report
from .schema import (
    ALTERNATIVE_FIELDS,
    CELL_FIELDS,
    NEIGHBOUR_FIELDS,
    PREDICTION_FIELDS,
    UNCERTAINTY_FIELDS,
    UNCERTAINTY_LEVELS,
    alternative_rows,
    names,
    neighbour_rows,
    prediction_rows,
    uncertainty_radius,
)
from .storage import atomic_write, atomic_write_bytes

PREDICTION_NAMES = names(PREDICTION_FIELDS)
NEIGHBOUR_NAMES = names(NEIGHBOUR_FIELDS)
ALTERNATIVE_NAMES = names(ALTERNATIVE_FIELDS)
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


def alternatives_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}-alternatives{output.suffix}")


def check_results_output(output: str | os.PathLike, overwrite: bool = False) -> str:
    """The format of a results file ('csv', 'geojson' or 'gpkg'), once its files are known writable
    (ExportError otherwise); callers check it before the work, write_results again."""
    output = Path(output)
    kind = FORMATS.get(output.suffix.lower())
    if kind is None:
        raise ExportError(f"{display_path(output)}: unknown output format; use .csv, .geojson or .gpkg")
    for target in (output,) if kind == "gpkg" else (output, neighbours_path(output), alternatives_path(output)):
        _check_target(target, overwrite)
    return kind


def write_results(output: str | os.PathLike, results: Sequence[LocationResult], database: str = "",
                  run_time: str = "", overwrite: bool = False, uncertainty: bool = True) -> list[Path]:
    """Write predictions, neighbours and alternatives (the density's other modes); CSV and GeoJSON get a
    `-neighbours` and an `-alternatives` file beside, a GeoPackage gets layers `predictions`, `neighbours`,
    `alternatives` and (optionally) `uncertainty`."""
    output = Path(output)
    kind = check_results_output(output, overwrite)
    predictions = prediction_rows(results, database, run_time)
    neighbours = neighbour_rows(results)
    modes = alternative_rows(results)
    if kind == "gpkg":
        _written(output, lambda: atomic_write(
            output, lambda tmp: _write_gpkg(tmp, results, predictions, neighbours, modes, uncertainty)))
        return [output]
    others = [(neighbours_path(output), neighbours, NEIGHBOUR_NAMES),
              (alternatives_path(output), modes, ALTERNATIVE_NAMES)]
    if kind == "csv":
        first_bytes = _csv_bytes(predictions, PREDICTION_NAMES)
        other_bytes = [(path, _csv_bytes(rows, fields)) for path, rows, fields in others]
    else:
        first_bytes = _geojson_bytes(predictions)
        other_bytes = [(path, _geojson_bytes(rows)) for path, rows, _ in others]

    def write_all(first_tmp: Path) -> None:
        # Each file's temporary copy is written inside the previous one's write (the last by
        # atomic_write_bytes): all are complete before any is renamed, the predictions last, so a full
        # disk replaces none of them.
        first_tmp.write_bytes(first_bytes)
        (second, second_data), (third, third_data) = other_bytes[1], other_bytes[0]

        def write_second(tmp: Path) -> None:
            tmp.write_bytes(second_data)
            atomic_write_bytes(third, third_data)

        atomic_write(second, write_second)

    _written(output, lambda: atomic_write(output, write_all))
    return [output, *(path for path, _ in other_bytes)]


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


def _write_gpkg(path: Path, results, predictions: list[dict], neighbours: list[dict], alternatives: list[dict],
                uncertainty: bool) -> None:
    ogr, osr = _ogr(path)
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    try:
        _add_point_layer(ogr, source, "predictions", wgs84, PREDICTION_FIELDS, predictions)
        _add_point_layer(ogr, source, "neighbours", wgs84, NEIGHBOUR_FIELDS, neighbours)
        _add_point_layer(ogr, source, "alternatives", wgs84, ALTERNATIVE_FIELDS, alternatives)
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


DENSITY_BLOCK = 256  # GeoTIFF tiles: the blocks where no photo's density has mass are not stored (SPARSE_OK)
STACK_MAX_BLOCKS = 2_000_000  # tiles over all of a run's bands (their index alone is 16 bytes each)
DENSITY_THREADS = 4  # photos' densities computed at once while the last is written
STORED_MANTISSA_BITS = 8  # densities are stored to 1 part in 512, plenty for a map (cells under 1e-4 of the peak are 0)


def _stored(values: np.ndarray) -> np.ndarray:
    """float32 values rounded to STORED_MANTISSA_BITS significant bits, which deflate packs far tighter."""
    drop = 23 - STORED_MANTISSA_BITS
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    rounded = (bits + np.uint32(1 << (drop - 1))) & np.uint32(~((1 << drop) - 1) & 0xFFFFFFFF)
    return rounded.view(np.float32)


def _write_geotiff(path: Path, band_count: int, grid_shape: tuple[int, int], geotransform, overwrite: bool,
                   fill, metadata: dict | None = None) -> Path:
    """A tiled, sparse float32 GeoTIFF in EPSG:4326, compressed (_compression) after horizontal differencing
    of the rounded values' bits (tighter and faster than the floating-point predictor for them);
    fill(dataset) writes its bands (tiles it leaves empty take no space). A fill that raises (Cancelled)
    leaves no file."""
    _check_target(path, overwrite)
    _, osr = _ogr(path)
    from osgeo import gdal

    gdal.UseExceptions()

    def write(tmp: Path) -> None:
        rows, cols = grid_shape
        driver = gdal.GetDriverByName("GTiff")
        dataset = driver.Create(
            str(tmp), cols, rows, band_count, gdal.GDT_Float32,
            options=[*_compression(driver), "PREDICTOR=2", "TILED=YES", f"BLOCKXSIZE={DENSITY_BLOCK}",
                     f"BLOCKYSIZE={DENSITY_BLOCK}", "SPARSE_OK=TRUE", "INTERLEAVE=BAND", "BIGTIFF=IF_SAFER",
                     "NUM_THREADS=ALL_CPUS"])
        failure = None
        try:
            dataset.SetGeoTransform(geotransform)
            srs = osr.SpatialReference()
            srs.ImportFromEPSG(4326)
            dataset.SetProjection(srs.ExportToWkt())
            if metadata:
                dataset.SetMetadata({key: str(value) for key, value in metadata.items()})
            fill(dataset)
            dataset.FlushCache()
        except RuntimeError as exc:  # keep only the message: its traceback would keep the dataset open
            failure = str(exc)
        finally:
            with _closing_checked():
                dataset = None
        if failure:
            raise RuntimeError(failure)

    _written(path, lambda: atomic_write(path, write))
    return path


def _compression(driver) -> list[str]:
    """ZSTD at level 1 where this GDAL has it (every GDAL since 2.3 built with libzstd, QGIS's included):
    as small as DEFLATE at level 1 for these values and about 40% quicker to write (bench/locate.py
    --density, docs/benchmarks.md); DEFLATE at level 1 otherwise."""
    if "<Value>ZSTD</Value>" in (driver.GetMetadataItem("DMD_CREATIONOPTIONLIST") or ""):
        return ["COMPRESS=ZSTD", "ZSTD_LEVEL=1"]
    return ["COMPRESS=DEFLATE", "ZLEVEL=1"]


def _describe_band(dataset, number: int, description: str, metadata: dict | None = None) -> None:
    band = dataset.GetRasterBand(number)
    band.SetDescription(description)
    if metadata:
        band.SetMetadata({key: str(value) for key, value in metadata.items()})


def _pieces(grid: DensityGrid, west: float, north: float, cols: int) -> list[tuple[int, int, np.ndarray]]:
    """(column, row, values) of a grid's parts in a raster on the same world grid whose top-left corner is
    (west, north) and which is `cols` wide: a grid across the antimeridian goes in two parts, its cells past
    180 at the raster's west edge (the raster then spans all longitudes)."""
    column = int(round((grid.west - west) / grid.resolution))
    row = int(round((north - grid.north) / grid.resolution))
    width = grid.values.shape[1]
    if column + width <= cols:
        return [(column, row, grid.values)]
    split = cols - column
    return [(column, row, grid.values[:, :split]), (0, row, grid.values[:, split:])]


def _density_metadata(resolution: float, requested: float, bandwidth_km: float | None, note: str,
                      source: str = "") -> dict:
    from .estimators import DENSITY_FLOOR

    metadata = {"RESOLUTION_DEG": f"{resolution:.10g}", "REQUESTED_RESOLUTION_DEG": f"{requested:.10g}",
                "UNITS": DENSITY_BAND_DESCRIPTION, "ZERO_BELOW": f"{DENSITY_FLOOR:g} of each photo's peak"}
    if source:
        metadata["RESOLUTION_SOURCE"] = source
    if bandwidth_km is not None:
        metadata["BANDWIDTH_KM"] = f"{bandwidth_km:g}"
    if note:
        metadata["NOTE"] = note
    return metadata


def write_density_geotiff(path: str | os.PathLike, grid: DensityGrid, overwrite: bool = False) -> Path:
    """One photo's density as a float32 GeoTIFF in EPSG:4326 (probability per km^2, the values as computed)
    over its window only, within the world: a window across the antimeridian is written as its two parts of
    a raster spanning all longitudes, whose empty tiles take no space (its window in the metadata, so that
    read_density_geotiff gives the grid back). The resolution asked and given are in the metadata."""
    from .estimators import WindowCells

    rows, width = grid.values.shape
    world_cols = WindowCells(0, 0, 1, 1, grid.resolution).world_cols
    wraps = grid.west + width * grid.resolution > 180.0 + 1e-9
    west, cols = (-180.0, world_cols) if wraps else (grid.west, width)
    metadata = _density_metadata(grid.resolution, grid.requested_resolution or grid.resolution, None, grid.note,
                                 grid.resolution_source)
    if wraps:
        metadata.update(WINDOW_WEST=f"{grid.west!r}", WINDOW_COLUMNS=str(width))

    def fill(dataset) -> None:
        for column, row, values in _pieces(grid, west, grid.north, cols):
            dataset.GetRasterBand(1).WriteArray(values, column, row)
        _describe_band(dataset, 1, DENSITY_BAND_DESCRIPTION)

    return _write_geotiff(Path(path), 1, (rows, cols), (west, grid.resolution, 0.0, grid.north, 0.0, -grid.resolution),
                          overwrite, fill, metadata)


def read_density_geotiff(path: str | os.PathLike) -> DensityGrid:
    """The DensityGrid write_density_geotiff wrote (a window across the antimeridian put back together)."""
    from osgeo import gdal

    gdal.UseExceptions()
    dataset = gdal.Open(str(path))
    try:
        west, resolution, _, north, _, _ = dataset.GetGeoTransform()
        values = np.asarray(dataset.GetRasterBand(1).ReadAsArray(), dtype=np.float32)
        metadata = dataset.GetMetadata()
    finally:
        dataset = None
    requested = float(metadata.get("REQUESTED_RESOLUTION_DEG", resolution))
    asked = requested if resolution > requested * (1 + 1e-9) else None
    if "WINDOW_COLUMNS" in metadata:
        west, width = float(metadata["WINDOW_WEST"]), int(metadata["WINDOW_COLUMNS"])
        column = int(round((west + 180.0) / resolution))
        values = np.concatenate([values[:, column:], values[:, :width - (values.shape[1] - column)]], axis=1)
    return DensityGrid(values, west, north, resolution, asked, metadata.get("RESOLUTION_SOURCE", ""))


def stack_cells(results: Sequence[LocationResult], bandwidth_km: float, resolution_deg: float,
                extent: tuple[float, float, float, float] | None = None):
    """The run raster's cells (estimators.WindowCells): the union of the photos' windows (or `extent`) on
    the world grid at resolution_deg, coarsened only where a photo's window would need more than
    DENSITY_MAX_CELLS or the raster's tiles would pass STACK_MAX_BLOCKS."""
    from .estimators import (
        DENSITY_MAX_CELLS,
        MassWindow,
        covering_arc,
        kernel_reach,
        mass_window,
        window_cells,
        window_resolution,
    )

    windows = [mass_window(kernel_reach([n.lat for n in r.neighbours], [n.lon for n in r.neighbours],
                                        [n.weight for n in r.neighbours], bandwidth_km)) for r in results]
    resolution = max(window_resolution(w, resolution_deg, DENSITY_MAX_CELLS) for w in windows)
    if extent is not None:
        union = MassWindow(*extent)
    else:
        arc = None if any(w.all_longitudes for w in windows) else covering_arc(
            [w.west for w in windows], [w.east - w.west for w in windows])
        west, east = arc if arc is not None and arc[1] <= 180.0 else (-180.0, 180.0)
        union = MassWindow(west, min(w.south for w in windows), east, max(w.north for w in windows))
    while True:
        cells = window_cells(union, resolution)
        blocks = math.ceil(cells.rows / DENSITY_BLOCK) * math.ceil(cells.cols / DENSITY_BLOCK) * (len(results) + 1)
        if blocks <= STACK_MAX_BLOCKS:
            return cells
        resolution *= max(1.01, math.sqrt(blocks / STACK_MAX_BLOCKS))


def write_density_stack(path: str | os.PathLike, results: Sequence[LocationResult], bandwidth_km: float,
                        resolution_deg: float, extent: tuple[float, float, float, float] | None = None,
                        overwrite: bool = False, progress: ProgressCallback | None = None,
                        should_stop: StopCheck | None = None) -> Path:
    """One raster for a whole run: band 1 holds, per cell, the highest density of any photo (what the map
    shows), then one band per photo (described by the photo's file name), at the resolution asked (or, for
    AUTO_DENSITY_RESOLUTION, the one estimators.density_resolution chooses; the metadata says which). Each
    photo's density is computed over its own window only (estimators.photo_density) and the raster is
    tiled and sparse, so its size follows the area holding mass; it spans the union of the windows (or
    `extent`), within the world. Where a memory cap makes it coarser than asked, each result's note and
    the raster's metadata say so. Reports the stage "density" per photo and stops (leaving no file) when
    should_stop turns true."""
    from .estimators import coarsening_note, density_resolution, density_resolution_source, photo_density

    if not results:
        raise ExportError(f"{path}: no located photo to write a density for")
    source = density_resolution_source(resolution_deg, bandwidth_km)
    resolution_deg = density_resolution(resolution_deg, bandwidth_km)
    report(progress, 0, len(results), "density", f"Density maps: 0 of {len(results)}")
    cells = stack_cells(results, bandwidth_km, resolution_deg, extent)
    note = coarsening_note(resolution_deg, cells.resolution)

    def grid_of(result: LocationResult) -> DensityGrid:
        return photo_density([n.lat for n in result.neighbours], [n.lon for n in result.neighbours],
                             [n.weight for n in result.neighbours], bandwidth_km, cells.resolution,
                             max_cells=cells.rows * cells.cols, should_stop=should_stop)

    def fill(dataset) -> None:
        highest: dict[tuple[int, int], np.ndarray] = {}  # band 1, per tile that any photo reaches
        for number, (result, grid) in enumerate(zip(results, _computed_ahead(grid_of, results)), start=2):
            check_stop(should_stop)
            for column, row, values in _pieces(grid, cells.west, cells.north, cells.cols):
                stored = _stored(values)
                dataset.GetRasterBand(number).WriteArray(stored, column, row)
                _raise_tiles(highest, stored, column, row, cells.rows, cells.cols)
            _describe_band(dataset, number, display_path(Path(result.photo).name), {"PHOTO": display_path(result.photo)})
            dataset.GetRasterBand(number).FlushCache()  # compressed now, not all at the close (nor after a stop)
            report(progress, number - 1, len(results), "density", f"Density maps: {number - 1} of {len(results)}")
        check_stop(should_stop)
        for (tile_row, tile_col), tile in highest.items():
            dataset.GetRasterBand(1).WriteArray(tile, tile_col * DENSITY_BLOCK, tile_row * DENSITY_BLOCK)
        _describe_band(dataset, 1, ALL_PHOTOS_BAND)

    written = _write_geotiff(Path(path), len(results) + 1, (cells.rows, cells.cols),
                             (cells.west, cells.resolution, 0.0, cells.north, 0.0, -cells.resolution), overwrite, fill,
                             _density_metadata(cells.resolution, resolution_deg, bandwidth_km, note, source))
    for result in results:
        if note and note not in result.note:
            result.note = "; ".join(filter(None, [result.note, note]))
    return written


def _computed_ahead(compute, items: Sequence):
    """compute(item) for each item, in order, the next few computed on other threads while the caller
    writes the last one (numpy and GDAL's compression release the GIL); at most DENSITY_THREADS + 1
    answers are held at a time. A failure (Cancelled) is raised where its answer is taken."""
    workers = max(1, min(DENSITY_THREADS, (os.cpu_count() or 2) - 1))  # a core left to the thread that writes
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        submitted = 0
        try:
            for _ in items:
                while submitted < len(items) and len(pending) <= workers:
                    pending.append(pool.submit(compute, items[submitted]))
                    submitted += 1
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _raise_tiles(highest: dict, values: np.ndarray, column: int, row: int, rows: int, cols: int) -> None:
    """highest[tile] = max(highest[tile], values) over the tiles that `values`, placed at (column, row), covers."""
    height, width = values.shape
    for tile_row in range(row // DENSITY_BLOCK, (row + height - 1) // DENSITY_BLOCK + 1):
        for tile_col in range(column // DENSITY_BLOCK, (column + width - 1) // DENSITY_BLOCK + 1):
            top, left = tile_row * DENSITY_BLOCK, tile_col * DENSITY_BLOCK
            r0, r1 = max(top, row), min(top + DENSITY_BLOCK, row + height)
            c0, c1 = max(left, column), min(left + DENSITY_BLOCK, column + width)
            part = values[r0 - row:r1 - row, c0 - column:c1 - column]
            if not part.any():
                continue
            tile = highest.get((tile_row, tile_col))
            if tile is None:
                tile = highest[(tile_row, tile_col)] = np.zeros(
                    (min(DENSITY_BLOCK, rows - top), min(DENSITY_BLOCK, cols - left)), dtype=np.float32)
            np.maximum(tile[r0 - top:r1 - top, c0 - left:c1 - left], part,
                       out=tile[r0 - top:r1 - top, c0 - left:c1 - left])
