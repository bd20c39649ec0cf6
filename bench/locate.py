"""Per-query time of search + estimate at 10k and 100k references (random unit vectors, 1280-d; exact
search, the largest size searched exactly; bench/scale.py measures indexed databases of 100k to 10M),
for the paper's and the sphere's estimators (each with its target) and the default cascade (no target
was set for it: it runs two sphere modes and a snap). Queries are searched in batches of 50, as the
plugin and CLI do (an exact flat search reads every vector once per batch, so a lone query pays it
alone: that time is printed too).

    .venv/bin/python bench/locate.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from common import peak_rss_mib

from geoloc_core.database import EmbeddedRecord, ReferenceDatabase
from geoloc_core.embedders import EmbedderIdentity
from geoloc_core.locate import LocateOptions, Locator

DIMENSION = 1280
QUERIES = 200
TARGET_MS = {"paper": 50.0, "sphere": 20.0, "cascade": None}


class RandomEmbedder:
    identity = EmbedderIdentity("random", "0" * 64, "avg", "none", DIMENSION)


def synthetic_database(folder: Path, count: int, rng) -> tuple[ReferenceDatabase, np.ndarray]:
    database = ReferenceDatabase.create(folder, RandomEmbedder.identity)
    vectors = rng.standard_normal((count, DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, count)))
    lon = rng.uniform(-180, 180, count)
    database.add_embedded([EmbeddedRecord(f"ref{i}.jpg", f"{i:064x}", lat[i], lon[i]) for i in range(count)], vectors)
    return database, vectors


def main():
    rng = np.random.default_rng(0)
    print(f"{'references':>10} {'estimator':>9} {'ms/query':>9} {'search':>7} {'target':>7}")
    for count in (10_000, 99_999):  # exact search up to 100k; bench/scale.py measures the indexed sizes
        with tempfile.TemporaryDirectory() as tmp:
            database, vectors = synthetic_database(Path(tmp) / "synthetic.geoloc", count, rng)
            locator = Locator(database, RandomEmbedder())
            noise = rng.standard_normal((QUERIES, DIMENSION)).astype(np.float32)
            queries = vectors[:QUERIES] + 0.05 * noise
            queries /= np.linalg.norm(queries, axis=1, keepdims=True)
            names = [f"q{i}" for i in range(QUERIES)]
            started = time.perf_counter()
            database.search(queries, 100)
            search_ms = (time.perf_counter() - started) * 1000 / QUERIES
            for estimator in TARGET_MS:
                options = LocateOptions(k=100, estimator=estimator)
                started = time.perf_counter()
                for start in range(0, QUERIES, 50):
                    locator.locate_features(queries[start:start + 50], names[start:start + 50], options)
                per_query = (time.perf_counter() - started) * 1000 / QUERIES
                target = TARGET_MS[estimator]
                verdict = "none" if target is None else f"{target:.0f}ms " + ("met" if per_query <= target else "NOT met")
                print(f"{count:>10} {estimator:>9} {per_query:9.2f} {search_ms:7.2f} {verdict:>7}")
            started = time.perf_counter()
            for i in range(20):
                locator.locate_features(queries[i:i + 1], names[i:i + 1], LocateOptions(k=100, estimator="sphere"))
            single = (time.perf_counter() - started) * 1000 / 20
            print(f"{count:>10} {'sphere':>9} {single:9.2f}   (one query at a time, no batching; for information)")
            database.close()
    print(f"peak memory {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
