"""Engine-side defects found walking the panel as a new user would: what a failed pack download names,
and that every progress stage has a name and never runs backwards."""

from __future__ import annotations

import io
import json
import re
import zipfile

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
