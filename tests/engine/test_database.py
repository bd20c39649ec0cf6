"""Reference databases on disk: sources, incremental add, reopening, damage and crash safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from geoloc_core.database import (
    DamagedDatabaseError,
    DatabaseError,
    EmbedderMismatchError,
    ReferenceDatabase,
)
from geoloc_core.embedders import load_embedder
from geoloc_core.ingest import add_photos, build_database
from geoloc_core.sources import from_csv, from_folder

from ..conftest import REPO_ROOT, make_exif_samples, make_located_photos, write_csv


def test_build_from_a_folder_lists_photos_without_location(embedder, shared_photos, tmp_path):
    candidates, skipped = from_folder(shared_photos / "exif-samples" / "jpg")
    assert {s.path.rsplit("/", 1)[-1] for s in skipped} >= {"canon_hdr_NO.jpg", "canon_hdr_YES.jpg"}
    database, report = build_database(tmp_path / "walk.geoloc", candidates, embedder)
    assert report.added == len(candidates) and not report.failed
    record = next(r for r in database.all_records() if r.path.endswith("DSCN0010.jpg"))
    assert record.lat == pytest.approx(43.467448, abs=1e-5) and record.width == 640
    manifest = json.loads((tmp_path / "walk.geoloc" / "manifest.json").read_text())
    assert manifest["count"] == len(candidates) and manifest["embedder"]["architecture"] == "efficientnet_lite0"
    assert manifest["format_version"] == 2 and manifest["dimension"] == 1280
    assert {p.name for p in (tmp_path / "walk.geoloc").iterdir()} >= {"manifest.json", "metadata.sqlite", "vectors.f16"}


def test_build_from_a_folder_of_made_up_photos_lists_those_without_location(tiny_embedder, tmp_path):
    """The same path as above on photos whose EXIF the test wrote (GPS in several encodings, 0/0, none)."""
    folder = tmp_path / "samples"
    rows = {row["path"]: row for row in make_exif_samples(folder)}
    located = {name for name, row in rows.items() if row["gps_status"] == "ok"}
    candidates, skipped = from_folder(folder)
    assert {c.path.relative_to(folder).as_posix() for c in candidates} == located
    assert {Path(s.path).relative_to(folder).as_posix() for s in skipped} == set(rows) - located
    database, report = build_database(tmp_path / "samples.geoloc", candidates, tiny_embedder)
    assert report.added == len(candidates) and not report.failed
    for record in database.all_records():
        row = rows[Path(record.path).relative_to(folder).as_posix()]
        assert (record.lat, record.lon) == pytest.approx((row["lat"], row["lon"]), abs=1e-6), row["path"]
        assert record.altitude_m == (pytest.approx(row["altitude_m"]) if row["altitude_m"] != "" else None)
        stored = (row["width"], row["height"])
        assert (record.width, record.height) == (stored[::-1] if row["exif_orientation"] in (5, 6, 7, 8) else stored)
    database.close()
    manifest = json.loads((tmp_path / "samples.geoloc" / "manifest.json").read_text())
    assert manifest["count"] == len(located) and manifest["embedder"]["architecture"] == "tiny-test-cnn"
    assert manifest["format_version"] == 2 and manifest["dimension"] == tiny_embedder.identity.dimension


def test_csv_source_keeps_extra_columns_and_reports_bad_rows(tmp_path):
    rows = make_located_photos(tmp_path / "photos", 3)
    rows.append({**rows[0], "path": "missing.jpg"})
    rows.append({**rows[1], "lat": "95"})
    rows.append({**rows[2], "lon": "east"})
    candidates, skipped = from_csv(write_csv(tmp_path / "refs.csv", rows))
    assert len(candidates) == 3 and len(skipped) == 3
    assert candidates[0].attributes["flickr_owner"] == rows[0]["flickr_owner"]
    assert [s.reason.split(": ", 1)[1] for s in skipped] == [
        "file not found", "location (95.0, {}) is out of range".format(float(rows[1]["lon"])),
        "latitude/longitude are not numbers"]


def test_relative_csv_paths_resolve_against_the_csv_folder(tmp_path):
    rows = make_located_photos(tmp_path / "refs" / "photos", 4)
    relative = [{**row, "path": f"photos/{os.path.basename(row['path'])}"} for row in rows]
    candidates, skipped = from_csv(write_csv(tmp_path / "refs" / "manifest.csv", relative))
    assert len(candidates) == 4 and not skipped
    assert [str(c.path) for c in candidates] == [row["path"] for row in rows] and candidates[0].path.is_file()


def test_add_is_incremental_and_reopen_searches(embedder, tmp_path):
    rows = make_located_photos(tmp_path / "photos", 20)
    first, _ = from_csv(write_csv(tmp_path / "a.csv", rows[:12]))
    grown, _ = from_csv(write_csv(tmp_path / "b.csv", rows))
    database, report = build_database(tmp_path / "f.geoloc", first, embedder, batch_size=5)
    assert report.added == 12
    report = add_photos(database, grown, embedder)
    assert (report.added, report.already_present) == (8, 12)
    database.close()
    with ReferenceDatabase.open(tmp_path / "f.geoloc", embedder.identity) as reopened:
        assert reopened.count == 20 and not reopened.warnings
        query = embedder.embed_paths([grown[15].path]).features
        similarities, ids = reopened.search(query, 3)
        best = reopened.records(ids[0])[int(ids[0, 0])]
        assert best.path == str(grown[15].path) and similarities[0, 0] == pytest.approx(1.0, abs=1e-3)


def test_another_embedder_is_refused_naming_both(embedder, tmp_path):
    import torch
    import torchvision

    make_located_photos(tmp_path / "photos", 3)
    candidates, _ = from_folder(tmp_path / "photos")
    build_database(tmp_path / "db.geoloc", candidates[:2], embedder)[0].close()
    weights = tmp_path / "r18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), weights)
    other = load_embedder("resnet18", weights)
    with pytest.raises(EmbedderMismatchError) as error:
        ReferenceDatabase.open(tmp_path / "db.geoloc", other.identity)
    assert "efficientnet_lite0" in str(error.value) and "resnet18" in str(error.value)
    with pytest.raises(EmbedderMismatchError):
        add_photos(ReferenceDatabase.open(tmp_path / "db.geoloc", writable=True), candidates, other)


@pytest.fixture
def small_database(embedder, tmp_path):
    make_located_photos(tmp_path / "photos", 9)
    candidates, _ = from_folder(tmp_path / "photos")
    build_database(tmp_path / "db.geoloc", candidates, embedder)[0].close()
    return tmp_path / "db.geoloc"


def test_damaged_files_give_a_damaged_database_error(small_database):
    manifest = small_database / "manifest.json"
    text = manifest.read_text()
    manifest.write_text(text[: len(text) // 2])
    with pytest.raises(DamagedDatabaseError, match="damaged database.*manifest.json"):
        ReferenceDatabase.open(small_database)
    manifest.write_text(text)
    records = small_database / "metadata.sqlite"
    data = records.read_bytes()
    records.write_bytes(data[:1000])
    with pytest.raises(DamagedDatabaseError, match="damaged database.*metadata.sqlite"):
        ReferenceDatabase.open(small_database)
    records.write_bytes(b"\0" * len(data))
    with pytest.raises(DamagedDatabaseError):
        ReferenceDatabase.open(small_database)
    with pytest.raises(DatabaseError, match="folder not found"):
        ReferenceDatabase.open(small_database.parent / "nothing.geoloc")


def test_a_truncated_vector_file_is_damage(small_database):
    vectors = small_database / "vectors.f16"
    vectors.write_bytes(vectors.read_bytes()[:-3000])
    with pytest.raises(DamagedDatabaseError, match="vectors.f16 holds 7 vectors for 9 records"):
        ReferenceDatabase.open(small_database)


def test_create_refuses_to_overwrite(small_database, embedder):
    with pytest.raises(DatabaseError, match="already exists"):
        ReferenceDatabase.create(small_database, embedder.identity)


@pytest.mark.slow
def test_build_killed_with_sigkill_keeps_committed_work_and_resumes(tmp_path):
    """kill -9 in the middle of a build: the database opens, and a re-run embeds only the rest."""
    csv_path = write_csv(tmp_path / "refs.csv", make_located_photos(tmp_path / "photos", 160))
    command = [sys.executable, "-m", "geoloc_core", "--progress", "json", "build", str(tmp_path / "k.geoloc"),
               str(csv_path), "--batch-size", "16"]
    child = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    embedded = 0
    for line in child.stdout:
        event = json.loads(line)
        if event["stage"] == "embed":
            embedded = event["done"]
            if embedded >= 48:
                break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL and embedded < 160
    with ReferenceDatabase.open(tmp_path / "k.geoloc") as database:
        committed = database.count
        assert 32 <= committed < 160
        assert database.search(database.embeddings([1]), 1)[1][0, 0] == 1
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    final = json.loads(result.stdout.strip().splitlines()[-1])
    assert final["already_present"] == committed and final["added"] == 160 - committed
    with ReferenceDatabase.open(tmp_path / "k.geoloc") as database:
        assert database.count == 160 and not database.warnings
