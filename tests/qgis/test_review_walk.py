"""The analyst's review walked in the real QGIS main window under Xvfb: locate a small batch, walk it with
the panel's keys, accept one, move one by dragging its pin on the map, reject one, note why, write the
reviewed locations into the photos (read back with exiftool), add them to the database, save, and find
every decision again in the saved GeoPackage from a new QGIS process."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ..conftest import STAND_IN_PLACES, make_place_photos
from .qgis_app import DRIVER, needs_xvfb, run_in_qgis

REVIEW_WALK = '''
from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsPointXY, QgsProject
from qgis.PyQt.QtCore import QPoint, Qt
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QApplication, QFileDialog, QMessageBox

from photo_geolocator.ui.review import review_of

WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")


def idle():
    while dock.task is not None or dock.photos.reading() or dock.review.evidence.reader.pending:
        yield


def key(widget, name):
    QTest.keyClick(widget, getattr(Qt.Key, "Key_" + name))


def plain(review):
    return [review.status, review.lat, review.lon, review.note]


def walk():
    dock.show()
    QApplication.setActiveWindow(iface.mainWindow())
    dock.database_section.build_database(REFERENCES, DATABASE)
    yield from idle()
    dock.photos.add_photos(PHOTOS)
    yield from idle()
    runs = []
    dock.runFinished.connect(runs.append)
    dock.options.k_spin.setValue(5)
    dock.run_button.click()
    yield from idle()
    run = runs[0]
    layer = QgsProject.instance().mapLayer(run.layer_ids["predictions"])
    state["located"] = len(run.results)
    table = dock.results_section.results_table
    table.setFocus()
    key(table, "N")  # the first row
    yield from idle()
    first = dock.review.result
    key(table, "A")
    state["evidence_tiles"] = len(dock.review.evidence.tiles)
    state["evidence_shot"] = dock.review.grab().save(SHOTS + "/evidence.png")
    for _ in range(40):  # the panel's width follows its content once the layouts have settled (2 s at most)
        if dock.scroll.horizontalScrollBar().maximum() == 0:
            break
        yield
    state["widths"] = [dock.scroll.widget().minimumSizeHint().width(), dock.scroll.viewport().width(),
                       dock.review.minimumSizeHint().width()]
    state["scrolls_sideways"] = dock.scroll.horizontalScrollBar().maximum() > 0

    key(table, "Right")
    yield from idle()
    second = dock.review.result
    dock.review.snap_check.setChecked(False)
    key(table, "M")  # the move tool takes the canvas
    yield
    canvas = iface.mapCanvas()
    state["tool_on_canvas"] = canvas.mapTool() is dock.review.tool
    to_canvas = QgsCoordinateTransform(WGS84, canvas.mapSettings().destinationCrs(), QgsProject.instance())
    pin = canvas.getCoordinateTransform().transform(to_canvas.transform(QgsPointXY(second.lon, second.lat)))
    start = QPoint(round(pin.x()), round(pin.y()))
    end = start + QPoint(60, 40)
    QTest.mousePress(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(canvas.viewport(), start + QPoint(30, 20))
    QTest.mouseRelease(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    yield
    to_wgs84 = QgsCoordinateTransform(canvas.mapSettings().destinationCrs(), WGS84, QgsProject.instance())
    dropped = to_wgs84.transform(canvas.getCoordinateTransform().toMapCoordinates(end.x(), end.y()))
    state["dropped"] = [dropped.y(), dropped.x()]
    state["degrees_per_pixel"] = canvas.mapUnitsPerPixel()
    state["tool_given_back"] = dock.review.tool is None
    state["keys_back_in_the_table"] = table.hasFocus()
    dock.review.note_edit.setFocus()
    QTest.keyClicks(dock.review.note_edit, "the harbour, not the old town")
    key(dock.review.note_edit, "Return")

    table.setFocus()
    key(table, "N")
    yield from idle()
    third = dock.review.result
    key(table, "R")
    state["shown_status"] = dock.review.status_label.text()
    state["review_shot"] = dock.review.grab().save(SHOTS + "/review.png")
    state["reviews"] = {r.photo: plain(review_of(layer, r.photo)) for r in (first, second, third)}
    state["order"] = [first.photo, second.photo, third.photo]
    state["predicted"] = {r.photo: [r.lat, r.lon] for r in run.results}

    # a run whose layers live in memory is saved to a GeoPackage first: no file dialog in a test
    QFileDialog.getSaveFileName = staticmethod(lambda *args, **kwargs: (EXPORT, ""))
    dock.review.outputs.write_button.click()  # a dry run, listed in a question
    box = yield from modal()
    state["dry_run"] = [box.text(), box.informativeText()]
    yield from answer_yes(box)  # the write starts
    yield from idle()
    state["write_message"] = iface.messageBar().currentItem().text() if iface.messageBar().currentItem() else ""

    photos_before = dock.database.count
    QTimer.singleShot(0, dock.review.outputs.add_button.click)  # it asks at once: clicked outside this step
    box = yield from modal()
    state["add_question"] = box.text()
    yield from answer_yes(box)
    yield from idle()
    state["database_grew_by"] = dock.database.count - photos_before
    state["saved"] = dock.results_section.export_run(run, EXPORT, lambda: True)
    yield


def modal():
    """The question the panel asks, once it is up (these steps run in its event loop meanwhile)."""
    while QApplication.activeModalWidget() is None:
        yield
    return QApplication.activeModalWidget()


def answer_yes(box):
    """Yes, and the question's own event loop left, so that the panel goes on with the answer."""
    box.button(QMessageBox.StandardButton.Yes).click()
    while QApplication.activeModalWidget() is box:
        yield
    yield


''' + DRIVER

REOPEN = '''
from types import SimpleNamespace

from qgis.core import NULL, QgsProject

from photo_geolocator.ui.results import stored_project_uri


def reopen():
    project = QgsProject.instance()
    state["reopened"] = project.read(stored_project_uri(EXPORT, SimpleNamespace(number=1)))
    (layer,) = [l for l in project.mapLayers().values() if l.source().endswith("layername=predictions")]
    state["reviews"] = {f["photo"]: [None if f[name] == NULL else f[name] for name in
                                     ("review_status", "reviewed_lat", "reviewed_lon", "review_note")]
                        for f in layer.getFeatures()}
    finish()


QTimer.singleShot(1000, guarded(reopen))
'''


def exif_gps(paths) -> dict:
    """photo -> [lat, lon] as exiftool, the reference reader, reads its EXIF GPS."""
    rows = json.loads(subprocess.run(["exiftool", "-n", "-json", "-GPSLatitude", "-GPSLongitude", *map(str, paths)],
                                     capture_output=True, text=True, check=True).stdout)
    return {row["SourceFile"]: [row.get("GPSLatitude"), row.get("GPSLongitude")] for row in rows}


@pytest.mark.slow
@needs_xvfb
@pytest.mark.skipif(shutil.which("exiftool") is None, reason="needs exiftool (Debian package libimage-exiftool-perl)")
def test_review_a_batch_in_the_qgis_main_window_and_find_it_again_in_a_new_qgis(tmp_path):
    references = tmp_path / "references"
    make_place_photos(references, 3, places=STAND_IN_PLACES[:3])
    queries = make_place_photos(tmp_path / "queries", 1, seed=1, places=STAND_IN_PLACES[:3], prefix="query")
    export = tmp_path / "reviewed.gpkg"
    shots = tmp_path / "shots"
    shots.mkdir()
    walk_dir, reopen_dir = tmp_path / "walk", tmp_path / "reopen"
    walk_dir.mkdir()
    reopen_dir.mkdir()
    original_gps = exif_gps([q["path"] for q in queries])
    state, result = run_in_qgis(walk_dir, f"REFERENCES = {str(references)!r}\n"
                                          f"DATABASE = {str(tmp_path / 'places.geoloc')!r}\n"
                                          f"PHOTOS = {[q['path'] for q in queries]!r}\nEXPORT = {str(export)!r}\n"
                                          f"SHOTS = {str(shots)!r}\n{REVIEW_WALK}", timeout=400)
    assert state["located"] == 3
    assert state["evidence_tiles"] == 5, "the photo beside its five neighbours (k=5)"
    assert not state["scrolls_sideways"], f"the evidence fits the panel's width: {state['widths']}"
    assert state["tool_on_canvas"] and state["tool_given_back"]
    assert state["keys_back_in_the_table"], "after the move the keys walk on from the table"
    first, second, third = state["order"]
    assert len({first, second, third}) == 3, "the keys walked three different photos"
    reviews = state["reviews"]
    assert reviews[first] == ["accepted", *state["predicted"][first], ""]
    status, lat, lon, note = reviews[second]
    tolerance = 2 * state["degrees_per_pixel"] + 1e-9
    assert status == "moved" and note == "the harbour, not the old town"
    assert abs(lat - state["dropped"][0]) <= tolerance and abs(lon - state["dropped"][1]) <= tolerance, \
        "the pin is where it was dropped"
    assert reviews[third] == ["rejected", None, None, ""]
    assert "3 of 3 photos reviewed" in state["shown_status"]
    assert state["saved"] and state["evidence_shot"] and state["review_shot"]
    assert not [e for e in state["errors"] if "python" in e[0].lower()], state["errors"]
    assert "Traceback" not in result.stderr

    question, listing = state["dry_run"]
    assert "would write: 2 photos" in question and "nothing was changed" in question, question
    assert listing.count("would write ") == 2 and Path(third).name not in listing, listing
    assert "GPS written: 2 photos" in state["write_message"], state["write_message"]
    written = exif_gps(state["order"])
    assert written[first] == pytest.approx(state["predicted"][first], abs=1e-6), "accepted: the prediction"
    assert written[second] == pytest.approx([lat, lon], abs=1e-6), "moved: where the pin was dropped"
    assert written[third] == pytest.approx(original_gps[third], abs=1e-6), "rejected: its own GPS, untouched"
    assert "Add 2 accepted or moved photos" in state["add_question"]
    assert state["database_grew_by"] == 2

    reopened, result = run_in_qgis(reopen_dir, f"EXPORT = {str(export)!r}\n{REOPEN}")
    assert reopened["reopened"]
    assert reopened["reviews"] == reviews, "every decision is in the saved GeoPackage"
