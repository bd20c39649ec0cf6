"""Reference databases of 100k and 1M photos (10M with --sizes 10000000: a documented run, ~30 GB of
disk and about an hour here): disk size, build time, and, measured in a fresh process, open time, RSS
after open, single-query and batched locate (search + the default `cascade` estimate, k=100), the time to
add 100 photos' vectors, and the recall of the top 100 against an exact search over the stored vectors
(also for harder queries between two places). Each size is probed with the page cache warm (its files
read once, as after a first use) and cold (dropped, as after a reboot: needs root); --estimator picks
another estimator.

The vectors have the structure of real photo features: each is a mixture of two EfficientNet-Lite0
features of the real photos in ../shared (flickr-cc + im2gps3k-cc) plus noise drawn in the principal
subspace of those features (isotropic noise would be unlike any photo collection, and no index can
learn it). Queries are other perturbations of the real features. Locations follow the photo that
dominates each mixture, jittered by ~20 km.

With --accuracy it prints instead the leave-one-out accuracy on the ~1,480 real photos with the
exact index and with a compressed index forced on them (the compressed index must cost at most 0.5
points at any distance).

    .venv/bin/python bench/scale.py [--sizes 100000 1000000] [--folder /tmp/geoloc-scale] [--accuracy]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
from common import REPO_ROOT, shared

from geoloc_core.database import EmbeddedRecord, ReferenceDatabase
from geoloc_core.defaults import DEFAULT_ESTIMATOR
from geoloc_core.embedders import EmbedderIdentity
from geoloc_core.estimator_registry import ESTIMATORS, TRAINED_VIEW
from geoloc_core.locate import LocateOptions, Locator

CACHE = REPO_ROOT / "bench" / ".cache" / "shared_features.npz"
IDENTITY = EmbedderIdentity("synthetic-lite0-mixtures", "0" * 64, "avg", "mixtures of real Lite0 features", 1280)
CHUNK = 100_000
ESTIMATOR = DEFAULT_ESTIMATOR
QUERIES = 200
TARGETS = {1_000_000: {"single_ms": 20, "rss_mib": 1536, "open_s": 2, "add100_s": 1},
           10_000_000: {"single_ms": 30, "rss_mib": 4096}}


def real_features() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lite0 features of the Creative Commons photos in ../shared, cached in bench/.cache."""
    if not CACHE.exists():
        from geoloc_core.embedders import load_embedder

        paths, lat, lon = [], [], []
        for name in ("flickr-cc", "im2gps3k-cc"):
            folder = shared(name)
            with open(folder / "manifest.csv", newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    paths.append(folder / row["path"])
                    lat.append(float(row["lat"]))
                    lon.append(float(row["lon"]))
        outcome = load_embedder().embed_paths(paths)
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        np.savez(CACHE, features=outcome.features, lat=np.array(lat)[outcome.indices],
                 lon=np.array(lon)[outcome.indices])
    with np.load(CACHE) as stored:
        return stored["features"], stored["lat"], stored["lon"]


class Generator:
    """Structured synthetic features derived from real ones (see the module docstring)."""

    def __init__(self, features: np.ndarray, lat: np.ndarray, lon: np.ndarray):
        self.features, self.lat, self.lon = features, lat, lon
        centred = features - features.mean(axis=0)
        _, singular, basis = np.linalg.svd(centred, full_matrices=False)
        components = 256
        self.noise = (singular[:components, None] / np.sqrt(len(features))) * basis[:components]

    def vectors(self, count: int, rng, noise: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
        """(unit vectors, index of the real photo that dominates each)."""
        main = rng.integers(0, len(self.features), count)
        other = rng.integers(0, len(self.features), count)
        share = rng.uniform(0.0, 0.5, (count, 1)).astype(np.float32)
        mixed = (1 - share) * self.features[main] + share * self.features[other]
        mixed += noise * (rng.standard_normal((count, len(self.noise))).astype(np.float32) @ self.noise)
        mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
        return mixed.astype(np.float32), main

    def batches(self, total: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        for start in range(0, total, CHUNK):
            vectors, main = self.vectors(min(CHUNK, total - start), rng)
            lat = np.clip(self.lat[main] + rng.normal(0, 0.2, len(main)), -90, 90)
            lon = (self.lon[main] + rng.normal(0, 0.2, len(main)) + 180) % 360 - 180
            records = [EmbeddedRecord(f"synthetic/{start + i}.jpg", f"{seed:08x}{start + i:056x}", float(a), float(o))
                       for i, (a, o) in enumerate(zip(lat, lon))]
            yield records, vectors

    def queries(self, count: int, seed: int = 12345) -> np.ndarray:
        return self.vectors(count, np.random.default_rng(seed), noise=0.4)[0]

    def between_queries(self, count: int, seed: int = 54321) -> np.ndarray:
        """Harder queries: nearly even mixtures of two photos with more noise, whose top 100 lie between
        two dense places and so spread over more of the index's lists."""
        rng = np.random.default_rng(seed)
        main = rng.integers(0, len(self.features), count)
        other = rng.integers(0, len(self.features), count)
        share = rng.uniform(0.35, 0.5, (count, 1)).astype(np.float32)
        mixed = (1 - share) * self.features[main] + share * self.features[other]
        mixed += 0.8 * (rng.standard_normal((count, len(self.noise))).astype(np.float32) @ self.noise)
        return (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def build(folder: Path, size: int, generator: Generator) -> dict:
    started = time.perf_counter()
    index_started = []

    def progress(event):
        if event.stage == "index" and not index_started:
            index_started.append(time.perf_counter())

    database = ReferenceDatabase.create(folder, IDENTITY)
    database.add_embedded_batches(generator.batches(size), progress)
    factory = database.index_plan.factory
    database.close()
    finished = time.perf_counter()
    return {"build_s": finished - started, "index_s": finished - index_started[0] if index_started else 0.0,
            "factory": factory}


def probe(folder: Path) -> dict:
    """Runs in a fresh process: what a user's QGIS pays to open and search the database."""
    generator = Generator(*real_features())
    queries = generator.queries(QUERIES)
    baseline = rss_mib()
    started = time.perf_counter()
    database = ReferenceDatabase.open(folder)
    opened = time.perf_counter() - started
    rss_open = rss_mib() - baseline
    locator = Locator(database, types.SimpleNamespace(identity=database.identity))
    options = LocateOptions(k=100, estimator=ESTIMATOR)
    locator.locate_features(queries[:2], ["warm-up"] * 2, options)
    single = []
    for query in queries[:100]:
        began = time.perf_counter()
        locator.locate_features(query[None], ["q"], options)
        single.append(time.perf_counter() - began)
    began = time.perf_counter()
    for start in range(100, QUERIES, 50):
        locator.locate_features(queries[start:start + 50], ["q"] * 50, options)
    batched = (time.perf_counter() - began) / (QUERIES - 100)
    rss_after = rss_mib() - baseline
    between = generator.between_queries(100)
    _, found = database.search(np.vstack([queries[:100], between]), 100)
    exact = exact_top_100(database, np.vstack([queries[:100], between]))
    overlap = [len(set(a) & set(b)) / 100 for a, b in zip(found, exact)]
    recall, recall_between = float(np.mean(overlap[:100])), float(np.mean(overlap[100:]))
    database.close()
    with ReferenceDatabase.open(folder, writable=True) as database:
        vectors = generator.queries(100, seed=int(time.time()))
        records = [EmbeddedRecord(f"added/{i}.jpg", f"{time.time_ns():048x}{i:016x}", 0.0, 0.0) for i in range(100)]
        began = time.perf_counter()
        database.add_embedded(records, vectors)
        added = time.perf_counter() - began
    return {"open_s": opened, "rss_open_mib": rss_open, "rss_after_queries_mib": rss_after,
            "single_ms": 1000 * float(np.median(single)), "single_p90_ms": 1000 * float(np.percentile(single, 90)),
            "batched_ms": 1000 * batched, "recall": recall, "recall_between": recall_between, "add100_s": added}


def exact_top_100(database: ReferenceDatabase, queries: np.ndarray) -> np.ndarray:
    """The exact top 100 over every stored vector, read in chunks (the truth the index is measured by)."""
    best_sims = np.full((len(queries), 0), -np.inf, np.float32)
    best_ids = np.zeros((len(queries), 0), np.int64)
    for first_id, block in database.embedding_chunks():
        sims = queries @ block.T
        top = np.argpartition(-sims, min(100, sims.shape[1] - 1), axis=1)[:, :100]
        best_sims = np.hstack([best_sims, np.take_along_axis(sims, top, 1)])
        best_ids = np.hstack([best_ids, top + first_id])
        keep = np.argsort(-best_sims, axis=1)[:, :100]
        best_sims, best_ids = np.take_along_axis(best_sims, keep, 1), np.take_along_axis(best_ids, keep, 1)
    return best_ids


class Float32Exact:
    """The format-1 search (float32 vectors, exact inner product), to show what float16 storage changes."""

    def __init__(self, features: np.ndarray):
        import faiss

        self.index = faiss.IndexFlatIP(features.shape[1])
        self.index.add(features)

    def search(self, queries: np.ndarray, k: int):
        similarities, positions = self.index.search(queries, k)
        return similarities, np.where(positions >= 0, positions + 1, -1)


def accuracy_exact_against_forced(folder: Path) -> None:
    """Leave-one-out on the real photos' features, exact index against a forced compressed one."""
    import tempfile

    from geoloc_core.evaluate import THRESHOLDS_KM
    from geoloc_core.geo import haversine_km
    from geoloc_core.search_index import plan_for

    features, lat, lon = real_features()
    records = [EmbeddedRecord(f"real/{i}.jpg", f"{i:064x}", float(a), float(o)) for i, (a, o) in enumerate(zip(lat, lon))]
    forced = plan_for(len(records), IDENTITY.dimension, "PCA256,IVF32_HNSW32,SQ8")
    with tempfile.TemporaryDirectory(dir=folder.parent if folder.parent.exists() else None) as tmp:
        database = ReferenceDatabase.create(Path(tmp) / "real.geoloc", IDENTITY)
        database.add_embedded(records, features)
        locator = Locator(database, types.SimpleNamespace(identity=database.identity))
        exclude = [{i + 1} for i in range(len(records))]
        print(f"leave-one-out on {len(records)} real photos (k=100), % within each distance")
        print(f"{'index':<34} {'estimator':<8} " + " ".join(f"{f'{t} km':>8}" for t in THRESHOLDS_KM))
        for label in ("float32 exact (format 1)", "exact (Flat)", forced.factory):
            if label == "float32 exact (format 1)":
                database._index = Float32Exact(features)
            elif label == "exact (Flat)":
                database._index = None
                database.reindex()
            else:
                database.reindex(forced, forced=True)
            for estimator in ("sphere", "paper"):
                results = locator.locate_features(features, [r.path for r in records],
                                                  LocateOptions(k=100, estimator=estimator), exclude)
                errors = haversine_km(lat, lon, np.array([r.lat for r in results]), np.array([r.lon for r in results]))
                print(f"{label:<34} {estimator:<8} " + " ".join(f"{100 * np.mean(errors <= t):7.1f}%"
                                                               for t in THRESHOLDS_KM))
        database.close()


def training_at_scale(folder: Path) -> None:
    """Grouping, geocells and one training epoch on a large database (memory and time, not accuracy:
    the synthetic locations carry no signal worth learning)."""
    from common import peak_rss_mib

    from geoloc_core.training import TrainOptions, train_head, training_data

    with ReferenceDatabase.open(folder) as database:
        started = time.perf_counter()
        data = training_data(database)
        grouped = time.perf_counter() - started
        print(f"{len(data.ids):,} photos: grouping (owners, 1 km places, near-duplicates) {grouped:.0f} s, "
              f"{len(np.unique(data.groups)):,} groups; peak RSS {peak_rss_mib():.0f} MiB", flush=True)
        started = time.perf_counter()
        trained = train_head(data.features, data.lat, data.lon, data.groups, TrainOptions(epochs=1))
        print(f"one epoch over {len(data.ids):,} photos, {len(trained.partition):,} geocells: "
              f"{time.perf_counter() - started:.0f} s; peak RSS {peak_rss_mib():.0f} MiB")


def set_page_cache(folder: Path, state: str) -> bool:
    """Put the database's files in the page cache (warm: read once; a database larger than the memory
    keeps only its last part) or drop the whole page cache (cold; False where that is not allowed)."""
    if state == "warm":
        for path in sorted(folder.iterdir(), key=lambda p: p.stat().st_size):  # the largest last, so it evicts
            with open(path, "rb") as handle:
                while handle.read(1 << 24):
                    pass
        return True
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
        return True
    except OSError:
        return False


def disk_mib(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--folder", type=Path, default=Path("/tmp/geoloc-scale"))
    parser.add_argument("--rebuild", action="store_true", help="build again even where a database exists")
    parser.add_argument("--accuracy", action="store_true", help="exact against compressed index on the real photos")
    parser.add_argument("--train", type=Path, help="time grouping and one training epoch on this database")
    parser.add_argument("--estimator", choices=[e.name for e in ESTIMATORS if TRAINED_VIEW not in e.requires],
                        default=DEFAULT_ESTIMATOR, help="estimator timed (cells and hybrid need a trained view)")
    parser.add_argument("--cache", nargs="+", choices=("warm", "cold"), default=["warm", "cold"],
                        help="page cache before each probe: warm (the database's files read once, as after a first "
                             "use) and/or cold (dropped, as after a reboot; needs root)")
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global ESTIMATOR
    ESTIMATOR = args.estimator
    if args.train:
        training_at_scale(args.train)
        return
    if args.accuracy:
        accuracy_exact_against_forced(args.folder)
        return
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return
    generator = Generator(*real_features())
    rows = []
    for size in args.sizes:
        folder = args.folder / f"scale-{size}.geoloc"
        built = {}
        if args.rebuild or not folder.exists():
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
            folder.parent.mkdir(parents=True, exist_ok=True)
            built = build(folder, size, generator)
            print(f"built {size}: {built}", flush=True)
        for cache in args.cache:
            if not set_page_cache(folder, cache):
                print(f"probe {size} {cache}: skipped (dropping the page cache needs root)", flush=True)
                continue
            child = subprocess.run([sys.executable, __file__, "--probe", str(folder), "--estimator", args.estimator],
                                   capture_output=True, text=True)
            if child.returncode:
                sys.exit(child.stderr)
            measured = json.loads(child.stdout.strip().splitlines()[-1])
            rows.append((size, cache, built, measured, disk_mib(folder)))
            print(f"probed {size} {cache}: {measured}", flush=True)
    print(f"\nlocate = search + {args.estimator} estimate, k=100")
    print(f"{'references':>11} {'cache':>5} {'disk MiB':>9} {'build s':>8} {'index s':>8} {'open s':>7} {'RSS MiB':>8} "
          f"{'single ms':>10} {'p90 ms':>7} {'batched ms':>11} {'add 100 s':>10} {'recall@100':>11} {'between':>8}  index")
    for size, cache, built, m, disk in rows:
        print(f"{size:>11,} {cache:>5} {disk:>9.0f} {built.get('build_s', float('nan')):>8.0f} "
              f"{built.get('index_s', float('nan')):>8.0f} {m['open_s']:>7.2f} {m['rss_open_mib']:>8.0f} "
              f"{m['single_ms']:>10.1f} {m['single_p90_ms']:>7.1f} {m['batched_ms']:>11.2f} {m['add100_s']:>10.2f} "
              f"{m['recall']:>11.3f} {m['recall_between']:>8.3f}  {built.get('factory', '(built earlier)')}")
        for key, target in TARGETS.get(size, {}).items():
            value = {"single_ms": m["single_ms"], "rss_mib": m["rss_open_mib"], "open_s": m["open_s"],
                     "add100_s": m["add100_s"]}[key]
            print(f"    {key}: {value:.2f} (target <= {target}) -> ratio {value / target:.2f}")
        print(f"    recall@100: {m['recall']:.3f}, {m['recall_between']:.3f} for queries between two places "
              f"(target >= 0.95)")


if __name__ == "__main__":
    main()
