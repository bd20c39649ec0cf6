"""Upgrading version-1 databases (embeddings as float32 BLOBs in records.sqlite, a flat index.faiss)
to version 2, on first open, crash-safely.

The new files are written under temporary names, moved into place, and the manifest is switched to
version 2 last: a migration killed at any moment leaves a version-1 manifest over intact version-1
files, and the next open starts the migration again from the beginning. The version-1 files are
removed only after the switch. Record ids, trained views and geocells are kept as they are.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np

from .database_format import (
    FORMAT_VERSION,
    MANIFEST,
    METADATA,
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
from .errors import DamagedDatabaseError, DatabaseError
from .search_index import new_database_id, plan_for
from .storage import atomic_write_json, fsync_dir
from .vectors import VectorFile

BATCH_ROWS = 4096


def migrate_v1(path: Path) -> bool:
    """Rewrite a version-1 database at `path` as version 2 (a no-op when another process already did).
    True when the migrated database is large enough for a trained index, which the caller then trains
    (`ReferenceDatabase.reindex`): the migration itself writes only the exactly searched format."""
    if not os.access(path, os.W_OK):
        raise DatabaseError(f"{path}: this database has format version 1 and its folder is read-only; open it once "
                            "with write access (or copy it somewhere writable) to upgrade it to version "
                            f"{FORMAT_VERSION}")
    with writer_lock(path):
        manifest = read_manifest(path)
        if manifest["format_version"] >= FORMAT_VERSION:
            return False
        if not (path / V1_RECORDS).is_file():
            raise DamagedDatabaseError(f"{path}: damaged database: {V1_RECORDS} is missing")
        for leftover in (METADATA, VECTORS, METADATA + MIGRATING, VECTORS + MIGRATING):
            (path / leftover).unlink(missing_ok=True)  # an earlier migration that did not finish
        database_id = new_database_id()
        dimension = int(manifest["dimension"])
        try:
            count = _copy_records(path, database_id, dimension)
        except sqlite3.DatabaseError as exc:
            for leftover in (METADATA + MIGRATING, VECTORS + MIGRATING):
                (path / leftover).unlink(missing_ok=True)
            raise DamagedDatabaseError(f"{path}: damaged database: {V1_RECORDS} is unreadable ({exc})") from None
        os.replace(path / (VECTORS + MIGRATING), path / VECTORS)
        os.replace(path / (METADATA + MIGRATING), path / METADATA)
        fsync_dir(path)
        manifest.pop("index_sha256", None)
        manifest.update(format_version=FORMAT_VERSION, database_id=database_id, count=count,
                        index=index_entry(plan_for(0, dimension)),
                        migrated_from=1)
        atomic_write_json(path / MANIFEST, manifest)  # the switch
        (path / V1_RECORDS).unlink(missing_ok=True)
        (path / V1_INDEX).unlink(missing_ok=True)
    return bool(count) and plan_for(count, dimension).factory != "Flat"


def _copy_records(path: Path, database_id: str, dimension: int) -> int:
    """Write metadata.sqlite and vectors.f16 (under temporary names) from records.sqlite; returns the count.
    Version 1 never deleted records, so its ids run 1..n; anything else is refused as damage."""
    source = sqlite3.connect(f"file:{path / V1_RECORDS}?mode=ro", uri=True)
    target = sqlite3.connect(str(path / (METADATA + MIGRATING)))
    vectors = VectorFile.create(path / (VECTORS + MIGRATING), dimension, database_id)
    try:
        target.executescript(SCHEMA)
        target.executemany("INSERT INTO meta VALUES (?, ?)", [("database_id", database_id),
                                                             ("format_version", str(FORMAT_VERSION))])
        cursor = source.execute(f"SELECT {RECORD_COLUMNS}, embedding FROM records ORDER BY id")
        count = 0
        while rows := cursor.fetchmany(BATCH_ROWS):
            records = [row[:10] for row in rows]
            if [row[0] for row in rows] != list(range(count + 1, count + len(rows) + 1)):
                raise sqlite3.DatabaseError(f"record ids are not 1..n near id {count + 1}")
            blocks = [np.frombuffer(row[10], dtype=np.float32) for row in rows]
            if any(block.size != dimension for block in blocks):
                raise sqlite3.DatabaseError(f"an embedding near record {count + 1} is not {dimension}-d")
            block = np.stack(blocks)
            vectors.append(block)
            records_digest, vectors_digest = batch_digests(records, block)
            target.executemany(f"INSERT INTO records ({RECORD_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", records)
            target.execute("INSERT INTO batches VALUES (?, ?, ?, ?)",
                           (count + 1, count + len(rows), records_digest, vectors_digest))
            count += len(rows)
        cells = source.execute("SELECT name FROM sqlite_master WHERE name = 'geocells'").fetchone()
        if cells:
            target.executemany("INSERT INTO geocells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               source.execute("SELECT * FROM geocells").fetchall())
        target.commit()
    finally:
        source.close()
        target.close()
    with open(path / (METADATA + MIGRATING), "rb+") as handle:
        os.fsync(handle.fileno())
    return count
