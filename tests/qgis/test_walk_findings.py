"""Defects found walking the panel as an analyst would (a batch of real photos, an area and a trip, the
review and the write-back), each fixed and held here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ..conftest import STAND_IN_PLACES, make_place_photos
from .conftest import wait_until_idle
from .qgis_app import DRIVER, needs_xvfb, run_in_qgis
from .test_results_gpkg import made_up_run
from .test_review import predictions_layer, reviewed_run  # noqa: F401 (the fixture)
from .test_review_outputs import exif_gps, review_batch


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="needs exiftool (Debian package libimage-exiftool-perl)")
def test_writing_gps_from_a_temporary_run_keeps_the_run_first(dock, qgis_app, reviewed_run, tmp_path):  # noqa: F811
    """A run in the session's temporary folder (no results folder chosen, no saved project): its review and
    the write's undo list lived there and were removed after QGIS closed, while the photos stayed written.
    The write asks where to keep the run first, with a name suggested, and the undo list goes beside it."""
    reviewed_run.temporary = True  # as dock.start_run writes a run when no folder is chosen
    temporary = Path(reviewed_run.gpkg)
    first, second, _third = review_batch(dock, reviewed_run)
    kept = tmp_path / "kept" / "reviewed.gpkg"
    kept.parent.mkdir()
    asked = []

    def choose_path():
        asked.append(True)
        return str(kept)

    assert dock.review.outputs.write_gps(confirm=lambda report: True, choose_path=choose_path)
    wait_until_idle(dock, qgis_app)  # the dry run
    wait_until_idle(dock, qgis_app)  # the write
    assert asked, "the run is kept before the photos are written"
    assert not reviewed_run.temporary and Path(reviewed_run.gpkg) == kept
    assert kept.with_name(kept.name + ".gps-undo.json").is_file(), "the undo list beside the kept run"
    assert not temporary.with_name(temporary.name + ".gps-undo.json").exists()
    assert predictions_layer(reviewed_run).source().startswith(str(kept)), "the review goes on in the kept copy"
    written = exif_gps([first.photo, second.photo])
    assert written[first.photo] == pytest.approx([first.lat, first.lon], abs=1e-6)


def test_the_keep_dialog_of_a_write_suggests_a_name(dock, reviewed_run, monkeypatch, tmp_path):  # noqa: F811
    from qgis.PyQt.QtWidgets import QFileDialog

    suggested = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda parent, caption, folder, filters: suggested.append(folder) or ("", "")))
    assert dock.review.outputs._choose_path() is None
    assert suggested and suggested[0].endswith(".gpkg"), suggested


def test_writing_the_runs_geopackage_is_a_named_stage_that_stops_at_cancel(plugin_module, tmp_path):
    """After the density the bar stood at 100% with the density's words for seconds (3.5 s for 21 photos)
    while the GeoPackage was written, and Cancel waited for all of it: each table is now a step of its own
    stage, and a cancel between two steps leaves no file behind."""
    progress_module = plugin_module("geoloc_core.progress")
    results = plugin_module("ui.results")
    steps = []
    results.write_run(made_up_run(plugin_module, tmp_path), tmp_path / "runs", temporary=False,
                      progress=steps.append)
    assert {p.stage for p in steps} == {"write"} and steps[-1].done == steps[-1].total
    assert [p.done for p in steps] == sorted(p.done for p in steps) and len(steps) >= 8, "table by table"
    assert progress_module.describe(steps[0]).startswith("Writing the results")
    assert any("density" in p.message for p in steps), "the density rasters are steps too"

    seen = []

    def stop_at_density() -> bool:
        return any("density" in p.message for p in seen)

    with pytest.raises(progress_module.Cancelled):
        results.write_run(made_up_run(plugin_module, tmp_path / "again"), tmp_path / "stopped", temporary=False,
                          progress=seen.append, should_stop=stop_at_density)
    assert list((tmp_path / "stopped").iterdir()) == [], "no GeoPackage, partial or whole, after a cancel"


def test_photos_anchored_at_their_own_gps_are_not_scored(plugin_module, tmp_path):
    """With capture times on, every photo with EXIF GPS becomes an anchor placed at that GPS: its "error vs
    EXIF GPS" read 0 km, a zero-length error line was drawn, and the batch summary counted it (nine GPS photos
    of a trip: median error 0 km, 100% within 1 km). Only photos placed by other evidence are scored."""
    from dataclasses import replace

    results = plugin_module("ui.results")
    run = made_up_run(plugin_module, tmp_path, density=False)
    anchored, scored, _no_gps = run.results
    run.results[0] = replace(anchored, lat=run.known[anchored.photo][0], lon=run.known[anchored.photo][1],
                             evidence="anchor")
    assert run.gps_error_km(run.results[0]) is None
    assert run.gps_error_km(scored) == pytest.approx(111.2, abs=0.5)
    summary = run.summary()
    assert summary["photos"] == 1 and summary["median_km"] == pytest.approx(111.2, abs=0.5)
    tables = results._vector_tables(run, with_uncertainty=False)
    lines = tables["error_lines"][2]
    assert [f["file_name"] for f in lines] == [Path(scored.photo).name], "no line for the anchor"
    assert len(tables["known"][2]) == 2, "both GPS places are still shown"


KEEP_OFFER = '''
from qgis.core import QgsSettings
from qgis.PyQt.QtWidgets import QPushButton

NOTICE_AFTER = "minTaskLengthForSystemNotification"


def idle():
    while dock.task is not None or dock.photos.reading():
        yield


def walk():
    settings = QgsSettings()
    before = settings.value(NOTICE_AFTER, None, section=QgsSettings.App)
    settings.setValue(NOTICE_AFTER, 0, QgsSettings.App)  # QGIS's notice for every task, not only those over 5 s
    try:
        yield from keep_offer()
    finally:  # the profile is shared with the other QGIS-window tests
        if before is None:
            settings.remove(NOTICE_AFTER, QgsSettings.App)
        else:
            settings.setValue(NOTICE_AFTER, before, QgsSettings.App)


def keep_offer():
    dock.show()
    dock.options.output_widget.setFilePath("")  # a temporary GeoPackage: the run comes with the offer
    dock.database_section.build_database(REFERENCES, DATABASE)
    yield from idle()
    dock.photos.add_photos(PHOTOS)
    yield from idle()
    dock.run_button.click()
    yield from idle()
    for _ in range(10):
        yield
    item = iface.messageBar().currentItem()
    state["top"] = [item.text(), [b.text() for b in item.findChildren(QPushButton)]] if item else None
    state["located"] = len(dock.runs[-1].results) if dock.runs else 0


''' + DRIVER


@pytest.mark.slow
@needs_xvfb
def test_the_offer_to_keep_a_run_is_on_top_of_qgis_task_notice(tmp_path):
    """QGIS 3.22 has no silent tasks: its "Task complete" notice (for tasks over 5 s, here for all) came after
    the panel's message and covered the offer to keep the run ("1 more"). The offer is pushed after it."""
    references = tmp_path / "references"
    make_place_photos(references, 3, places=STAND_IN_PLACES[:3])
    queries = make_place_photos(tmp_path / "queries", 1, seed=1, places=STAND_IN_PLACES[:2], prefix="query")
    state, _result = run_in_qgis(tmp_path, f"REFERENCES = {str(references)!r}\n"
                                           f"DATABASE = {str(tmp_path / 'places.geoloc')!r}\n"
                                           f"PHOTOS = {[q['path'] for q in queries]!r}\n{KEEP_OFFER}", timeout=400)
    assert state["located"] == 2
    text, buttons = state["top"]
    assert text.startswith("Located 2 photos") and buttons == ["Keep them in a GeoPackage…"], state["top"]
