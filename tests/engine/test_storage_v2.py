"""Database format 2: vector file + metadata, size-chosen index, cheap adds, integrity, migration from
format 1, and the bounded embedding pipeline. Needs nothing from ../shared."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest

from geoloc_core import search_index
from geoloc_core.database import (
    DamagedDatabaseError,
    DatabaseError,
    EmbeddedRecord,
    ReferenceDatabase,
)
from geoloc_core.embedders import EmbedderIdentity
from geoloc_core.feature_space import save_view, use_view
from geoloc_core.ingest import add_photos, build_database
from geoloc_core.progress import Cancelled
from geoloc_core.search_index import IndexPlan
from geoloc_core.sources import Candidate

from ..conftest import REPO_ROOT, make_photos, structured_vectors

V1_FIXTURE = REPO_ROOT / "tests" / "data" / "v1-database"  # made by the format-1 code (commit 78b2df7)
DIMENSION = 64
IDENTITY = EmbedderIdentity("synthetic", "1" * 64, "avg", "none", DIMENSION)
SMALL_IVF = IndexPlan("PCA32,IVF64_HNSW32,SQ8", nprobe=16)


def records_for(count: int, start: int = 0) -> list[EmbeddedRecord]:
    rng = np.random.default_rng(start)
    return [EmbeddedRecord(f"/refs/{start + i}.jpg", f"{start + i:064x}", float(rng.uniform(-80, 80)),
                           float(rng.uniform(-180, 180)), attributes={"owner": f"o{(start + i) % 97}"})
            for i in range(count)]


def synthetic_database(path, count: int, seed: int = 0) -> tuple[ReferenceDatabase, np.ndarray]:
    vectors = structured_vectors(count, DIMENSION, seed)
    database = ReferenceDatabase.create(path, IDENTITY)
    database.add_embedded(records_for(count), vectors)
    return database, vectors


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Record ids of the exact top k by inner product over the stored (float16) vectors."""
    stored = vectors.astype(np.float16).astype(np.float32)
    return np.argsort(-(queries @ stored.T), axis=1, kind="stable")[:, :k] + 1


# -- layout and exact search --------------------------------------------------------------------

def test_small_database_is_exact_with_float16_vectors_and_metadata_only_sqlite(tmp_path):
    database, vectors = synthetic_database(tmp_path / "db", 500)
    files = {p.name for p in (tmp_path / "db").iterdir()}
    assert {"manifest.json", "metadata.sqlite", "vectors.f16"} <= files and not any(f.endswith(".faiss") for f in files)
    manifest = json.loads((tmp_path / "db" / "manifest.json").read_text())
    assert manifest["format_version"] == 2 and manifest["index"]["factory"] == "Flat" and manifest["count"] == 500
    columns = {row[1] for row in database._connection.execute("PRAGMA table_info(records)")}
    assert "embedding" not in columns
    assert (tmp_path / "db" / "vectors.f16").stat().st_size == 64 + 500 * DIMENSION * 2
    queries = vectors[:20]
    similarities, ids = database.search(queries, 10)
    np.testing.assert_array_equal(ids, exact_top_k(vectors, queries, 10))
    assert similarities[:, 0] == pytest.approx(1.0, abs=2e-3)
    np.testing.assert_allclose(database.embeddings([3, 1]), vectors[[2, 0]], atol=2e-3)
    database.close()


def test_exact_search_past_one_read_chunk_finds_every_row(tmp_path):
    """The exact rows are read into the index a chunk at a time; each chunk must add to the codes, not
    replace them (a database of 20,000 photos crashed on its first search when they did)."""
    count = search_index.CHUNK_ROWS + 1_000
    database, vectors = synthetic_database(tmp_path / "db", count)
    queries = vectors[[0, search_index.CHUNK_ROWS - 1, search_index.CHUNK_ROWS, count - 1]]
    for searched in (database, ReferenceDatabase.open(tmp_path / "db", IDENTITY)):
        similarities, ids = searched.search(queries, 5)
        np.testing.assert_array_equal(ids, exact_top_k(vectors, queries, 5))
        assert similarities[:, 0] == pytest.approx(1.0, abs=2e-3)
        searched.close()


def test_photos_added_after_a_search_join_the_ones_already_searched(tmp_path):
    """The open database's exact rows grow when photos are added after a search (the panel's add, then
    locate): the new rows' codes go after the old ones."""
    database, vectors = synthetic_database(tmp_path / "db", 300)
    database.search(vectors[:1], 5)
    more = structured_vectors(200, DIMENSION, seed=5)
    database.add_embedded(records_for(200, start=300), more)
    everything = np.concatenate([vectors, more])
    queries = everything[[0, 299, 300, 499]]
    similarities, ids = database.search(queries, 5)
    np.testing.assert_array_equal(ids, exact_top_k(everything, queries, 5))
    assert similarities[:, 0] == pytest.approx(1.0, abs=2e-3)
    database.close()


def test_fewer_references_than_k_pad_with_minus_one(tmp_path):
    database, vectors = synthetic_database(tmp_path / "db", 3)
    similarities, ids = database.search(vectors[:1], 5)
    assert list(ids[0, 3:]) == [-1, -1] and np.isneginf(similarities[0, 3:]).all()


def test_plan_grows_with_size():
    assert search_index.plan_for(50_000, 1280).exact
    million = search_index.plan_for(1_000_000, 1280)
    assert million.factory == "PCA256,IVF2048_HNSW32,SQ8" and million.nprobe == 103  # ~50k codes scanned
    assert search_index.plan_for(100_000, 1280).nprobe == 512  # half the lists of a sparse database
    ten_million = search_index.plan_for(10_000_000, 1280)
    assert ten_million.factory.startswith("PCA256,IVF8192") and ten_million.nprobe == 128  # at least 1/64


# -- compressed index ---------------------------------------------------------------------------

def test_forced_ivf_keeps_the_exact_top_100_and_adds_go_to_a_delta(tmp_path):
    database, vectors = synthetic_database(tmp_path / "db", 20_000)
    database.reindex(SMALL_IVF, forced=True)
    manifest = json.loads((tmp_path / "db" / "manifest.json").read_text())
    assert manifest["index"]["factory"] == SMALL_IVF.factory and manifest["index"]["covered"] == 20_000
    index_file = tmp_path / "db" / f"index-{manifest['index']['generation']}.faiss"
    queries = structured_vectors(200, DIMENSION, seed=99)
    _, ids = database.search(queries, 100)
    truth = exact_top_k(vectors, queries, 100)
    recall = np.mean([len(set(a) & set(b)) / 100 for a, b in zip(ids, truth)])
    assert recall >= 0.95, f"top-100 recall {recall:.3f}"

    before = index_file.stat().st_mtime_ns
    extra = structured_vectors(100, DIMENSION, seed=5)
    assert database.add_embedded(records_for(100, start=20_000), extra) == 100
    assert index_file.stat().st_mtime_ns == before, "an add of 100 must not rewrite the index"
    _, ids = database.search(extra[:5], 1)
    assert list(ids[:, 0]) == [20_001, 20_002, 20_003, 20_004, 20_005]
    database.close()
    with ReferenceDatabase.open(tmp_path / "db") as reopened:
        assert reopened.index_plan.factory == SMALL_IVF.factory and not reopened.warnings
        assert reopened.search(extra[:1], 1)[1][0, 0] == 20_001
        assert reopened.verify() == []


def test_the_index_is_trained_automatically_past_the_exact_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(search_index, "EXACT_MAX_ROWS", 4_000)
    database, _ = synthetic_database(tmp_path / "db", 3_000)
    assert database.index_plan.exact
    database.add_embedded(records_for(2_000, start=3_000), structured_vectors(2_000, DIMENSION, seed=3))
    assert not database.index_plan.exact and database.index_plan.factory.startswith("PCA")
    assert len(list((tmp_path / "db").glob("index-*.faiss"))) == 1
    database.close()


def test_a_damaged_index_is_rebuilt_by_a_writer_and_refused_by_a_reader(tmp_path):
    database, vectors = synthetic_database(tmp_path / "db", 5_000)
    database.reindex(SMALL_IVF, forced=True)
    expected = database.search(vectors[:5], 10)[1]
    database.close()
    index_file = next((tmp_path / "db").glob("index-*.faiss"))
    index_file.write_bytes(index_file.read_bytes()[:5000])
    with pytest.raises(DamagedDatabaseError, match="reindex"):
        ReferenceDatabase.open(tmp_path / "db")
    with ReferenceDatabase.open(tmp_path / "db", writable=True) as database:
        assert any("rebuilt" in w for w in database.warnings)
        assert database.index_plan.factory == SMALL_IVF.factory, "a forced factory survives a rebuild"
        np.testing.assert_array_equal(database.search(vectors[:5], 10)[1], expected)
    with ReferenceDatabase.open(tmp_path / "db") as database:
        assert not database.warnings


# -- files that do not belong together -----------------------------------------------------------

def test_files_from_another_database_are_refused(tmp_path):
    for name in ("a", "b"):
        database, _ = synthetic_database(tmp_path / name, 3_000, seed=len(name))
        database.reindex(SMALL_IVF, forced=True)
        database.close()
    a, b = tmp_path / "a", tmp_path / "b"

    def swapped(*names):
        target = tmp_path / ("mixed-" + "-".join(names))
        shutil.copytree(a, target)
        for name in names:
            for file in b.glob(name):
                shutil.copy(file, target / file.name)
        return target

    for names, reason in [(("metadata.sqlite",), "metadata.sqlite belongs to another database"),
                          (("vectors.f16",), "vectors.f16 belongs to another database"),
                          (("manifest.json",), "metadata.sqlite belongs to another database"),
                          (("manifest.json", "index-*.faiss"), "metadata.sqlite belongs to another database")]:
        with pytest.raises(DamagedDatabaseError, match=reason):
            ReferenceDatabase.open(swapped(*names))
    target = swapped()
    own = next(target.glob("index-*.faiss"))
    shutil.copy(next(b.glob("index-*.faiss")), own)
    with pytest.raises(DamagedDatabaseError, match="database_id"):
        ReferenceDatabase.open(target)


def test_verify_finds_edited_locations_and_zeroed_vectors(tmp_path):
    database, _ = synthetic_database(tmp_path / "db", 300)
    assert database.verify() == []
    database.close()
    with ReferenceDatabase.open(tmp_path / "db", writable=True) as database:
        with database._connection:
            database._connection.execute("UPDATE records SET lat = lat + 1 WHERE id = 42")
        with open(tmp_path / "db" / "vectors.f16", "r+b") as handle:
            handle.seek(64 + 199 * DIMENSION * 2)
            handle.write(b"\0" * DIMENSION * 2)
        problems = database.verify()
    assert any("records 1-300 were changed" in p for p in problems)
    assert any("vectors of records 1-300" in p for p in problems)
    assert any("not unit length (first: record 200)" in p for p in problems)


@pytest.mark.parametrize("text", ["[]", "null", '"a string"', "[" * 100_000 + "]" * 100_000, "{", ""])
def test_an_unreadable_manifest_is_reported_as_damage(tmp_path, text):
    synthetic_database(tmp_path / "db", 5)[0].close()
    (tmp_path / "db" / "manifest.json").write_text(text)
    with pytest.raises(DamagedDatabaseError, match="manifest.json is unreadable"):
        ReferenceDatabase.open(tmp_path / "db")


@pytest.mark.parametrize("key, value", [("dimension", "1e999"), ("active_view", "123"), ("format_version", '"2"'),
                                        ("index", "null"), ("embedder", "[]")])
def test_a_manifest_with_wrong_values_is_reported_as_damage(tmp_path, key, value):
    synthetic_database(tmp_path / "db", 5)[0].close()
    manifest = tmp_path / "db" / "manifest.json"
    data = json.loads(manifest.read_text())
    data[key] = "PLACEHOLDER"
    manifest.write_text(json.dumps(data).replace('"PLACEHOLDER"', value))
    with pytest.raises(DamagedDatabaseError, match="manifest.json is unreadable"):
        ReferenceDatabase.open(tmp_path / "db")


def test_a_create_that_died_before_its_manifest_can_be_started_again(tmp_path):
    folder = tmp_path / "db"
    folder.mkdir()
    (folder / "metadata.sqlite").write_bytes(b"half-made")
    (folder / "vectors.f16").write_bytes(b"")
    database, _ = synthetic_database(folder, 10)
    assert database.count == 10 and database.verify() == []
    (tmp_path / "afile").write_text("x")
    with pytest.raises(DatabaseError, match="is a file"):
        ReferenceDatabase.create(tmp_path / "afile", IDENTITY)


# -- writers -------------------------------------------------------------------------------------

def test_vectors_written_by_an_add_that_died_before_its_records_are_dropped(tmp_path):
    database, vectors = synthetic_database(tmp_path / "db", 100)
    database._vectors.append(structured_vectors(7, DIMENSION, seed=8))  # the records' commit never came
    database.close()
    with ReferenceDatabase.open(tmp_path / "db") as reader:
        assert reader.count == 100 and reader.search(vectors[:1], 200)[1].max() == 100
    with ReferenceDatabase.open(tmp_path / "db", writable=True) as writer:
        writer.add_embedded(records_for(1, start=100), structured_vectors(1, DIMENSION, seed=9))
        assert writer.count == 101 and writer._vectors.rows == 101 and writer.verify() == []


def test_a_second_writer_is_refused_and_a_lock_that_cannot_be_made_is_an_error(tmp_path):
    synthetic_database(tmp_path / "db", 10)[0].close()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time; h = open(sys.argv[1], 'a+'); fcntl.flock(h, fcntl.LOCK_EX); print('held', flush=True);"
        " time.sleep(30)"), str(tmp_path / "db" / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with ReferenceDatabase.open(tmp_path / "db", writable=True) as database:
            with pytest.raises(DatabaseError, match="another process is writing"):
                database.add_embedded(records_for(1, start=10), structured_vectors(1, DIMENSION))
            with pytest.raises(DatabaseError, match="another process is writing"):
                use_view(database, None)
    finally:
        holder.kill()
        holder.wait()
    (tmp_path / "db" / ".lock").unlink()
    (tmp_path / "db" / ".lock").mkdir()
    with ReferenceDatabase.open(tmp_path / "db", writable=True) as database:
        with pytest.raises(DatabaseError, match="cannot write to this database"):
            database.add_embedded(records_for(1, start=10), structured_vectors(1, DIMENSION))


def test_add_refuses_vectors_that_are_not_unit_length(tmp_path):
    database, _ = synthetic_database(tmp_path / "db", 10)
    with pytest.raises(DatabaseError, match="L2-normalised"):
        database.add_embedded(records_for(1, start=10), np.zeros((1, DIMENSION), np.float32))
    assert database.count == 10 and database._vectors.rows == 10


# -- migration from format 1 ---------------------------------------------------------------------

def v1_copy(tmp_path):
    target = tmp_path / "old.geoloc"
    shutil.copytree(V1_FIXTURE, target)
    return target


def v1_search(folder, queries, k):
    import faiss

    return faiss.read_index(str(folder / "index.faiss")).search(queries, k)


def test_a_version_1_database_is_migrated_on_open(tmp_path):
    folder = v1_copy(tmp_path)
    import sqlite3

    with sqlite3.connect(folder / "records.sqlite") as old:
        old_rows = old.execute("SELECT id, path, sha256, lat, lon, width, height, attributes FROM records").fetchall()
        queries = np.stack([np.frombuffer(b, np.float32) for (b,) in old.execute(
            "SELECT embedding FROM records WHERE id IN (2, 17, 40) ORDER BY id")])
    expected = v1_search(folder, queries, 10)
    with ReferenceDatabase.open(folder) as database:
        assert database.manifest["format_version"] == 2 and database.manifest["migrated_from"] == 1
        new_rows = [(r.id, r.path, r.sha256, r.lat, r.lon, r.width, r.height, json.dumps(r.attributes))
                    for r in database.all_records()]
        assert [r[:7] for r in new_rows] == [r[:7] for r in old_rows]
        similarities, ids = database.search(queries, 10)
        np.testing.assert_array_equal(ids, expected[1])
        np.testing.assert_allclose(similarities, expected[0], atol=2e-3)
        assert database.verify() == []
    assert not (folder / "records.sqlite").exists() and not (folder / "index.faiss").exists()
    with ReferenceDatabase.open(folder, writable=True) as database:
        use_view(database, "geocells")
        assert database.view is not None and database.view.index.ntotal == 60


@pytest.mark.parametrize("crash_in", ["os.replace", "atomic_write_json"])
def test_a_migration_killed_midway_leaves_version_1_and_is_redone(tmp_path, crash_in):
    folder = v1_copy(tmp_path)
    script = (
        "import os, sys; sys.path.insert(0, sys.argv[1]); import geoloc_core.migration as m\n"
        f"target = '{crash_in}'\n"
        "def die(*a, **k): os._exit(9)\n"
        "if target == 'os.replace': m.os.replace = die\n"
        "else: m.atomic_write_json = die\n"
        "from geoloc_core.database import ReferenceDatabase\n"
        "ReferenceDatabase.open(sys.argv[2])\n")
    result = subprocess.run([sys.executable, "-c", script, str(REPO_ROOT), str(folder)], capture_output=True)
    assert result.returncode == 9, result.stderr.decode()
    assert json.loads((folder / "manifest.json").read_text())["format_version"] == 1
    assert (folder / "records.sqlite").exists() and (folder / "index.faiss").exists()
    with ReferenceDatabase.open(folder) as database:
        assert database.count == 60 and database.verify() == []
    assert not list(folder.glob("*.migrating"))


def test_a_read_only_version_1_database_says_how_to_upgrade(tmp_path, monkeypatch):
    folder = v1_copy(tmp_path)
    monkeypatch.setattr("os.access", lambda path, mode: False)
    with pytest.raises(DatabaseError, match="format version 1 and its folder is read-only"):
        ReferenceDatabase.open(folder)


# -- the embedding pipeline ------------------------------------------------------------------------

class CountingEmbedder:
    """Wraps an embedder and records how many photos were decoded when each batch reached the network."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.decoded = 0
        self.lock = threading.Lock()
        original = embedder._prepare

        def prepare(path):
            with self.lock:
                self.decoded += 1
            return original(path)

        embedder._prepare = prepare


def test_embedding_keeps_a_bounded_window_of_decoded_photos(tiny_embedder, tmp_path):
    paths = make_photos(tmp_path / "photos", 120)
    counter = CountingEmbedder(tiny_embedder)
    ahead = []

    def on_batch(indices, vectors):
        ahead.append(counter.decoded - (max(indices) + 1))

    try:
        tiny_embedder.embed_paths(paths, batch_size=8, on_batch=on_batch, keep_features=False)
    finally:
        del tiny_embedder._prepare
    assert len(ahead) == 15 and max(ahead) <= 16, f"decoded ahead of the network: {ahead}"


def test_cancel_stops_decoding_at_once(tiny_embedder, tmp_path):
    paths = make_photos(tmp_path / "photos", 200)
    counter = CountingEmbedder(tiny_embedder)
    batches = []
    try:
        with pytest.raises(Cancelled):
            tiny_embedder.embed_paths(paths, batch_size=8, should_stop=lambda: len(batches) >= 2,
                                      on_batch=lambda i, v: batches.append(i))
    finally:
        del tiny_embedder._prepare
    assert counter.decoded <= 2 * 8 + 16 + 4, f"{counter.decoded} photos decoded after a cancel at 16"


def test_build_with_a_real_pipeline_commits_and_resumes(tiny_embedder, tmp_path):
    paths = make_photos(tmp_path / "photos", 40)
    candidates = [Candidate(p, 10.0 + i * 0.1, 20.0) for i, p in enumerate(paths)]
    stop_after = []
    database, report = build_database(tmp_path / "db", candidates, tiny_embedder, batch_size=8,
                                      should_stop=lambda: len(stop_after) > 2,
                                      progress=lambda p: stop_after.append(p) if p.stage == "embed" else None)
    assert report.cancelled and 0 < report.added < 40
    report = add_photos(database, candidates, tiny_embedder, batch_size=8)
    assert report.already_present + report.added == 40 and database.count == 40 and database.verify() == []
    database.close()


def test_a_file_name_that_is_not_utf8_is_stored_and_given_back_exactly(tiny_embedder, tmp_path):
    import os

    good = make_photos(tmp_path / "photos", 3)
    odd = tmp_path / "photos" / os.fsdecode(b"caf\xff.jpg")
    good[0].rename(odd)
    candidates = [Candidate(p, 1.0 + i, 2.0) for i, p in enumerate([odd, *good[1:]])]
    database, report = build_database(tmp_path / "db", candidates, tiny_embedder)
    assert report.added == 3 and not report.failed
    stored = {r.path for r in database.all_records()}
    assert str(odd) in stored and os.path.exists(next(p for p in stored if "caf" in p))
    assert database.verify() == []
    database.close()


def test_a_view_saved_after_another_writer_added_photos_covers_them(tmp_path):
    """`train` reads, trains for minutes, then saves; an `add` from another process may commit meanwhile."""
    from geoloc_core.training import TrainOptions, train_head

    trainer, vectors = synthetic_database(tmp_path / "db", 400)
    ids, lat, lon = trainer.locations()
    trained = train_head(vectors, lat, lon, np.arange(400), TrainOptions(t_max=40, t_min=3, epochs=2, geo_dim=8,
                                                                          hidden=16))
    with ReferenceDatabase.open(tmp_path / "db", writable=True) as other:
        other.add_embedded(records_for(25, start=400), structured_vectors(25, DIMENSION, seed=4))
    view = save_view(trainer, "geocells", trained)
    assert view.index.ntotal == 425 and trainer.count == 425
    trainer.close()
    with ReferenceDatabase.open(tmp_path / "db") as reopened:
        assert reopened.view is not None and reopened.view.index.ntotal == 425 and not reopened.warnings
