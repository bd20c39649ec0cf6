"""The reference database: one directory holding a manifest, the records in SQLite and a faiss index.

    field-photos.geoloc/
        manifest.json    format version, embedder identity, dimension, count, metric, dates, index hash
        records.sqlite   one row per photo: path, content SHA-256, location, size, attributes, embedding
        index.faiss      exact inner-product index over the L2-normalised embeddings, ids = record ids

SQLite is the source of truth and is committed after every batch, so a build killed at any moment
keeps everything committed so far and a re-run resumes. The faiss index and the manifest are derived
from it and replaced atomically; an index that does not match its recorded hash or count is rebuilt
from the records. Nothing is pickled.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import faiss
import numpy as np

from .embedders import Embedder, EmbedderIdentity, sha256_of
from .files import PhotoError
from .photos import image_size
from .progress import Cancelled, ProgressCallback, StopCheck, report
from .sources import Candidate, Skipped
from .storage import atomic_write, atomic_write_json

FORMAT = "photo-geolocator-database"
FORMAT_VERSION = 1
METRIC = "l2 over L2-normalised features (searched as inner product)"
MANIFEST, RECORDS, INDEX, LOCK = "manifest.json", "records.sqlite", "index.faiss", ".lock"

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    altitude_m REAL,
    time TEXT,
    width INTEGER,
    height INTEGER,
    attributes TEXT NOT NULL DEFAULT '{}',
    embedding BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS geocells (
    view TEXT NOT NULL,
    token TEXT NOT NULL,
    face INTEGER NOT NULL,
    level INTEGER NOT NULL,
    i INTEGER NOT NULL,
    j INTEGER NOT NULL,
    count INTEGER NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    PRIMARY KEY (view, token)
);
"""
VIEWS = "views"


class DatabaseError(Exception):
    """A database that cannot be used as asked; the message says which and why."""


class DamagedDatabaseError(DatabaseError):
    """Files of the database are missing, truncated or edited."""


class EmbedderMismatchError(DatabaseError):
    """The database was built with another embedder than the one offered."""

    @classmethod
    def for_search(cls, path, stored: EmbedderIdentity, offered: EmbedderIdentity) -> EmbedderMismatchError:
        return cls(f"{path}: this database was built with {stored.describe()}; "
                   f"it cannot be searched with {offered.describe()}")


@dataclass(frozen=True)
class Record:
    id: int
    path: str
    sha256: str
    lat: float
    lon: float
    altitude_m: float | None
    time: str | None
    width: int | None
    height: int | None
    attributes: dict


@dataclass
class TrainedView:
    """A learned feature space over the database: the head, its geocells and its own index."""

    name: str
    identity: dict
    trained: object  # training.TrainedHead
    index: object  # faiss index over the records' geo-embeddings, ids = record ids
    backbone: Embedder | None = None  # fine-tuned network (end-to-end route); None: the base embedder

@dataclass
class BuildReport:
    """What an add/build did. `skipped`: photos with no usable location; `failed`: unreadable photos."""

    added: int = 0
    already_present: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    failed: list[Skipped] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        text = (f"added {self.added} photos, {self.already_present} already present, "
                f"{len(self.skipped)} without a usable location, {len(self.failed)} unreadable "
                f"in {self.seconds:.1f} s")
        return text + (" (cancelled: run again to resume)" if self.cancelled else "")

    def to_dict(self) -> dict:
        return {
            "added": self.added, "already_present": self.already_present, "cancelled": self.cancelled,
            "seconds": round(self.seconds, 3),
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "failed": [{"path": s.path, "reason": s.reason} for s in self.failed],
        }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@contextlib.contextmanager
def _writer_lock(directory: Path):
    """One writer at a time per database (advisory lock; a no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(directory / LOCK, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseError(f"{directory}: another process is writing to this database") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class ReferenceDatabase:
    """Geotagged reference photos with their embeddings, searchable by feature similarity."""

    def __init__(self, path: Path, manifest: dict, connection: sqlite3.Connection, index, writable: bool):
        self.path = path
        self.manifest = manifest
        self._connection = connection
        self._index = index
        self.writable = writable
        self.identity = EmbedderIdentity.from_dict(manifest["embedder"])
        self.warnings: list[str] = []
        self.view: TrainedView | None = None

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike, identity: EmbedderIdentity) -> ReferenceDatabase:
        path = Path(path)
        if (path / MANIFEST).exists():
            raise DatabaseError(f"{path}: a database already exists here; add photos to it instead")
        if path.exists() and any(p.name != LOCK for p in path.iterdir()):
            raise DatabaseError(f"{path}: folder is not empty; choose a new folder for the database")
        path.mkdir(parents=True, exist_ok=True)
        with _writer_lock(path):
            connection = cls._connect(path / RECORDS)
            connection.executescript(SCHEMA)
            connection.commit()
            created = _now()
            manifest = {
                "format": FORMAT, "format_version": FORMAT_VERSION, "embedder": identity.to_dict(),
                "dimension": identity.dimension, "count": 0, "metric": METRIC,
                "created": created, "updated": created,
            }
            database = cls(path, manifest, connection, cls._empty_index(identity.dimension), writable=True)
            database._write_index_and_manifest()
        return database

    @classmethod
    def open(cls, path: str | os.PathLike, identity: EmbedderIdentity | None = None,
             writable: bool = False) -> ReferenceDatabase:
        """Open a database; with `identity`, refuse it unless it was built with that embedder."""
        path = Path(path)
        if not path.is_dir():
            raise DatabaseError(f"{path}: no reference database here (folder not found)")
        manifest = cls._read_manifest(path)
        stored = EmbedderIdentity.from_dict(manifest["embedder"])
        if identity is not None and identity != stored:
            raise EmbedderMismatchError.for_search(path, stored, identity)
        if not (path / RECORDS).is_file():
            raise DamagedDatabaseError(f"{path}: damaged database: {RECORDS} is missing")
        connection = None
        try:
            connection = cls._connect(path / RECORDS)
            check = connection.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(check)
            columns = {row[1] for row in connection.execute("PRAGMA table_info(records)")}
            if "embedding" not in columns:
                raise sqlite3.DatabaseError("records table missing")
        except sqlite3.DatabaseError as exc:
            if connection is not None:
                connection.close()
            raise DamagedDatabaseError(f"{path}: damaged database: {RECORDS} is unreadable ({exc})") from None
        if writable:
            connection.executescript(SCHEMA)  # tables added since the database was made (idempotent)
        database = cls(path, manifest, connection, None, writable)
        database._load_index()
        if manifest.get("active_view"):
            database._load_view(manifest["active_view"])
        return database

    @staticmethod
    def _connect(file: Path) -> sqlite3.Connection:
        connection = sqlite3.connect(str(file), check_same_thread=False)
        connection.execute("PRAGMA synchronous=FULL")
        return connection

    @staticmethod
    def _read_manifest(path: Path) -> dict:
        file = path / MANIFEST
        if not file.is_file():
            raise DatabaseError(f"{path}: not a reference database ({MANIFEST} is missing)")
        try:
            manifest = json.loads(file.read_text(encoding="utf-8"))
            if manifest.get("format") != FORMAT:
                raise ValueError("not a Photo Geolocator manifest")
            EmbedderIdentity.from_dict(manifest["embedder"])
            int(manifest["dimension"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise DamagedDatabaseError(f"{path}: damaged database: {MANIFEST} is unreadable ({exc})") from None
        if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
            raise DatabaseError(f"{path}: made by a newer version of Photo Geolocator (format "
                                f"{manifest['format_version']}); update the plugin to open it")
        return manifest

    @staticmethod
    def _empty_index(dimension: int):
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))

    def _load_index(self) -> None:
        """Use index.faiss when it matches the manifest and the records; else rebuild it from them."""
        file = self.path / INDEX
        count = self.count
        reason = None
        if not file.is_file():
            reason = "index file is missing"
        elif self.manifest.get("index_sha256") != sha256_of(file):
            reason = "index file does not match the manifest (interrupted write or edited file)"
        else:
            try:
                index = faiss.read_index(str(file))
            except RuntimeError as exc:
                reason = f"index file is unreadable ({str(exc).splitlines()[0][:120]})"
            else:
                if index.ntotal != count or index.d != self.identity.dimension:
                    reason = f"index holds {index.ntotal} vectors for {count} records"
                else:
                    self._index = index
                    return
        self.warnings.append(f"{self.path}: {reason}; rebuilt it from the records")
        self._index = self._index_from_records()
        if self.writable:
            self._write_index_and_manifest()

    def _index_from_records(self):
        dimension = self.identity.dimension
        index = self._empty_index(dimension)
        ids, vectors = [], []
        try:
            for record_id, blob in self._connection.execute("SELECT id, embedding FROM records ORDER BY id"):
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.size != dimension:
                    raise DamagedDatabaseError(
                        f"{self.path}: damaged database: record {record_id} has a {vector.size}-d embedding, "
                        f"expected {dimension}")
                ids.append(record_id)
                vectors.append(vector)
        except sqlite3.DatabaseError as exc:
            raise DamagedDatabaseError(f"{self.path}: damaged database: {RECORDS} is unreadable ({exc})") from None
        if ids:
            index.add_with_ids(np.stack(vectors), np.asarray(ids, dtype=np.int64))
        return index

    def _write_index_and_manifest(self) -> None:
        atomic_write(self.path / INDEX, lambda tmp: faiss.write_index(self._index, str(tmp)))
        self.manifest.update(count=self.count, updated=_now(), index_sha256=sha256_of(self.path / INDEX))
        atomic_write_json(self.path / MANIFEST, self.manifest)

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> ReferenceDatabase:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.path.name.removesuffix(".geoloc")

    @property
    def count(self) -> int:
        return int(self._connection.execute("SELECT count(*) FROM records").fetchone()[0])

    def search(self, queries: np.ndarray, k: int, in_view: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Inner-product similarities and record ids of the k nearest references per query
        (id -1 and similarity -inf where the database holds fewer than k). With `in_view`, the
        queries are geo-embeddings of the active trained view and its index is searched."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        index = self.view.index if in_view else self._index
        if queries.ndim != 2 or queries.shape[1] != index.d:
            raise DatabaseError(f"queries have shape {queries.shape}; this index needs {index.d}-d")
        return index.search(queries, int(k))

    def records(self, ids: Iterable[int]) -> dict[int, Record]:
        wanted = sorted({int(i) for i in ids if int(i) >= 0})
        found: dict[int, Record] = {}
        for start in range(0, len(wanted), 900):
            chunk = wanted[start:start + 900]
            rows = self._connection.execute(
                "SELECT id, path, sha256, lat, lon, altitude_m, time, width, height, attributes FROM records "
                f"WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            for row in rows:
                found[row[0]] = Record(*row[:9], attributes=json.loads(row[9] or "{}"))
        return found

    def all_records(self) -> list[Record]:
        rows = self._connection.execute("SELECT id FROM records ORDER BY id").fetchall()
        records = self.records(r[0] for r in rows)
        return [records[r[0]] for r in rows]

    def ids_by_sha256(self, digests: Sequence[str]) -> dict[str, int]:
        found = {}
        for start in range(0, len(digests), 900):
            chunk = list(digests[start:start + 900])
            query = f"SELECT sha256, id FROM records WHERE sha256 IN ({','.join('?' * len(chunk))})"
            found.update(dict(self._connection.execute(query, chunk).fetchall()))
        return found

    def embeddings(self, ids: Sequence[int]) -> np.ndarray:
        return np.stack([self._index.reconstruct(int(i)) for i in ids]) if len(ids) else np.zeros(
            (0, self.identity.dimension), np.float32)

    # -- writing ---------------------------------------------------------------------------------

    def add(self, candidates: Sequence[Candidate], embedder: Embedder, progress: ProgressCallback | None = None,
            should_stop: StopCheck | None = None, batch_size: int = 32) -> BuildReport:
        """Embed and add photos not yet present (same content hash = present). Each batch is
        committed as it completes; a cancel keeps what was committed and reports `cancelled`."""
        if not self.writable:
            raise DatabaseError(f"{self.path}: opened read-only")
        if embedder.identity != self.identity:
            raise EmbedderMismatchError(
                f"{self.path}: this database was built with {self.identity.describe()}; "
                f"photos embedded with {embedder.identity.describe()} cannot be added")
        started = time.perf_counter()
        result = BuildReport()
        with _writer_lock(self.path):
            todo = self._new_candidates(candidates, result, progress, should_stop)
            digests = {id(c): d for c, d in todo}
            new_ids: list[int] = []
            new_vectors: list[np.ndarray] = []
            pending = [c for c, _ in todo]

            def commit(indices: list[int], vectors: np.ndarray) -> None:
                rows = []
                for index, vector in zip(indices, vectors):
                    candidate = pending[index]
                    try:
                        width, height = image_size(candidate.path)
                    except PhotoError:
                        width = height = None
                    rows.append((str(candidate.path), digests[id(candidate)], candidate.lat, candidate.lon,
                                 candidate.altitude_m, candidate.time, width, height,
                                 json.dumps(candidate.attributes, ensure_ascii=False), vector.tobytes()))
                with self._connection:
                    self._connection.executemany(
                        "INSERT INTO records (path, sha256, lat, lon, altitude_m, time, width, height, attributes,"
                        " embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                last = self._connection.execute("SELECT max(id) FROM records").fetchone()[0]
                new_ids.extend(range(last - len(rows) + 1, last + 1))
                new_vectors.append(vectors)
                result.added += len(rows)

            try:
                outcome = embedder.embed_paths([c.path for c in pending], batch_size, progress, should_stop,
                                               on_batch=commit)
                result.failed.extend(Skipped(e.path, e.reason) for e in outcome.failures)
            except Cancelled:
                result.cancelled = True
            if new_ids:
                self._index.add_with_ids(np.concatenate(new_vectors), np.asarray(new_ids, dtype=np.int64))
                if self.view is not None:
                    kept, inputs = (self.view_inputs(self.view, new_ids) if self.view.backbone is not None
                                    else (new_ids, np.concatenate(new_vectors)))
                    if kept:
                        geo, _ = self.view.trained.transform(inputs)
                        self.view.index.add_with_ids(geo, np.asarray(kept, dtype=np.int64))
                    self._write_view_index(self.view)
            if new_ids or self.manifest.get("count") != self.count:
                self._write_index_and_manifest()
        result.seconds = time.perf_counter() - started
        return result

    # -- trained views ---------------------------------------------------------------------------

    def all_ids(self) -> list[int]:
        return [row[0] for row in self._connection.execute("SELECT id FROM records ORDER BY id")]

    def view_inputs(self, view: TrainedView, ids: list[int]) -> tuple[list[int], np.ndarray]:
        """The features the view's head takes for these records: the stored base embeddings, or for a
        fine-tuned view the photos embedded again with its backbone (unreadable photos left out)."""
        if view.backbone is None:
            return ids, self.embeddings(ids)
        records = self.records(ids)
        outcome = view.backbone.embed_paths([records[i].path for i in ids])
        for failure in outcome.failures:
            self.warnings.append(f"trained view '{view.name}' leaves out {failure}")
        return [ids[i] for i in outcome.indices], outcome.features

    def save_view(self, name: str, trained, backbone_arrays: dict | None = None) -> TrainedView:
        """Store a trained head (and, for the end-to-end route, its fine-tuned backbone) as the active
        feature view: weights as numpy .npz (no pickle), geocells in SQLite, and an index over every
        record's geo-embedding. Files are written first and the manifest switches to the view last,
        so a crash keeps the previous state."""
        if not self.writable:
            raise DatabaseError(f"{self.path}: opened read-only")
        if not name.replace("-", "").replace("_", "").isalnum():
            raise DatabaseError(f"view name '{name}' must be letters, digits, - and _")
        with _writer_lock(self.path):
            folder = self.path / VIEWS / name
            folder.mkdir(parents=True, exist_ok=True)
            arrays = trained.arrays()
            atomic_write(folder / "head.npz", lambda tmp: np.savez(tmp, **arrays))
            identity = {"name": name, "base": self.identity.to_dict(), "head_sha256": trained.sha256(),
                        "geo_dim": trained.options.geo_dim, "cells": len(trained.partition),
                        "options": trained.options_dict(), "created": _now()}
            backbone = None
            if backbone_arrays is not None:
                from .finetune import backbone_sha256, finetuned_embedder

                atomic_write(folder / "backbone.npz", lambda tmp: np.savez(tmp, **backbone_arrays))
                identity["backbone_sha256"] = backbone_sha256(backbone_arrays)
                backbone = finetuned_embedder(self.identity, backbone_arrays, name)
            atomic_write_json(folder / "view.json", identity)
            view = TrainedView(name, identity, trained, faiss.IndexIDMap2(faiss.IndexFlatIP(trained.options.geo_dim)),
                               backbone)
            self._fill_view_index(view)
            self._write_view_index(view)
            with self._connection:
                self._connection.execute("DELETE FROM geocells WHERE view = ?", (name,))
                self._connection.executemany("INSERT INTO geocells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                             [(name, *row) for row in trained.partition.to_rows()])
            self.view = view
            self.manifest.setdefault("views", {})[name] = {k: identity[k] for k in ("head_sha256", "geo_dim", "cells")}
            self.manifest["active_view"] = name
            self._write_index_and_manifest()
        return view

    def use_view(self, name: str | None) -> None:
        """Make a stored view active (None: search the base features again)."""
        if name is not None and name not in self.manifest.get("views", {}):
            raise DatabaseError(f"{self.path}: no trained view named '{name}'")
        self.view = None
        if name is not None:
            self._load_view(name)
        self.manifest["active_view"] = name
        if self.writable:
            atomic_write_json(self.path / MANIFEST, self.manifest)

    def _fill_view_index(self, view: TrainedView) -> None:
        ids = self.all_ids()
        for start in range(0, len(ids), 4096):
            kept, inputs = self.view_inputs(view, ids[start:start + 4096])
            if kept:
                geo, _ = view.trained.transform(inputs)
                view.index.add_with_ids(geo, np.asarray(kept, dtype=np.int64))

    def _write_view_index(self, view: TrainedView) -> None:
        target = self.path / VIEWS / view.name / "index.faiss"
        atomic_write(target, lambda tmp: faiss.write_index(view.index, str(tmp)))

    def _load_view(self, name: str) -> None:
        from .geocells import Partition
        from .training import TrainedHead, TrainOptions

        folder = self.path / VIEWS / name
        try:
            identity = json.loads((folder / "view.json").read_text(encoding="utf-8"))
            base = EmbedderIdentity.from_dict(identity["base"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DamagedDatabaseError(f"{self.path}: damaged database: trained view '{name}' is unreadable "
                                       f"({exc})") from None
        if base != self.identity:
            raise EmbedderMismatchError(
                f"{self.path}: trained view '{name}' was trained on features of {base.describe()}, but this "
                f"database holds features of {self.identity.describe()}; train it again on this database")
        try:
            with np.load(folder / "head.npz", allow_pickle=False) as stored:
                arrays = {key: stored[key] for key in stored.files}
            rows = self._connection.execute(
                "SELECT token, face, level, i, j, count, lat, lon FROM geocells WHERE view = ? ORDER BY rowid",
                (name,)).fetchall()
            options = TrainOptions(**identity["options"])
            trained = TrainedHead.from_arrays(arrays, Partition.from_rows(rows), options)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise DamagedDatabaseError(f"{self.path}: damaged database: trained view '{name}' is unreadable "
                                       f"({exc})") from None
        if trained.sha256() != identity["head_sha256"]:
            raise DamagedDatabaseError(f"{self.path}: damaged database: the weights of trained view '{name}' do "
                                       "not match their recorded hash")
        backbone = None
        if "backbone_sha256" in identity:
            from .finetune import backbone_sha256, finetuned_embedder

            try:
                with np.load(folder / "backbone.npz", allow_pickle=False) as stored:
                    backbone_arrays = {key: stored[key] for key in stored.files}
            except (OSError, ValueError) as exc:
                raise DamagedDatabaseError(f"{self.path}: damaged database: the backbone of trained view '{name}' "
                                           f"is unreadable ({exc})") from None
            if backbone_sha256(backbone_arrays) != identity["backbone_sha256"]:
                raise DamagedDatabaseError(f"{self.path}: damaged database: the backbone of trained view '{name}' "
                                           "does not match its recorded hash")
            backbone = finetuned_embedder(self.identity, backbone_arrays, name)
        index = None
        try:
            index = faiss.read_index(str(folder / "index.faiss"))
        except RuntimeError:
            pass
        view = TrainedView(name, identity, trained, index, backbone)
        if index is None or (index.ntotal != self.count and backbone is None):
            view.index = faiss.IndexIDMap2(faiss.IndexFlatIP(options.geo_dim))
            self._fill_view_index(view)
            self.warnings.append(f"{self.path}: index of trained view '{name}' was out of date; rebuilt it")
            if self.writable:
                self._write_view_index(view)
        self.view = view

    def _new_candidates(self, candidates, result: BuildReport, progress, should_stop):
        """Candidates whose content is not in the database yet, with their SHA-256."""
        hashed = []
        for done, candidate in enumerate(candidates, start=1):
            if should_stop is not None and should_stop():
                result.cancelled = True
                break
            try:
                hashed.append((candidate, sha256_of(candidate.path)))
            except OSError as exc:
                result.failed.append(Skipped(str(candidate.path), f"cannot be read ({exc.strerror or exc})"))
            report(progress, done, len(candidates), "hash", str(candidate.path))
        if result.cancelled:
            return []
        present = self.ids_by_sha256([d for _, d in hashed])
        todo, seen = [], set(present)
        for candidate, digest in hashed:
            if digest in seen:
                result.already_present += 1
                continue
            seen.add(digest)
            todo.append((candidate, digest))
        return todo


def build_database(path: str | os.PathLike, candidates: Sequence[Candidate], embedder: Embedder,
                   progress: ProgressCallback | None = None, should_stop: StopCheck | None = None,
                   batch_size: int = 32) -> tuple[ReferenceDatabase, BuildReport]:
    """Create the database at `path` (or resume/extend the one there) and add the candidates."""
    path = Path(path)
    if (path / MANIFEST).exists():
        database = ReferenceDatabase.open(path, embedder.identity, writable=True)
    else:
        database = ReferenceDatabase.create(path, embedder.identity)
    return database, database.add(candidates, embedder, progress, should_stop, batch_size)

