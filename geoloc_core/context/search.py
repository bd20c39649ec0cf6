"""The reference search restricted to an area of interest.

Which references lie inside is read from the metadata (every record's lat/lon, one SQL read) and the
area's polygons: a spatial prefilter. Then, on the base features, the k most similar among those ids:
- most of the database inside (share >= OVERFETCH_SHARE): the ordinary search over-fetches
  k / share x OVERFETCH_MARGIN and keeps the ids inside; a query left with fewer than k goes exact;
- otherwise exact: inner products with the stored vectors of the ids inside, read in chunks.
A trained view's index (a faiss IDMap) is searched with a faiss IDSelectorBatch of the ids inside.
The soft prior instead searches both and lowers the similarity of references outside by PRIOR_SHIFT,
so that they count as much as a reference inside that is PRIOR_SHIFT less similar."""

from __future__ import annotations

import faiss
import numpy as np

from .area import Area, AreaError

OVERFETCH_SHARE = 0.5
OVERFETCH_MARGIN = 2.0
EXACT_CHUNK = 32_768
PRIOR_SHIFT = 0.1  # cosine similarity; at the default temperature (0.05) a weight of exp(-2) = 0.14


def reference_locations(references) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, lat, lon) of every reference of a database or of a SearchSet (ids as its search returns)."""
    databases = getattr(references, "databases", None)
    if databases is None:
        return references.locations()
    from ..searchset import ID_STRIDE

    parts = [database.locations() for database in databases]
    return (np.concatenate([ids + part * ID_STRIDE for part, (ids, _, _) in enumerate(parts)]),
            np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts]))


class AreaFilter:
    """The ids inside one area, computed once per run and reused for every photo that names the area."""

    def __init__(self, references, area: Area):
        self.area = area
        ids, lat, lon = reference_locations(references)
        self.total = len(ids)
        self.inside = np.sort(ids[area.contains(lat, lon)])
        if self.inside.size == 0:
            raise AreaError(f"{area.name}: no reference of the database lies inside the area; choose a larger "
                            "area or a database that covers it")

    @property
    def share(self) -> float:
        return self.inside.size / max(self.total, 1)

    def holds(self, ids: np.ndarray) -> np.ndarray:
        positions = np.clip(np.searchsorted(self.inside, ids), 0, self.inside.size - 1)
        return self.inside[positions] == ids

    def search(self, space, references, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Similarities and ids of the k most similar references inside the area, per query."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if getattr(space, "index", None) is not None:  # a trained view: faiss selector on its IDMap
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(self.inside.astype(np.int64)))
            return space.index.search(vectors, int(k), params=params)
        sims = np.full((len(vectors), k), -np.inf, np.float32)
        ids = np.full((len(vectors), k), -1, np.int64)
        pending = np.arange(len(vectors))
        if self.share >= OVERFETCH_SHARE:
            fetch = min(self.total, int(np.ceil(k / self.share * OVERFETCH_MARGIN)))
            found_sims, found_ids = space.search(vectors, fetch)
            short = []
            for row in range(len(vectors)):
                keep = np.flatnonzero((found_ids[row] >= 0) & self.holds(found_ids[row]))[:k]
                if keep.size < min(k, self.inside.size):
                    short.append(row)
                sims[row, :keep.size], ids[row, :keep.size] = found_sims[row, keep], found_ids[row, keep]
            pending = np.array(short, dtype=np.int64)
        if pending.size:
            sims[pending], ids[pending] = self.exact(references, vectors[pending], k)
        return sims, ids

    def exact(self, references, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        best_sims = np.full((len(vectors), 0), -np.inf, np.float32)
        best_ids = np.full((len(vectors), 0), -1, np.int64)
        for start in range(0, self.inside.size, EXACT_CHUNK):
            chunk = self.inside[start:start + EXACT_CHUNK]
            scores = vectors @ references.embeddings(chunk).T
            sims = np.hstack([best_sims, scores.astype(np.float32)])
            ids = np.hstack([best_ids, np.broadcast_to(chunk, scores.shape)])
            order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
            best_sims, best_ids = np.take_along_axis(sims, order, 1), np.take_along_axis(ids, order, 1)
        missing = k - best_ids.shape[1]
        if missing > 0:
            best_sims = np.hstack([best_sims, np.full((len(vectors), missing), -np.inf, np.float32)])
            best_ids = np.hstack([best_ids, np.full((len(vectors), missing), -1, np.int64)])
        return best_sims, best_ids

    def prior_search(self, space, references, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The soft prior: the k best of the references inside and the ordinary top k, with the
        similarity of those outside lowered by PRIOR_SHIFT."""
        inside_sims, inside_ids = self.search(space, references, vectors, k)
        all_sims, all_ids = space.search(np.ascontiguousarray(vectors, dtype=np.float32), k)
        outside = (all_ids >= 0) & ~self.holds(all_ids)
        shifted = np.where(outside, all_sims - PRIOR_SHIFT, -np.inf).astype(np.float32)
        sims, ids = np.hstack([inside_sims, shifted]), np.hstack([inside_ids, np.where(outside, all_ids, -1)])
        order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(sims, order, 1), np.take_along_axis(ids, order, 1)
