"""A run's results as one GeoPackage and its map layers.

The run writes its tables (predictions, editable for the review; neighbours; uncertainty circles;
alternatives; the photos' own GPS places and the error lines to them) and its density rasters into one
GeoPackage, in the folder the user chose in Parameters, else the saved project's folder, else a temporary
folder that a later session removes (the panel then offers to keep the file). `write_run` runs in the
task's worker and touches no project layer; `add_run_to_project` (main thread) opens the tables as
layers, stores their styles in the file and a QGIS project that reopens them styled, zoomed to the
results, on a base map. Keeping or exporting a run is a copy of that file."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsColorRampLegendNodeSettings,
    QgsColorRampShader,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransformContext,
    QgsDataProvider,
    QgsExpression,
    QgsLayerTreeGroup,
    QgsMapLayer,
    QgsProject,
    QgsRasterDataProvider,
    QgsRasterLayer,
    QgsRasterShader,
    QgsRectangle,
    QgsReferencedRectangle,
    QgsSingleBandPseudoColorRenderer,
    QgsVectorFileWriter,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QBuffer, QByteArray, QIODevice
from qgis.PyQt.QtGui import QColor

from .. import layers
from ..geoloc_core.errors import ExportError
from ..geoloc_core.progress import ProgressCallback, StopCheck, check_stop, report
from ..geoloc_core.service import display_path, distance_km
from ..qgis_compat import (
    WKB_LINESTRING,
    WKB_LINESTRING_M,
    WKB_MULTIPOLYGON,
    WKB_POINT,
    empty_rectangle,
    layer_abstract,
    raster_band_maximum,
    save_style_to_database,
    set_layer_abstract,
)
from . import trip_layers
from .i18n import tr

STYLES = Path(__file__).resolve().parent.parent / "resources" / "styles"
WGS84 = "EPSG:4326"
THUMBNAIL_SIZE = 128  # px, the long side of the JPEG kept in the predictions table
PROPERTY = "photo_geolocator"  # custom properties: {PROPERTY}/run on the group, {PROPERTY}/role on layers
# the run's vector tables, top to bottom in its layer group (the density rasters go below them)
VECTOR_ROLES = ("anchors", "predictions", "streams", "error_lines", "known", "alternatives", "neighbours",
                "uncertainty")
SCRATCH_PREFIX = "photo-geolocator-results-"


def layer_names() -> dict:
    """Short layer names (the run's group names the run): they fit a narrow Layers panel."""
    return {"predictions": tr("Predictions"), "neighbours": tr("Neighbours"), "uncertainty": tr("Uncertainty"),
            "alternatives": tr("Alternatives"), "known": tr("Known locations (GPS)"), "error_lines": tr("Error lines"),
            "anchors": tr("Anchors"), "streams": tr("Streams"), "density": tr("Density")}


@dataclass
class LocateRun:
    """What one run produced; its layers are added to the project in one group."""

    number: int
    database: str
    run_time: str
    results: list
    failed: list
    density_path: str | None = None  # the engine's GeoTIFF: band 1 all photos, then one band per photo
    parameters: dict = field(default_factory=dict)  # how it was run, recorded on its layers
    known: dict = field(default_factory=dict)  # photo -> (lat, lon) from its EXIF GPS
    layer_ids: dict = field(default_factory=dict)  # role -> layer id
    online: bool = False  # whether OpenStreetMap tiles could be reached (for the base map)
    gpkg: str | None = None  # the GeoPackage the run wrote
    temporary: bool = False  # written in the session's temporary folder: lost unless kept
    tables: list = field(default_factory=list)  # the vector tables written, in VECTOR_ROLES order
    density_tables: dict = field(default_factory=dict)  # "" (all photos) or a photo -> its raster table
    density_paths: dict = field(default_factory=dict)  # photo -> the engine's own GeoTIFF, where it wrote one

    def gps_error_km(self, result) -> float | None:
        """Distance from the prediction to the photo's own EXIF GPS, where it has one and the prediction is
        not that GPS itself (an anchor of a trip is placed at its GPS: never scored, nor in the summary)."""
        if result.photo not in self.known or getattr(result, "evidence", "") == "anchor":
            return None
        lat, lon = self.known[result.photo]
        return distance_km(result.lat, result.lon, lat, lon)

    def summary(self) -> dict | None:
        """The batch summary over the photos with EXIF GPS (median error, shares within 1 … 2500 km)."""
        return layers.batch_summary(self.results, self.gps_error_km)

    def describe(self) -> str:
        return "Photo Geolocator run {} ({}): {}".format(
            self.number, self.run_time, ", ".join(f"{k}={v}" for k, v in self.parameters.items()))


def summary_text(summary: dict | None) -> str:
    if summary is None:
        return ""
    shares = " / ".join(f"{100 * share:.0f}%" for share in summary["within"].values())
    thresholds = "/".join(str(km) for km in summary["within"])
    text = (tr("{} photo with EXIF GPS: error {:.0f} km; within {} km: {}") if summary["photos"] == 1 else
            tr("{} photos with EXIF GPS: median error {:.0f} km; within {} km: {}"))
    return text.format(summary["photos"], summary["median_km"], thresholds, shares)


def review_summary_text(statuses: list[str]) -> str:
    """How far the review of a run has come, from its photos' review statuses: "3 of 20 reviewed:
    1 accepted, 1 moved, 1 rejected" (what is left, at a glance)."""
    counts = {status: statuses.count(status) for status in ("accepted", "moved", "rejected")}
    words = {"accepted": tr("{} accepted"), "moved": tr("{} moved"), "rejected": tr("{} rejected")}
    done = [words[status].format(count) for status, count in counts.items() if count]
    text = tr("{} of {} reviewed").format(sum(counts.values()), len(statuses))
    return text + (": " + ", ".join(done) if done else "")


# -- where runs are written ------------------------------------------------------------------------

def results_folder(chosen: str, project: QgsProject) -> tuple[Path, bool]:
    """The folder a run writes its GeoPackage in, and whether it is temporary: the one chosen in
    Parameters, else the saved project's folder, else this session's temporary folder (never an
    unasked folder in the home directory)."""
    if chosen:
        return Path(chosen), False
    home = project.homePath() if project.fileName() else ""
    if home:
        return Path(home), False
    return scratch_folder(), True


_scratch: Path | None = None


def scratch_folder() -> Path:
    """This QGIS session's temporary results folder; the folders of sessions that have ended are
    removed when it is made."""
    global _scratch
    if _scratch is None or not _scratch.is_dir():
        remove_ended_scratch_folders()
        _scratch = Path(tempfile.gettempdir()) / f"{SCRATCH_PREFIX}{os.getpid()}"
        _scratch.mkdir(exist_ok=True)
    return _scratch


def remove_ended_scratch_folders(parent: Path | None = None) -> list[Path]:
    """Remove the temporary results folders whose QGIS process has ended; returns them."""
    removed = []
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        pid = folder.name.removeprefix(SCRATCH_PREFIX)
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else (or Windows says no): leave its folder
        return True
    return True


def run_file_name(run_time: str, first_photo: str) -> str:
    """photo-geolocator-<date>-<time>-<first photo>.gpkg: a run never shares its name with an earlier
    one, whatever session made it (the time is to the second; `unique_path` settles the rest)."""
    stamp = re.sub(r"[^0-9]", "", run_time[:19])
    stamp = f"{stamp[:8]}-{stamp[8:14]}" if len(stamp) >= 14 else stamp
    stem = re.sub(r"[^\w-]+", "_", Path(first_photo).stem, flags=re.UNICODE).strip("_")[:40] if first_photo else ""
    return "-".join(filter(None, ["photo-geolocator", stamp, stem])) + ".gpkg"


def suggested_export_name(run: LocateRun) -> str:
    return run_file_name(run.run_time, run.results[0].photo if run.results else "")


def unique_path(path: Path) -> Path:
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


# -- writing the run (the task's worker: no project layer is touched) ------------------------------

def thumbnail_jpeg(path: str, size: int = THUMBNAIL_SIZE) -> bytes | None:
    """A small JPEG of the photo (safe in a worker thread); None where it cannot be decoded."""
    from .photo_reader import thumbnail_image

    image = thumbnail_image(path, size)
    if image.isNull():
        return None
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "JPEG", 80)
    buffer.close()
    return bytes(data)


def _vector_tables(run: LocateRun, with_uncertainty: bool) -> dict:
    """role -> (fields, geometry type, features), for the tables this run has rows for."""
    error_km = run.gps_error_km
    thumbnails = {r.photo: thumbnail_jpeg(r.photo) for r in run.results}
    tables = {
        "predictions": (layers.MAP_PREDICTIONS, WKB_POINT,
                        layers.map_prediction_features(run.results, run.database, run.run_time, thumbnails,
                                                       error_km)),
        "error_lines": (layers.ERROR_LINES, WKB_LINESTRING, layers.error_line_features(run.results, run.known,
                                                                                          error_km)),
        "known": (layers.KNOWN, WKB_POINT, layers.known_features(run.results, run.known, error_km)),
        "alternatives": (layers.ALTERNATIVES, WKB_POINT, layers.alternative_features(run.results)),
        "anchors": (trip_layers.ANCHORS, WKB_POINT, trip_layers.anchor_features(run.results, run.known)),
        "streams": (trip_layers.STREAMS, WKB_LINESTRING_M, trip_layers.stream_features(run.results)),
        "neighbours": (layers.NEIGHBOURS, WKB_POINT, layers.neighbour_features(run.results)),
        "uncertainty": (layers.UNCERTAINTY, WKB_MULTIPOLYGON,
                        layers.uncertainty_features(run.results) if with_uncertainty else []),
    }
    always = {"predictions", "neighbours"}  # the review and the evidence need them even when empty
    return {role: table for role, table in tables.items() if table[2] or role in always}


def write_run(run: LocateRun, folder: Path, temporary: bool, with_uncertainty: bool = True,
              progress: ProgressCallback | None = None, should_stop: StopCheck | None = None) -> Path:
    """Write the run's tables and density rasters to a new GeoPackage in `folder` (created where
    missing); a partial file is renamed only once complete, and the engine's GeoTIFFs are removed once
    copied. Sets run.gpkg, run.tables, run.density_tables. Reports each table as the stage "write" and
    stops between tables at `should_stop` (the partial file removed): the bar stood at 100% for seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    target = unique_path(folder / run_file_name(run.run_time, run.results[0].photo if run.results else ""))
    partial = target.with_name(f".{target.stem}.partial.gpkg")
    partial.unlink(missing_ok=True)
    written = []
    try:
        tables = _vector_tables(run, with_uncertainty)
        sources = _density_sources(run)
        total = len(tables) + len(sources)
        for role, (fields, geometry, features) in tables.items():
            check_stop(should_stop)
            report(progress, len(written), total, "write", role)
            _write_table(partial, role, fields, geometry, features, first=not written)
            written.append(role)

        def step(done: int, table: str) -> None:
            check_stop(should_stop)
            report(progress, len(written) + done, total, "write", table)

        density_tables = _write_density(partial, sources, written, step)
        report(progress, total, total, "write", "")
    except Exception:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    for tif in {run.density_path, *run.density_paths.values()} - {None}:
        Path(tif).unlink(missing_ok=True)
    run.gpkg, run.temporary, run.tables, run.density_tables = str(target), temporary, written, density_tables
    return target


def _write_table(path: Path, role: str, fields, geometry, features, first: bool) -> None:
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = role
    options.actionOnExistingFile = (QgsVectorFileWriter.ActionOnExistingFile.CreateOrOverwriteFile if first
                                    else QgsVectorFileWriter.ActionOnExistingFile.CreateOrOverwriteLayer)
    writer = QgsVectorFileWriter.create(str(path), fields, geometry, QgsCoordinateReferenceSystem(WGS84),
                                        QgsCoordinateTransformContext(), options)
    if writer.hasError() != QgsVectorFileWriter.WriterError.NoError:
        raise ExportError(f"{path.with_name(path.name.removeprefix('.').replace('.partial', ''))}: could not write "
                          f"the table {role}: {writer.errorMessage()}")
    if not writer.addFeatures(features):
        raise ExportError(f"{path}: could not write the table {role}: {writer.errorMessage()}")
    del writer  # closes the table


def _density_sources(run: LocateRun) -> list:
    """The density rasters to copy: (photo or "" for all photos, GeoTIFF, band)."""
    from osgeo import gdal

    gdal.UseExceptions()
    sources = []
    if run.density_path:
        stack = gdal.Open(str(run.density_path))
        by_name = {display_path(r.photo): r.photo for r in run.results} | {r.photo: r.photo for r in run.results}
        for band in range(1, stack.RasterCount + 1):
            description = stack.GetRasterBand(band).GetDescription()
            sources.append(("" if band == 1 else by_name.get(description, description), run.density_path, band))
        stack = None
    for photo, tif in run.density_paths.items():
        if not any(photo == p for p, _, _ in sources):
            sources.append((photo, tif, 1))
    return sources


def _write_density(path: Path, sources: list, taken: list, step=None) -> dict:
    """Copy the engine's density into raster tables: `density` (all photos), then one per photo
    (`density_<photo>`); cells without density are left out of the file (no-data). `step(done, table)`
    before each. Returns "" or photo -> table."""
    from osgeo import gdal

    gdal.UseExceptions()
    # GDAL 3.10 and newer (QGIS 3.40) write what a reader finds or computes at the dataset level to a
    # .aux.xml beside a GeoPackage opened read-only: there the engine's description goes on the band,
    # with the band's statistics, inside the file (GDAL 3.6 keeps neither per table)
    on_the_band = int(gdal.VersionInfo()) >= 3100000
    tables = {}
    for done, (photo, tif, band) in enumerate(sources):
        name = "density" if photo == "" else "density_" + re.sub(r"[^0-9a-z]+", "_", Path(photo).stem.lower())
        table = _unique_table(name, taken + list(tables.values()))
        if step is not None:
            step(done, table)
        source = gdal.Translate("", str(tif), format="VRT", bandList=[band])
        description = {key: value for key, value in source.GetMetadata().items() if key != "AREA_OR_POINT"}
        if on_the_band:
            source.SetMetadata({key: value for key, value in source.GetMetadata().items() if key == "AREA_OR_POINT"})
        gdal.Translate(str(path), source, format="GPKG", noData=0,
                       creationOptions=[f"RASTER_TABLE={table}", "APPEND_SUBDATASET=YES", "TILE_FORMAT=TIFF",
                                        f"RASTER_IDENTIFIER={display_path(photo) if photo else 'all photos'}"])
        source = None
        if on_the_band:
            written = gdal.OpenEx(f"GPKG:{path}:{table}", gdal.OF_RASTER | gdal.OF_UPDATE)
            written.GetRasterBand(1).SetMetadata(description)
            with contextlib.suppress(RuntimeError):  # a table with no density in it (all no-data) has none
                written.GetRasterBand(1).ComputeStatistics(False)
            written = None
        tables[photo] = table
    return tables


def _unique_table(name: str, taken: list[str]) -> str:
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}_{number}"
    return candidate


# -- layers (main thread) --------------------------------------------------------------------------

def memory_layer(kind: str, name: str, fields, features) -> QgsVectorLayer:
    """A layer held in memory (the database's coverage; a run's layers read its GeoPackage)."""
    layer = QgsVectorLayer(f"{kind}?crs={WGS84}", name, "memory")
    provider = layer.dataProvider()
    provider.addAttributes(fields.toList())
    layer.updateFields()
    provider.addFeatures(features)
    layer.updateExtents()
    return layer


DENSITY_RAMP = ((0.0, (255, 255, 178, 0)), (0.05, (254, 204, 92, 90)), (0.3, (253, 141, 60, 170)),
                (0.7, (240, 59, 32, 210)), (1.0, (189, 0, 38, 235)))


def style_density(layer: QgsRasterLayer, band: int = 1) -> None:
    """A transparent heat ramp: zero density is see-through, the peak is dark red. Every legend entry is
    labelled with its value (densities per km² are small numbers that QGIS would print as 0)."""
    peak = raster_band_maximum(layer, band)
    top = peak if peak > 0 else 1.0
    ramp = QgsColorRampShader(0.0, top)
    ramp.setColorRampType(QgsColorRampShader.Type.Interpolated)
    ramp.setColorRampItemList([
        QgsColorRampShader.ColorRampItem(top * share, QColor(*rgba), density_label(top * share))
        for share, rgba in DENSITY_RAMP])
    legend = QgsColorRampLegendNodeSettings()
    legend.setUseContinuousLegend(False)  # one entry per labelled step (a continuous bar prints 0 … 0.000001)
    ramp.setLegendSettings(legend)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(ramp)
    layer.setRenderer(QgsSingleBandPseudoColorRenderer(layer.dataProvider(), band, shader))


def density_label(value: float) -> str:
    return "0" if value == 0 else f"{value:.2g} per km²"


def density_layer(source: str, name: str) -> QgsRasterLayer:
    raster = QgsRasterLayer(str(source), name, "gdal")
    if raster.isValid():
        _draw_density(raster)
    return raster


def _draw_density(raster: QgsRasterLayer) -> None:
    style_density(raster)
    # the density's values interpolated between cell centres: cells as coarse as its detail (auto) look smooth
    raster.dataProvider().enableProviderResampling(True)
    raster.dataProvider().setZoomedInResamplingMethod(QgsRasterDataProvider.ResamplingMethod.Bilinear)


def table_layer(gpkg: str, role: str) -> QgsVectorLayer | QgsRasterLayer:
    """A table of the run's GeoPackage as a styled layer with its short name."""
    if role == "density":
        return density_layer(f"GPKG:{gpkg}:density", layer_names()["density"])
    layer = QgsVectorLayer(f"{gpkg}|layername={role}", layer_names()[role], "ogr")
    style = STYLES / f"{role}.qml"
    if style.is_file():
        layer.loadNamedStyle(str(style))
    trip_layers.style(layer, role)
    if role == "predictions":
        layer.setEditorWidgetSetup(layer.fields().indexOf("review_status"), layers.review_status_widget())
    return layer


def _describe(layer: QgsMapLayer, run: LocateRun, extra: str = "") -> None:
    """The run's parameters (and the batch summary) travel with its layers, into the stored project."""
    text = "\n".join(filter(None, [layer_abstract(layer), run.describe(), extra]))
    set_layer_abstract(layer, text)
    metadata = layer.metadata()
    metadata.setAbstract(text)
    layer.setMetadata(metadata)
    for key, value in run.parameters.items():
        layer.setCustomProperty(f"{PROPERTY}/{key}", value)


def run_layers(run: LocateRun, save_styles: bool = True, gpkg: str | Path | None = None) -> dict:
    """The run's tables (in its GeoPackage, or a copy `gpkg`) as styled layers, not yet in a project
    (role -> layer); with `save_styles` each vector table's style is stored in the file as its default."""
    built = {}
    gpkg = str(gpkg or run.gpkg)
    summary = summary_text(run.summary())
    for role in run.tables:
        layer = table_layer(gpkg, role)
        _describe(layer, run, summary if role in ("predictions", "known", "error_lines") else "")
        if summary and role in ("known", "error_lines"):
            layer.setCustomProperty(f"{PROPERTY}/summary", summary)
        layer.setCustomProperty(f"{PROPERTY}/role", role)
        if save_styles:  # with the custom properties: the run's parameters and summary travel with the table
            save_style_to_database(layer, role, "Photo Geolocator style", True)
        built[role] = layer
    if "" in run.density_tables:
        raster = table_layer(gpkg, "density")
        if raster.isValid():
            _describe(raster, run, tr("All photos; each photo's own density is a table density_<photo> in {}")
                      .format(gpkg))
            raster.setCustomProperty(f"{PROPERTY}/role", "density")
            built["density"] = raster
    return built


def group_name(run: LocateRun) -> str:
    return tr("Run {} · {}").format(run.number, run.run_time[11:16])


def add_run_to_project(run: LocateRun, built: dict, project: QgsProject) -> QgsLayerTreeGroup:
    """All layers in one group at the top of the layer tree: predictions above, rasters below; the
    uncertainty circles follow the selected predictions."""
    group = project.layerTreeRoot().insertGroup(0, group_name(run))
    group.setCustomProperty(f"{PROPERTY}/run", run.gpkg or run.number)
    for role in (*VECTOR_ROLES, "density"):
        if role in built:
            project.addMapLayer(built[role], False)
            group.addLayer(built[role])
            run.layer_ids[role] = built[role].id()
    predictions = built.get("predictions")
    if predictions is not None and "uncertainty" in built:
        predictions.selectionChanged.connect(lambda *changed: circles_follow_selection(run, project))
        circles_follow_selection(run, project)
    return group


def run_groups(project: QgsProject) -> list[QgsLayerTreeGroup]:
    return [g for g in project.layerTreeRoot().children()
            if isinstance(g, QgsLayerTreeGroup) and g.customProperty(f"{PROPERTY}/run") is not None]


def results_extent(run: LocateRun) -> QgsRectangle:
    """WGS84: the predictions and the photos' own places, with a margin, inside the world."""
    rectangle = empty_rectangle()
    from qgis.core import QgsPointXY

    for lat, lon in [(r.lat, r.lon) for r in run.results] + list(run.known.values()):
        rectangle.combineExtentWith(QgsPointXY(lon, lat))
    return _framed(rectangle, 2.0)


def _framed(rectangle: QgsRectangle, minimum: float) -> QgsRectangle:
    if rectangle.width() < minimum and rectangle.height() < minimum:
        center = rectangle.center()
        rectangle = QgsRectangle(center.x() - minimum / 2, center.y() - minimum / 2,
                                 center.x() + minimum / 2, center.y() + minimum / 2)
    rectangle.scale(1.2)
    return clamp_to_world(rectangle)


def clamp_to_world(rectangle: QgsRectangle, max_lat: float = 90.0) -> QgsRectangle:
    """A WGS84 rectangle cut to the world's edges (a zoom never shows past ±180°)."""
    return QgsRectangle(max(rectangle.xMinimum(), -180.0), max(rectangle.yMinimum(), -max_lat),
                        min(rectangle.xMaximum(), 180.0), min(rectangle.yMaximum(), max_lat))


def store_project(run: LocateRun, online: bool, gpkg: str | Path | None = None) -> None:
    """Store a QGIS project in the run's GeoPackage (or its copy `gpkg`): its layers styled, on a base
    map, its view on the results; layer paths are relative to the file (a moved file opens its own
    tables; a copy under another name gets its own project)."""
    gpkg = str(gpkg or run.gpkg)
    stored = QgsProject()
    stored.setCrs(QgsCoordinateReferenceSystem(WGS84))
    stored.setTitle(tr("Photo Geolocator run {} ({})").format(run.number, run.run_time))
    stored.writeEntryBool("Paths", "/Absolute", False)
    built = run_layers(run, save_styles=False, gpkg=gpkg)
    for role in (*VECTOR_ROLES, "density"):
        if role in built:
            stored.addMapLayer(built[role], False)
            node = stored.layerTreeRoot().addLayer(built[role])
            if role == "uncertainty" and len(run.results) > 1:
                node.setItemVisibilityChecked(False)  # all photos' circles overlap; tick to see them
    add_base_map(stored, online)
    extent = QgsReferencedRectangle(results_extent(run), QgsCoordinateReferenceSystem(WGS84))
    stored.viewSettings().setDefaultViewExtent(extent)
    if not stored.write(stored_project_uri(gpkg, run)):
        raise ExportError(f"{gpkg}: could not store the run's project in it: {stored.error()}")


def stored_project_uri(path: str | Path, run: LocateRun) -> str:
    """Where the run's QGIS project is stored inside its GeoPackage."""
    return f"geopackage:{Path(path)}?projectName=Photo Geolocator run {run.number}"


# -- keeping and exporting (a copy) ----------------------------------------------------------------

def copy_geopackage(source: str | Path, target: str | Path) -> None:
    """A consistent copy of a GeoPackage that QGIS may have open (SQLite's backup: pages in a
    write-ahead log included), written beside the target and renamed when complete."""
    target = Path(target)
    partial = target.with_name(f".{target.stem}.partial.gpkg")
    partial.unlink(missing_ok=True)
    try:
        with contextlib.closing(sqlite3.connect(f"file:{Path(source).as_posix()}?mode=ro", uri=True)) as reading, \
                contextlib.closing(sqlite3.connect(partial)) as writing:
            reading.backup(writing)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise ExportError(f"{target}: could not copy the run's GeoPackage {source}: {exc}") from exc
    partial.replace(target)


def export_run(run: LocateRun, project: QgsProject, path: str | Path) -> list[str]:
    """Copy the run's GeoPackage (tables, styles, stored project) to `path`, which the caller has asked
    before replacing. A run written in the temporary folder is kept: its layers then read and edit the
    copy. Returns the names of the tables in the copy."""
    path = Path(path)
    if run.gpkg is None:
        raise ExportError(f"{path}: the run wrote no GeoPackage to copy")
    if path.resolve() != Path(run.gpkg).resolve():
        for layer in map(project.mapLayer, run.layer_ids.values()):
            if isinstance(layer, QgsVectorLayer) and layer.isEditable():
                layer.commitChanges(False)  # the copy holds the edits made so far
        copy_geopackage(run.gpkg, path)
        store_project(run, run.online, path)
        if run.temporary:
            _repoint(run, project, path)
    with contextlib.closing(sqlite3.connect(path)) as connection:  # closed: an open reader would block QGIS's writes
        return [row[0] for row in connection.execute("SELECT table_name FROM gpkg_contents ORDER BY rowid")]


def _repoint(run: LocateRun, project: QgsProject, path: Path) -> None:
    """The run's layers read (and edit) the kept copy from now on."""
    old = run.gpkg
    for layer in map(project.mapLayer, run.layer_ids.values()):
        if layer is not None:
            layer.setDataSource(layer.source().replace(old, str(path)), layer.name(), layer.providerType(),
                                QgsDataProvider.ProviderOptions())
    run.gpkg, run.temporary = str(path), False


# -- focus and zoom --------------------------------------------------------------------------------

def photos_filter(photos) -> str:
    """A filter on a run table's `photo` field (its rows hold display paths)."""
    return "\"photo\" IN ({})".format(", ".join(QgsExpression.quotedValue(display_path(p)) for p in photos))


def focus_photo(run: LocateRun, photo: str | None, project: QgsProject) -> None:
    """Show one photo's neighbours, alternatives, circles and density only; None: every photo's
    neighbours and alternatives, the circles of the predictions selected on the map, and the density of
    all photos."""
    show_density_of(run, photo, project)
    for role in ("neighbours", "alternatives"):
        layer = project.mapLayer(run.layer_ids.get(role, ""))
        if layer is not None:
            layer.setSubsetString(photos_filter([photo]) if photo else "")
            layer.triggerRepaint()
    if photo:
        circles = project.mapLayer(run.layer_ids.get("uncertainty", ""))
        if circles is not None:
            circles.setSubsetString(photos_filter([photo]))
            circles.triggerRepaint()
    else:
        circles_follow_selection(run, project)


def show_density_of(run: LocateRun, photo: str | None, project: QgsProject) -> None:
    """The density layer reads the photo's own raster table (all photos' with None)."""
    density = project.mapLayer(run.layer_ids.get("density", ""))
    if density is None or not run.gpkg:
        return
    table = run.density_tables.get(photo, "density") if photo else "density"
    source = f"GPKG:{run.gpkg}:{table}"
    if density.source() != source:
        density.setDataSource(source, density.name(), "gdal", QgsDataProvider.ProviderOptions())
        _draw_density(density)
        density.triggerRepaint()


def circles_follow_selection(run: LocateRun, project: QgsProject) -> None:
    """Uncertainty circles only for the predictions selected on the map (a batch's circles overlap into
    one blur); a one-photo run always shows its own."""
    circles = project.mapLayer(run.layer_ids.get("uncertainty", ""))
    if circles is None:
        return
    predictions = project.mapLayer(run.layer_ids.get("predictions", ""))
    selected = [f["photo"] for f in predictions.getSelectedFeatures()] if predictions is not None else []
    if len(run.results) == 1:
        circles.setSubsetString("")
    else:
        circles.setSubsetString(photos_filter(selected) if selected else "\"photo\" IS NULL")
    circles.triggerRepaint()


def select_prediction(run: LocateRun, result, project: QgsProject) -> None:
    """Select (and so highlight) a result's prediction on the map; its circles follow."""
    layer = project.mapLayer(run.layer_ids.get("predictions", ""))
    if layer is None:
        return
    photo = display_path(result.photo)
    layer.selectByIds([f.id() for f in layer.getFeatures() if f["photo"] == photo])


def zoom_extent(result, crs, context, top: int = 10):
    """The extent holding a prediction and its top neighbours, in the given CRS (the canvas's), never
    past the world's edges."""
    from qgis.core import QgsCoordinateTransform, QgsPointXY

    rectangle = empty_rectangle()
    for lon, lat in [(result.lon, result.lat)] + [(n.lon, n.lat) for n in result.neighbours[:top]]:
        rectangle.combineExtentWith(QgsPointXY(lon, lat))
    if rectangle.width() == 0 and rectangle.height() == 0:
        rectangle.grow(0.01)
    rectangle.scale(1.2)
    wgs84 = QgsCoordinateReferenceSystem(WGS84)
    if crs == wgs84:
        return clamp_to_world(rectangle)
    mercator = crs.authid() in ("EPSG:3857", "EPSG:900913")  # undefined at the poles
    clamped = clamp_to_world(rectangle, 85.0511 if mercator else 90.0)
    return QgsCoordinateTransform(wgs84, crs, context).transformBoundingBox(clamped)


# -- base map --------------------------------------------------------------------------------------

OSM_TILES = "type=xyz&url=https://tile.openstreetmap.org/{z}/{x}/{y}.png&zmin=0&zmax=19"
OSM_HOST = "tile.openstreetmap.org"


def tiles_reachable(host: str = OSM_HOST, timeout: float = 2.0) -> bool:
    """Whether the OpenStreetMap tile server answers (called from a task's run(), off the GUI thread)."""
    import socket

    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def has_base_map(project: QgsProject) -> bool:
    """Whether the project already shows a base map: web tiles (XYZ, WMS) or the one this plugin added."""
    return any(layer.providerType() in ("wms", "xyz", "arcgismapserver") or layer.customProperty(f"{PROPERTY}/base_map")
               for layer in project.mapLayers().values())


def add_base_map(project: QgsProject, online: bool) -> QgsMapLayer | None:
    """Context under the results, where the project has none: OpenStreetMap where its tiles can be
    reached, else QGIS's own offline world map."""
    if has_base_map(project):
        return None
    layer = QgsRasterLayer(OSM_TILES, "OpenStreetMap", "wms") if online else None
    if layer is None or not layer.isValid():
        layer = world_map_layer()
        if layer is None:
            return None
    layer.setCustomProperty(f"{PROPERTY}/base_map", True)
    project.addMapLayer(layer, False)
    project.layerTreeRoot().addLayer(layer)  # at the bottom
    return layer


def world_map_layer() -> QgsVectorLayer | None:
    """QGIS's own offline world map (countries)."""
    path = Path(QgsApplication.pkgDataPath()) / "resources" / "data" / "world_map.gpkg"
    layer = QgsVectorLayer(f"{path}|layername=countries", "World map (QGIS)", "ogr")
    if not layer.isValid():
        return None
    layer.renderer().symbol().setColor(QColor(235, 235, 228))
    layer.renderer().symbol().symbolLayer(0).setStrokeColor(QColor(170, 170, 170))
    return layer
