"""Damage that checksums of single files cannot see: a metadata file put back from an older copy, a trained
view copied in from another database, an index that faiss reads without complaint but that no longer finds
anything, the same database searched twice. `verify` runs every check here; opening a database runs the
cheap ones (counts against the manifest, a view's database id), so that damage is named before a search
returns wrong neighbours. The database calls these hooks; they only read."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .errors import DamagedDatabaseError

if TYPE_CHECKING:
    from .database import ReferenceDatabase

SAMPLED_VECTORS = 64  # stored vectors searched for themselves by `verify` (spread over the whole database)
SELF_SEARCH_K = 10
SAME_VECTOR = 1e-3  # a sample found a neighbour at least this close to itself: a duplicate photo, not damage


def check_count(path, manifest: dict, count: int) -> None:
    """Refuse records missing against the manifest's count (a metadata.sqlite rolled back to an older copy, or
    records deleted): the manifest is written after each commit, so it never counts more than were committed."""
    recorded = manifest.get("count")
    if isinstance(recorded, int) and not isinstance(recorded, bool) and count < recorded:
        raise DamagedDatabaseError(
            f"{path}: damaged database: metadata.sqlite holds {count} records but the manifest counts {recorded} "
            "(an older copy of metadata.sqlite was put back, or records were deleted); restore the newer copy or "
            "rebuild the database")


def count_problems(database: ReferenceDatabase) -> list[str]:
    """The committed records against the manifest's count and the batch checksums' last record."""
    problems = []
    count = database.count
    try:
        check_count(database.path, database.manifest, count)
    except DamagedDatabaseError as exc:
        problems.append(str(exc).split("damaged database: ", 1)[-1])
    last = database._connection.execute("SELECT coalesce(max(last_id), 0) FROM batches").fetchone()[0]
    if last > count:
        problems.append(f"batch checksums cover records up to {last}, but only {count} records are there")
    return problems


def index_problems(database: ReferenceDatabase) -> list[str]:
    """The index file's bytes against its checksum, and a sample of stored vectors that must find themselves."""
    from .search_index import payload_problem

    index = database._index
    problems = []
    if index.trained is not None:
        problem = payload_problem(database._index_file(index.generation))
        if problem:
            problems.append(problem)
    count = database.count
    if not count:
        return problems
    ids = np.unique(np.linspace(1, count, min(SAMPLED_VECTORS, count)).round().astype(np.int64))
    queries = database.embeddings(ids)
    similarities, found = database.search(queries, min(SELF_SEARCH_K, count))
    own = np.einsum("ij,ij->i", queries, queries)
    lost = [int(i) for i, row, sims, self_sim in zip(ids, found, similarities, own)
            if i not in row and not (np.isfinite(sims[0]) and sims[0] >= self_sim - SAME_VECTOR)]
    if lost:
        problems.append(f"the search index does not find {len(lost)} of {len(ids)} sampled photos by their own "
                        f"features (first: record {lost[0]}); rebuild it with `python -m geoloc_core reindex "
                        f"{database.path}`")
    return problems


def view_problem(database: ReferenceDatabase, name: str, identity: dict) -> str | None:
    """Why a stored view does not belong to this database: its view.json names another database id, or its
    head is not the one the manifest recorded when the view was trained here."""
    stored_id = identity.get("database_id")
    if stored_id is not None and stored_id != database.database_id:
        return (f"trained view '{name}' belongs to another database (id {str(stored_id)[:12]}, this one is "
                f"{database.database_id[:12]}); train it again on this database")
    entry = database.manifest.get("views", {}).get(name)
    if isinstance(entry, dict) and entry.get("head_sha256") not in (None, identity.get("head_sha256")):
        return (f"trained view '{name}' is not the one trained on this database (its head differs from the one "
                "the manifest recorded); train it again")
    return None


def check_view(database: ReferenceDatabase, name: str, identity: dict) -> None:
    problem = view_problem(database, name, identity)
    if problem:
        raise DamagedDatabaseError(f"{database.path}: damaged database: {problem}")


def view_problems(database: ReferenceDatabase) -> list[str]:
    """Every stored view's view.json against this database (verify)."""
    import json

    from .feature_space import VIEW_FILE, view_folder

    problems = []
    for name in database.manifest.get("views", {}):
        try:
            identity = json.loads((view_folder(database.path, name) / VIEW_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"trained view '{name}' is unreadable ({exc})")
            continue
        problem = view_problem(database, name, identity) if isinstance(identity, dict) else \
            f"trained view '{name}' is unreadable (view.json is not an object)"
        if problem:
            problems.append(problem)
    return problems


def problems(database: ReferenceDatabase) -> list[str]:
    """What `verify` adds to the per-file checksums."""
    return count_problems(database) + index_problems(database) + view_problems(database)


def distinct_databases(databases: list) -> tuple[list, list]:
    """(databases to search, the duplicates left out): one database named twice, or a copy of it (the same
    database id), would return each neighbour twice."""
    kept, duplicates, seen = [], [], {}
    for database in databases:
        first = seen.get(database.database_id)
        if first is None:
            seen[database.database_id] = database
            kept.append(database)
        else:
            duplicates.append((database, first))
    return kept, duplicates
