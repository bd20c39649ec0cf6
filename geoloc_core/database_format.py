"""The files of a reference database (format 2) and the few things every writer of them shares: the
names, the SQLite schema, the manifest's reading, the folder's writer lock and the batch checksums.
The database (database.py) and the upgrade from format 1 (migration.py) both write these files; this
module imports neither, so that neither imports the other's internals.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import DamagedDatabaseError, DatabaseError
from .identity import EmbedderIdentity
from .search_index import IndexPlan

FORMAT = "photo-geolocator-database"
FORMAT_VERSION = 2
METRIC = "l2 over L2-normalised features (searched as inner product)"
MANIFEST, METADATA, VECTORS, LOCK = "manifest.json", "metadata.sqlite", "vectors.f16", ".lock"
V1_RECORDS, V1_INDEX = "records.sqlite", "index.faiss"
MIGRATING = ".migrating"
RECORD_COLUMNS = "id, path, sha256, lat, lon, altitude_m, time, width, height, attributes"

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
    attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS batches (
    first_id INTEGER PRIMARY KEY,
    last_id INTEGER NOT NULL,
    records_sha256 TEXT NOT NULL,
    vectors_sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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


@contextlib.contextmanager
def writer_lock(directory: Path):
    """One writer at a time per database (advisory lock; a no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        handle = open(directory / LOCK, "a+")
    except OSError as exc:
        raise DatabaseError(f"{directory}: cannot write to this database ({LOCK}: {exc.strerror or exc}); "
                            "check that the folder is yours and writable") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseError(f"{directory}: another process is writing to this database") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def batch_digests(rows: Sequence[tuple], vectors: np.ndarray) -> tuple[str, str]:
    """SHA-256 of a batch's records (as stored) and of its float16 vectors, checked by `verify`."""
    records = hashlib.sha256()
    for row in rows:
        records.update(json.dumps(list(row), separators=(",", ":"), default=bytes.hex).encode("ascii"))
        records.update(b"\n")
    stored = np.ascontiguousarray(vectors, dtype=np.float32).astype("<f2")
    return records.hexdigest(), hashlib.sha256(stored.tobytes()).hexdigest()


def read_manifest(path: Path) -> dict:
    """The manifest, checked for shape: a damaged one is reported as such, never as a traceback."""
    file = path / MANIFEST
    if not file.is_file():
        raise DatabaseError(f"{path}: not a reference database ({MANIFEST} is missing)")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"), parse_constant=_refuse_constant,
                              parse_float=_finite_float)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError("not a Photo Geolocator manifest")
        version = manifest.get("format_version")
        if not isinstance(version, int) or version < 1:
            raise ValueError(f"format_version {version!r} is not a version number")
        EmbedderIdentity.from_dict(manifest["embedder"])
        if not isinstance(manifest["dimension"], int) or manifest["dimension"] < 1:
            raise ValueError(f"dimension {manifest['dimension']!r} is not a positive integer")
        if not isinstance(manifest.get("active_view"), (str, type(None))):
            raise ValueError(f"active_view {manifest['active_view']!r} is not a view name")
        if version >= 2 and not isinstance(manifest.get("database_id"), str):
            raise ValueError("database_id is missing")
        if version >= 2 and not isinstance(manifest.get("index"), dict):
            raise ValueError("index is missing")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError, OSError) as exc:
        raise DamagedDatabaseError(f"{path}: damaged database: {MANIFEST} is unreadable "
                                   f"({str(exc)[:200]})") from None
    if version > FORMAT_VERSION:
        raise DatabaseError(f"{path}: made by a newer version of Photo Geolocator (format "
                            f"{version}); update the plugin to open it")
    return manifest


def index_entry(plan: IndexPlan, covered: int = 0, generation: int = 0, forced: bool = False) -> dict:
    return {"factory": plan.factory, "nprobe": plan.nprobe, "covered": covered, "generation": generation,
            "forced": forced}


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number a manifest may hold")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a number a manifest may hold")
    return value
