"""The Processing algorithms through processing.run, a model, batch runs and qgis_process."""

from __future__ import annotations

import os
import subprocess

import pytest
from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsProcessingException,
    QgsRasterLayer,
    QgsVectorLayer,
)

from ..conftest import PLUGIN_PACKAGE, REPO_ROOT, make_located_photos, write_csv


@pytest.fixture(scope="module")
def provider(qgis_app, plugin_module):
    """The plugin's provider, imported as QGIS imports it (package photo_geolocator)."""
    instance = plugin_module("processing_provider.provider").PhotoGeolocatorProvider()
    assert QgsApplication.processingRegistry().addProvider(instance)
    yield instance
    QgsApplication.processingRegistry().removeProvider(instance)


@pytest.fixture(scope="module")
def run(qgis_processing, provider):
    import processing

    return processing.run


def test_provider_lists_its_algorithms_with_help(provider):
    names = sorted(a.name() for a in provider.algorithms())
    assert names == ["add_photos", "build_database", "evaluate_accuracy", "geolocate_photos", "locate_worldwide",
                     "train_features"]
    for algorithm in provider.algorithms():
        assert len(algorithm.shortHelpString()) > 200, algorithm.name()
        assert algorithm.group() == "Photo geolocation"


@pytest.fixture(scope="module")
def gps(tmp_path_factory):
    """Nine made-up photos with their location in EXIF (what they show does not matter here)."""
    folder = tmp_path_factory.mktemp("gps")
    make_located_photos(folder, 9, seed=3)
    return folder


@pytest.fixture(scope="module")
def walk_db(run, tmp_path_factory, qgis_processing):
    folder = tmp_path_factory.mktemp("references")
    make_located_photos(folder, 15, seed=1)
    out = tmp_path_factory.mktemp("proc") / "walk.geoloc"
    result = run("photo_geolocator:build_database", {
        "FOLDER": str(folder), "OUTPUT_DATABASE": str(out), "OUTPUT_REFERENCES": "TEMPORARY_OUTPUT"})
    return result


def test_build_outputs_database_and_reference_layer(walk_db):
    references = walk_db["OUTPUT_REFERENCES"]
    assert (walk_db["OUTPUT_DATABASE"].endswith("walk.geoloc")) and walk_db["COUNT"] == 15
    assert references.featureCount() == 15
    assert references.crs().authid() == "EPSG:4326"
    assert {"record_id", "path", "lat", "lon"} <= set(references.fields().names())


def test_geolocate_writes_every_output(run, walk_db, gps, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really")
    result = run("photo_geolocator:geolocate_photos", {
        "FILES": f"{gps / 'photo00000.jpg'};{gps / 'photo00001.jpg'};{broken}", "DATABASE": walk_db["OUTPUT_DATABASE"],
        "K": 5, "BANDWIDTH": 10, "PREDICTIONS": str(tmp_path / "predictions.gpkg"),
        "NEIGHBOURS": "TEMPORARY_OUTPUT", "UNCERTAINTY": "TEMPORARY_OUTPUT",
        "DENSITY": str(tmp_path / "density.tif"), "DENSITY_RESOLUTION": 0.05})
    predictions = QgsVectorLayer(result["PREDICTIONS"], "p", "ogr")
    assert predictions.isValid() and predictions.featureCount() == 2
    assert result["LOCATED"] == 2 and result["FAILED"] == 1
    assert result["NEIGHBOURS"].featureCount() == 10
    assert result["UNCERTAINTY"].featureCount() == 4
    assert set(predictions.fields().names()) >= {"photo", "lat", "lon", "confidence", "radius50_km", "radius90_km"}
    density = QgsRasterLayer(result["DENSITY"], "d")
    assert density.isValid() and density.bandCount() == 3, "all photos, then one band per photo"
    assert density.crs() == QgsCoordinateReferenceSystem("EPSG:4326")


def test_batch_over_two_inputs(run, walk_db, gps, tmp_path):
    counts = []
    for files in (str(gps / "photo00000.jpg"), f"{gps / 'photo00002.jpg'};{gps / 'photo00003.jpg'}"):
        result = run("photo_geolocator:geolocate_photos", {
            "FILES": files, "DATABASE": walk_db["OUTPUT_DATABASE"], "PREDICTIONS": "TEMPORARY_OUTPUT",
            "NEIGHBOURS": "TEMPORARY_OUTPUT"})
        counts.append(result["PREDICTIONS"].featureCount())
    assert counts == [1, 2]


def test_evaluate_reports_accuracy(run, walk_db, gps):
    result = run("photo_geolocator:evaluate_accuracy", {
        "FOLDER": str(gps), "DATABASE": walk_db["OUTPUT_DATABASE"],
        "K": 5, "BANDWIDTH": 5, "TEMPERATURE": 0.05, "OUTPUT": "TEMPORARY_OUTPUT"})
    assert result["OUTPUT"].featureCount() == 9 and result["PHOTOS"] == 9
    assert {"ACC_1KM", "ACC_25KM", "MEDIAN_KM", "MEAN_GEOGUESSR"} <= set(result)
    assert "error_km" in result["OUTPUT"].fields().names()


def test_add_from_a_point_layer_with_a_path_field(run, tmp_path, walk_db):
    rows = make_located_photos(tmp_path / "more", 3, seed=4)
    layer = QgsVectorLayer("Point?crs=EPSG:3857&field=photo:string", "refs", "memory")
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY

    features = []
    for row in rows:
        feature = QgsFeature(layer.fields())
        x = float(row["lon"]) * 20037508.34 / 180
        import math

        y = math.log(math.tan((90 + float(row["lat"])) * math.pi / 360)) * 6378137.0
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        feature.setAttributes([row["path"]])
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    import shutil

    database = tmp_path / "copy.geoloc"
    shutil.copytree(walk_db["OUTPUT_DATABASE"], database)
    result = run("photo_geolocator:add_photos", {"LAYER": layer, "PATH_FIELD": "photo", "DATABASE": str(database),
                                                 "OUTPUT_REFERENCES": "TEMPORARY_OUTPUT"})
    assert result["ADDED"] == 3 and result["COUNT"] == 18
    added = [f for f in result["OUTPUT_REFERENCES"].getFeatures() if f["path"] == rows[0]["path"]]
    assert added[0]["lat"] == pytest.approx(float(rows[0]["lat"]), abs=1e-6), "reprojected to WGS 84"


@pytest.mark.slow
def test_train_features_and_locate_with_them(run, tmp_path):
    """The algorithm's wiring only (parameters in, a view, cells and a tuned backbone out, the hybrid estimator
    reading the view): one epoch on a few photos. The training itself is the engine's, tested in
    tests/engine/test_training.py."""
    rows = make_located_photos(tmp_path / "refs", 24, seed=5)
    csv_path = write_csv(tmp_path / "refs.csv", rows)
    database = str(tmp_path / "train.geoloc")
    run("photo_geolocator:build_database", {"CSV": str(csv_path), "OUTPUT_DATABASE": database})
    result = run("photo_geolocator:train_features", {"DATABASE": database, "T_MAX": 6, "T_MIN": 2, "GEO_DIM": 8,
                                                      "EPOCHS": 1, "CELLS": "TEMPORARY_OUTPUT"})
    assert result["VIEW"] == "geocells" and result["CELLS"].featureCount() == result["CELL_COUNT"] >= 2
    assert result["CELLS"].geometryType() == 2  # polygons
    located = run("photo_geolocator:geolocate_photos", {
        "FILES": rows[0]["path"], "DATABASE": database, "ESTIMATOR": 3, "K": 10,
        "PREDICTIONS": "TEMPORARY_OUTPUT", "NEIGHBOURS": "TEMPORARY_OUTPUT"})
    feature = next(located["PREDICTIONS"].getFeatures())
    assert feature["estimator"] == "hybrid"
    tuned = run("photo_geolocator:train_features", {"DATABASE": database, "NAME": "tuned", "T_MAX": 6, "T_MIN": 2,
                                                     "GEO_DIM": 8, "EPOCHS": 1, "FINETUNE": True, "FINETUNE_EPOCHS": 1})
    assert tuned["VIEW"] == "tuned" and (tmp_path / "train.geoloc" / "views" / "tuned" / "backbone.npz").is_file()


def test_bad_inputs_raise_clear_errors(run, walk_db, tmp_path):
    with pytest.raises(QgsProcessingException, match="no photos"):
        run("photo_geolocator:geolocate_photos", {"DATABASE": walk_db["OUTPUT_DATABASE"],
                                                  "PREDICTIONS": "TEMPORARY_OUTPUT", "NEIGHBOURS": "TEMPORARY_OUTPUT"})
    (tmp_path / "empty.geoloc").mkdir()
    with pytest.raises(QgsProcessingException, match="manifest.json is missing"):
        run("photo_geolocator:geolocate_photos", {"FILES": "a.jpg", "DATABASE": str(tmp_path / "empty.geoloc"),
                                                  "PREDICTIONS": "TEMPORARY_OUTPUT", "NEIGHBOURS": "TEMPORARY_OUTPUT"})
    with pytest.raises(QgsProcessingException, match="give a folder, a CSV or a layer"):
        run("photo_geolocator:build_database", {"OUTPUT_DATABASE": str(tmp_path / "x.geoloc")})


def test_a_model_chains_build_and_geolocate(run, qgis_processing, gps, tmp_path):
    from qgis.core import (
        QgsProcessingContext,
        QgsProcessingFeedback,
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
    )

    csv_path = write_csv(tmp_path / "refs.csv", make_located_photos(tmp_path / "refs", 20, seed=6))
    model = QgsProcessingModelAlgorithm("build and locate", "tests")
    build = QgsProcessingModelChildAlgorithm("photo_geolocator:build_database")
    build.setChildId("build")
    build.addParameterSources("CSV", [QgsProcessingModelChildParameterSource.fromStaticValue(str(csv_path))])
    build.addParameterSources("OUTPUT_DATABASE", [
        QgsProcessingModelChildParameterSource.fromStaticValue(str(tmp_path / "model.geoloc"))])
    model.addChildAlgorithm(build)
    locate = QgsProcessingModelChildAlgorithm("photo_geolocator:geolocate_photos")
    locate.setChildId("locate")
    locate.addParameterSources("DATABASE", [
        QgsProcessingModelChildParameterSource.fromChildOutput("build", "OUTPUT_DATABASE")])
    locate.addParameterSources("FILES", [QgsProcessingModelChildParameterSource.fromStaticValue(
        str(gps / "photo00000.jpg"))])
    output = QgsProcessingModelOutput("predictions")
    output.setChildOutputName("PREDICTIONS")
    output.setChildId("locate")
    locate.setModelOutputs({"predictions": output})
    neighbours = QgsProcessingModelOutput("neighbours")
    neighbours.setChildOutputName("NEIGHBOURS")
    neighbours.setChildId("locate")
    locate.setModelOutputs({"predictions": output, "neighbours": neighbours})
    model.addChildAlgorithm(locate)
    model.updateDestinationParameters()
    context = QgsProcessingContext()
    outputs, ok = model.run({"locate:predictions": "TEMPORARY_OUTPUT", "locate:neighbours": "TEMPORARY_OUTPUT"},
                            context, QgsProcessingFeedback())
    assert ok
    layer = context.takeResultLayer(outputs["locate:predictions"])
    assert layer.featureCount() == 1 and (tmp_path / "model.geoloc" / "manifest.json").is_file()


@pytest.mark.slow
def test_qgis_process_runs_the_plugin_headless(gps, tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / PLUGIN_PACKAGE).symlink_to(REPO_ROOT, target_is_directory=True)
    import sysconfig

    config = str(tmp_path / "qgis-config")  # a fresh profile, not the suite's own settings
    env = {**os.environ, "QGIS_PLUGINPATH": str(plugins), "QGIS_CUSTOM_CONFIG_PATH": config,
           "QGIS_OPTIONS_PATH": config, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    enable = subprocess.run(["/usr/bin/qgis_process.bin", "plugins", "enable", PLUGIN_PACKAGE], env=env,
                            capture_output=True, text=True)
    assert enable.returncode == 0, enable.stdout + enable.stderr
    database = tmp_path / "walk.geoloc"
    build = subprocess.run(["/usr/bin/qgis_process.bin", "run", "photo_geolocator:build_database", "--",
                            f"FOLDER={gps}", f"OUTPUT_DATABASE={database}"],
                           env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    out = tmp_path / "out.gpkg"
    locate = subprocess.run(["/usr/bin/qgis_process.bin", "run", "photo_geolocator:geolocate_photos", "--",
                             f"FILES={gps / 'photo00000.jpg'}", f"DATABASE={database}",
                             f"PREDICTIONS={out}", f"NEIGHBOURS={tmp_path / 'n.gpkg'}"],
                            env=env, capture_output=True, text=True)
    assert locate.returncode == 0, locate.stdout + locate.stderr
    assert QgsVectorLayer(str(out), "p", "ogr").featureCount() == 1


def test_geolocate_outputs_are_styled_when_loaded(qgis_processing, provider, walk_db, gps, tmp_path, qgis_iface,
                                                  monkeypatch):
    import processing
    from qgis.core import QgsLayerTreeModel, QgsProject
    from qgis.gui import QgsLayerTreeView

    # QGIS 3.44 hands the layer tree view to C++ (QgsProcessingGuiUtils.addResultLayers): a real one, not a mock
    view = QgsLayerTreeView()
    view.setModel(QgsLayerTreeModel(QgsProject.instance().layerTreeRoot()))
    monkeypatch.setattr(qgis_iface, "layerTreeView", lambda: view)
    QgsProject.instance().clear()
    processing.runAndLoadResults("photo_geolocator:geolocate_photos", {
        "FILES": f"{gps / 'photo00000.jpg'};{gps / 'photo00001.jpg'}", "DATABASE": walk_db["OUTPUT_DATABASE"],
        "K": 5, "BANDWIDTH": 10, "PREDICTIONS": "TEMPORARY_OUTPUT", "NEIGHBOURS": "TEMPORARY_OUTPUT",
        "UNCERTAINTY": "TEMPORARY_OUTPUT", "DENSITY": str(tmp_path / "density.tif"), "DENSITY_RESOLUTION": 0.05})
    loaded = {layer.name(): layer for layer in QgsProject.instance().mapLayers().values()}
    assert loaded["Density"].renderer().type() == "singlebandpseudocolor", "a heat ramp, not RGB on black"
    assert loaded["Uncertainty circles"].renderer().type() == "categorizedSymbol", "see-through circles"
    star = loaded["Predicted locations"].renderer().symbol().symbolLayer(0)
    assert star.shape() == star.Star
    QgsProject.instance().clear()


def test_the_build_log_has_a_line_per_stage_not_per_photo(run, gps, tmp_path):
    from qgis.core import QgsProcessingFeedback

    class Log(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.lines = []

        def setProgressText(self, text):
            self.lines.append(text)

    log = Log()
    run("photo_geolocator:build_database", {"FOLDER": str(gps),
                                            "OUTPUT_DATABASE": str(tmp_path / "log.geoloc")}, feedback=log)
    assert 1 <= len(log.lines) <= 4 and len(set(log.lines)) == len(log.lines), log.lines


def test_building_from_photos_without_location_fails(run, tmp_path):
    folder = tmp_path / "nothing"
    folder.mkdir()
    with pytest.raises(QgsProcessingException, match="no photo with a usable location"):
        run("photo_geolocator:build_database", {"FOLDER": str(folder), "OUTPUT_DATABASE": str(tmp_path / "e.geoloc")})


def test_locate_parameters_default_to_the_engine_defaults(provider):
    from geoloc_core import defaults

    algorithm = next(a for a in provider.algorithms() if a.name() == "geolocate_photos")
    parameter = algorithm.parameterDefinition("ESTIMATOR")
    assert parameter.options()[parameter.defaultValue()] == defaults.DEFAULT_ESTIMATOR
    assert algorithm.parameterDefinition("K").defaultValue() == defaults.DEFAULT_K
    assert algorithm.parameterDefinition("BANDWIDTH").defaultValue() == defaults.DEFAULT_BANDWIDTH_KM
    assert algorithm.parameterDefinition("TEMPERATURE").defaultValue() == defaults.DEFAULT_TEMPERATURE
