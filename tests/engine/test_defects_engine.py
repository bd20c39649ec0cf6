"""Engine-side defects found walking the panel as a new user would: what a failed pack download names,
and that every progress stage has a name and never runs backwards."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from geoloc_core.packs import DOWNLOADS, PackError, install

from ..range_server import RangeServer


def truncated_pack() -> bytes:
    """The first half of a zip archive: what a download cut short by the server (no size announced) gives."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("pack.json", json.dumps({"format": "photo-geolocator-pack", "padding": "x" * 4000}))
    whole = buffer.getvalue()
    return whole[: len(whole) // 2]


def test_a_truncated_pack_download_names_the_address_not_the_scratch_file(tmp_path):
    payload = truncated_pack()
    server = RangeServer(lambda path: payload if path == "/packs/field.geolocpack" else None)
    try:
        url = server.url + "/packs/field.geolocpack"
        with pytest.raises(PackError) as raised:
            install(url, tmp_path / "packs")
    finally:
        server.close()
    message = str(raised.value)
    assert message.startswith(url), message
    assert DOWNLOADS not in message and str(tmp_path) not in message, message
    assert "install it again" in message
    assert not list((tmp_path / "packs" / DOWNLOADS).iterdir())  # the scratch copy is gone


def test_a_pack_file_is_still_named_by_its_path(tmp_path):
    broken = tmp_path / "broken.geolocpack"
    broken.write_bytes(truncated_pack())
    with pytest.raises(PackError, match=re.escape(str(broken)) + ": not a reference pack or damaged"):
        install(broken, tmp_path / "packs")


def test_every_result_field_says_its_unit_and_meaning_and_no_embedding_distance_passes_for_km():
    from geoloc_core import schema

    tables = (schema.PREDICTION_FIELDS, schema.NEIGHBOUR_FIELDS, schema.ALTERNATIVE_FIELDS,
              schema.UNCERTAINTY_FIELDS, schema.REFERENCE_FIELDS)
    for name in {name for table in tables for name in schema.names(table)}:
        alias, comment = schema.field_help(name)
        assert alias and comment, name
        if name.endswith("_km"):
            assert "(km)" in alias and "km" in comment, name
        if "embedding_distance" in name:
            assert "feature space" in alias and "not a distance on the ground" in comment, name
        elif "distance" in alias.lower():
            assert "(km)" in alias, f"{name}: a distance in km must say so"
    assert "nearest_distance" not in schema.names(schema.PREDICTION_FIELDS)
    assert "distance" not in schema.names(schema.NEIGHBOUR_FIELDS)


def test_every_progress_stage_the_engine_reports_has_a_name():
    from geoloc_core.progress import STAGE_NAMES

    engine = Path(__file__).resolve().parents[2] / "geoloc_core"
    reported = set()
    for source in engine.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        reported |= set(re.findall(r"report\(\s*progress,[^\"]*?\"([a-z_]+)\"", text))
        reported |= set(re.findall(r"Progress\([^\"]*?\"([a-z_]+)\"", text))
    assert {"hash", "embed", "index", "load"} <= reported, reported  # the scan finds what it should
    assert reported <= set(STAGE_NAMES), reported - set(STAGE_NAMES)


def test_a_build_restarts_each_stage_from_zero_under_its_name_and_never_runs_back(tmp_path, tiny_embedder):
    from geoloc_core.ingest import build_database
    from geoloc_core.progress import describe, stage_name
    from geoloc_core.sources import Candidate

    from ..conftest import make_photos

    photos = make_photos(tmp_path / "photos", 40)
    events = []
    database, report = build_database(tmp_path / "db.geoloc", [Candidate(p, 10.0, 20.0) for p in photos],
                                      tiny_embedder, progress=events.append)
    database.close()
    assert report.added == 40
    stages = [e.stage for e in events]
    assert stages.index("embed") > stages.index("hash")
    last: dict[str, int] = {}
    previous = None
    for event in events:
        assert stage_name(event.stage) and describe(event).startswith(stage_name(event.stage))
        if event.stage in last and event.stage == previous:
            assert event.done >= last[event.stage], f"{event.stage} ran back from {last[event.stage]} to {event.done}"
        elif event.total:  # a stage starts from its own 0, not at its first batch (100% -> 80% otherwise)
            assert event.done == 0, event
        last[event.stage], previous = event.done, event.stage
