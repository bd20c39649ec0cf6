"""The reference database: one folder holding a manifest, the records' metadata in SQLite, their
embeddings in an id-aligned float16 file, and (past EXACT_MAX_ROWS photos) a trained search index.

    field-photos.geoloc/
        manifest.json          format version 2, database id, embedder identity, dimension, count,
                               the index (faiss factory string, generation, rows covered), views
        metadata.sqlite        one row per photo: path, content SHA-256, location, size, attributes;
                               a checksum per committed batch (for `verify`); the database id
        vectors.f16            row r = embedding of record id r + 1 (geoloc_core.vectors)
        index-<gen>.faiss      compressed index over the first rows (geoloc_core.search_index)
        views/<name>/          trained views (geoloc_core.feature_space); their geocells are in metadata.sqlite

The database only stores: photos are hashed and embedded by ingest.py, which hands it embedded
batches, and a trained view is saved, switched and kept current by feature_space.py (the database
loads the active one when opened). The file names, schema and lock are in database_format.py.

An add appends its vectors (fsync), then commits its records in one SQLite transaction: a build
killed at any moment keeps what was committed, and rows past the records' count are cut off by the
next writer. Every file carries the database id, and the index its generation, so files from
another database or generation are refused rather than mixed. Opening reads headers and counts only;
`verify` re-hashes everything. Writers take the folder's lock. Version-1 databases (embeddings as
SQLite BLOBs, a flat index) are migrated on first open, crash-safely: the manifest switches last.
Nothing is pickled.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import integrity
from .database_format import (
    FORMAT,
    FORMAT_VERSION,
    LOCK,
    MANIFEST,
    METADATA,
    METRIC,
    MIGRATING,
    RECORD_COLUMNS,
    SCHEMA,
    V1_INDEX,
    V1_RECORDS,
    VECTORS,
    batch_digests,
    index_entry,
    read_manifest,
    writer_lock,
)
from .errors import DamagedDatabaseError, DatabaseError, EmbedderMismatchError
from .files import path_from_stored, storable_path
from .identity import EmbedderIdentity
from .progress import Cancelled, ProgressCallback, StopCheck, check_stop, report
from .results import Record
from .search_index import (
    DELTA_MAX_ROWS,
    IndexFileError,
    IndexPlan,
    SearchIndex,
    new_database_id,
    plan_for,
    query_matrix,
)
from .storage import atomic_write_json, utc_now
from .vectors import VectorFile, VectorFileError

if TYPE_CHECKING:  # torch: only a database with a trained view loads it
    from .feature_space import TrainedView

@dataclass(frozen=True)
class EmbeddedRecord:
    """A reference whose embedding is already computed (merges, packs, benchmarks)."""

    path: str
    sha256: str
    lat: float
    lon: float
    altitude_m: float | None = None
    time: str | None = None
    width: int | None = None
    height: int | None = None
    attributes: dict = field(default_factory=dict)


def _record(row: tuple) -> Record:
    """A Record from a row of RECORD_COLUMNS (a path that is not valid UTF-8 is stored as bytes)."""
    return Record(row[0], path_from_stored(row[1]), *row[2:9], attributes=json.loads(row[9] or "{}"))


def _check_vectors(vectors: np.ndarray, dimension: int) -> None:
    norms = np.linalg.norm(vectors, axis=1) if len(vectors) else np.zeros(0)
    if vectors.ndim != 2 or vectors.shape[1] != dimension:
        raise DatabaseError(f"embeddings of shape {vectors.shape}; this database holds {dimension}-d features")
    if not np.all(np.isfinite(norms)) or np.any(np.abs(norms - 1.0) > 1e-2):
        raise DatabaseError("embeddings must be finite, L2-normalised vectors (got norms from "
                            f"{np.nanmin(norms):.3g} to {np.nanmax(norms):.3g})")


class ReferenceDatabase:
    """Geotagged reference photos with their embeddings, searchable by feature similarity."""

    def __init__(self, path: Path, manifest: dict, connection: sqlite3.Connection, vectors: VectorFile,
                 writable: bool):
        self.path = path
        self.manifest = manifest
        self._connection = connection
        self._vectors = vectors
        self._index: SearchIndex | None = None
        self.writable = writable
        self.identity = EmbedderIdentity.from_dict(manifest["embedder"])
        self.warnings: list[str] = []
        self.view: TrainedView | None = None  # the active trained view, which feature_space loads and keeps
        self._lock_depth = 0

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike, identity: EmbedderIdentity) -> ReferenceDatabase:
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise DatabaseError(f"{path}: is a file; choose a new folder for the database")
        if (path / MANIFEST).exists():
            raise DatabaseError(f"{path}: a database already exists here; add photos to it instead")
        path.mkdir(parents=True, exist_ok=True)
        with writer_lock(path):
            leftovers = [p for p in path.iterdir() if p.name != LOCK]
            if leftovers and not all(p.name in (METADATA, VECTORS) for p in leftovers):
                raise DatabaseError(f"{path}: folder is not empty; choose a new folder for the database")
            for leftover in leftovers:  # a create that died before its manifest: nothing was committed
                leftover.unlink()
            database_id = new_database_id()
            connection = cls._connect(path / METADATA)
            connection.executescript(SCHEMA)
            with connection:
                connection.executemany("INSERT INTO meta VALUES (?, ?)",
                                       [("database_id", database_id), ("format_version", str(FORMAT_VERSION))])
            vectors = VectorFile.create(path / VECTORS, identity.dimension, database_id)
            created = utc_now()
            manifest = {
                "format": FORMAT, "format_version": FORMAT_VERSION, "database_id": database_id,
                "embedder": identity.to_dict(), "dimension": identity.dimension, "count": 0, "metric": METRIC,
                "created": created, "updated": created, "index": index_entry(plan_for(0, identity.dimension)),
            }
            database = cls(path, manifest, connection, vectors, writable=True)
            database._index = SearchIndex(vectors, plan_for(0, identity.dimension))
            database._write_manifest()  # the commit point: a folder without it is not a database yet
        return database

    @classmethod
    def open(cls, path: str | os.PathLike, identity: EmbedderIdentity | None = None,
             writable: bool = False) -> ReferenceDatabase:
        """Open a database (migrating a version-1 one first); with `identity`, refuse it unless it was
        built with that embedder. Only headers and counts are checked here; `verify` checks all."""
        path = Path(path)
        if not path.is_dir():
            raise DatabaseError(f"{path}: no reference database here (folder not found)")
        manifest = read_manifest(path)
        if manifest["format_version"] < FORMAT_VERSION:
            from .migration import migrate_v1

            if migrate_v1(path):
                with cls.open(path, writable=True) as database:
                    database.reindex()
            manifest = read_manifest(path)
        stored = EmbedderIdentity.from_dict(manifest["embedder"])
        if identity is not None and identity != stored:
            raise EmbedderMismatchError.for_search(path, stored, identity)
        database_id = manifest["database_id"]
        if not (path / METADATA).is_file():
            raise DamagedDatabaseError(f"{path}: damaged database: {METADATA} is missing")
        connection = None
        try:
            connection = cls._connect(path / METADATA)
            stored_id = connection.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchone()
            count = connection.execute("SELECT coalesce(max(id), 0) FROM records").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            if connection is not None:
                connection.close()
            raise DamagedDatabaseError(f"{path}: damaged database: {METADATA} is unreadable ({exc})") from None
        try:
            if stored_id is None or stored_id[0] != database_id:
                raise DamagedDatabaseError(f"{path}: damaged database: {METADATA} belongs to another database "
                                           "(its database id differs from the manifest's)")
            integrity.check_count(path, manifest, count)
            try:
                vectors = VectorFile.open(path / VECTORS, int(manifest["dimension"]), database_id)
                if vectors.rows < count:
                    raise VectorFileError(f"{VECTORS} holds {vectors.rows} vectors for {count} records")
            except VectorFileError as exc:
                raise DamagedDatabaseError(f"{path}: damaged database: {exc}") from None
        except DatabaseError:
            connection.close()
            raise
        database = cls(path, manifest, connection, vectors, writable)
        try:
            database._load_index(count)
            if writable:
                connection.executescript(SCHEMA)  # tables added since the database was made (idempotent)
            if manifest.get("active_view"):
                from .feature_space import load_view  # torch: a database without a view never loads it

                database.view = load_view(database, manifest["active_view"])
                integrity.check_view(database, manifest["active_view"], database.view.identity)
        except BaseException:
            database.close()
            raise
        return database

    @staticmethod
    def _connect(file: Path) -> sqlite3.Connection:
        connection = sqlite3.connect(str(file), check_same_thread=False)
        connection.execute("PRAGMA synchronous=FULL")
        return connection

    # -- the search index ------------------------------------------------------------------------

    def _index_file(self, generation: int) -> Path:
        return self.path / f"index-{generation}.faiss"

    def _load_index(self, count: int) -> None:
        """The index the manifest names, checked against its header; the rows after it are searched
        exactly. A missing or foreign index is rebuilt when writable, else refused."""
        entry = self.manifest["index"]
        plan = IndexPlan(str(entry.get("factory")), int(entry.get("nprobe", 0)))
        if plan.exact:
            self._index = SearchIndex(self._vectors, plan, generation=int(entry.get("generation", 0)))
        else:
            expected = {"database_id": self.manifest["database_id"], **entry}
            try:
                self._index = SearchIndex.load(self._index_file(int(entry.get("generation", 0))), self._vectors,
                                               expected)
                if self._index.covered > count:
                    raise IndexFileError(f"the index covers {self._index.covered} vectors for {count} records")
            except (IndexFileError, ValueError, TypeError) as exc:
                if not self.writable:
                    raise DamagedDatabaseError(
                        f"{self.path}: damaged database: {exc}; rebuild the index with "
                        f"`python -m geoloc_core reindex {self.path}`") from None
                self.warnings.append(f"{self.path}: {exc}; rebuilt the index from the vectors")
                with self._locked():
                    self._reindex(plan, bool(entry.get("forced")), None, None)
                return

    def reindex(self, plan: IndexPlan | None = None, forced: bool = False, progress: ProgressCallback | None = None,
                should_stop: StopCheck | None = None) -> IndexPlan:
        """Train the index `plan` (default: the one this size calls for) over every row and switch the
        manifest to it; the previous index stays in use until the switch."""
        with self.writing():
            return self._reindex(plan, forced, progress, should_stop)

    def _reindex(self, plan, forced, progress, should_stop) -> IndexPlan:
        count = self._committed_rows()
        plan = plan or plan_for(count, self.identity.dimension)
        generation = int(self.manifest["index"].get("generation", 0)) + 1
        try:
            index = SearchIndex.train(self._vectors, count, plan, generation, progress, should_stop)
        except IndexFileError as exc:
            raise DatabaseError(f"{self.path}: {exc}") from None
        self._switch_index(index, forced)
        return plan

    def _switch_index(self, index: SearchIndex, forced: bool) -> None:
        """Write the new index's file, then the manifest that names it (the commit), then drop the old file."""
        if index.trained is not None:
            index.save(self._index_file(index.generation))
        old = self.manifest["index"]
        self.manifest["index"] = index_entry(index.plan, index.covered, index.generation, forced)
        self._write_manifest()
        if old.get("factory") != "Flat" and int(old.get("generation", -1)) != index.generation:
            self._index_file(int(old.get("generation", 0))).unlink(missing_ok=True)
        self._index = index

    def _maintain_index(self, progress: ProgressCallback | None, should_stop: StopCheck | None) -> None:
        """After an add: train again when the size calls for another index, or fold a large delta into the
        trained index (one rewrite of the index file per DELTA_MAX_ROWS photos added, not per add)."""
        entry = self.manifest["index"]
        count = self._committed_rows()
        wanted = (IndexPlan(entry["factory"], int(entry.get("nprobe", 0))) if entry.get("forced")
                  else plan_for(count, self.identity.dimension))
        if wanted.factory != self._index.plan.factory:
            self._reindex(wanted, bool(entry.get("forced")), progress, should_stop)
        elif self._index.trained is not None and count - self._index.covered > DELTA_MAX_ROWS:
            report(progress, 0, count, "index", f"merging {count - self._index.covered} new vectors into the index")
            try:
                self._switch_index(self._index.merge_delta(count), bool(entry.get("forced")))
            except BaseException:
                self._load_index(count)  # the merge grew the index in memory: back to the one on disk
                raise

    def _write_manifest(self) -> None:
        self.manifest.update(count=self._committed_rows(), updated=utc_now())
        atomic_write_json(self.path / MANIFEST, self.manifest)

    def close(self) -> None:
        self._connection.close()
        self._vectors.close()

    def __enter__(self) -> ReferenceDatabase:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.path.name.removesuffix(".geoloc")

    @property
    def database_id(self) -> str:
        return self.manifest["database_id"]

    @property
    def index_plan(self) -> IndexPlan:
        return self._index.plan

    def _committed_rows(self) -> int:
        return int(self._connection.execute("SELECT coalesce(max(id), 0) FROM records").fetchone()[0])

    @property
    def count(self) -> int:
        """Photos in the database (ids run from 1 to count without gaps)."""
        return self._committed_rows()

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Inner-product similarities and record ids of the k nearest references per query over the base
        features (id -1 and similarity -inf where the database holds fewer than k); a trained view is
        searched through feature_space."""
        queries = query_matrix(queries, self.identity.dimension)
        self._index.extend(self._committed_rows())  # rows past the index are loaded when first searched
        return self._index.search(queries, int(k))

    def records(self, ids: Iterable[int]) -> dict[int, Record]:
        wanted = sorted({int(i) for i in ids if int(i) >= 0})
        found: dict[int, Record] = {}
        for start in range(0, len(wanted), 900):
            chunk = wanted[start:start + 900]
            rows = self._connection.execute(
                f"SELECT {RECORD_COLUMNS} FROM records WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            for row in rows:
                found[row[0]] = _record(row)
        return found

    def all_records(self) -> list[Record]:
        return [_record(row) for row in self._connection.execute(f"SELECT {RECORD_COLUMNS} FROM records ORDER BY id")]

    def locations(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, latitudes, longitudes) of every record, without building a Record per row."""
        table = np.array(self._connection.execute("SELECT id, lat, lon FROM records ORDER BY id").fetchall(),
                         dtype=np.float64).reshape(-1, 3)
        return table[:, 0].astype(np.int64), table[:, 1], table[:, 2]

    def attribute_values(self, name: str) -> list[str | None]:
        """One attribute of every record, in id order (None where a record lacks it)."""
        query = "SELECT json_extract(attributes, '$.' || ?) FROM records ORDER BY id"
        return [value if value is None else str(value) for (value,) in self._connection.execute(query, (name,))]

    def has_attribute(self, name: str) -> bool:
        query = "SELECT 1 FROM records WHERE json_extract(attributes, '$.' || ?) IS NOT NULL LIMIT 1"
        return self._connection.execute(query, (name,)).fetchone() is not None

    def ids_by_sha256(self, digests: Sequence[str]) -> dict[str, int]:
        found = {}
        for start in range(0, len(digests), 900):
            chunk = list(digests[start:start + 900])
            query = f"SELECT sha256, id FROM records WHERE sha256 IN ({','.join('?' * len(chunk))})"
            found.update(dict(self._connection.execute(query, chunk).fetchall()))
        return found

    def embeddings(self, ids: Sequence[int]) -> np.ndarray:
        """Stored embeddings of record ids, float32, in the order asked (read from the vector file)."""
        return self._vectors.read(np.asarray(ids, dtype=np.int64))

    def embedding_chunks(self, rows: int | None = None):
        """(first id, float32 block) over every committed row, for work that must not hold them all."""
        for first, block in self._vectors.chunks(0, self._committed_rows() if rows is None else rows):
            yield first + 1, block

    # -- writing ---------------------------------------------------------------------------------

    def _require_writable(self) -> None:
        if not self.writable:
            raise DatabaseError(f"{self.path}: opened read-only")

    @contextlib.contextmanager
    def _locked(self):
        """The folder's writer lock, re-entrant within this object (a writer may call another)."""
        self._require_writable()
        if self._lock_depth:
            yield
            return
        with writer_lock(self.path):
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1

    @contextlib.contextmanager
    def writing(self):
        """The writer lock, with this object brought up to date with what other writers committed; SQLite's
        and faiss's write errors (a full disk, say) become one DatabaseError naming the database."""
        with self._locked():
            try:
                if self._lock_depth == 1:
                    self._catch_up()
                yield
            except sqlite3.Error as exc:
                raise DatabaseError(f"{self.path}: cannot write {METADATA} ({exc}); what was committed before is "
                                    "kept") from None
            except RuntimeError as exc:
                if "faiss" not in str(exc).lower():
                    raise
                raise DatabaseError(f"{self.path}: cannot write the search index "
                                    f"({str(exc).splitlines()[-1][:160]}); the previous one stays in use") from None

    def _catch_up(self) -> None:
        manifest = read_manifest(self.path)
        if manifest.get("database_id") != self.manifest["database_id"]:
            raise DamagedDatabaseError(f"{self.path}: damaged database: {MANIFEST} was replaced by another "
                                       "database's")
        stale = manifest["index"] != self.manifest["index"] or self._index is None
        self.manifest = manifest
        self._remove_leftovers()
        count = self._committed_rows()
        integrity.check_count(self.path, manifest, count)
        if self._vectors.rows > count:  # an add that died after writing vectors, before its records
            self._vectors.truncate(count)
        if stale:
            self._load_index(count)

    def _remove_leftovers(self) -> None:
        """Files no manifest names: version-1 files after a migration, index files of other generations,
        temporary files of writers that died (only called under the lock)."""
        current = self._index_file(int(self.manifest["index"].get("generation", 0))).name
        for file in self.path.iterdir():
            stale_index = file.name.startswith("index-") and file.suffix == ".faiss" and file.name != current
            temporary = file.name.startswith(".") and ".tmp" in file.name
            if file.is_file() and (stale_index or temporary or file.name in (V1_RECORDS, V1_INDEX)
                                   or file.name.endswith(MIGRATING)):
                file.unlink(missing_ok=True)

    def add_embedded(self, records: Sequence[EmbeddedRecord], vectors: np.ndarray,
                     progress: ProgressCallback | None = None, should_stop: StopCheck | None = None) -> int:
        """Add references whose embeddings are already computed (same embedder as the database), skipping
        content hashes already present; returns how many were added. The store only stores: an active
        trained view is kept current by adding through ingest.py."""
        return self.add_embedded_batches([(records, vectors)], progress, should_stop)

    def add_embedded_batches(self, batches: Iterable[tuple[Sequence[EmbeddedRecord], np.ndarray]],
                             progress: ProgressCallback | None = None, should_stop: StopCheck | None = None) -> int:
        """add_embedded over batches that need not fit in memory together (merges, large imports): each is
        committed as it comes, and the index is trained or extended once, at the end."""
        added = 0
        with self.writing():
            try:
                for records, vectors in batches:
                    vectors = np.asarray(vectors, dtype=np.float32)
                    if len(records) != len(vectors):
                        raise ValueError(f"{len(records)} records for {len(vectors)} vectors")
                    _check_vectors(vectors, self.identity.dimension)
                    present = self.ids_by_sha256([r.sha256 for r in records])
                    keep, seen = [], set(present)
                    for position, record in enumerate(records):
                        if record.sha256 not in seen:
                            seen.add(record.sha256)
                            keep.append(position)
                    for start in range(0, len(keep), 4096):
                        check_stop(should_stop)
                        chunk = keep[start:start + 4096]
                        self._commit([records[i] for i in chunk], vectors[chunk])
                        added += len(chunk)
                        report(progress, added, 0, "add", f"{added} embedded references added")
            finally:
                self._after_add(added, progress, should_stop)
        return added

    def _commit(self, rows: Sequence[EmbeddedRecord], vectors: np.ndarray) -> None:
        """Vectors first (durable), then the records pointing at them in one transaction."""
        _check_vectors(vectors, self.identity.dimension)
        first = self._committed_rows() + 1
        stored = [(first + i, storable_path(r.path), r.sha256, float(r.lat), float(r.lon), r.altitude_m, r.time, r.width,
                   r.height, json.dumps(r.attributes)) for i, r in enumerate(rows)]
        records_digest, vectors_digest = batch_digests(stored, vectors)
        self._vectors.append(vectors)
        try:
            with self._connection:
                self._connection.executemany(f"INSERT INTO records ({RECORD_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                                             stored)
                self._connection.execute("INSERT INTO batches VALUES (?, ?, ?, ?)",
                                         (first, first + len(rows) - 1, records_digest, vectors_digest))
        except BaseException:
            self._vectors.truncate(first - 1)
            raise

    def _after_add(self, added: int, progress, should_stop) -> None:
        """The index trained or extended for what was added, and the manifest's count (a trained view is
        kept current by whoever added: ingest.py)."""
        if added:
            try:
                self._maintain_index(progress, should_stop)
            except Cancelled:
                pass  # the rows stay searchable exactly; the next add or `reindex` trains the index
        if added or self.manifest.get("count") != self._committed_rows():
            self._write_manifest()

    def verify(self, progress: ProgressCallback | None = None) -> list[str]:
        """Re-read everything and list what does not match (empty when the database is intact): SQLite's
        integrity check, every batch's records and vectors against their checksums, the vectors'
        norms, the index's ids, and geoloc_core.integrity's checks. Costs a full read of the database."""
        try:
            return self._verify_files(progress) + integrity.problems(self)
        except sqlite3.DatabaseError as exc:
            return [f"{METADATA} is unreadable ({exc})"]

    def _verify_files(self, progress: ProgressCallback | None) -> list[str]:
        problems = []
        try:
            check = self._connection.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            return [f"{METADATA} is unreadable ({exc})"]
        if check != "ok":
            problems.append(f"{METADATA}: {check}")
        count = self._committed_rows()
        batches = self._connection.execute("SELECT first_id, last_id, records_sha256, vectors_sha256 FROM batches "
                                           "ORDER BY first_id").fetchall()
        covered = 0
        for first, last, records_digest, vectors_digest in batches:
            rows = self._connection.execute(f"SELECT {RECORD_COLUMNS} FROM records WHERE id BETWEEN ? AND ? "
                                            "ORDER BY id", (first, last)).fetchall()
            vectors = self._vectors.read_range(first - 1, min(last, self._vectors.rows))
            digests = batch_digests(rows, vectors)
            if len(rows) != last - first + 1 or digests[0] != records_digest:
                problems.append(f"records {first}-{last} were changed after they were added")
            if len(vectors) != last - first + 1 or digests[1] != vectors_digest:
                problems.append(f"vectors of records {first}-{last} were changed after they were added")
            covered += last - first + 1
            report(progress, covered, count, "verify", f"records {first}-{last}")
        if covered != count:
            problems.append(f"{count - covered} records have no batch checksum")
        for first, block in self._vectors.chunks(0, count):
            norms = np.linalg.norm(block, axis=1)
            bad = np.flatnonzero(~np.isfinite(norms) | (np.abs(norms - 1.0) > 1e-2))
            if len(bad):
                problems.append(f"{len(bad)} vectors are not unit length (first: record {first + bad[0] + 1})")
        if self._index.trained is not None:
            problems.extend(self._index.check_ids())
        return problems

    # -- what other modules keep beside the records (a trained view's geocells: feature_space.py) ---------

    def all_ids(self) -> list[int]:
        return list(range(1, self._committed_rows() + 1))

    @contextlib.contextmanager
    def metadata_transaction(self):
        """metadata.sqlite's connection in one transaction (committed at the end, rolled back on an error)."""
        with self._connection:
            yield self._connection

    def metadata_rows(self, query: str, parameters: Sequence = ()) -> list[tuple]:
        return self._connection.execute(query, parameters).fetchall()

    def set_active_view(self, name: str | None, view: TrainedView | None, saved: dict | None = None) -> None:
        """Name the active view in the manifest, the switch that makes it the one searched (`saved`: what
        the manifest lists about a view just written). The caller holds `writing()`."""
        if view is not None:
            integrity.check_view(self, name, view.identity)  # a view copied in from another database
        if saved is not None:
            self.manifest.setdefault("views", {})[name] = saved
        self.view = view
        self.manifest["active_view"] = name
        self._write_manifest()

    def has_view(self, name: str) -> bool:
        return name in self.manifest.get("views", {})
