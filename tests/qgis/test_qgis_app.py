"""The plugin inside the real QGIS application under Xvfb, where headless tests cannot see native clashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import make_place_photos, real_photos_here, shared_path
from .conftest import made_up_samples
from .qgis_app import DRIVER, needs_xvfb, run_in_qgis


@pytest.fixture
def heic_photos(tmp_path):
    """Two HEIC/HEIF photos with GPS and how the panel lists them: the real ones of ../shared where it is
    (and in CI), made-up ones whose GPS the test wrote in a clone without it (one QGIS start, not two)."""
    if real_photos_here():
        heic = shared_path("photos", "exif-samples", "heic")
        return ([str(heic / "IMG_5195.HEIC"), str(heic / "mobile" / "HMD_Nokia_8.3_5G.heif")],
                ["IMG_5195.HEIC  [GPS 39.0513, -94.2888]", "HMD_Nokia_8.3_5G.heif  [GPS 40.7887, -4.0051]"])
    rows = [row for row in made_up_samples(tmp_path / "samples") if row["format"] == "HEIC"]
    return ([str(tmp_path / "samples" / row["path"]) for row in rows],
            [f"{Path(row['path']).name}  [GPS {row['lat']:.4f}, {row['lon']:.4f}]" for row in rows])


@pytest.fixture
def references(tmp_path):
    """A folder of reference photos with EXIF GPS, JPEGs and one HEIF (linked), and how many: the walk of
    ../shared but its first photo where it is (and in CI), made-up look-alike photos in a clone without it."""
    folder = tmp_path / "references"
    folder.mkdir()
    if real_photos_here():
        jpg = shared_path("photos", "exif-samples", "jpg")
        heic = shared_path("photos", "exif-samples", "heic")
        linked, count = [*sorted((jpg / "gps").glob("*.jpg"))[1:], heic / "mobile" / "HMD_Nokia_8.3_5G.heif"], 9
    else:
        made_up_samples(tmp_path / "samples")
        places = make_place_photos(tmp_path / "places", 2)
        linked = [Path(row["path"]) for row in places] + [tmp_path / "samples" / "heic" / "mobile" / "rio.heif"]
        count = len(linked)
    for photo in linked:
        (folder / photo.name).symlink_to(photo)
    return folder, count

ADD_HEIC = '''
def add():
    dock.photos.add_photos(PHOTOS)
    QTimer.singleShot(100, guarded(read))


def read():  # once the photos have been read in the background
    if dock.photos.reading():
        QTimer.singleShot(100, guarded(read))
        return
    state["items"] = [dock.photos.photo_list.item(i).text() for i in range(dock.photos.photo_list.count())]
    state["icons"] = [not dock.photos.photo_list.item(i).icon().isNull() for i in range(dock.photos.photo_list.count())]
    finish()


QTimer.singleShot(2000, guarded(add))
'''


@pytest.mark.slow
@needs_xvfb
def test_adding_heic_photos_in_the_qgis_application_reads_their_gps_without_crashing(tmp_path, heic_photos):
    photos, listed = heic_photos
    state, result = run_in_qgis(tmp_path, f"PHOTOS = {photos!r}\n{ADD_HEIC}")
    assert state["items"] == listed
    assert all(state["icons"]), "every photo has a thumbnail"
    assert not [e for e in state["errors"] if "python" in e[0].lower()], state["errors"]


WALK = '''
from pathlib import Path
from qgis.core import QgsProject, QgsRasterLayer, QgsRectangle, QgsVectorLayer, QgsWkbTypes

from photo_geolocator.ui.results import stored_project_uri


def idle():
    while dock.task is not None or dock.photos.reading():
        yield


def walk():
    dock.show()
    dock.database_section.build_database(REFERENCES, DATABASE)
    yield from idle()
    state["database"] = dock.database.count if dock.database else None
    dock.photos.add_photos(PHOTOS)
    yield from idle()
    state["marked"] = sum("GPS" in dock.photos.photo_list.item(i).text() for i in range(dock.photos.photo_list.count()))
    runs = []
    dock.runFinished.connect(runs.append)
    dock.options.k_spin.setValue(5)
    dock.run_button.click()
    yield from idle()
    run = runs[0]
    state["located"] = len(run.results)
    state["run_layers"] = sorted(QgsProject.instance().mapLayer(i).name() for i in run.layer_ids.values())
    state["exported"] = dock.results_section.export_run(run, EXPORT)
    iface.newProject(False)
    yield
    iface.mapCanvas().setExtent(QgsRectangle(0, 0, 1, 1))  # far from the results: the project must set the view
    project = QgsProject.instance()
    state["reopened"] = project.read(stored_project_uri(EXPORT, run))
    layers = {layer.name(): layer for layer in project.mapLayers().values()}
    state["layers"] = {name: [layer.isValid(), layer.renderer().type()] for name, layer in layers.items()}
    uncertainty = layers["Uncertainty"]
    predictions = {f["photo"]: f.geometry() for f in layers["Predictions"].getFeatures()}
    state["circles"] = [[f.geometry().isGeosValid(), f.geometry().contains(predictions[f["photo"]])]
                        for f in uncertainty.getFeatures()]
    state["density_bands"] = layers["Density"].bandCount()
    canvas = iface.mapCanvas()
    extent = canvas.mapSettings().layerExtentToOutputExtent(layers["Predictions"], layers["Predictions"].extent())
    state["zoomed"] = canvas.extent().contains(extent) and canvas.scale() > 1000
    yield


''' + DRIVER


@pytest.mark.slow
@needs_xvfb
def test_a_user_walk_through_the_qgis_main_window(tmp_path, references, jpeg_and_heic):
    """Build from JPEG and HEIC photos, locate both kinds, export, reopen the export in a new project."""
    references, with_gps = references
    photos = jpeg_and_heic
    export = tmp_path / "run.gpkg"
    state, result = run_in_qgis(tmp_path, f"REFERENCES = {str(references)!r}\nDATABASE = {str(tmp_path / 'w.geoloc')!r}\n"
                                          f"PHOTOS = {photos!r}\nEXPORT = {str(export)!r}\n{WALK}", timeout=400)
    assert state["database"] == with_gps, "the JPEGs and the HEIF, all with GPS"
    assert state["marked"] == 3 and state["located"] == 3, "all three carry EXIF GPS"
    assert [name for name in state["run_layers"] if name != "Alternatives"] == [
        "Density", "Error lines", "Known locations (GPS)", "Neighbours", "Predictions", "Uncertainty"]
    assert state["exported"] and state["reopened"]
    assert {"Predictions": [True, "singleSymbol"], "Neighbours": [True, "singleSymbol"],
            "Uncertainty": [True, "categorizedSymbol"], "Density": [True, "singlebandpseudocolor"],
            "Known locations (GPS)": [True, "singleSymbol"], "Error lines": [True, "singleSymbol"]}.items() <= \
        state["layers"].items()
    assert "World map (QGIS)" in state["layers"] or "OpenStreetMap" in state["layers"], "on a base map"
    assert state["zoomed"], "the reopened project shows the results, not 1:1 on an empty canvas"
    assert state["circles"] == [[True, True]] * 6, "every circle is valid and holds its prediction"
    assert state["density_bands"] == 1
    assert not [e for e in state["errors"] if "python" in e[0].lower()], state["errors"]
    assert "Traceback" not in result.stderr
