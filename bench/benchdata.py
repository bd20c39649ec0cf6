"""The development benchmark's data: the ~1,480 Creative Commons photos of ../shared (flickr-cc and
im2gps3k-cc), their embeddings cached per embedder under bench/.cache/ (git-ignored), their groups,
and the grouped cross-validation neighbours every estimator is scored on."""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np
from common import REPO_ROOT, shared

from geoloc_core.embedders import Embedder, load_embedder
from geoloc_core.sources import from_csv
from geoloc_core.training import grouped_folds, photo_groups

SETS = ("flickr-cc", "im2gps3k-cc")
CACHE_DIR = REPO_ROOT / "bench" / ".cache"
K = 100
FOLDS = 5


@dataclass
class Benchmark:
    paths: list[str]
    lat: np.ndarray
    lon: np.ndarray
    attributes: list[dict]


def load_benchmark() -> Benchmark:
    items = []
    for name in SETS:
        found, skipped = from_csv(shared(name, "manifest.csv"))
        if skipped:
            raise SystemExit(f"{name}/manifest.csv: {len(skipped)} rows skipped, e.g. {skipped[0]}")
        items.extend(found)
    return Benchmark([str(i.path) for i in items], np.array([i.lat for i in items]), np.array([i.lon for i in items]),
                     [i.attributes for i in items])


def embed_flipped(embedder: Embedder, paths: list[str]) -> np.ndarray:
    """Test-time augmentation: the mean of a photo's and its mirror image's features, renormalised."""
    features = []
    for start in range(0, len(paths), 32):
        crops = [embedder._prepare(p) for p in paths[start:start + 32]]  # the decode and crop embed_paths uses
        both = embedder.embed_crops(crops) + embedder.embed_crops([c[:, ::-1].copy() for c in crops])
        features.append(both / np.linalg.norm(both, axis=1, keepdims=True))
    return np.concatenate(features)


def cached_features(bench: Benchmark, architecture: str, pooling: str = "avg",
                    flip: bool = False) -> np.ndarray:
    """Features of the benchmark's photos; embeds once per embedder and caches the result, keyed by the
    weights' hash and the photo list so that a changed network or set is never read stale (speed:
    bench/embedder_speed.py, which times the options in one run)."""
    embedder = load_embedder(architecture, pooling=pooling)
    key = f"{architecture}-{embedder.identity.weights_sha256[:12]}-{pooling}{'-flip' if flip else ''}"
    cache = CACHE_DIR / f"{key}.npz"
    if cache.is_file():
        data = np.load(cache)
        if list(data["paths"]) == bench.paths:
            return data["features"]
    if flip:
        features = embed_flipped(embedder, bench.paths)
    else:
        outcome = embedder.embed_paths(bench.paths, batch_size=32)
        if outcome.failures:
            raise SystemExit(f"cannot embed {outcome.failures[0]}")
        features = outcome.features
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.savez(cache, features=features, paths=np.array(bench.paths))
    return features


def benchmark_groups(bench: Benchmark, base_features: np.ndarray, places: bool = True) -> np.ndarray:
    """Groups (same photographer, within 1 km unless `places` is false, or near-duplicate by the default
    features), the same for every embedder so that all are scored on the same folds."""
    return photo_groups(bench.lat, bench.lon, bench.attributes, base_features, places)


def photographers(bench: Benchmark) -> np.ndarray:
    """Each photo's photographer as an integer (a photo without an owner is its own photographer)."""
    owners = [a.get("flickr_owner") or f"photo {i}" for i, a in enumerate(bench.attributes)]
    return np.unique(owners, return_inverse=True)[1]


@dataclass
class Neighbours:
    """Each photo's K nearest references from the other folds: cosine similarities and coordinates."""

    similarities: np.ndarray  # (n, K)
    lat: np.ndarray  # (n, K)
    lon: np.ndarray  # (n, K)
    ids: np.ndarray  # (n, K) indices into the benchmark
    fold: np.ndarray  # (n,) the fold each photo is a query in


def cross_validated_neighbours(features: np.ndarray, bench: Benchmark, groups: np.ndarray, k: int = K,
                               folds: int = FOLDS) -> Neighbours:
    n = len(features)
    sims, ids = np.zeros((n, k), np.float32), np.zeros((n, k), np.int64)
    fold_of = np.zeros(n, np.int64)
    for fold, (train, test) in enumerate(grouped_folds(groups, folds)):
        fold_of[test] = fold
        index = faiss.IndexFlatIP(features.shape[1])
        index.add(np.ascontiguousarray(features[train], dtype=np.float32))
        s, i = index.search(np.ascontiguousarray(features[test], dtype=np.float32), k)
        sims[test], ids[test] = s, train[i]
    return Neighbours(sims, bench.lat[ids], bench.lon[ids], ids, fold_of)

