"""Putting photos into a reference database: read -> embed -> `ReferenceDatabase.add_embedded_batches`,
the path the shard build takes too. The database only stores what it is given; this module hashes and
embeds the photos and keeps the active trained view current (feature_space.view_kept_current).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .database import MANIFEST, EmbeddedRecord, ReferenceDatabase
from .errors import EmbedderMismatchError
from .feature_space import view_kept_current
from .files import PhotoError
from .identity import sha256_of
from .photos import image_size
from .progress import Cancelled, Progress, ProgressCallback, StopCheck, report
from .results import BuildReport
from .sources import Candidate, Skipped

if TYPE_CHECKING:
    from .embedders import Embedder


def build_database(path: str | os.PathLike, candidates: Sequence[Candidate], embedder: Embedder,
                   progress: ProgressCallback | None = None, should_stop: StopCheck | None = None,
                   batch_size: int = 32) -> tuple[ReferenceDatabase, BuildReport]:
    """Create the database at `path` (or resume/extend the one there) and add the candidates."""
    path = Path(path)
    if (path / MANIFEST).exists():
        database = ReferenceDatabase.open(path, embedder.identity, writable=True)
    else:
        database = ReferenceDatabase.create(path, embedder.identity)
    return database, add_photos(database, candidates, embedder, progress, should_stop, batch_size)


def add_photos(database: ReferenceDatabase, candidates: Sequence[Candidate], embedder: Embedder,
               progress: ProgressCallback | None = None, should_stop: StopCheck | None = None,
               batch_size: int = 32) -> BuildReport:
    """Embed and add photos not yet present (same content hash = present). Each batch is committed as
    it completes; a cancel keeps what was committed and reports `cancelled`."""
    if embedder.identity != database.identity:
        raise EmbedderMismatchError(
            f"{database.path}: this database was built with {database.identity.describe()}; "
            f"photos embedded with {embedder.identity.describe()} cannot be added")
    started = time.perf_counter()
    result = BuildReport()
    with database.writing(), view_kept_current(database):  # one writer from the first hash to the last commit
        pending, digests = _new_candidates(database, candidates, result, progress, should_stop)
        failures: list[PhotoError] = []
        fed = False

        def batches():
            nonlocal fed
            report(progress, 0, len(pending), "embed")  # a new stage starts from 0, not at its first batch
            try:
                for indices, vectors in embedder.embedded_batches([c.path for c in pending], batch_size, progress,
                                                                  should_stop, failures):
                    yield [_record(pending[i], digests[i]) for i in indices], vectors
                result.failed.extend(Skipped(e.path, e.reason) for e in failures)
            except Cancelled:
                result.cancelled = True
            fed = True

        def stop_after_feeding() -> bool:
            # an embedded batch is always committed; once all are, a cancel no longer stops the index's training
            return fed and not result.cancelled and should_stop is not None and should_stop()

        with contextlib.closing(batches()) as embedded:
            result.added = database.add_embedded_batches(embedded, _without_commit_events(progress),
                                                         stop_after_feeding)
    result.seconds = time.perf_counter() - started
    return result


def add_batches(database: ReferenceDatabase, batches: Iterable[tuple[Sequence[EmbeddedRecord], np.ndarray]],
                progress: ProgressCallback | None = None, should_stop: StopCheck | None = None) -> int:
    """`ReferenceDatabase.add_embedded_batches` with the active trained view kept current (merges of
    embeddings computed elsewhere: shards, Ray workers)."""
    with database.writing(), view_kept_current(database):
        return database.add_embedded_batches(batches, progress, should_stop)


def _record(candidate: Candidate, digest: str) -> EmbeddedRecord:
    try:
        width, height = image_size(candidate.path)
    except PhotoError:
        width = height = None
    return EmbeddedRecord(str(candidate.path), digest, candidate.lat, candidate.lon, candidate.altitude_m,
                          candidate.time, width, height, candidate.attributes)


def _without_commit_events(progress: ProgressCallback | None) -> ProgressCallback | None:
    """The photos' build reports its hashing and embedding, not each commit that follows an embedded batch."""
    if progress is None:
        return None

    def forward(event: Progress) -> None:
        if event.stage != "add":
            progress(event)
    return forward


def _new_candidates(database: ReferenceDatabase, candidates: Sequence[Candidate], result: BuildReport, progress,
                    should_stop) -> tuple[list[Candidate], list[str]]:
    """Candidates whose content is not in the database yet, with their SHA-256."""
    hashed = []
    report(progress, 0, len(candidates), "hash")
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
        return [], []
    present = database.ids_by_sha256([d for _, d in hashed])
    pending, digests, seen = [], [], set(present)
    for candidate, digest in hashed:
        if digest in seen:
            result.already_present += 1
            continue
        seen.add(digest)
        pending.append(candidate)
        digests.append(digest)
    return pending, digests
