"""A run's results as one GeoPackage: written in the chosen folder under a name no other run shares,
reopened styled in a new QGIS process, zoomed to the results on a base map; the photos' own GPS places
with error lines and the batch summary; circles that follow the selection; a zoom that stays in the
world; a kept run is a copy under a suggested name."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from qgis.core import QgsCoordinateReferenceSystem, QgsProject, QgsRasterLayer

from ..conftest import REPO_ROOT, make_photos

RUN_TIME = "2026-12-05T14:02:07+00:00"


def made_up_run(plugin_module, tmp_path, density: bool = True):
    """Three photos: two with EXIF GPS (one 0 km off, one about 111 km off), one without; a density
    GeoTIFF as the engine writes it (band 1 all photos, then one band per photo)."""
    from geoloc_core.results import Alternative, LocationResult, Neighbour

    photos = [str(p) for p in make_photos(tmp_path / "photos", 5)]
    neighbours = [Neighbour(rank, rank, 0.5, 0.9 - rank / 10, 0.25, 45.0 + rank / 10, 5.0, photos[4])
                  for rank in range(1, 5)]
    results = [LocationResult(photos[0], 45.0, 5.0, 0.6, 50.0, 300.0, "cascade", 4, neighbours,
                              alternatives=[Alternative(1, 45.0, 5.0, 0.7, 0.0), Alternative(2, 48.0, 2.0, 0.2, 400.0)]),
               LocationResult(photos[1], 46.0, 6.0, 0.4, 80.0, 500.0, "cascade", 4, neighbours),
               LocationResult(photos[2], -33.9, 151.2, 0.3, 90.0, 900.0, "cascade", 4, neighbours)]
    known = {photos[0]: (45.0, 5.0), photos[1]: (47.0, 6.0)}
    run = plugin_module("ui.results").LocateRun(3, "test", RUN_TIME, results, [], parameters={"k": 4}, known=known)
    if density:
        run.density_path = str(write_density_stack(tmp_path / "engine" / "density.tif", results))
    return run


def write_density_stack(path: Path, results) -> Path:
    import numpy as np
    from osgeo import gdal

    path.parent.mkdir(parents=True, exist_ok=True)
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), 360, 180, 1 + len(results), gdal.GDT_Float32)
    dataset.SetGeoTransform((-180, 1, 0, 90, 0, -1))
    dataset.SetMetadata({"UNITS": "probability density per km2"})  # the engine describes its density
    dataset.SetProjection(gdal.osr.SRS_WKT_WGS84_LAT_LONG if hasattr(gdal, "osr") else 'GEOGCS["WGS 84"]')
    grid = np.zeros((180, 360), dtype=np.float32)
    grid[40:50, 180:190] = 1.0
    for band in range(1, 2 + len(results)):
        dataset.GetRasterBand(band).WriteArray(grid * band)
        dataset.GetRasterBand(band).SetDescription("" if band == 1 else results[band - 2].photo)
    dataset = None
    return path


def write_and_add(plugin_module, run, folder: Path, online: bool = False):
    results = plugin_module("ui.results")
    project = QgsProject.instance()
    results.write_run(run, folder, temporary=False)
    results.add_base_map(project, online)
    group = results.add_run_to_project(run, results.run_layers(run), project)
    results.store_project(run, online)
    return group


def reopen_in_new_process(uri: str) -> dict:
    """Read a stored project in a fresh Python with QGIS: its layers (valid, renderer), tree, view."""
    script = f'''
import json
from qgis.core import QgsApplication, QgsProject, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
ok = project.read({uri!r})
layers = {{}}
for node in project.layerTreeRoot().findLayers():
    layer = node.layer()
    layers[layer.name()] = [layer.isValid(), layer.renderer().type() if layer.renderer() else None,
                            node.isVisible(), layer.featureCount() if isinstance(layer, QgsVectorLayer) else None]
extent = project.viewSettings().defaultViewExtent()
print(json.dumps({{"ok": ok, "layers": layers, "order": [n.name() for n in project.layerTreeRoot().findLayers()],
                   "extent": [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()],
                   "crs": extent.crs().authid()}}))
app.exitQgis()
'''
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                          cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_the_run_writes_one_geopackage_that_reopens_styled_zoomed_on_a_base_map(qgis_app, qgis_new_project,
                                                                                 plugin_module, tmp_path):
    run = made_up_run(plugin_module, tmp_path)
    engine_tif = Path(run.density_path)
    folder = tmp_path / "chosen"
    write_and_add(plugin_module, run, folder)
    gpkg = Path(run.gpkg)
    assert gpkg.parent == folder and gpkg.name == "photo-geolocator-20261205-140207-photo00000.gpkg"
    assert not engine_tif.exists(), "the engine's GeoTIFF is copied into the GeoPackage, then removed"
    left = [p.name for p in folder.iterdir() if not p.name.endswith(("-wal", "-shm"))]  # SQLite's, while open
    assert left == [gpkg.name], "nothing else is left in the folder"
    with sqlite3.connect(gpkg) as connection:
        tables = dict(connection.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        styles = {row[0] for row in connection.execute("SELECT f_table_name FROM layer_styles")}
        projects = [row[0] for row in connection.execute("SELECT name FROM qgis_projects")]
    vectors = {"predictions", "neighbours", "uncertainty", "alternatives", "known", "error_lines"}
    assert {t for t, kind in tables.items() if kind == "features"} == vectors
    assert {t for t, kind in tables.items() if kind == "2d-gridded-coverage"} == {
        "density", "density_photo00000", "density_photo00001", "density_photo00002"}
    assert styles == vectors, "every vector table has its style"
    assert projects == ["Photo Geolocator run 3"]

    group = QgsProject.instance().layerTreeRoot().children()[0]
    assert group.name() == "Run 3 · 14:02"
    names = [node.name() for node in group.findLayers()]
    assert names == ["Predictions", "Error lines", "Known locations (GPS)", "Alternatives", "Neighbours",
                     "Uncertainty", "Density"]
    predictions = QgsProject.instance().mapLayer(run.layer_ids["predictions"])
    assert predictions.providerType() == "ogr" and predictions.dataProvider().capabilities() & \
        predictions.dataProvider().ChangeAttributeValues, "an editable GeoPackage layer"
    assert {"review_status", "reviewed_lat", "reviewed_lon", "review_note", "thumbnail", "gps_error_km"} <= \
        set(predictions.fields().names())
    thumbnails = [f["thumbnail"] for f in predictions.getFeatures()]
    assert all(bytes(t)[:2] == b"\xff\xd8" and len(bytes(t)) < 20000 for t in thumbnails), "small JPEGs"
    assert {f["review_status"] for f in predictions.getFeatures()} == {"unreviewed"}
    alternatives = QgsProject.instance().mapLayer(run.layer_ids["alternatives"])
    assert sorted((f["rank"], f["mass"]) for f in alternatives.getFeatures()) == [(1, 0.7), (2, 0.2)]

    stored = reopen_in_new_process(f"geopackage:{gpkg}?projectName=Photo Geolocator run 3")
    assert stored["ok"]
    layers = stored["layers"]
    assert stored["order"][:7] == names and stored["order"][-1] == "World map (QGIS)", "results above the base map"
    assert layers["Predictions"][:2] == [True, "singleSymbol"] and layers["Predictions"][3] == 3
    assert layers["Uncertainty"][:2] == [True, "categorizedSymbol"]
    assert not layers["Uncertainty"][2], "a batch's circles are off until ticked (they overlap)"
    assert layers["Density"][:2] == [True, "singlebandpseudocolor"]
    assert layers["Error lines"][0] and layers["Error lines"][3] == 2
    assert all(valid for valid, *_ in layers.values())
    west, south, east, north = stored["extent"]
    assert stored["crs"] == "EPSG:4326"
    assert west <= 5.0 and east >= 151.2 and south <= -33.9 and north >= 47.0, "the view holds every result"
    assert -180 <= west and east <= 180 and -90 <= south and north <= 90


def test_known_locations_and_error_lines_carry_the_error_and_the_summary(qgis_app, qgis_new_project, plugin_module,
                                                                         tmp_path):
    from geoloc_core.service import distance_km

    run = made_up_run(plugin_module, tmp_path, density=False)
    write_and_add(plugin_module, run, tmp_path / "out")
    project = QgsProject.instance()
    known = project.mapLayer(run.layer_ids["known"])
    lines = project.mapLayer(run.layer_ids["error_lines"])
    assert known.name() == "Known locations (GPS)" and lines.name() == "Error lines"
    errors = {Path(f["photo"]).name: f["error_km"] for f in lines.getFeatures()}
    expected = distance_km(46.0, 6.0, 47.0, 6.0)
    assert errors == {"photo00000.jpg": pytest.approx(0.0, abs=1e-6), "photo00001.jpg": pytest.approx(expected)}
    assert 110 < expected < 112
    line = next(f for f in lines.getFeatures() if f["photo"].endswith("photo00001.jpg")).geometry().asPolyline()
    assert [(p.x(), p.y()) for p in line] == [(6.0, 46.0), (6.0, 47.0)], "from the prediction to the photo's place"
    assert {(f["lat"], f["lon"]) for f in known.getFeatures()} == {(45.0, 5.0), (47.0, 6.0)}
    assert lines.labelsEnabled() and "error_km" in lines.labeling().settings().getLabelExpression().expression()

    summary = run.summary()
    assert summary["photos"] == 2 and summary["median_km"] == pytest.approx(expected / 2)
    assert summary["within"] == {1: 0.5, 25: 0.5, 200: 1.0, 750: 1.0, 2500: 1.0}
    text = plugin_module("ui.results").summary_text(summary)
    assert text == "2 photos with EXIF GPS: median error 56 km; within 1/25/200/750/2500 km: 50% / 50% / 100% / 100% / 100%"
    assert text in known.metadata().abstract() and known.customProperty("photo_geolocator/summary") == text
    with contextlib.closing(sqlite3.connect(run.gpkg)) as connection:
        (style,) = connection.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = 'known'").fetchall()[0]
    assert "photo_geolocator/summary" in style and "median error 56 km" in style, "the summary is in the stored style"


def test_the_batch_summary_of_a_made_up_batch():
    from geoloc_core.schema import error_summary

    assert error_summary([]) is None
    summary = error_summary([0.5, 30.0, 150.0, 800.0, 3000.0, 20.0])
    assert summary["photos"] == 6 and summary["median_km"] == pytest.approx(90.0)
    assert summary["within"] == {1: pytest.approx(1 / 6), 25: pytest.approx(2 / 6), 200: pytest.approx(4 / 6),
                                 750: pytest.approx(4 / 6), 2500: pytest.approx(5 / 6)}


def test_the_summary_shows_in_the_results_section(dock, plugin_module, tmp_path):
    run = made_up_run(plugin_module, tmp_path, density=False)
    plugin_module("ui.results").write_run(run, tmp_path / "out", temporary=False)
    dock.results_section.fill(run)
    assert dock.results_section.summary_label.text().startswith("2 photos with EXIF GPS: median error 56 km")
    assert str(tmp_path / "out") in dock.results_section.file_label.text()


def test_circles_follow_the_selection_and_focus_shows_one_photo(qgis_app, qgis_new_project, plugin_module, tmp_path):
    results = plugin_module("ui.results")
    run = made_up_run(plugin_module, tmp_path, density=False)
    write_and_add(plugin_module, run, tmp_path / "out")
    project = QgsProject.instance()
    circles = project.mapLayer(run.layer_ids["uncertainty"])
    neighbours = project.mapLayer(run.layer_ids["neighbours"])
    alternatives = project.mapLayer(run.layer_ids["alternatives"])
    assert circles.featureCount() == 0, "no circles of a batch until a photo is selected"
    results.select_prediction(run, run.results[1], project)
    assert {f["photo"] for f in circles.getFeatures()} == {run.results[1].photo} and circles.featureCount() == 2
    results.focus_photo(run, run.results[0].photo, project)
    assert {f["photo"] for f in neighbours.getFeatures()} == {run.results[0].photo}
    assert neighbours.featureCount() == 4 and alternatives.featureCount() == 2
    assert {f["photo"] for f in circles.getFeatures()} == {run.results[0].photo}
    results.focus_photo(run, run.results[2].photo, project)
    assert alternatives.featureCount() == 0 and neighbours.featureCount() == 4
    results.focus_photo(run, None, project)
    assert neighbours.featureCount() == 12 and alternatives.featureCount() == 2
    assert {f["photo"] for f in circles.getFeatures()} == {run.results[1].photo}, "back to the selection"


def test_focusing_a_photo_shows_its_own_density_table(qgis_app, qgis_new_project, plugin_module, tmp_path):
    results = plugin_module("ui.results")
    run = made_up_run(plugin_module, tmp_path)
    write_and_add(plugin_module, run, tmp_path / "out")
    project = QgsProject.instance()
    density = project.mapLayer(run.layer_ids["density"])
    assert density.source().endswith(":density")
    results.focus_photo(run, run.results[1].photo, project)
    density = project.mapLayer(run.layer_ids["density"])
    assert density.source() == f"GPKG:{run.gpkg}:{run.density_tables[run.results[1].photo]}" and density.isValid()
    assert density.renderer().type() == "singlebandpseudocolor", "drawn as the all-photos density is"
    results.focus_photo(run, None, project)
    assert project.mapLayer(run.layer_ids["density"]).source().endswith(":density")


def test_a_zoom_near_the_antimeridian_stays_inside_the_world(qgis_app, plugin_module):
    from geoloc_core.results import LocationResult, Neighbour

    results = plugin_module("ui.results")
    neighbours = [Neighbour(1, 1, 0.5, 0.9, 0.5, -16.0, -179.5, "a.jpg"), Neighbour(2, 2, 0.5, 0.9, 0.5, 89.0, 179.9,
                                                                                    "b.jpg")]
    result = LocationResult("p.jpg", -17.0, 178.9, 0.5, 50.0, 100.0, "cascade", 2, neighbours)
    wgs84 = QgsCoordinateReferenceSystem("EPSG:4326")
    extent = results.zoom_extent(result, wgs84, QgsProject.instance())
    assert extent.xMinimum() >= -180 and extent.xMaximum() <= 180 and extent.yMaximum() <= 90
    assert extent.xMinimum() <= -179.5 and extent.xMaximum() >= 179.9, "still holds every point"
    mercator = results.zoom_extent(result, QgsCoordinateReferenceSystem("EPSG:3857"), QgsProject.instance())
    edge = 20037508.35
    assert -edge - 1 <= mercator.xMinimum() and mercator.xMaximum() <= edge + 1
    assert mercator.yMaximum() <= edge + 1


def test_run_files_are_unique_across_sessions_and_never_in_an_unasked_home_folder(qgis_app, qgis_new_project,
                                                                                   plugin_module, tmp_path):
    results = plugin_module("ui.results")
    folder = tmp_path / "chosen"
    first = made_up_run(plugin_module, tmp_path / "a", density=False)
    results.write_run(first, folder, temporary=False)
    again = made_up_run(plugin_module, tmp_path / "a", density=False)  # the next session's run 3, the same second
    kept = Path(first.gpkg).read_bytes()
    results.write_run(again, folder, temporary=False)
    assert again.gpkg != first.gpkg and Path(first.gpkg).read_bytes() == kept, "no run overwrites another"
    assert results.run_file_name("2026-12-05T14:02:08+00:00", "/x/IMG 1.heic") == \
        "photo-geolocator-20261205-140208-IMG_1.gpkg"

    project = QgsProject.instance()
    assert results.results_folder(str(folder), project) == (folder, False), "the folder chosen in Parameters"
    project.write(str(tmp_path / "saved" / "p.qgz")) if (tmp_path / "saved").mkdir() is None else None
    assert results.results_folder("", project) == (tmp_path / "saved", False), "else the saved project's folder"
    project.clear()
    scratch, temporary = results.results_folder("", project)
    assert temporary and not scratch.is_relative_to(Path.home()) or str(Path.home()).startswith("/tmp")
    assert scratch.name == f"photo-geolocator-results-{os.getpid()}"
    ended = tmp_path / "tmp" / "photo-geolocator-results-999999999"
    ended.mkdir(parents=True)
    ours = tmp_path / "tmp" / f"photo-geolocator-results-{os.getpid()}"
    ours.mkdir()
    assert results.remove_ended_scratch_folders(tmp_path / "tmp") == [ended] and ours.is_dir()


def test_keeping_a_temporary_run_is_a_copy_under_a_suggested_name(dock, qgis_app, plugin_module, tmp_path,
                                                                 monkeypatch):
    from qgis.PyQt.QtWidgets import QFileDialog

    results = plugin_module("ui.results")
    run = made_up_run(plugin_module, tmp_path)
    results.write_run(run, tmp_path / "scratch", temporary=True)
    project = QgsProject.instance()
    results.add_run_to_project(run, results.run_layers(run), project)
    results.store_project(run, False)
    dock.runs.append(run)
    dock.results_section.fill(run)
    assert "temporary" in dock.results_section.file_label.text()
    asked = []
    target = tmp_path / "kept" / "mine.gpkg"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: asked.append(args) or (str(target), ""))
    predictions = project.mapLayer(run.layer_ids["predictions"])
    predictions.startEditing()
    feature = next(predictions.getFeatures())
    predictions.changeAttributeValue(feature.id(), predictions.fields().indexOf("review_status"), "accepted")
    temporary = Path(run.gpkg)
    dock.results_section.choose_export()
    assert Path(asked[0][2]).name == "photo-geolocator-20261205-140207-photo00000.gpkg", "a name is suggested"
    assert target.is_file() and temporary.is_file(), "a copy"
    assert run.gpkg == str(target) and not run.temporary
    assert predictions.source().startswith(str(target)), "the layers edit the kept file from now on"
    assert all(isinstance(layer, QgsRasterLayer) or str(target) in layer.source()
               for layer in map(project.mapLayer, run.layer_ids.values()))
    assert "mine.gpkg" in dock.results_section.file_label.text()
    temporary.unlink()
    stored = reopen_in_new_process(f"geopackage:{target}?projectName=Photo Geolocator run 3")
    assert stored["ok"] and all(valid for valid, *_ in stored["layers"].values()), "the copy opens its own tables"
    with sqlite3.connect(target) as connection:
        statuses = [row[0] for row in connection.execute("SELECT review_status FROM predictions")]
    assert "accepted" in statuses, "edits made before keeping are in the copy"


def test_a_project_without_a_base_map_gets_one(qgis_app, qgis_new_project, plugin_module):
    results = plugin_module("ui.results")
    project = QgsProject.instance()
    from qgis.core import QgsVectorLayer

    other = QgsVectorLayer("Point?crs=EPSG:4326", "coverage", "memory")  # e.g. after Show coverage
    project.addMapLayer(other)
    assert not results.has_base_map(project)
    added = results.add_base_map(project, online=False)
    assert added is not None and added.name() == "World map (QGIS)"
    assert results.has_base_map(project) and results.add_base_map(project, online=False) is None, "only once"
