"""The analyst's review in the panel: the evidence view, the alternatives, accept / move / reject / note
written to the predictions layer's fields, the pin-moving map tool, the keys that walk the batch, the
per-photo focus and the selection linked between the photo list, the results table and the map."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from qgis.core import NULL, QgsCoordinateReferenceSystem, QgsPointXY, QgsProject, QgsRectangle
from qgis.gui import QgsMapMouseEvent, QgsMapToolPan
from qgis.PyQt.QtCore import QEvent, QPoint, Qt
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QApplication

from ..conftest import STAND_IN_PLACES, make_place_photos
from .conftest import wait_until_idle

PLACES = STAND_IN_PLACES[:3]  # Paris, Sydney, New York


@pytest.fixture
def reviewed_run(dock, qgis_app, qgis_iface, plugin_module, tmp_path, monkeypatch):
    """Three made-up photos "located" near their places (each with six reference photos as neighbours and
    three alternatives), handed to the panel as a finished run: its layers, table and links."""
    monkeypatch.setattr(plugin_module("ui.results"), "tiles_reachable", lambda: False)
    results_module = plugin_module("geoloc_core.results")
    queries = make_place_photos(tmp_path / "queries", 1, places=PLACES, prefix="query")
    references = make_place_photos(tmp_path / "references", 6, seed=2, places=PLACES)
    results = []
    for place, query in enumerate(queries):
        lat, lon = PLACES[place]
        neighbours = [results_module.Neighbour(rank, place * 10 + rank, 0.1 * rank, 1 - 0.05 * rank, 1 / 6,
                                               row["lat"], row["lon"], row["path"])
                      for rank, row in enumerate(references[place * 6:place * 6 + 6], start=1)]
        alternatives = [results_module.Alternative(1, lat, lon, 0.6, 0.0),
                        results_module.Alternative(2, lat + 1.0, lon + 1.0, 0.3, 135.0),
                        results_module.Alternative(3, lat - 2.0, lon, 0.1, 222.0)]
        results.append(results_module.LocationResult(query["path"], lat, lon, 0.7, 20.0, 80.0, "kde", 6, neighbours,
                                                     alternatives=alternatives))
    run_time = plugin_module("geoloc_core.service").utc_now()  # after the photos were made (write-back checks)
    run = plugin_module("ui.results").LocateRun(1, "made-up", run_time, results, [])
    plugin_module("ui.results").write_run(run, tmp_path / "runs", temporary=False)  # as the task's worker does
    dock.photos.add_photos([q["path"] for q in queries])
    wait_until_idle(dock, qgis_app)
    dock._run_finished(SimpleNamespace(error=None, result=run))
    return run


def predictions_layer(run):
    return QgsProject.instance().mapLayer(run.layer_ids["predictions"])


def fields_of(run, photo):
    feature = next(f for f in predictions_layer(run).getFeatures() if f["photo"] == photo)
    return [None if feature[name] == NULL else feature[name]
            for name in ("review_status", "reviewed_lat", "reviewed_lon", "review_note")]


def select_row_of(dock, photo):
    assert dock.results_section.select_photo(photo)
    assert dock.review.result.photo == photo


def test_accept_reject_and_note_write_the_review_fields(dock, reviewed_run):
    first, second = reviewed_run.results[:2]
    assert fields_of(reviewed_run, first.photo)[0] == "unreviewed"
    select_row_of(dock, first.photo)
    assert dock.review.accept()
    assert fields_of(reviewed_run, first.photo)[:3] == ["accepted", first.lat, first.lon]
    assert "1 of 3 photos reviewed" in dock.review.status_label.text()
    dock.review.note_edit.setText("church tower matches")
    dock.review.note_edit.editingFinished.emit()
    assert fields_of(reviewed_run, first.photo) == ["accepted", first.lat, first.lon, "church tower matches"]

    select_row_of(dock, second.photo)
    assert dock.review.note_edit.text() == "", "each photo shows its own note"
    assert dock.review.reject()
    status, lat, lon, _ = fields_of(reviewed_run, second.photo)
    assert status == "rejected" and lat is None and lon is None
    layer = predictions_layer(reviewed_run)
    assert not layer.isEditable() and not layer.isModified(), "every decision is committed"


def test_a_review_joins_the_analysts_own_edit_session(dock, reviewed_run):
    layer = predictions_layer(reviewed_run)
    result = reviewed_run.results[0]
    select_row_of(dock, result.photo)
    layer.startEditing()
    assert dock.review.accept()
    assert layer.isEditable() and layer.isModified(), "left for the analyst to save with the rest"
    assert fields_of(reviewed_run, result.photo)[0] == "accepted", "read back through the edit buffer"
    assert layer.commitChanges()


def mouse(canvas, kind, pixel: QgsPointXY):
    return QgsMapMouseEvent(canvas, kind, QPoint(round(pixel.x()), round(pixel.y())), Qt.MouseButton.LeftButton,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)


def drag(canvas, tool, start: QgsPointXY, end: QgsPointXY) -> None:
    """Press at `start`, move half-way and to `end`, release there (map coordinates of the canvas)."""
    to_pixels = canvas.getCoordinateTransform()
    points = [to_pixels.transform(p) for p in (start, QgsPointXY((start.x() + end.x()) / 2,
                                                                 (start.y() + end.y()) / 2), end)]
    tool.canvasPressEvent(mouse(canvas, QEvent.Type.MouseButtonPress, points[0]))
    for point in points[1:]:
        tool.canvasMoveEvent(mouse(canvas, QEvent.Type.MouseMove, point))
    tool.canvasReleaseEvent(mouse(canvas, QEvent.Type.MouseButtonRelease, points[-1]))


def distance(a, b) -> float:
    return ((a.lat - b.lat) ** 2 + (a.lon - b.lon) ** 2) ** 0.5


def shown_canvas(qgis_app, qgis_iface):
    """The map canvas on screen, so that its pixels are the map's (a hidden canvas keeps a stub size)."""
    canvas = qgis_iface.mapCanvas()
    canvas.window().show()
    qgis_app.processEvents()
    assert canvas.mapSettings().outputSize().width() > 300
    return canvas


def test_the_move_tool_drags_the_pin_and_snaps_to_a_neighbour(dock, qgis_app, qgis_iface, reviewed_run):
    canvas = shown_canvas(qgis_app, qgis_iface)
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    result = reviewed_run.results[0]
    select_row_of(dock, result.photo)
    canvas.setExtent(QgsRectangle(result.lon - 0.5, result.lat - 0.5, result.lon + 0.5, result.lat + 0.5))
    before = canvas.mapTool()

    dock.review.snap_check.setChecked(False)
    tool = dock.review.start_move()
    assert canvas.mapTool() is tool
    target = QgsPointXY(result.lon + 0.2, result.lat - 0.1)
    drag(canvas, tool, QgsPointXY(result.lon, result.lat), target)
    status, lat, lon, _ = fields_of(reviewed_run, result.photo)
    pixel_deg = canvas.mapUnitsPerPixel()
    assert status == "moved" and abs(lat - target.y()) <= pixel_deg and abs(lon - target.x()) <= pixel_deg
    assert canvas.mapTool() is before, "the canvas gets its tool back after one move"
    assert dock.review.reviewed_pin is not None, "the moved place is shown on the map"

    dock.review.snap_check.setChecked(True)
    neighbour = result.neighbours[2]
    canvas.setExtent(QgsRectangle(neighbour.lon - 0.05, neighbour.lat - 0.05, neighbour.lon + 0.05,
                                  neighbour.lat + 0.05))  # the neighbours (~1 km apart) far apart on screen
    pixel_deg = canvas.mapUnitsPerPixel()
    near = QgsPointXY(neighbour.lon + 4 * pixel_deg, neighbour.lat - 3 * pixel_deg)  # 5 pixels off
    drag(canvas, dock.review.start_move(), target, near)
    assert fields_of(reviewed_run, result.photo)[:3] == ["moved", neighbour.lat, neighbour.lon], "snapped"
    nearest = min(distance(n, neighbour) for n in result.neighbours if n is not neighbour)
    away = QgsPointXY(neighbour.lon, neighbour.lat + min(nearest / 2, 40 * pixel_deg))  # beyond 15 pixels of any
    drag(canvas, dock.review.start_move(), near, away)
    status, lat, lon, _ = fields_of(reviewed_run, result.photo)
    assert abs(lat - away.y()) <= pixel_deg and abs(lon - away.x()) <= pixel_deg, "no neighbour near: not snapped"

    dock.review.start_move()
    QTest.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.mapTool() is before and dock.review.tool is None, "Escape gives the canvas back"

    dock.review.start_move()
    pan = QgsMapToolPan(canvas)
    canvas.setMapTool(pan)
    assert dock.review.tool is None and canvas.mapTool() is pan, "another tool chosen ends the move, and stays"
    canvas.unsetMapTool(pan)
    assert fields_of(reviewed_run, result.photo)[:3] == ["moved", lat, lon], "unchanged"


def test_picking_an_alternative_moves_the_photo_there(dock, reviewed_run):
    result = reviewed_run.results[1]
    select_row_of(dock, result.photo)
    buttons = dock.review.evidence.alternative_buttons
    assert [b.text().split()[:2] for b in buttons] == [["#1", "60%"], ["#2", "30%"], ["#3", "10%"]]
    assert "135 km" in buttons[1].text()
    buttons[1].click()
    assert fields_of(reviewed_run, result.photo)[:3] == ["moved", result.lat + 1.0, result.lon + 1.0]
    buttons[0].click()
    assert fields_of(reviewed_run, result.photo)[:3] == ["accepted", result.lat, result.lon], "#1 is the prediction"


def test_the_evidence_view_lists_neighbours_with_distance_and_similarity(dock, qgis_app, qgis_iface, reviewed_run,
                                                                         plugin_module):
    distance_km = plugin_module("geoloc_core.service").distance_km
    result = reviewed_run.results[2]
    select_row_of(dock, result.photo)
    view = dock.review.evidence
    assert len(view.tiles) == 6
    for tile, neighbour in zip(view.tiles, result.neighbours):
        lines = tile.text().splitlines()
        assert lines[0] == f"#{neighbour.rank}  sim {neighbour.similarity:.2f}"
        assert lines[1] == f"{distance_km(result.lat, result.lon, neighbour.lat, neighbour.lon):.0f} km away"
        assert lines[2] == f"{neighbour.lat:.2f}°, {neighbour.lon:.2f}°"
        assert f"{neighbour.lat:.4f}°, {neighbour.lon:.4f}°" in tile.toolTip() and neighbour.path in tile.toolTip()
    wait_until_idle(dock, qgis_app)
    deadline = 200
    while view.reader.pending and deadline:
        qgis_app.processEvents()
        QTest.qWait(10)
        deadline -= 1
    assert view.photo_label.pixmap() is not None and not view.photo_label.pixmap().isNull(), "the photo is shown"
    assert all(not tile.icon().isNull() for tile in view.tiles), "each reference photo's thumbnail"

    qgis_app.processEvents()
    assert dock.scroll.widget().minimumSizeHint().width() <= dock.minimumWidth(), "fits the panel's width"
    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    view.tiles[3].click()
    centre = canvas.center()
    assert abs(centre.x() - result.neighbours[3].lon) < 1e-6 and abs(centre.y() - result.neighbours[3].lat) < 1e-6


def test_selection_is_linked_between_the_table_the_photo_list_and_the_map(dock, reviewed_run):
    layer = predictions_layer(reviewed_run)
    table = dock.results_section.results_table
    listed = dock.photos.photo_list
    second = reviewed_run.results[1]

    table.selectRow(1)
    assert dock.review.result.photo == second.photo
    assert [f["photo"] for f in layer.selectedFeatures()] == [second.photo], "the table selects on the map"
    assert [item.data(Qt.ItemDataRole.UserRole) for item in listed.selectedItems()] == [second.photo]

    third = reviewed_run.results[2]
    layer.selectByIds([f.id() for f in layer.getFeatures() if f["photo"] == third.photo])  # as a map tool does
    assert dock.results_section.selected_result() is third, "the map selects the row"
    assert dock.review.result is third

    first = reviewed_run.results[0]
    listed.setCurrentItem(next(listed.item(i) for i in range(listed.count())
                               if listed.item(i).data(Qt.ItemDataRole.UserRole) == first.photo))
    assert dock.results_section.selected_result() is first, "the photo list selects the row"
    assert [f["photo"] for f in layer.selectedFeatures()] == [first.photo]


def test_selecting_a_photo_focuses_its_neighbours_circles_and_density_band(dock, reviewed_run):
    project = QgsProject.instance()
    neighbours = project.mapLayer(reviewed_run.layer_ids["neighbours"])
    circles = project.mapLayer(reviewed_run.layer_ids.get("uncertainty", ""))
    assert neighbours.featureCount() == 18
    result = reviewed_run.results[1]
    select_row_of(dock, result.photo)
    assert {f["photo"] for f in neighbours.getFeatures()} == {result.photo}
    assert len(list(neighbours.getFeatures())) == 6
    if circles is not None:
        assert {f["photo"] for f in circles.getFeatures()} == {result.photo}
    predictions_layer(reviewed_run).removeSelection()  # e.g. Deselect All on the map
    assert len(list(neighbours.getFeatures())) == 18, "no photo selected: every photo's neighbours"
    assert dock.results_section.selected_result() is None


def test_the_review_keys_walk_the_batch_and_decide(dock, qgis_app, qgis_iface, reviewed_run):
    window = qgis_iface.mainWindow()
    window.show()
    dock.show()
    QApplication.setActiveWindow(window)
    table = dock.results_section.results_table
    table.setFocus()
    qgis_app.processEvents()
    photos = [r.photo for r in reviewed_run.results]

    QTest.keyClick(table, Qt.Key.Key_N)
    assert dock.review.result.photo == photos[0], "N starts at the first row"
    QTest.keyClick(table, Qt.Key.Key_Right)
    assert dock.review.result.photo == photos[1]
    QTest.keyClick(table, Qt.Key.Key_A)
    assert fields_of(reviewed_run, photos[1])[0] == "accepted"
    QTest.keyClick(table, Qt.Key.Key_N)
    QTest.keyClick(table, Qt.Key.Key_R)
    assert fields_of(reviewed_run, photos[2])[0] == "rejected"
    QTest.keyClick(table, Qt.Key.Key_N)
    assert dock.review.result.photo == photos[2], "stops at the last row"
    QTest.keyClick(table, Qt.Key.Key_P)
    QTest.keyClick(table, Qt.Key.Key_Left)
    assert dock.review.result.photo == photos[0]

    dock.review.note_edit.setFocus()
    QTest.keyClicks(dock.review.note_edit, "An R and N")
    assert dock.review.note_edit.text() == "An R and N", "a text box keeps its letters"
    assert fields_of(reviewed_run, photos[0])[0] == "unreviewed"
    QTest.keyClick(dock.review.note_edit, Qt.Key.Key_Return)
    assert fields_of(reviewed_run, photos[0])[3] == "An R and N"

    qgis_iface.mapCanvas().setFocus()
    QTest.keyClick(qgis_iface.mapCanvas(), Qt.Key.Key_A)
    assert fields_of(reviewed_run, photos[0])[0] == "unreviewed", "outside the panel the keys are QGIS's"
    window.hide()


def test_matches_without_a_photo_are_listed_without_reading_one(qgis_app, plugin_module):
    """A worldwide run's matches are places of a GPS gallery: listed, no thumbnail asked for."""
    results_module = plugin_module("geoloc_core.results")
    gallery = [results_module.Neighbour(rank, rank, 0.3, 0.9, 0.5, 10.0 * rank, 20.0, "") for rank in (1, 2)]
    result = results_module.LocationResult("/nowhere/photo.jpg", 10.0, 20.0, 0.4, 300.0, 900.0, "geoclip", 2, gallery)
    view = plugin_module("ui.evidence_view").EvidenceView()
    view.show_result(result)
    assert [tile.text().splitlines()[1] for tile in view.tiles] == ["0 km away", "1112 km away"]
    assert view.reader.pending == 1, "the photo's own thumbnail only"
    assert not view.alternative_buttons and view.alternatives_title.isHidden()
    view.reader.shutdown()
