"""What keeps a review beyond the run, from the panel: the reviewed locations written into the photos'
EXIF GPS after a dry run was listed and confirmed (read back with exiftool, the reference reader), and
the reviewed photos added to the open reference database at their reviewed place."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import wait_until_idle
from .test_review import reviewed_run  # noqa: F401 (the fixture)

needs_exiftool = pytest.mark.skipif(shutil.which("exiftool") is None,
                                    reason="needs exiftool (Debian package libimage-exiftool-perl)")


def exif_gps(paths) -> dict:
    """photo -> [lat, lon] as exiftool reads its EXIF GPS."""
    rows = json.loads(subprocess.run(["exiftool", "-n", "-json", "-GPSLatitude", "-GPSLongitude", *map(str, paths)],
                                     capture_output=True, text=True, check=True).stdout)
    return {row["SourceFile"]: [row.get("GPSLatitude"), row.get("GPSLongitude")] for row in rows}


def review_batch(dock, run) -> tuple:
    """Accept the first photo, move the second half a degree north-east, reject the third."""
    first, second, third = run.results
    for result, decide in ((first, dock.review.accept), (third, dock.review.reject)):
        assert dock.results_section.select_photo(result.photo) and decide()
    assert dock.results_section.select_photo(second.photo)
    assert dock.review.move_to(second.lat + 0.5, second.lon + 0.5)
    return first, second, third


@needs_exiftool
def test_write_gps_lists_a_dry_run_then_writes_what_was_confirmed(dock, qgis_app, reviewed_run, tmp_path):  # noqa: F811
    first, second, third = review_batch(dock, reviewed_run)
    photos = [r.photo for r in reviewed_run.results]
    before = exif_gps(photos)
    originals = {photo: Path(photo).read_bytes() for photo in photos}
    saved = tmp_path / "reviewed.gpkg"

    listed = []
    assert dock.review.outputs.write_gps(confirm=lambda report: listed.append(report) and False,
                                         choose_path=lambda: str(saved))
    wait_until_idle(dock, qgis_app)
    (report,) = listed
    assert report.dry_run and report.count("would write") == 2, [row.line() for row in report.rows]
    assert {row.photo for row in report.rows if row.outcome == "would write"} == {first.photo, second.photo}
    assert exif_gps(photos) == before, "declined: nothing written"
    assert all(Path(photo).read_bytes() == originals[photo] for photo in photos)

    assert dock.review.outputs.write_gps(confirm=lambda report: True, choose_path=lambda: str(saved))
    wait_until_idle(dock, qgis_app)  # the dry run
    wait_until_idle(dock, qgis_app)  # the write it started
    after = exif_gps(photos)
    assert after[first.photo] == pytest.approx([first.lat, first.lon], abs=1e-6), "accepted: the prediction"
    assert after[second.photo] == pytest.approx([second.lat + 0.5, second.lon + 0.5], abs=1e-6), "moved: the new place"
    assert after[third.photo] == before[third.photo], "rejected: left as it was"
    for photo in (first.photo, second.photo):
        assert Path(photo + "_original").read_bytes() == originals[photo], "the original kept byte for byte"
    assert not Path(third.photo + "_original").exists()


def test_write_gps_needs_a_reviewed_photo(dock, qgis_iface, reviewed_run):  # noqa: F811
    from qgis.core import Qgis

    assert not dock.review.outputs.write_gps(confirm=lambda report: True, choose_path=lambda: None)
    warnings = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning)
    assert any("No photo is accepted or moved yet" in w for w in warnings)
    assert dock.task is None


def test_adding_reviewed_photos_needs_an_open_database(dock, qgis_iface, reviewed_run):  # noqa: F811
    from qgis.core import Qgis

    review_batch(dock, reviewed_run)
    assert not dock.review.outputs.add_button.isEnabled()
    assert not dock.review.outputs.add_to_database(confirm=lambda count, name: True)
    assert any("Open the reference database" in w for w in qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning))


@pytest.mark.slow
def test_reviewed_photos_go_into_the_open_database_at_their_reviewed_place(dock, qgis_app, reviewed_run,  # noqa: F811
                                                                          tmp_path):
    from ..conftest import make_place_photos

    make_place_photos(tmp_path / "more-references", 2, seed=5)
    dock.database_section.build_database(str(tmp_path / "more-references"), str(tmp_path / "grown.geoloc"))
    wait_until_idle(dock, qgis_app)
    count = dock.database.count
    first, second, _ = review_batch(dock, reviewed_run)
    assert dock.review.outputs.add_button.isEnabled()

    asked = []
    assert dock.review.outputs.add_to_database(confirm=lambda n, name: asked.append((n, name)) or True,
                                               choose_path=lambda: str(tmp_path / "reviewed.gpkg"))
    wait_until_idle(dock, qgis_app)
    assert asked == [(2, "grown.geoloc")]
    assert dock.database.count == count + 2, "the accepted and the moved photo; not the rejected one"
    added = {record.path: record for record in dock.engine.references() if record.path in (first.photo, second.photo)}
    assert [added[first.photo].lat, added[first.photo].lon] == pytest.approx([first.lat, first.lon])
    assert [added[second.photo].lat, added[second.photo].lon] == pytest.approx([second.lat + 0.5, second.lon + 0.5])
    assert {record.attributes.get("source") for record in added.values()} == {"analyst-reviewed"}
