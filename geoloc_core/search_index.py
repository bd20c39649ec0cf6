"""Nearest-neighbour search over a database's vectors, with the index chosen by the database's size.

Below EXACT_MAX_ROWS the search is exact: the float16 rows are held in a faiss flat index over
float16 codes (SQfp16, half the memory of float32, same ranking as the stored values), built at open.
Above it, a compressed inverted-file index (PCA to 256 dimensions, IVF with an HNSW coarse quantizer,
8-bit scalar codes: 256 bytes a photo, 2.5 GB at 10M; its faiss `index_factory` string is recorded in
the manifest) proposes a shortlist that is
re-ranked exactly from the memory-mapped vector file, so the top k are the exact ones in practice
(bench/scale.py measures the recall). Rows added since the index was trained (the delta) are searched
exactly in RAM and merged into the index in one step once they pass DELTA_MAX_ROWS; the index is
trained again when the database grows into another size class (plan_for changes its answer).

index-<generation>.faiss = header (magic, JSON: database id, generation, factory, rows covered, SHA-256
of what follows) + the faiss index, so that an index from another database or generation, or a damaged
one (faiss reads most bit flips without complaint), is never used silently.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from .errors import DatabaseError, GeolocError
from .progress import ProgressCallback, StopCheck, check_stop, report
from .storage import atomic_write
from .vectors import CHUNK_ROWS, VectorFile

EXACT = "Flat"  # exact search over the stored float16 rows; no index file
EXACT_MAX_ROWS = 100_000  # exact search reads every row per query batch: ~25 ms for a lone query here
DELTA_MAX_ROWS = 16_384  # rows past the trained index, searched exactly (~5 ms a query) until merged into it
REDUCED_DIMENSION = 256
SHORTLIST_FACTOR = 3  # candidates re-ranked exactly per neighbour asked for (10 gave the same recall, 2x the time)
TRAINING_POINTS_PER_LIST = 64
SCANNED_ROWS = 50_000  # compressed codes scanned per query (~5 ms here); see _nprobe_for
MAGIC = b"GEOLOCIX"
PREFIX = struct.Struct("<8sI")  # magic, length of the JSON header that follows


class IndexFileError(GeolocError):
    """An index file that cannot be used with this database; the message says why."""


@dataclass(frozen=True)
class IndexPlan:
    """How a database of a given size is searched: a faiss factory string and its search settings."""

    factory: str
    nprobe: int = 0

    @property
    def exact(self) -> bool:
        return self.factory == EXACT


def plan_for(rows: int, dimension: int, factory: str | None = None) -> IndexPlan:
    """The index for `rows` vectors: exact while a scan is cheap, else IVF with about 2 sqrt(rows)
    lists (a power of two, so the plan only changes when the size doubles or so) over 8-bit codes
    after PCA. 8-bit codes rank the shortlist almost as the PCA-reduced vectors would; 64-byte PQ
    codes measured a top-100 recall of at most 0.97 even with every list probed (bench/scale.py)."""
    if factory is not None:
        return IndexPlan(factory, nprobe=_nprobe_for(factory, rows))
    if rows < EXACT_MAX_ROWS:
        return IndexPlan(EXACT)
    lists = 2 ** math.ceil(math.log2(2 * math.sqrt(rows)))
    factory = f"PCA{min(REDUCED_DIMENSION, dimension)},IVF{lists}_HNSW32,SQ8"
    return IndexPlan(factory, nprobe=_nprobe_for(factory, rows))


def _nprobe_for(factory: str, rows: int) -> int:
    """Lists probed per query: enough for about SCANNED_ROWS codes, between 1/64 and half of the lists
    (at least 16, or all of a tiny index). Features of photos have little contrast (a query's 100th
    neighbour is nearly as similar as its 1000th), so in a sparse database the top 100 spread over
    many lists: at 100k rows half of 1,024 lists gave a top-100 recall of 0.96 and 1/16 of them 0.88,
    while at 1M 1/32 of 2,048 lists already gave 0.98 on queries between two places (bench/scale.py)."""
    for part in factory.split(","):
        if part.startswith("IVF"):
            lists = int(part[3:].split("_")[0])
            share = min(0.5, max(1 / 64, SCANNED_ROWS / max(rows, 1)))
            return min(lists, max(16, math.ceil(lists * share)))
    return 0


class ExactRows:
    """Exact inner-product search over a contiguous block of rows, held as float16 codes in RAM."""

    def __init__(self, dimension: int, first_row: int):
        self.first_row = first_row
        self.index = faiss.IndexScalarQuantizer(dimension, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)

    @property
    def rows(self) -> int:
        return self.index.ntotal

    def extend(self, vectors: VectorFile, stop: int) -> None:
        """Take rows up to `stop` (exclusive) from the vector file, copying their float16 bytes as codes."""
        start = self.first_row + self.rows
        codes = self.index.codes
        for first in range(start, stop, CHUNK_ROWS):
            block = vectors.read_range(first, min(first + CHUNK_ROWS, stop))
            code_bytes = np.ascontiguousarray(block).view(np.uint8).ravel()
            # appended after the codes already there (faiss.copy_array_to_vector would replace them: past
            # one chunk, the index then read beyond its codes and crashed)
            offset = codes.size()
            codes.resize(offset + code_bytes.size)
            faiss.rev_swig_ptr(codes.data(), codes.size())[offset:] = code_bytes
            self.index.ntotal += len(block)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.rows == 0:
            return np.full((len(queries), k), -np.inf, np.float32), np.full((len(queries), k), -1, np.int64)
        similarities, positions = self.index.search(queries, min(k, self.rows))
        ids = np.where(positions >= 0, positions + self.first_row + 1, -1)
        return _pad(similarities, ids, k)


@contextlib.contextmanager
def _threads_for(queries: int):
    """One OpenMP thread for a handful of queries: faiss splits work by query, and waking threads for a
    lone query costs more than it saves (much more on a busy machine)."""
    threads = faiss.omp_get_max_threads()
    if queries >= 8 or threads == 1:
        yield
        return
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


def _pad(similarities: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    missing = k - ids.shape[1]
    if missing > 0:
        similarities = np.hstack([similarities, np.full((len(ids), missing), -np.inf, np.float32)])
        ids = np.hstack([ids, np.full((len(ids), missing), -1, np.int64)])
    similarities = np.where(ids >= 0, similarities, -np.inf).astype(np.float32)
    return similarities, ids.astype(np.int64)


def query_matrix(queries, dimension: int) -> np.ndarray:
    """Queries as the contiguous float32 (n, dimension) matrix faiss takes; DatabaseError for another shape."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    if queries.ndim != 2 or queries.shape[1] != dimension:
        raise DatabaseError(f"queries have shape {queries.shape}; this index needs {dimension}-d")
    return queries


def merge_top_k(parts: list[tuple[np.ndarray, np.ndarray]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best (similarity, id) pairs per query across several result lists, best first."""
    similarities = np.hstack([p[0] for p in parts])
    ids = np.hstack([p[1] for p in parts])
    order = np.argsort(-similarities, axis=1, kind="stable")[:, :k]
    return _pad(np.take_along_axis(similarities, order, 1), np.take_along_axis(ids, order, 1), k)


class SearchIndex:
    """The trained index over rows [0, covered) (None while the database is searched exactly) and the
    exact delta over the rows after it."""

    def __init__(self, vectors: VectorFile, plan: IndexPlan, trained=None, covered: int = 0, generation: int = 0):
        self.vectors = vectors
        self.plan = plan
        self.trained = trained
        self.covered = covered
        self.generation = generation
        self.delta = ExactRows(vectors.dimension, covered)

    @property
    def rows(self) -> int:
        return self.covered + self.delta.rows

    def extend(self, rows: int) -> None:
        """Make rows up to `rows` searchable (after an add committed them)."""
        self.delta.extend(self.vectors, rows)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Inner-product similarities and record ids of the k nearest rows per query, best first
        (id -1 and similarity -inf where fewer than k rows exist)."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        with _threads_for(len(queries)):
            parts = [self.delta.search(queries, k)]
            if self.trained is not None and self.covered:
                parts.append(self._search_trained(queries, k))
        return merge_top_k(parts, k)

    def _search_trained(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Shortlist from the compressed index, re-ranked with the exact vectors from the file."""
        shortlist = min(self.covered, k * SHORTLIST_FACTOR)
        _, candidates = self.trained.search(queries, shortlist)
        candidates[candidates > self.covered] = -1  # a damaged index's ids beyond its rows (verify names them)
        wanted = np.unique(candidates[candidates >= 0])
        exact = self.vectors.read(wanted)
        similarities = np.full(candidates.shape, -np.inf, np.float32)
        for row, query in enumerate(queries):
            valid = candidates[row] >= 0
            positions = np.searchsorted(wanted, candidates[row, valid])
            similarities[row, valid] = exact[positions] @ query
        order = np.argsort(-similarities, axis=1, kind="stable")[:, :k]
        return _pad(np.take_along_axis(similarities, order, 1), np.take_along_axis(candidates, order, 1), k)

    # -- building --------------------------------------------------------------------------------

    @classmethod
    def train(cls, vectors: VectorFile, rows: int, plan: IndexPlan, generation: int,
              progress: ProgressCallback | None = None, should_stop: StopCheck | None = None,
              seed: int = 0) -> SearchIndex:
        """Train `plan` on a sample of the rows and add every row to it, reading the file in chunks."""
        if plan.exact:
            return cls(vectors, plan, None, 0, generation)  # its rows are loaded by the first search
        try:
            trained = faiss.index_factory(vectors.dimension, plan.factory, faiss.METRIC_L2)
            ivf = faiss.extract_index_ivf(trained)
        except RuntimeError as exc:
            raise IndexFileError(f"'{plan.factory}' is not a faiss index factory string with an IVF stage "
                                 f"({str(exc).splitlines()[0][:120]})") from None
        sample_size = min(rows, max(ivf.nlist * TRAINING_POINTS_PER_LIST, 20_000))
        sample_rows = np.sort(np.random.default_rng(seed).choice(rows, sample_size, replace=False))
        report(progress, 0, rows, "index", f"training {plan.factory} on {sample_size} of {rows} vectors")
        trained.train(vectors.read(sample_rows + 1))
        check_stop(should_stop)
        for first, block in vectors.chunks(0, rows):
            check_stop(should_stop)
            trained.add_with_ids(block, np.arange(first + 1, first + len(block) + 1, dtype=np.int64))
            report(progress, first + len(block), rows, "index", f"indexing vectors ({plan.factory})")
        _configure(trained, plan)
        return cls(vectors, plan, trained, rows, generation)

    def merge_delta(self, rows: int) -> SearchIndex:
        """The same trained index with every row up to `rows` added to it (no retraining)."""
        for first, block in self.vectors.chunks(self.covered, rows):
            self.trained.add_with_ids(block, np.arange(first + 1, first + len(block) + 1, dtype=np.int64))
        return SearchIndex(self.vectors, self.plan, self.trained, rows, self.generation + 1)

    def check_ids(self) -> list[str]:
        """Problems with the trained index's ids (each covered row exactly once), for `verify`."""
        ivf = faiss.extract_index_ivf(self.trained)
        seen = np.zeros(self.covered + 1, np.int32)
        for inverted_list in range(ivf.nlist):
            size = ivf.invlists.list_size(inverted_list)
            if size:
                ids = faiss.rev_swig_ptr(ivf.invlists.get_ids(inverted_list), size).copy()
                if ids.min() < 1 or ids.max() > self.covered:
                    return [f"the index holds ids outside 1..{self.covered}"]
                np.add.at(seen, ids, 1)
        if np.any(seen[1:] != 1):
            return [f"the index holds {int(np.sum(seen[1:] == 0))} rows of {self.covered} not at all "
                    f"and {int(np.sum(seen[1:] > 1))} more than once"]
        return []

    # -- files -----------------------------------------------------------------------------------

    def header(self) -> dict:
        return {"database_id": self.vectors.database_id, "generation": self.generation,
                "factory": self.plan.factory, "nprobe": self.plan.nprobe, "covered": self.covered}

    def save(self, path: Path) -> None:
        """Write the trained index atomically (the exact delta is rebuilt from the vector file at open); the
        header's checksum of the index bytes is filled in once they are written."""
        def header(payload_sha256: str) -> bytes:
            text = json.dumps({**self.header(), "payload_sha256": payload_sha256}, sort_keys=True).encode("utf-8")
            return PREFIX.pack(MAGIC, len(text)) + text

        def write(temporary: Path) -> None:
            digest = hashlib.sha256()

            def written(data) -> int:
                digest.update(data)
                return handle.write(data)

            with open(temporary, "wb") as handle:
                handle.write(header("0" * 64))
                faiss.write_index(self.trained, faiss.PyCallbackIOWriter(written))
                handle.seek(0)
                handle.write(header(digest.hexdigest()))  # the same length as the placeholder's

        atomic_write(path, write)

    @classmethod
    def load(cls, path: Path, vectors: VectorFile, expected: dict) -> SearchIndex:
        """Read an index file and check that it is the one the manifest names (`expected` holds the
        manifest's database id, generation, factory and covered rows)."""
        try:
            with open(path, "rb") as handle:
                magic, length = PREFIX.unpack(handle.read(PREFIX.size))
                if magic != MAGIC or length > 1 << 20:
                    raise IndexFileError(f"{path.name} is not a Photo Geolocator index file")
                header = json.loads(handle.read(length).decode("utf-8"))
                for key in ("database_id", "generation", "factory", "covered"):
                    if header.get(key) != expected.get(key):
                        raise IndexFileError(f"{path.name} is for {key} {header.get(key)!r}, the manifest says "
                                             f"{expected.get(key)!r} (a file from another database or generation)")
                digest = hashlib.sha256()

                def read(size: int) -> bytes:
                    data = handle.read(size)
                    digest.update(data)
                    return data

                trained = faiss.read_index(faiss.PyCallbackIOReader(read))
                digest.update(handle.read())  # bytes faiss did not need are part of the checksum too
                if header.get("payload_sha256", digest.hexdigest()) != digest.hexdigest():
                    raise IndexFileError(f"{path.name} is damaged (its bytes do not match the checksum in its header)")
        except FileNotFoundError:
            raise IndexFileError(f"{path.name} is missing") from None
        except (OSError, struct.error, ValueError, UnicodeDecodeError, AttributeError) as exc:
            raise IndexFileError(f"{path.name} is unreadable ({exc})") from None
        except RuntimeError as exc:
            raise IndexFileError(f"{path.name} is unreadable ({str(exc).splitlines()[0][:120]})") from None
        if trained.ntotal != header["covered"] or trained.d != vectors.dimension:
            raise IndexFileError(f"{path.name} holds {trained.ntotal} {trained.d}-d vectors, its header says "
                                 f"{header['covered']} {vectors.dimension}-d")
        # lists probed are a search setting, not stored state
        plan = IndexPlan(header["factory"], _nprobe_for(header["factory"], int(header["covered"])))
        _configure(trained, plan)
        return cls(vectors, plan, trained, int(header["covered"]), int(header["generation"]))


def _configure(trained, plan: IndexPlan) -> None:
    """Search settings, which faiss does not store: lists probed, and the HNSW coarse quantizer's beam."""
    ivf = faiss.extract_index_ivf(trained)
    ivf.nprobe = plan.nprobe
    quantizer = faiss.downcast_index(ivf.quantizer)
    if isinstance(quantizer, faiss.IndexHNSW):
        quantizer.hnsw.efSearch = max(64, 2 * plan.nprobe)


def payload_problem(path: Path) -> str | None:
    """Why an index file's bytes do not match the checksum in its header (None where they do, or where
    an index written before checksums has none), re-read from the disk for `verify`."""
    try:
        with open(path, "rb") as handle:
            magic, length = PREFIX.unpack(handle.read(PREFIX.size))
            header = json.loads(handle.read(length).decode("utf-8")) if magic == MAGIC and length <= 1 << 20 else {}
            digest = hashlib.sha256()
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except (OSError, struct.error, ValueError, UnicodeDecodeError) as exc:
        return f"{path.name} is unreadable ({exc})"
    if not isinstance(header, dict):
        return f"{path.name} has no readable header"
    expected = header.get("payload_sha256")
    return None if expected in (None, digest.hexdigest()) else f"{path.name} is damaged (its bytes do not match " \
                                                                "the checksum in its header)"


def new_database_id() -> str:
    return uuid.uuid4().hex
