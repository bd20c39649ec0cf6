"""Turning a run's results into map layers (main thread only) and exporting a run to one GeoPackage."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsColorRampLegendNodeSettings,
    QgsColorRampShader,
    QgsCoordinateReferenceSystem,
    QgsLayerTreeGroup,
    QgsMapLayer,
    QgsProject,
    QgsRasterDataProvider,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
    QgsVectorFileWriter,
    QgsVectorLayer,
)
from qgis.PyQt.QtGui import QColor

from .. import layers
from ..geoloc_core.errors import ExportError
from ..geoloc_core.service import distance_km
from ..qgis_compat import (
    empty_rectangle,
    layer_abstract,
    make_field,
    raster_band_maximum,
    save_style_to_database,
    set_layer_abstract,
)
from .i18n import tr
from .trip_layers import trip_layers

STYLES = Path(__file__).resolve().parent.parent / "resources" / "styles"
WGS84 = "EPSG:4326"


@dataclass
class LocateRun:
    """What one run produced; the layers are added to the project in one group."""

    number: int
    database: str
    run_time: str
    results: list
    failed: list
    density_path: str | None = None  # the run's GeoTIFF: band 1 all photos, then one band per photo
    parameters: dict = field(default_factory=dict)  # how it was run, recorded on its layers
    known: dict = field(default_factory=dict)  # photo -> (lat, lon) from its EXIF GPS
    layer_ids: dict = field(default_factory=dict)  # role -> layer id
    online: bool = False  # whether OpenStreetMap tiles could be reached (for a first run's base map)

    def gps_error_km(self, result) -> float | None:
        """Distance from the prediction to the photo's own EXIF GPS, where it has one."""
        if result.photo not in self.known:
            return None
        lat, lon = self.known[result.photo]
        return distance_km(result.lat, result.lon, lat, lon)

    def describe(self) -> str:
        return "Photo Geolocator run {} ({}): {}".format(
            self.number, self.run_time, ", ".join(f"{k}={v}" for k, v in self.parameters.items()))


def memory_layer(kind: str, name: str, fields, features) -> QgsVectorLayer:
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


def density_layer(path: str, name: str) -> QgsRasterLayer:
    raster = QgsRasterLayer(str(path), name, "gdal")
    if raster.isValid():
        style_density(raster)
        # the density's values interpolated between cell centres: cells as coarse as its detail (auto) look smooth
        raster.dataProvider().enableProviderResampling(True)
        raster.dataProvider().setZoomedInResamplingMethod(QgsRasterDataProvider.ResamplingMethod.Bilinear)
    return raster


def build_layers(run: LocateRun, with_uncertainty: bool) -> dict:
    """The run's layers, styled, not yet in a project: role -> layer."""
    built = {}
    predictions = memory_layer("Point", "Predicted locations", layers.PREDICTIONS,
                               layers.prediction_features(run.results, run.database, run.run_time))
    predictions.loadNamedStyle(str(STYLES / "predictions.qml"))
    if with_uncertainty:
        uncertainty = memory_layer("MultiPolygon", "Uncertainty (50% / 90%)", layers.UNCERTAINTY,
                                   layers.uncertainty_features(run.results))
        uncertainty.loadNamedStyle(str(STYLES / "uncertainty.qml"))
        built["uncertainty"] = uncertainty
    neighbours = memory_layer("Point", "Neighbours", layers.NEIGHBOURS, layers.neighbour_features(run.results))
    neighbours.loadNamedStyle(str(STYLES / "neighbours.qml"))
    built["neighbours"] = neighbours
    if run.density_path:
        raster = density_layer(run.density_path, "Density (all photos; one band per photo)")
        if raster.isValid():
            set_layer_abstract(raster, f"{run.density_path}\nBand 1: the highest density of any photo; then one "
                                       "band per photo (Properties > Symbology > Band); cells of "
                                       f"{raster.rasterUnitsPerPixelX():g} degrees")
            built["density"] = raster
    if run.known:
        _add_gps_error(predictions, run)
    built["predictions"] = predictions
    built.update(trip_layers(run, memory_layer))  # anchors and streams, after a run with capture times
    for layer in built.values():  # the run's parameters travel with its layers (and into exports)
        set_layer_abstract(layer, "\n".join(filter(None, [layer_abstract(layer), run.describe()])))
        for key, value in run.parameters.items():
            layer.setCustomProperty(f"photo_geolocator/{key}", value)
    return built


def _add_gps_error(layer: QgsVectorLayer, run: LocateRun) -> None:
    provider = layer.dataProvider()
    provider.addAttributes([make_field("gps_error_km", float)])
    layer.updateFields()
    column = layer.fields().indexOf("gps_error_km")
    results = {r.photo: r for r in run.results}
    provider.changeAttributeValues({f.id(): {column: run.gps_error_km(results[f["photo"]])}
                                    for f in layer.getFeatures() if f["photo"] in run.known})


def add_run_to_project(run: LocateRun, built: dict, project: QgsProject) -> QgsLayerTreeGroup:
    """All layers in one group at the top of the layer tree: predictions above, rasters below."""
    group = project.layerTreeRoot().insertGroup(0, f"Photo Geolocator run {run.number} ({run.run_time[11:19]})")
    order = ["anchors", "predictions", "streams", "neighbours", "uncertainty", "density"]
    for role in order:
        if role in built:
            project.addMapLayer(built[role], False)
            group.addLayer(built[role])
            run.layer_ids[role] = built[role].id()
    return group


def export_run(run: LocateRun, project: QgsProject, path: str | Path) -> list[str]:
    """Write the run's vector layers and its density (one raster table per band: `density` for all photos,
    then one per photo) to one GeoPackage, styled: vector styles as the tables' default styles, and a QGIS
    project stored in the GeoPackage holding the styled layers (QGIS 3.22 cannot restore a raster's style
    from a GeoPackage otherwise). The caller has already asked before replacing an existing file.
    Returns the names of the tables written."""
    from osgeo import gdal

    path = Path(path)
    partial = path.with_name(f".{path.stem}.partial.gpkg")
    if partial.exists():
        partial.unlink()
    written = []
    context = project.transformContext()
    vector_roles = [r for r in ("predictions", "neighbours", "uncertainty") if r in run.layer_ids]
    for role in vector_roles:
        layer = project.mapLayer(run.layer_ids[role])
        options = QgsVectorFileWriter.SaveVectorOptions()
        options.driverName = "GPKG"
        options.layerName = role
        options.actionOnExistingFile = (QgsVectorFileWriter.ActionOnExistingFile.CreateOrOverwriteLayer
                                        if written else QgsVectorFileWriter.ActionOnExistingFile.CreateOrOverwriteFile)
        error = QgsVectorFileWriter.writeAsVectorFormatV3(layer, str(partial), context, options)
        if error[0] != QgsVectorFileWriter.WriterError.NoError:
            raise ExportError(f"{path}: could not write layer {role}: {error[1]}")
        written.append(role)
    gdal.UseExceptions()
    density = project.mapLayer(run.layer_ids.get("density", ""))
    if density is not None:
        source = gdal.Open(density.source())
        for band in range(1, source.RasterCount + 1):
            description = source.GetRasterBand(band).GetDescription()
            name = "density" if band == 1 else "density_" + "".join(
                c if c.isalnum() else "_" for c in Path(description).stem).lower()
            table = _unique_table(name, written)
            gdal.Translate(str(partial), source, format="GPKG", bandList=[band],
                           creationOptions=[f"RASTER_TABLE={table}", "APPEND_SUBDATASET=YES", "TILE_FORMAT=TIFF",
                                            f"RASTER_IDENTIFIER={description}"])
            written.append(table)
        source = None
    for role in vector_roles:
        saved = QgsVectorLayer(f"{partial}|layername={role}", role, "ogr")
        saved.loadNamedStyle(str(STYLES / f"{role}.qml"))
        save_style_to_database(saved, role, "Photo Geolocator style", True)
        del saved
    partial.replace(path)
    _store_project(path, run, vector_roles, "density" in written)
    return written


def stored_project_uri(path: str | Path, run: LocateRun) -> str:
    """Where export_run stores the run's QGIS project inside the GeoPackage."""
    return f"geopackage:{Path(path)}?projectName=Photo Geolocator run {run.number}"


def _store_project(path: Path, run: LocateRun, vector_roles: list[str], with_density: bool) -> None:
    stored = QgsProject()
    stored.setCrs(QgsCoordinateReferenceSystem(WGS84))
    stored.setTitle(tr("Photo Geolocator run {} ({})").format(run.number, run.run_time))
    titles = {"predictions": "Predicted locations", "neighbours": "Neighbours", "uncertainty": "Uncertainty (50% / 90%)"}
    added = [density_layer(f"GPKG:{path}:density", "Density (all photos)")] if with_density else []
    for role in reversed(vector_roles):  # each is added on top: predictions last
        layer = QgsVectorLayer(f"{path}|layername={role}", titles[role], "ogr")
        layer.loadNamedStyle(str(STYLES / f"{role}.qml"))
        added.append(layer)
    for layer in added:
        stored.addMapLayer(layer)
    if not stored.write(stored_project_uri(path, run)):
        raise ExportError(f"{path}: could not store the run's project in it: {stored.error()}")


def _unique_table(name: str, taken: list[str]) -> str:
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}_{number}"
    return candidate


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


def add_base_map(project: QgsProject, online: bool) -> QgsMapLayer | None:
    """Context under the results of a first run in an empty project: OpenStreetMap where its tiles can
    be reached, else QGIS's own offline world map."""
    if online:
        layer = QgsRasterLayer(OSM_TILES, "OpenStreetMap", "wms")
        if layer.isValid():
            project.addMapLayer(layer, False)
            project.layerTreeRoot().addLayer(layer)  # at the bottom
            return layer
    return add_world_map(project)


def add_world_map(project: QgsProject) -> QgsVectorLayer | None:
    """QGIS's own offline world map (countries), as context under the results of a first run."""
    path = Path(QgsApplication.pkgDataPath()) / "resources" / "data" / "world_map.gpkg"
    layer = QgsVectorLayer(f"{path}|layername=countries", "World map (QGIS)", "ogr")
    if not layer.isValid():
        return None
    layer.renderer().symbol().setColor(QColor(235, 235, 228))
    layer.renderer().symbol().symbolLayer(0).setStrokeColor(QColor(170, 170, 170))
    project.addMapLayer(layer, False)
    project.layerTreeRoot().addLayer(layer)  # at the bottom
    return layer


def select_prediction(run: LocateRun, result, project: QgsProject) -> None:
    """Select (and so highlight) a result's prediction on the map."""
    layer = project.mapLayer(run.layer_ids.get("predictions", ""))
    if layer is None:
        return
    ids = [f.id() for f in layer.getFeatures() if f["photo"] == result.photo]
    layer.selectByIds(ids)


def zoom_extent(result, crs, context, top: int = 10):
    """The extent holding a prediction and its top neighbours, in the given CRS (the canvas's)."""
    from qgis.core import QgsCoordinateTransform, QgsPointXY

    transform = QgsCoordinateTransform(QgsCoordinateReferenceSystem(WGS84), crs, context)
    rectangle = empty_rectangle()
    for lon, lat in [(result.lon, result.lat)] + [(n.lon, n.lat) for n in result.neighbours[:top]]:
        rectangle.combineExtentWith(transform.transform(QgsPointXY(lon, lat)))
    if rectangle.width() == 0 and rectangle.height() == 0:
        rectangle.grow(0.01 if crs.isGeographic() else 1000.0)
    rectangle.scale(1.2)
    return rectangle
