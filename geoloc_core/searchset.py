"""Several reference databases searched as one (the user's field photos plus one or more packs).

Each database is searched for the k nearest, and the lists are merged by similarity: exact search over
each gives exactly the k nearest of their union, so the merged neighbours are those one database holding
every set would return. A neighbour's id says where it came from: `part * ID_STRIDE + record id`
(part 0 = the first database), so ids of the first database are unchanged and 100000042 reads as record
42 of the second; the ids stay within the 32-bit integer fields of the output layers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from .database import DatabaseError, EmbedderMismatchError, Record, ReferenceDatabase
from .integrity import distinct_databases
from .packs import is_pack, resolve_reference, thumbnail_path

ID_STRIDE = 100_000_000  # records per database at most in a merged search (ten times the largest tested)
MAX_DATABASES = (2**31 - 1) // ID_STRIDE  # merged ids fit a signed 32-bit field


class SearchSet:
    """Databases built with one embedder, searched together on their base features. Duck-types the
    parts of ReferenceDatabase that `Locator` and `evaluate` use. A pack's records come back with their
    thumbnails' full paths, so that the panel and map tips can show them."""

    def __init__(self, databases: Sequence[ReferenceDatabase]):
        databases, duplicates = distinct_databases(list(databases))
        for duplicate, first in duplicates:  # searched twice, each neighbour would come back twice
            if duplicate is not first:
                duplicate.close()
        if not databases:
            raise DatabaseError("no reference database to search")
        if len(databases) > MAX_DATABASES:
            raise DatabaseError(f"{len(databases)} databases: at most {MAX_DATABASES} can be searched together")
        for database in databases:
            if database.count >= ID_STRIDE:
                raise DatabaseError(f"{database.path}: {database.count} photos; a database searched together "
                                    f"with others may hold at most {ID_STRIDE - 1}")
        first = databases[0]
        for other in databases[1:]:
            if other.identity != first.identity:
                raise EmbedderMismatchError(
                    f"{other.path}: built with {other.identity.describe()}; it cannot be searched together with "
                    f"{first.path}, built with {first.identity.describe()}")
        self.databases = list(databases)
        self.identity = first.identity
        self.path = first.path
        self.view = None  # trained views belong to one database; a merged search uses the base features
        self.warnings = [f"{d.path}: trained view '{d.view.name}' is not used when several databases are searched "
                         "together" for d in databases if d.view is not None and len(databases) > 1]
        self.warnings += [w for d in databases for w in d.warnings]
        self.warnings += [f"{duplicate.path}: the same database as {first.path} (its database id); searched once"
                          for duplicate, first in duplicates]

    @classmethod
    def open(cls, paths: Iterable) -> SearchSet:
        opened: list[ReferenceDatabase] = []
        try:
            for path in paths:
                opened.append(ReferenceDatabase.open(path))
            return cls(opened)
        except BaseException:
            for database in opened:
                database.close()
            raise

    @property
    def name(self) -> str:
        return " + ".join(d.name for d in self.databases)

    @property
    def count(self) -> int:
        return sum(d.count for d in self.databases)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k most similar over every database: (similarities, ids), -inf and -1 past the union's size."""
        similarities, ids = [], []
        for part, database in enumerate(self.databases):
            sims, found = database.search(queries, k)
            similarities.append(sims)
            ids.append(np.where(found >= 0, found + part * ID_STRIDE, -1))
        similarities, ids = np.concatenate(similarities, axis=1), np.concatenate(ids, axis=1)
        order = np.argsort(-similarities, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(similarities, order, axis=1), np.take_along_axis(ids, order, axis=1)

    def source_of(self, global_id: int) -> tuple[ReferenceDatabase, int]:
        """The database a merged id belongs to and the record id inside it."""
        part, record_id = divmod(int(global_id), ID_STRIDE)
        return self.databases[part], record_id

    def records(self, ids: Iterable[int]) -> dict[int, Record]:
        wanted: dict[int, list[int]] = {}
        for global_id in {int(i) for i in ids if int(i) >= 0}:
            part, record_id = divmod(global_id, ID_STRIDE)
            wanted.setdefault(part, []).append(record_id)
        found = {}
        for part, record_ids in wanted.items():
            database = self.databases[part]
            for record_id, record in database.records(record_ids).items():
                global_id = part * ID_STRIDE + record_id
                thumbnail = thumbnail_path(database.path, record.path) if is_pack(database.path) else None
                found[global_id] = replace(record, id=global_id, path=str(thumbnail or record.path),
                                           attributes={**record.attributes, "database": database.name})
        return found

    def ids_by_sha256(self, digests: Sequence[str]) -> dict[str, int]:
        """Merged ids of records with these contents (the first database holding one wins)."""
        found: dict[str, int] = {}
        for part, database in enumerate(self.databases):
            for digest, record_id in database.ids_by_sha256(digests).items():
                found.setdefault(digest, part * ID_STRIDE + record_id)
        return found

    def embeddings(self, ids: Sequence[int]) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        parts, local = np.divmod(ids, ID_STRIDE)
        result = np.empty((len(ids), self.identity.dimension), dtype=np.float32)
        for part in np.unique(parts):
            chosen = parts == part
            result[chosen] = self.databases[int(part)].embeddings(local[chosen])
        return result

    def close(self) -> None:
        for database in self.databases:
            database.close()

    def __enter__(self) -> SearchSet:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_references(references: Sequence, packs_dir=None) -> ReferenceDatabase | SearchSet:
    """Open what a locate searches: database folders, pack files (installed first) or installed packs'
    names; one plain database as it is (its trained view included), else a SearchSet."""
    paths = [resolve_reference(reference, packs_dir) for reference in references]
    if len(paths) == 1 and not is_pack(paths[0]):
        return ReferenceDatabase.open(paths[0])
    return SearchSet.open(paths)
