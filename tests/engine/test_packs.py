"""Reference packs: pack/install round trip, downloads (resume, corruption), refusals, credits, merged search."""

from __future__ import annotations

import csv
import json
import os
import time
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest

from geoloc_core.database import EmbeddedRecord, EmbedderMismatchError, ReferenceDatabase
from geoloc_core.download import DownloadError, download, part_path
from geoloc_core.embedders import EmbedderIdentity
from geoloc_core.locate import LocateOptions, Locator
from geoloc_core.packs import (
    CREDITS,
    NOTICE,
    PACK_MANIFEST,
    PackCredits,
    PackError,
    credit_line,
    install,
    installed_packs,
    pack,
    resolve_reference,
    thumbnail_path,
)
from geoloc_core.progress import Cancelled
from geoloc_core.searchset import ID_STRIDE, SearchSet, open_references

from ..conftest import REPO_ROOT, make_database, make_photos, references, unit_vectors
from ..range_server import RangeServer

DIMENSION = 1280


@pytest.fixture
def packed(tmp_path, lite_identity):
    photos = make_photos(tmp_path / "photos", 6)
    source = make_database(tmp_path / "field.geoloc", lite_identity, references(6, 1, photos), unit_vectors(6, 1))
    output = tmp_path / "field.geolocpack"
    info = pack(source, output, title="Field photos", licence_notice="Shared for the test.")
    return types.SimpleNamespace(source=source, output=output, info=info)


def test_round_trip_installs_a_read_only_database_with_credits_and_no_photo_paths(packed, tmp_path):
    packs_dir = tmp_path / "packs"
    info = install(packed.output, packs_dir)
    assert info.path == packs_dir / "field" and info.count == 6 and info.sha256 == packed.info.sha256
    with ReferenceDatabase.open(packed.source) as source, ReferenceDatabase.open(info.path) as installed:
        assert installed.count == source.count and not installed.writable
        original, copied = source.all_records(), installed.all_records()
        assert [(r.lat, r.lon, r.sha256) for r in copied] == [(r.lat, r.lon, r.sha256) for r in original]
        assert np.array_equal(installed.embeddings(list(range(1, 7))), source.embeddings(list(range(1, 7))))
        assert installed.verify() == []
        assert installed.identity.weights_path is None
        for record in copied:
            assert "photos" not in record.path and thumbnail_path(info.path, record.path).stat().st_size > 0
            assert record.attributes["licence"] == "CC BY 2.0" and record.attributes["source_url"].startswith("https://")
    with open(info.path / CREDITS, newline="", encoding="utf-8") as handle:
        credits = list(csv.DictReader(handle))
    assert [row["author"] for row in credits] == [f"author {i}" for i in range(6)]
    assert credit_line(info.path / credits[2]["thumbnail"]) == "author 2, CC BY 2.0, https://example.org/1/2"
    assert credit_line(packed.source / "metadata.sqlite") is None
    assert all(row["licence"] == "CC BY 2.0" and row["source_url"] for row in credits)
    notice = (info.path / NOTICE).read_text(encoding="utf-8")
    assert "Shared for the test." in notice and "author 5" in notice
    assert [p.name for p in installed_packs(packs_dir)] == ["field"]
    manifest = json.loads((info.path / PACK_MANIFEST).read_text(encoding="utf-8"))
    assert manifest["coverage"]["bbox_west_south_east_north"] is not None and sum(
        manifest["coverage"]["continents"].values()) == 6
    assert install(packed.output, packs_dir).path == info.path  # the same pack again: nothing to do


def test_pack_refuses_photos_without_a_licence(tmp_path, lite_identity):
    records = [EmbeddedRecord(f"/p/{i}.jpg", f"{i:064d}", 1.0, 2.0, attributes={"author": "me"}) for i in range(2)]
    source = make_database(tmp_path / "mine.geoloc", lite_identity, records, unit_vectors(2, 3))
    with pytest.raises(PackError, match="has no licence"):
        pack(source, tmp_path / "mine.geolocpack")
    assert not (tmp_path / "mine.geolocpack").exists()
    info = pack(source, tmp_path / "mine.geolocpack", credits=PackCredits(default_licence="CC0 1.0"))
    assert info.licences == {"CC0 1.0": 2}


def _rewrite_pack(source: Path, target: Path, edit_manifest=None, edit_member=None) -> Path:
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == PACK_MANIFEST and edit_manifest:
                manifest = json.loads(data)
                edit_manifest(manifest)
                data = json.dumps(manifest).encode()
            elif edit_member and item.filename == edit_member[0]:
                data = edit_member[1](data)
            copy.writestr(item.filename, data)
    return target


def test_newer_format_and_unknown_embedder_are_refused_with_the_file_named(packed, tmp_path):
    newer = _rewrite_pack(packed.output, tmp_path / "newer.geolocpack",
                          lambda m: m.update(format_version=m["format_version"] + 1))
    with pytest.raises(PackError, match=r"newer.geolocpack: made by a newer version.*update the plugin"):
        install(newer, tmp_path / "packs")
    foreign = _rewrite_pack(packed.output, tmp_path / "foreign.geolocpack",
                            lambda m: m["embedder"].update(architecture="vit_giant_2030"))
    with pytest.raises(PackError, match=r"foreign.geolocpack: cannot be used.*vit_giant_2030"):
        install(foreign, tmp_path / "packs")
    other_weights = _rewrite_pack(packed.output, tmp_path / "other.geolocpack",
                                  lambda m: m["embedder"].update(weights_sha256="f" * 64))
    with pytest.raises(PackError, match="other efficientnet_lite0 weights"):
        install(other_weights, tmp_path / "packs")
    assert installed_packs(tmp_path / "packs") == []
    assert [p.name for p in (tmp_path / "packs").iterdir()] == []


def test_a_flipped_byte_in_the_compressed_manifest_is_a_damaged_pack(packed, tmp_path):
    """The flipped byte may break the deflate stream itself (zlib.error), not only the CRC."""
    data = bytearray(packed.output.read_bytes())
    with zipfile.ZipFile(packed.output) as archive:
        info = archive.getinfo(PACK_MANIFEST)
    assert info.compress_type == zipfile.ZIP_DEFLATED
    name_length, extra_length = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little"), \
        int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_length + extra_length
    for offset in range(start, start + min(info.compress_size, 64)):
        damaged = bytearray(data)
        damaged[offset] ^= 0xFF
        (tmp_path / "damaged.geolocpack").write_bytes(damaged)
        with pytest.raises(PackError, match=r"damaged.geolocpack: (damaged pack|not a reference pack)"):
            install(tmp_path / "damaged.geolocpack", tmp_path / "packs")
    assert installed_packs(tmp_path / "packs") == []


def test_a_pack_of_a_downloadable_model_is_not_refused_for_its_embedder():
    """A CLIP-family model is fetched on the user's request: its pack installs, and what the model
    needs is said when it is loaded (clip_embedders.availability)."""
    from geoloc_core.identity import EmbedderIdentity
    from geoloc_core.packs import embedder_problem

    clip = EmbedderIdentity("clip_vit_b32", "a" * 64, "projection", "openai/clip-vit-base-patch32@abc", 512)
    assert embedder_problem(clip) is None
    assert "cannot load" in embedder_problem(EmbedderIdentity("vit_giant_2030", "a" * 64, "avg", "x", 8))


def test_altered_member_is_refused_and_nothing_is_installed(packed, tmp_path):
    altered = _rewrite_pack(packed.output, tmp_path / "altered.geolocpack",
                            edit_member=("vectors.f16", lambda data: data[:-2] + bytes([data[-2] ^ 1, data[-1]])))
    with pytest.raises(PackError, match="vectors.f16 does not match its checksum"):
        install(altered, tmp_path / "packs")
    with pytest.raises(PackError, match="checksum mismatch"):
        install(packed.output, tmp_path / "packs", expected_sha256="0" * 64)
    assert list((tmp_path / "packs").iterdir()) == []


def test_cancel_halfway_leaves_nothing_installed_and_keeps_the_old_copy(packed, tmp_path):
    packs_dir = tmp_path / "packs"
    events = []

    def stop_after_two_members():
        events.append(1)
        return len(events) > 3

    with pytest.raises(Cancelled):
        install(packed.output, packs_dir, should_stop=stop_after_two_members)
    assert list(packs_dir.iterdir()) == []
    first = install(packed.output, packs_dir)
    newer = pack(packed.source, tmp_path / "field-2.geolocpack", name="field", title="second edition")
    events.clear()
    with pytest.raises(Cancelled):
        install(newer.path, packs_dir, should_stop=stop_after_two_members)
    assert [(p.name, p.title, p.sha256) for p in installed_packs(packs_dir)] == [("field", "Field photos", first.sha256)]
    assert [p.name for p in packs_dir.iterdir()] == ["field"]
    killed = packs_dir / ".installing-killed"  # what a process killed while installing leaves
    (killed / "field").mkdir(parents=True)
    os.utime(killed, (time.time() - 2 * 86400,) * 2)
    assert install(newer.path, packs_dir).title == "second edition"
    assert [p.name for p in packs_dir.iterdir()] == ["field"]


PACK_PATH = "/packs/field.geolocpack"


@pytest.fixture
def server(packed):
    payload = packed.output.read_bytes()
    serving = RangeServer(lambda path: payload if path == PACK_PATH else None)
    serving.payload = payload
    serving.url += PACK_PATH
    yield serving
    serving.close()


def test_install_from_url_resumes_an_interrupted_transfer(server, packed, tmp_path):
    server.drop.add("field.geolocpack")
    seen = []
    info = install(server.url, tmp_path / "packs", expected_sha256=packed.info.sha256, progress=seen.append)
    assert info.count == 6 and info.sha256 == packed.info.sha256
    half = (len(server.payload)) // 2
    assert server.transfers("field.geolocpack") == [None, f"bytes={half}-"]
    assert seen[-1].stage == "install" and any(p.stage == "download" and p.total == len(server.payload) for p in seen)
    assert not any((tmp_path / "packs" / ".downloads").iterdir())
    assert json.loads((info.path / "installed.json").read_text())["source"] == server.url


def test_download_resumes_from_a_part_left_by_an_earlier_call(server, tmp_path):
    target = tmp_path / "pack.bin"
    part_path(target).write_bytes(server.payload[:1000])
    download(server.url, target)
    assert target.read_bytes() == server.payload and server.transfers("field.geolocpack") == ["bytes=1000-"]
    assert not part_path(target).exists()


def test_a_server_that_ignores_ranges_sends_the_whole_file_again(server, tmp_path):
    server.ignore_range = True
    target = tmp_path / "pack.bin"
    part_path(target).write_bytes(b"x" * 1000)  # a stale part: must not end up in front of the file
    download(server.url, target)
    assert target.read_bytes() == server.payload and server.transfers("field.geolocpack") == ["bytes=1000-"]


def test_corrupted_download_is_refused_and_deleted(server, packed, tmp_path):
    server.corrupt.add("field.geolocpack")
    with pytest.raises(DownloadError, match=r"127.0.0.1.*checksum mismatch"):
        install(server.url, tmp_path / "packs", expected_sha256=packed.info.sha256)
    assert installed_packs(tmp_path / "packs") == []
    assert not any((tmp_path / "packs" / ".downloads").iterdir())
    with pytest.raises(PackError, match="damaged pack|not a reference pack"):  # no published checksum: the members' catch it
        install(server.url, tmp_path / "packs")
    assert installed_packs(tmp_path / "packs") == []


def test_download_errors_name_the_address(tmp_path, server):
    with pytest.raises(DownloadError, match="only http"):
        download("file:///etc/passwd", tmp_path / "x")
    server.httpd.shutdown()
    server.httpd.server_close()
    with pytest.raises(DownloadError, match=r"127.0.0.1.*cannot be reached"):
        download(server.url, tmp_path / "x", retries=0)
    server.httpd.shutdown = lambda: None  # already stopped


def test_cancelled_download_keeps_its_part_for_resume(server, tmp_path):
    calls = []
    with pytest.raises(Cancelled):
        download(server.url, tmp_path / "pack.bin", progress=lambda p: calls.append(p),
                 should_stop=lambda: len(calls) > 1)
    assert not (tmp_path / "pack.bin").exists() and part_path(tmp_path / "pack.bin").exists()
    download(server.url, tmp_path / "pack.bin")
    assert (tmp_path / "pack.bin").read_bytes() == server.payload


def test_merged_search_equals_one_database_holding_both_sets(tmp_path, lite_identity):
    first_records, second_records = references(40, 7), references(25, 8)
    first_vectors, second_vectors = unit_vectors(40, 7), unit_vectors(25, 8)
    first = make_database(tmp_path / "a.geoloc", lite_identity, first_records, first_vectors)
    second = make_database(tmp_path / "b.geoloc", lite_identity, second_records, second_vectors)
    both = make_database(tmp_path / "both.geoloc", lite_identity, first_records + second_records,
                         np.concatenate([first_vectors, second_vectors]))
    queries = unit_vectors(5, 99)
    options = LocateOptions(k=12)
    fake_embedder = types.SimpleNamespace(identity=lite_identity)
    with SearchSet.open([first, second]) as merged, ReferenceDatabase.open(both) as single:
        merged_results = Locator(merged, fake_embedder).locate_features(queries, [f"q{i}" for i in range(5)], options)
        single_results = Locator(single, fake_embedder).locate_features(queries, [f"q{i}" for i in range(5)], options)
        sims, ids = merged.search(queries, 70)
        assert (ids[:, 65:] == -1).all() and set(ids[0, :65] // ID_STRIDE) == {0, 1}
        database, record_id = merged.source_of(int(ids[0, 0]))
        assert database.records([record_id])[record_id].path == merged.records([ids[0, 0]])[int(ids[0, 0])].path
    for m, s in zip(merged_results, single_results):
        assert [n.path for n in m.neighbours] == [n.path for n in s.neighbours]
        assert [(n.lat, n.lon) for n in m.neighbours] == [(n.lat, n.lon) for n in s.neighbours]
        assert np.allclose([n.similarity for n in m.neighbours], [n.similarity for n in s.neighbours], atol=1e-6)
        assert (m.lat, m.lon) == pytest.approx((s.lat, s.lon))


def test_search_set_refuses_databases_of_different_embedders(tmp_path, lite_identity):
    other = EmbedderIdentity("resnet50", "2" * 64, "avg", "none", DIMENSION)
    first = make_database(tmp_path / "a.geoloc", lite_identity, references(3, 1), unit_vectors(3, 1))
    second = make_database(tmp_path / "b.geoloc", other, references(3, 2), unit_vectors(3, 2))
    with pytest.raises(EmbedderMismatchError, match=r"b.geoloc: built with resnet50.*cannot be searched together"):
        SearchSet.open([first, second])


def test_references_resolve_from_pack_files_and_installed_names(packed, tmp_path):
    packs_dir = tmp_path / "packs"
    assert resolve_reference(packed.source, packs_dir) == packed.source
    installed = resolve_reference(packed.output, packs_dir)
    assert installed == packs_dir / "field"
    assert resolve_reference("field", packs_dir) == installed
    with pytest.raises(Exception, match="no reference database, pack file or installed pack"):
        resolve_reference("nothing-here", packs_dir)


def test_cli_packs_installs_lists_and_locates_against_a_database_plus_a_pack(tmp_path, lite_identity, capsys,
                                                                             monkeypatch):
    from geoloc_core.cli import main

    monkeypatch.setenv("GEOLOC_PACKS_DIR", str(tmp_path / "packs"))
    photos = make_photos(tmp_path / "photos", 4)
    own = make_database(tmp_path / "own.geoloc", lite_identity, references(3, 5), unit_vectors(3, 5))
    shared = make_database(tmp_path / "shared.geoloc", lite_identity, references(4, 6, photos), unit_vectors(4, 6))
    assert main(["--progress", "json", "pack", str(shared), str(tmp_path / "shared.geolocpack"), "--title", "T"]) == 0
    assert main(["--progress", "json", "install", str(tmp_path / "shared.geolocpack")]) == 0
    assert main(["--progress", "json", "packs"]) == 0
    capsys.readouterr()
    assert main(["--progress", "json", "locate", str(own), str(photos[0]), "--also", "shared", "-k", "7"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    neighbours = result["results"][0]["neighbours"]
    assert len(neighbours) == 7
    from_pack = [n for n in neighbours if n["record_id"] >= ID_STRIDE]
    assert len(from_pack) == 4 and all(Path(n["path"]).is_file() and "thumbnails" in n["path"] for n in from_pack)
    assert main(["locate", str(own), str(photos[0]), "--also", "missing-pack"]) == 2
    assert "missing-pack: no reference database, pack file or installed pack" in capsys.readouterr().err


STARTER_PACK = REPO_ROOT / "resources" / "packs" / "world-starter.geolocpack"
REDISTRIBUTABLE = {"CC BY 2.0", "CC BY-SA 2.0"}


def test_the_shipped_starter_pack_credits_every_photo_and_installs(tmp_path):
    assert STARTER_PACK.stat().st_size < 5_000_000  # shipped in the plugin zip: keep it small
    info = install(STARTER_PACK, tmp_path / "packs")
    assert info.name == "world-starter" and info.count > 300 and set(info.licences) <= REDISTRIBUTABLE
    with open(info.path / CREDITS, newline="", encoding="utf-8") as handle:
        credits = list(csv.DictReader(handle))
    assert len(credits) == info.count
    assert all(row["licence"] in REDISTRIBUTABLE and row["author"].startswith("Flickr user ")
               and row["source_url"].startswith("https://www.flickr.com/photos/") and row["thumbnail"]
               for row in credits)
    notice = (info.path / NOTICE).read_text(encoding="utf-8")
    assert all(row["source_url"] in notice for row in credits)
    with ReferenceDatabase.open(info.path) as database:
        records = database.all_records()
        assert len(records) == info.count and all(not Path(r.path).is_absolute() for r in records)
        assert all(thumbnail_path(info.path, r.path) is not None for r in records)
        assert all(r.attributes["licence"] in REDISTRIBUTABLE and r.attributes["source_url"] for r in records)
        assert database.verify() == []
    continents = info.coverage["continents"]
    assert len(continents) >= 5 and sum(continents.values()) == info.count


def test_starter_pack_locates_a_real_photo_it_does_not_hold(tmp_path, flickr_dir):
    """A Flickr photo under a licence the pack leaves out (so not in it) gets an answer from the pack."""
    with open(flickr_dir / "manifest.csv", newline="", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["licence"] not in REDISTRIBUTABLE)
    assert_starter_pack_answers(flickr_dir / row["path"], tmp_path)


def test_starter_pack_locates_a_made_up_photo(tmp_path):
    (photo,) = make_photos(tmp_path / "photos", 1)
    assert_starter_pack_answers(photo, tmp_path)


def assert_starter_pack_answers(photo: Path, tmp_path: Path) -> None:
    """The installed starter pack gives a photo it does not hold an answer with 20 neighbours on disk."""
    from geoloc_core.embedders import load_embedder

    info = install(STARTER_PACK, tmp_path / "packs")
    with open_references([info.path]) as database:
        report = Locator(database, load_embedder()).locate_paths([photo], LocateOptions(k=20))
    assert len(report.results) == 1 and not report.failed
    neighbours = report.results[0].neighbours
    assert len(neighbours) == 20 and all(Path(n.path).is_file() for n in neighbours)
