"""Writing reviewed locations back into photos (geoloc_core/gps_write.py, `write-gps`, `add-reviewed`).

What is written is read back with exiftool, the reference reader; the photos are the real ones of
../shared where present (a camera JPEG with maker notes and GPS, a TIFF, a WebP, an iPhone HEIC), made
with Pillow otherwise.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geoloc_core import gps_write
from geoloc_core.export import write_results
from geoloc_core.files import write_csv
from geoloc_core.results import LocationResult
from geoloc_core.storage import utc_now

from ..conftest import REPO_ROOT, SHARED_DIR, add_exif, gps_ifd, make_located_photos, make_photos

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool, the reference reader, is not installed "
                                                             "(Debian's libimage-exiftool-perl; `make setup` installs it)")
ACCEPTED = (-33.8568123, 151.2152977)  # the prediction an analyst accepts
MOVED = (64.1466321, -21.9426543)  # where an analyst moves another one
REAL = {  # format -> a real photo of ../shared/photos, used where it is there
    "jpeg-exif": "exif-samples/jpg/gps/DSCN0010.jpg",
    "tiff": "metadata-extractor-images/tif/Issue 151.tif",
    "webp": "metadata-extractor-images/webp/HTC Desire.webp",
    "heic": "exif-samples/heic/IMG_5195.HEIC",
}
IGNORED_GROUPS = ("System", "ExifTool", "Composite", "GPS", "XMP-exif")  # what a GPS write may change


def make_photo(kind: str, folder: Path) -> Path:
    """A photo of one format: the real one of ../shared where present, else made with Pillow."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    real = SHARED_DIR / "photos" / REAL[kind] if kind in REAL else None
    if real is not None and real.is_file():
        copy = Path(shutil.copy2(real, folder / real.name.replace(" ", "_")))
        copy.chmod(0o644)  # ../shared is read-only, and so would its copies be
        return copy
    source = make_photos(folder / "made", 1, seed=len(kind))[0]
    with Image.open(source) as image:
        image.load()
    if kind == "heic":
        return Path(shutil.copy2(REPO_ROOT / "geoloc_core" / "heif_reference.heic", folder / "photo.heic"))
    target = folder / {"jpeg-exif": "photo.jpg", "jpeg-plain": "plain.jpg", "tiff": "photo.tif", "webp": "photo.webp",
                       "webp-lossless": "lossless.webp", "png": "photo.png", "png-exif": "exif.png"}[kind]
    if kind == "jpeg-exif":
        shutil.copy2(source, target)
        add_exif(target, gps=gps_ifd(45.0, 7.0), orientation=1, taken="2020:05:01 10:00:00")
    elif kind == "png-exif":
        from ..conftest import exif_block

        image.save(target, exif=exif_block(gps=gps_ifd(45.0, 7.0), taken="2020:05:01 10:00:00"))
    elif kind == "webp-lossless":
        image.convert("RGBA").save(target, lossless=True)
    else:
        image.save(target)
    return target


def exiftool(path: Path) -> dict:
    found = subprocess.run([EXIFTOOL, "-n", "-json", "-a", "-G1", str(path)], capture_output=True, text=True,
                           check=True)
    return json.loads(found.stdout)[0]


def kept_metadata(tags: dict) -> dict:
    return {key: value for key, value in tags.items()
            if key.split(":")[0] not in IGNORED_GROUPS and not key.startswith(("File:File", "SourceFile"))}


def results_file(path: Path, reviews: list[tuple], run_time: str | None = None) -> Path:
    """A results file as `locate -o` writes it, then reviewed as the panel does: (photo, status,
    reviewed_lat, reviewed_lon) per photo, each predicted at ACCEPTED."""
    located = [LocationResult(str(photo), *ACCEPTED, 0.5, 10.0, 50.0, "sphere", 5, []) for photo, *_ in reviews]
    write_results(path, located, "test.geoloc", run_time or utc_now())
    review = {str(photo): (status, lat, lon) for photo, status, lat, lon in reviews}
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields, rows = reader.fieldnames, list(reader)
        for row in rows:
            status, lat, lon = review[row["photo"]]
            row.update(review_status=status, reviewed_lat="" if lat is None else lat,
                       reviewed_lon="" if lon is None else lon, review_note=f"checked {status}")
        with open(path, "w", newline="", encoding="utf-8") as handle:
            write_csv(handle, fields, rows, lineterminator="\n")
        return path
    from osgeo import ogr

    source = ogr.Open(str(path), update=1)
    layer = source.GetLayerByName("predictions")
    for feature in layer:
        status, lat, lon = review[feature.GetField("photo")]
        feature.SetField("review_status", status)
        feature.SetField("review_note", f"checked {status}")
        if lat is not None:
            feature.SetField("reviewed_lat", lat)
            feature.SetField("reviewed_lon", lon)
        layer.SetFeature(feature)
    layer = source = None
    return path


def pixels(path: Path) -> bytes:
    from PIL import Image

    with Image.open(path) as image:
        return image.convert("RGBA").tobytes()


@needs_exiftool
@pytest.mark.parametrize("kind, method", [
    ("jpeg-exif", "exif"), ("jpeg-plain", "exif"), ("tiff", "exif"), ("webp", "exif"), ("webp-lossless", "exif"),
    ("png", "exif"), ("png-exif", "exif"), ("heic", "sidecar")])
def test_each_format_holds_the_reviewed_place_for_exiftool(kind, method, tmp_path):
    photo = make_photo(kind, tmp_path / "photos")
    original = photo.read_bytes()
    before = exiftool(photo)
    decoded = pixels(photo) if method == "exif" else None
    results = results_file(tmp_path / "results.csv", [(photo, "moved", *MOVED)])
    report = gps_write.write_gps(results)
    (row,) = report.rows
    assert (row.outcome, row.method) == ("written", method), row.line()
    if method == "exif":
        after = exiftool(photo)
        lat, lon = after["Composite:GPSLatitude"], after["Composite:GPSLongitude"]
        datum, how = after["GPS:GPSMapDatum"], after["GPS:GPSProcessingMethod"]
        assert pixels(photo) == decoded, "the image data must not change"
        changed = {k: (v, after.get(k)) for k, v in kept_metadata(before).items() if after.get(k) != v}
        assert not changed, f"metadata other than GPS changed: {changed}"
        assert Path(row.backup).read_bytes() == original
    else:
        assert photo.read_bytes() == original, "a sidecar leaves the photo as it was"
        sidecar = photo.with_name(photo.name + ".xmp")
        assert Path(row.target) == sidecar and not row.backup  # a new sidecar: nothing to back up
        after = exiftool(sidecar)
        lat, lon = after["XMP-exif:GPSLatitude"], after["XMP-exif:GPSLongitude"]
        datum, how = after["XMP-exif:GPSMapDatum"], after["XMP-exif:GPSProcessingMethod"]
    assert (lat, lon) == (pytest.approx(MOVED[0], abs=1e-6), pytest.approx(MOVED[1], abs=1e-6))
    assert datum == "WGS-84"
    assert "Photo Geolocator" in how and "moved" in how and "analyst" in how


def test_the_written_gps_reads_back_through_the_engine(tmp_path):
    """What the engine itself reads (Pillow, as reference photos are read) is the place written, for
    every format written into, without exiftool."""
    from geoloc_core.photos import read_gps

    photos = [make_photo(kind, tmp_path / kind) for kind in ("jpeg-exif", "jpeg-plain", "png", "webp-lossless")]
    results = results_file(tmp_path / "results.csv", [(p, "moved", *MOVED) for p in photos])
    assert gps_write.write_gps(results).count("written") == len(photos)
    for photo in photos:
        fix = read_gps(photo)
        assert (fix.lat, fix.lon) == (pytest.approx(MOVED[0], abs=1e-6), pytest.approx(MOVED[1], abs=1e-6)), photo


def test_a_dry_run_lists_the_changes_and_changes_nothing(tmp_path):
    photos = [make_photo(kind, tmp_path / kind) for kind in ("jpeg-exif", "png", "heic")]
    results = results_file(tmp_path / "results.csv", [(p, "accepted", None, None) for p in photos])
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    report = gps_write.write_gps(results, dry_run=True)
    assert [row.outcome for row in report.rows] == ["would write"] * 3
    assert [row.method for row in report.rows] == ["exif", "exif", "sidecar"]
    assert report.rows[0].old_lat is not None, "the JPEG's own GPS is listed as what would be replaced"
    assert all((row.new_lat, row.new_lon) == ACCEPTED for row in report.rows), "accepted: the prediction itself"
    assert "would write" in report.rows[0].line() and "dry run" in report.summary()
    if report.rows[2].old_lat is not None:  # the real iPhone HEIC carries GPS of its own
        assert "keeps its own EXIF GPS" in report.rows[2].line()
    after = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    assert after == before, "a dry run writes no photo, sidecar, backup or undo list"


def test_missing_and_damaged_photos_are_one_line_each_and_the_others_are_written(tmp_path):
    good = make_photo("jpeg-plain", tmp_path)
    damaged = tmp_path / "damaged.jpg"
    damaged.write_bytes(good.read_bytes()[:300])
    not_a_photo = tmp_path / "notes.png"
    not_a_photo.write_text("not a picture")
    missing = tmp_path / "gone.jpg"
    results = results_file(tmp_path / "results.csv", [(p, "accepted", None, None)
                                                      for p in (missing, damaged, not_a_photo, good)])
    damaged_bytes = damaged.read_bytes()
    report = gps_write.write_gps(results)
    outcomes = {Path(row.photo).name: row for row in report.rows}
    assert outcomes["plain.jpg"].outcome == "written"
    for name in ("gone.jpg", "damaged.jpg", "notes.png"):
        assert outcomes[name].outcome == "skipped"
        line = outcomes[name].line()
        assert name in line and "\n" not in line, line
    assert "not found" in outcomes["gone.jpg"].problem
    assert damaged.read_bytes() == damaged_bytes and not list(tmp_path.glob("damaged.jpg_original*"))
    assert "written: 1 photo, 3 skipped" in report.summary()


def test_undo_puts_every_file_back_byte_for_byte(tmp_path):
    photos = [make_photo(kind, tmp_path / kind) for kind in ("jpeg-exif", "tiff", "heic")]
    originals = {photo: photo.read_bytes() for photo in photos}
    modified = {photo: photo.stat().st_mtime_ns for photo in photos}
    results = results_file(tmp_path / "results.csv", [(p, "moved", *MOVED) for p in photos])
    gps_write.write_gps(results)
    assert gps_write.undo_list_path(results).is_file()
    second = gps_write.write_gps(results_file(tmp_path / "again.csv", [(photos[0], "moved", 1.0, 2.0)]))
    assert second.rows[0].outcome == "written" and second.rows[0].backup.endswith("_original.2")
    gps_write.undo_gps(tmp_path / "again.csv")
    report = gps_write.undo_gps(results)
    assert sorted(row.outcome for row in report.rows) == ["removed", "restored", "restored"]
    for photo, data in originals.items():
        assert photo.read_bytes() == data and photo.stat().st_mtime_ns == modified[photo]
    assert not list(tmp_path.rglob("*_original*")), "backups are removed once put back"
    assert not list(tmp_path.rglob("*.xmp")), "a sidecar that was new is removed"
    assert not gps_write.undo_list_path(results).exists()


def test_a_relative_photo_name_is_found_beside_the_results(tmp_path):
    photo = make_photo("jpeg-plain", tmp_path / "photos")
    assert not (Path.cwd() / "photos" / photo.name).exists()
    results = results_file(tmp_path / "results.csv", [(Path("photos") / photo.name, "accepted", None, None)])
    (row,) = gps_write.write_gps(results).rows
    assert row.outcome == "written" and Path(row.target) == photo
    later = time.time() + 3600  # as if written long after the run
    os.utime(photo, (later, later))
    again = gps_write.write_gps(results)
    assert again.rows[0].outcome == "written", "its own earlier write is recognised whatever the working folder"


def test_undo_leaves_a_file_changed_since_the_write(tmp_path):
    photo = make_photo("jpeg-plain", tmp_path)
    results = results_file(tmp_path / "results.csv", [(photo, "accepted", None, None)])
    gps_write.write_gps(results)
    photo.write_bytes(photo.read_bytes() + b"edited elsewhere")
    (row,) = gps_write.undo_gps(results).rows
    assert row.outcome == "skipped" and "changed since GPS was written" in row.problem
    assert photo.read_bytes().endswith(b"edited elsewhere") and Path(row.backup).is_file()
    assert gps_write.undo_list_path(results).is_file(), "what could not be undone stays listed"


def test_a_write_that_fails_leaves_the_photo_and_no_backup(tmp_path, monkeypatch):
    photo = make_photo("jpeg-plain", tmp_path)
    original = photo.read_bytes()
    results = results_file(tmp_path / "results.csv", [(photo, "accepted", None, None)])
    real_replace = gps_write._replace_bytes

    def full_disk(target, data, mode, times=None):
        if target == photo:
            raise OSError(28, "No space left on device")
        real_replace(target, data, mode, times)

    monkeypatch.setattr(gps_write, "_replace_bytes", full_disk)
    (row,) = gps_write.write_gps(results).rows
    assert row.outcome == "skipped" and "No space left on device" in row.problem and "plain.jpg" in row.line()
    assert photo.read_bytes() == original and not list(tmp_path.glob("plain.jpg_original*"))
    assert not gps_write.undo_list_path(results).exists(), "nothing written, nothing to undo"


def test_a_stop_between_photos_keeps_what_was_written(tmp_path):
    photos = [make_photo("png", tmp_path / name) for name in ("a", "b", "c")]
    untouched = {photo: photo.read_bytes() for photo in photos[1:]}
    results = results_file(tmp_path / "results.csv", [(p, "accepted", None, None) for p in photos])
    events = []
    report = gps_write.write_gps(results, progress=events.append, should_stop=lambda: len(events) >= 1)
    assert report.cancelled and "(cancelled)" in report.summary()
    assert [row.outcome for row in report.rows] == ["written"]
    assert [(e.done, e.total, e.stage) for e in events] == [(1, 3, "write-gps")]
    assert all(photo.read_bytes() == data for photo, data in untouched.items())
    assert len(json.loads(gps_write.undo_list_path(results).read_text())["writes"]) == 1


def test_a_photo_changed_since_the_run_is_skipped_unless_allowed(tmp_path):
    photo = make_photo("jpeg-plain", tmp_path)
    results = results_file(tmp_path / "results.csv", [(photo, "accepted", None, None)])
    later = time.time() + 3600
    os.utime(photo, (later, later))
    (row,) = gps_write.write_gps(results).rows
    assert row.outcome == "skipped" and "changed since the run" in row.problem and "plain.jpg" in row.line()
    assert gps_write.write_gps(results, allow_changed=True).rows[0].outcome == "written"


def test_an_existing_sidecar_keeps_its_other_properties(tmp_path):
    photo = make_photo("heic", tmp_path)
    sidecar = photo.with_name(photo.name + ".xmp")
    old = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
           'xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4" '
           'exif:GPSLatitude="10,0.0N"><dc:subject><rdf:Bag><rdf:li>harbour</rdf:li></rdf:Bag></dc:subject>'
           '<exif:GPSLongitude>20,0.0E</exif:GPSLongitude></rdf:Description></rdf:RDF></x:xmpmeta>')
    sidecar.write_text(old, encoding="utf-8")
    results = results_file(tmp_path / "results.csv", [(photo, "moved", *MOVED)])
    (row,) = gps_write.write_gps(results).rows
    assert row.outcome == "written" and Path(row.backup).read_text(encoding="utf-8") == old
    text = sidecar.read_text(encoding="utf-8")
    assert "harbour" in text and 'Rating="4"' in text
    assert text.count("GPSLatitude") == 1 and text.count("GPSLongitude") == 1
    assert gps_write.xmp_coordinate(MOVED[0], "N", "S") in text and gps_write.xmp_coordinate(MOVED[1], "E", "W") in text


def test_sidecar_only_leaves_a_jpeg_alone_and_names_the_sidecar_as_asked(tmp_path):
    photo = make_photo("jpeg-plain", tmp_path)
    original = photo.read_bytes()
    results = results_file(tmp_path / "results.csv", [(photo, "accepted", None, None)])
    (row,) = gps_write.write_gps(results, sidecar_only=True, sidecar_name="stem").rows
    assert row.method == "sidecar" and Path(row.target) == tmp_path / "plain.xmp"
    assert photo.read_bytes() == original


def test_xmp_coordinates_and_exif_rationals_carry_no_rounding_past_a_minute():
    assert gps_write.xmp_coordinate(-0.5, "N", "S") == "0,30.000000S"
    assert gps_write.xmp_coordinate(12.9999999999, "E", "W") == "13,0.000000E"
    assert gps_write.xmp_coordinate(51.5, "N", "S") == "51,30.000000N"


def test_reviewed_places_follow_the_status(tmp_path):
    photos = [tmp_path / f"{name}.jpg" for name in ("a", "m", "m2", "r", "u")]
    results = results_file(tmp_path / "results.gpkg", [
        (photos[0], "accepted", None, None), (photos[1], "moved", *MOVED), (photos[2], "moved", None, None),
        (photos[3], "rejected", None, None), (photos[4], "unreviewed", None, None)])
    chosen, unusable = gps_write.reviewed_photos(results)
    assert [(Path(p.path).name, p.lat, p.lon, p.status) for p in chosen] == [
        ("a.jpg", *ACCEPTED, "accepted"), ("m.jpg", *MOVED, "moved")]
    assert chosen[1].note == "checked moved"
    assert [Path(s.path).name for s in unusable] == ["m2.jpg"], "moved, but no reviewed place: said, not guessed"
    assert [Path(p.path).name for p in gps_write.reviewed_photos(results, ["unreviewed"])[0]] == ["u.jpg"]
    with pytest.raises(gps_write.OptionError, match="rejected"):
        gps_write.reviewed_photos(results, ["rejected"])


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "geoloc_core", *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True)


@needs_exiftool
@pytest.mark.parametrize("suffix", [".gpkg", ".csv"])
def test_the_cli_writes_dry_runs_and_undoes(suffix, tmp_path):
    photos = {kind: make_photo(kind, tmp_path / "photos" / kind) for kind in ("jpeg-exif", "png", "heic")}
    rejected = make_photo("jpeg-plain", tmp_path / "photos" / "rejected")
    originals = {path: path.read_bytes() for path in [*photos.values(), rejected]}
    results = results_file(tmp_path / f"results{suffix}", [
        (photos["jpeg-exif"], "accepted", None, None), (photos["png"], "moved", *MOVED),
        (photos["heic"], "moved", *MOVED), (rejected, "rejected", None, None)])
    dry = _cli("write-gps", results, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    listed = [line for line in dry.stdout.splitlines() if line.startswith("would write ")]
    assert len(listed) == 3 and "sidecar" in listed[-1] and "dry run" in dry.stdout
    assert {path: path.read_bytes() for path in originals} == originals
    run = _cli("write-gps", results)
    assert run.returncode == 0, run.stderr
    assert len([line for line in run.stdout.splitlines() if line.startswith("written ")]) == 3
    assert "GPS written: 3 photos, 0 skipped" in run.stdout
    assert rejected.read_bytes() == originals[rejected], "a rejected place is never written"
    png = exiftool(photos["png"])
    assert (png["Composite:GPSLatitude"], png["Composite:GPSLongitude"]) == (
        pytest.approx(MOVED[0], abs=1e-6), pytest.approx(MOVED[1], abs=1e-6))
    jpeg = exiftool(photos["jpeg-exif"])
    assert jpeg["Composite:GPSLatitude"] == pytest.approx(ACCEPTED[0], abs=1e-6)
    sidecar = exiftool(photos["heic"].with_name(photos["heic"].name + ".xmp"))
    assert sidecar["XMP-exif:GPSLongitude"] == pytest.approx(MOVED[1], abs=1e-6)
    undo = _cli("write-gps", results, "--undo")
    assert undo.returncode == 0, undo.stderr
    assert {path: path.read_bytes() for path in originals} == originals
    nothing = _cli("write-gps", results, "--undo")
    assert nothing.returncode == 2 and nothing.stderr.startswith("error: ") and "nothing to undo" in nothing.stderr


def test_the_cli_says_each_skipped_photo_on_one_line(tmp_path):
    missing = tmp_path / "gone.jpg"
    results = results_file(tmp_path / "results.csv", [(missing, "accepted", None, None)])
    run = _cli("write-gps", results)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert lines[0].startswith("skipped ") and "gone.jpg" in lines[0] and lines[-1].startswith("error: ")
    bad = _cli("write-gps", results, "--status", "rejected")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "rejected" in bad.stderr
    broken = tmp_path / "broken.gpkg"
    broken.write_text("not a GeoPackage")
    located_only = tmp_path / "old.csv"
    located_only.write_text("photo,lat,lon\na.jpg,1,2\n")
    for target, problem in ((broken, "cannot be read as a GeoPackage"), (tmp_path / "none.csv", "not found"),
                            (located_only, "no review_status")):
        refused = _cli("write-gps", target)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
        assert refused.stderr.startswith(f"error: {target}: ") and problem in refused.stderr


@pytest.mark.slow
def test_reviewed_photos_join_the_database_as_analyst_reviewed(embedder, tmp_path):
    from geoloc_core.database import ReferenceDatabase
    from geoloc_core.ingest import build_database
    from geoloc_core.service import add_reviewed_to_database
    from geoloc_core.sources import from_folder

    make_located_photos(tmp_path / "references", 4)
    references, _ = from_folder(tmp_path / "references")
    database, _ = build_database(tmp_path / "refs.geoloc", references, embedder)
    database.close()
    accepted, moved, rejected = make_photos(tmp_path / "reviewed", 3, seed=7)  # no EXIF GPS of their own
    results = results_file(tmp_path / "results.gpkg", [
        (accepted, "accepted", None, None), (moved, "moved", *MOVED), (rejected, "rejected", None, None)])
    report = add_reviewed_to_database(results, tmp_path / "refs.geoloc")
    assert report.added == 2 and not report.failed
    with ReferenceDatabase.open(tmp_path / "refs.geoloc") as database:
        records = {Path(r.path): r for r in database.all_records()}
    assert len(records) == 6 and rejected not in records
    for photo, (lat, lon), status in ((accepted, ACCEPTED, "accepted"), (moved, MOVED, "moved")):
        record = records[photo]
        assert (record.lat, record.lon) == (pytest.approx(lat), pytest.approx(lon))
        assert record.attributes["source"] == "analyst-reviewed"
        assert record.attributes["review_status"] == status
        assert record.attributes["review_note"] == f"checked {status}"
    again = add_reviewed_to_database(results, tmp_path / "refs.geoloc")
    assert (again.added, again.already_present) == (0, 2)


@pytest.mark.slow
def test_a_session_adds_reviewed_photos_to_its_open_database_and_sees_them(embedder, tmp_path):
    from geoloc_core.ingest import build_database
    from geoloc_core.service import AddReviewedRequest, Session, outcome_from_dict
    from geoloc_core.sources import from_folder

    make_located_photos(tmp_path / "references", 3)
    database, _ = build_database(tmp_path / "refs.geoloc", from_folder(tmp_path / "references")[0], embedder)
    database.close()
    (moved,) = make_photos(tmp_path / "reviewed", 1, seed=9)
    results = results_file(tmp_path / "results.csv", [(moved, "moved", *MOVED)])
    with Session() as session:
        session.open(tmp_path / "refs.geoloc")
        request = AddReviewedRequest(str(results), str(tmp_path / "refs.geoloc"))
        report = session.run(request)
        assert report.added == 1 and session.info().count == 4, "the open database is opened again, with the photo"
    back = outcome_from_dict(request, json.loads(json.dumps(report.to_dict())))
    assert back.to_dict() == report.to_dict()


def test_write_gps_travels_as_a_request_and_its_report_as_json(tmp_path):
    from geoloc_core.service import Session, WriteGpsRequest, outcome_from_dict, request_from_dict

    photo = make_photo("png", tmp_path)
    results = results_file(tmp_path / "results.csv", [(photo, "moved", *MOVED)])
    request = WriteGpsRequest(str(results), ["moved"], dry_run=True)
    assert request_from_dict(json.loads(json.dumps(request.to_dict()))) == request
    with Session() as session:
        report = session.run(request)
    assert [row.outcome for row in report.rows] == ["would write"]
    back = outcome_from_dict(request, json.loads(json.dumps(report.to_dict())))
    assert back == report and back.summary() == report.summary()
