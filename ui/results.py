"""Turning a run's results into map layers (main thread only) and exporting a run to one GeoPackage."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qgis.core import (
    QgsColorRampShader,
    QgsCoordinateReferenceSystem,
    QgsLayerTreeGroup,
    QgsProject,
    QgsRasterBandStats,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
    QgsVectorFileWriter,
    QgsVectorLayer,
)
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtXml import QDomDocument

from .. import layers

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
    density_paths: dict = field(default_factory=dict)  # photo -> GeoTIFF path
    layer_ids: dict = field(default_factory=dict)  # role -> layer id


def memory_layer(kind: str, name: str, fields, features) -> QgsVectorLayer:
    layer = QgsVectorLayer(f"{kind}?crs={WGS84}", name, "memory")
    provider = layer.dataProvider()
    provider.addAttributes(fields.toList())
    layer.updateFields()
    provider.addFeatures(features)
    layer.updateExtents()
    return layer


def style_density(layer: QgsRasterLayer) -> None:
    """A transparent heat ramp: zero density is see-through, the peak is dark red."""
    stats = layer.dataProvider().bandStatistics(1, QgsRasterBandStats.Stats.Max)
    top = stats.maximumValue if stats.maximumValue > 0 else 1.0
    ramp = QgsColorRampShader(0.0, top)
    ramp.setColorRampType(QgsColorRampShader.Type.Interpolated)
    ramp.setColorRampItemList([
        QgsColorRampShader.ColorRampItem(0.0, QColor(255, 255, 178, 0), "0"),
        QgsColorRampShader.ColorRampItem(top * 0.05, QColor(254, 204, 92, 90)),
        QgsColorRampShader.ColorRampItem(top * 0.3, QColor(253, 141, 60, 170)),
        QgsColorRampShader.ColorRampItem(top * 0.7, QColor(240, 59, 32, 210)),
        QgsColorRampShader.ColorRampItem(top, QColor(189, 0, 38, 235), f"{top:.3g} per km²"),
    ])
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(ramp)
    layer.setRenderer(QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader))


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
    for photo, path in run.density_paths.items():
        raster = QgsRasterLayer(str(path), f"Density {Path(photo).name}", "gdal")
        if raster.isValid():
            style_density(raster)
            built[f"density:{photo}"] = raster
    built["predictions"] = predictions
    return built


def add_run_to_project(run: LocateRun, built: dict, project: QgsProject) -> QgsLayerTreeGroup:
    """All layers in one group at the top of the layer tree: predictions above, rasters below."""
    group = project.layerTreeRoot().insertGroup(0, f"Photo Geolocator run {run.number} ({run.run_time[11:19]})")
    order = ["predictions", "neighbours", "uncertainty"] + sorted(k for k in built if k.startswith("density:"))
    for role in order:
        if role in built:
            project.addMapLayer(built[role], False)
            group.addLayer(built[role])
            run.layer_ids[role] = built[role].id()
    return group


def export_run(run: LocateRun, project: QgsProject, path: str | Path) -> list[str]:
    """Write the run's vector layers and density rasters to one GeoPackage, with the styles saved in it
    (default style of each table), so that it reopens styled in another QGIS. The caller has already
    asked before replacing an existing file. Returns the names of the tables written."""
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
            raise OSError(f"{path}: could not write layer {role}: {error[1]}")
        written.append(role)
    gdal.UseExceptions()
    raster_styles = {}
    for role, layer_id in run.layer_ids.items():
        if not role.startswith("density:"):
            continue
        layer = project.mapLayer(layer_id)
        table = _unique_table("density_" + "".join(c if c.isalnum() else "_" for c in Path(role[8:]).stem).lower(),
                              written)
        gdal.Translate(str(partial), layer.source(), format="GPKG",
                       creationOptions=[f"RASTER_TABLE={table}", "APPEND_SUBDATASET=YES", "TILE_FORMAT=TIFF"])
        written.append(table)
        document = QDomDocument()
        layer.exportNamedStyle(document)
        raster_styles[table] = document.toString()
    for role in vector_roles:
        saved = QgsVectorLayer(f"{partial}|layername={role}", role, "ogr")
        saved.loadNamedStyle(str(STYLES / f"{role}.qml"))
        saved.saveStyleToDatabase(role, "Photo Geolocator style", True, "")
        del saved
    _store_raster_styles(partial, raster_styles)
    partial.replace(path)
    return written


def _unique_table(name: str, taken: list[str]) -> str:
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}_{number}"
    return candidate


def _store_raster_styles(gpkg: Path, styles: dict) -> None:
    """Raster styles as default rows of the GeoPackage's layer_styles table, the place QGIS reads
    them from (QGIS 3.22 cannot write them for rasters itself)."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(gpkg)) as connection, connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT, "
            "f_table_schema TEXT, f_table_name TEXT, f_geometry_column TEXT, styleName TEXT, styleQML TEXT, "
            "styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT, ui TEXT, update_time DATETIME "
            "DEFAULT CURRENT_TIMESTAMP)")
        connection.executemany(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
            "styleQML, styleSLD, useAsDefault, description, owner, ui) VALUES ('', '', ?, '', ?, ?, '', 1, "
            "'Photo Geolocator style', '', '')",
            [(table, table, qml) for table, qml in styles.items()])


def zoom_extent(result, crs, context, top: int = 10):
    """The extent holding a prediction and its top neighbours, in the given CRS (the canvas's)."""
    from qgis.core import QgsCoordinateTransform, QgsPointXY, QgsRectangle

    transform = QgsCoordinateTransform(QgsCoordinateReferenceSystem(WGS84), crs, context)
    rectangle = QgsRectangle()
    rectangle.setMinimal()
    for lon, lat in [(result.lon, result.lat)] + [(n.lon, n.lat) for n in result.neighbours[:top]]:
        rectangle.combineExtentWith(transform.transform(QgsPointXY(lon, lat)))
    if rectangle.width() == 0 and rectangle.height() == 0:
        rectangle.grow(0.01 if crs.isGeographic() else 1000.0)
    rectangle.scale(1.2)
    return rectangle
