"""What is left to review, at a glance: the results table's Review column and the batch summary follow
every review as soon as it is saved (from the Review section or QGIS's own attribute table); "Reset"
(key U) takes a decision back; "Undo GPS write" lists what it would restore, then puts the photos back."""

from __future__ import annotations

from pathlib import Path

import pytest
from qgis.core import Qgis
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QApplication

from .conftest import wait_until_idle
from .test_review import fields_of, predictions_layer, reviewed_run  # noqa: F401 (the fixture)
from .test_review_outputs import review_batch


def review_column(dock) -> dict:
    """photo file name -> the Review cell's text, and the rows' order of file names."""
    table = dock.results_section.results_table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    column = headers.index("Review")
    return {table.item(r, 0).text(): table.item(r, column).text() for r in range(table.rowCount())}


def review_line(dock) -> str:
    """The batch summary's line about the review (the run has no photo with EXIF GPS: its only line)."""
    return dock.results_section.summary_label.text().splitlines()[-1]


def row_order(dock) -> list[str]:
    table = dock.results_section.results_table
    return [table.item(r, 0).text() for r in range(table.rowCount())]


def test_the_review_column_and_summary_follow_each_review_and_sort_what_is_left_first(dock, reviewed_run):  # noqa: F811
    names = [Path(r.photo).name for r in reviewed_run.results]
    table = dock.results_section.results_table
    assert set(review_column(dock).values()) == {"Not reviewed"}
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert table.horizontalHeader().visualIndex(headers.index("Review")) == 1, "beside the photo, in view"
    assert review_line(dock).startswith("0 of 3 reviewed")

    assert dock.results_section.select_photo(reviewed_run.results[0].photo) and dock.review.accept()
    assert review_column(dock)[names[0]] == "Accepted", "shown as soon as the review is saved"
    assert review_line(dock).startswith("1 of 3 reviewed: 1 accepted")
    review_batch(dock, reviewed_run)
    assert [review_column(dock)[name] for name in names] == ["Accepted", "Moved", "Rejected"]
    assert review_line(dock).startswith("3 of 3 reviewed: 1 accepted, 1 moved, 1 rejected")

    layer = predictions_layer(reviewed_run)  # as in QGIS's attribute table: an edit, then discarded
    feature = next(f for f in layer.getFeatures() if f["photo"] == reviewed_run.results[2].photo)
    layer.startEditing()
    layer.changeAttributeValue(feature.id(), layer.fields().indexOf("review_status"), "unreviewed")
    assert review_column(dock)[names[2]] == "Not reviewed"
    assert review_line(dock).startswith("2 of 3 reviewed: 1 accepted, 1 moved")
    layer.rollBack()
    assert review_column(dock)[names[2]] == "Rejected", "a discarded edit is shown discarded"

    assert dock.results_section.select_photo(reviewed_run.results[2].photo) and dock.review.reset()
    table.sortItems(table.horizontalHeader().logicalIndex(1), Qt.SortOrder.AscendingOrder)
    assert row_order(dock) == [names[2], names[0], names[1]], "not reviewed first, then accepted, moved, rejected"
    table.selectRow(0)
    assert dock.review.accept()
    assert row_order(dock) == [names[2], names[0], names[1]], "a decided row stays put, so Next goes on below it"
    assert review_column(dock)[names[2]] == "Accepted"


def test_reset_takes_the_decision_back_and_keeps_the_note(dock, qgis_app, qgis_iface, reviewed_run):  # noqa: F811
    first, second, _ = reviewed_run.results
    assert dock.results_section.select_photo(second.photo)
    dock.review.note_edit.setText("the bridge is wrong")
    dock.review.note_edit.editingFinished.emit()
    assert dock.review.move_to(second.lat + 1.0, second.lon)
    assert dock.review.reset()
    assert fields_of(reviewed_run, second.photo) == ["unreviewed", None, None, "the bridge is wrong"]
    assert dock.review.reviewed_pin is None, "no moved pin left on the map"
    assert "Not reviewed" in dock.review.status_label.text()

    window = qgis_iface.mainWindow()
    window.show()
    dock.show()
    QApplication.setActiveWindow(window)
    table = dock.results_section.results_table
    assert dock.results_section.select_photo(first.photo) and dock.review.reject()
    table.setFocus()
    qgis_app.processEvents()
    QTest.keyClick(table, Qt.Key.Key_U)
    assert fields_of(reviewed_run, first.photo)[0] == "unreviewed", "U resets while the panel has the focus"
    window.hide()


def test_undo_gps_lists_what_it_would_restore_then_puts_the_photos_back(dock, qgis_app, qgis_iface, reviewed_run):  # noqa: F811
    photos = [r.photo for r in reviewed_run.results]
    originals = {photo: Path(photo).read_bytes() for photo in photos}
    review_batch(dock, reviewed_run)
    assert dock.review.outputs.undo_button.isEnabled()
    assert dock.review.outputs.write_gps(confirm=lambda report: True)
    wait_until_idle(dock, qgis_app)
    wait_until_idle(dock, qgis_app)
    written = {photo: Path(photo).read_bytes() for photo in photos}
    assert written[photos[0]] != originals[photos[0]] and written[photos[1]] != originals[photos[1]]

    listed = []
    assert dock.review.outputs.undo_gps(confirm=lambda report: listed.append(report) and False)
    wait_until_idle(dock, qgis_app)
    (report,) = listed
    assert report.dry_run and sorted(row.photo for row in report.rows if row.outcome == "would restore") == \
        sorted(photos[:2]), [row.line() for row in report.rows]
    assert all("_original" in row.line() for row in report.rows), "each line names the original it comes from"
    assert {photo: Path(photo).read_bytes() for photo in photos} == written, "declined: nothing restored"

    assert dock.review.outputs.undo_gps(confirm=lambda report: True)
    wait_until_idle(dock, qgis_app)  # the dry run
    wait_until_idle(dock, qgis_app)  # the undo it started
    assert {photo: Path(photo).read_bytes() for photo in photos} == originals, "every photo as it was"
    assert not [p for p in photos if Path(p + "_original").exists()], "the backups are removed once put back"
    assert fields_of(reviewed_run, photos[0])[0] == "accepted", "the review itself stays"

    assert dock.review.outputs.undo_gps(confirm=lambda report: pytest.fail("nothing is left to ask about"))
    wait_until_idle(dock, qgis_app)
    warnings = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning)
    assert any("nothing to undo" in w for w in warnings), warnings



def test_the_summary_counts_the_review_under_the_error_of_the_photos_with_gps(dock, plugin_module, tmp_path):
    from .test_results_gpkg import made_up_run

    run = made_up_run(plugin_module, tmp_path, density=False)
    plugin_module("ui.results").write_run(run, tmp_path / "out", temporary=False)
    dock.results_section.fill(run)  # the run's layers are not in the project: nothing reviewed
    gps, review = dock.results_section.summary_label.text().splitlines()
    assert gps.startswith("2 photos with EXIF GPS") and review == f"0 of {len(run.results)} reviewed"
    assert plugin_module("ui.results").review_summary_text(["moved", "unreviewed", "moved", "rejected"]) == \
        "3 of 4 reviewed: 2 moved, 1 rejected", "only the states that occur"
