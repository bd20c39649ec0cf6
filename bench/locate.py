"""Locating's costs, two tables.

--density (the density target): real photos of ../shared/flickr-cc located with the panel's defaults
against the other benchmark photos (their features from bench/.cache, so only the photos located are
embedded), each phase timed: embedding, search + estimate (with the alternatives), and the density raster
the panel writes, at the default resolution (auto: the bandwidth / 8 on a 1-2-5 step) and at an explicit
0.1 degree (embedding and each density row the quickest of 3 runs, so that a shared machine's load weighs
on neither alone). Printed: the density phase per photo against embedding per photo (target: at most
20%), the file's bytes per photo against the area holding mass, how far the auto resolution drawn bilinear
(as the panel's layer is) departs from the 0.1 degree density, and how long a stop takes to end each phase
(target: under 1 s), as ratios.

--search: per-query time of search + estimate at 10k and 100k references (random unit vectors, 1280-d;
exact search, the largest size searched exactly; bench/scale.py measures indexed databases of 100k to
10M), for the paper's and the sphere's estimators (each with its target) and the default cascade (no
target was set for it: it runs two sphere modes and a snap). Queries are searched in batches of 50, as
the plugin and CLI do (an exact flat search reads every vector once per batch, so a lone query pays it
alone: that time is printed too).

    .venv/bin/python bench/locate.py --density [--photos 20] [--baseline COMMIT]
    .venv/bin/python bench/locate.py --search
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from common import REPO_ROOT, peak_rss_mib

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


def search_timings():
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


DENSITY_SHARE_TARGET = 0.20  # the density phase per photo, as a share of embedding per photo
CANCEL_TARGET_S = 1.0
EMBEDDING_RUNS = 3
DENSITY_RUNS = 3  # each density row, and the baseline's, timed as the quickest of these (a shared machine's load)
NARROW_BANDWIDTH_KM = 100.0  # a third row: how the cost follows the area holding mass
FINE_RESOLUTION_DEG = 0.1  # a resolution asked explicitly (the default before auto), given exactly


class StopRequest:
    """A stop asked at a chosen moment (on a progress report, or after some seconds), remembering when."""

    def __init__(self):
        self.asked_at: float | None = None

    def ask(self) -> None:
        if self.asked_at is None:
            self.asked_at = time.perf_counter()

    def __call__(self) -> bool:
        return self.asked_at is not None


def stop_latency(phase, after_s: float | None = None) -> float:
    """Seconds from a stop until `phase(stop)` gives up (Cancelled): the stop is asked after `after_s`
    seconds, or (None) by the phase itself through `stop.ask()` on its first progress report."""
    from geoloc_core.progress import Cancelled

    stop = StopRequest()
    timer = threading.Timer(after_s, stop.ask) if after_s is not None else None
    if timer is not None:
        timer.start()
    try:
        phase(stop)
    except Cancelled:
        return time.perf_counter() - stop.asked_at
    finally:
        if timer is not None:
            timer.cancel()
    return float("nan")  # the phase ended before the stop was asked


def density_target(photo_count: int, baseline_commit: str | None) -> None:
    from benchdata import cached_features, load_benchmark

    from geoloc_core.database import EmbeddedRecord, ReferenceDatabase
    from geoloc_core.defaults import DEFAULT_ARCHITECTURE, DEFAULT_DENSITY_RESOLUTION_DEG
    from geoloc_core.embedders import load_embedder
    from geoloc_core.estimators import density_resolution
    from geoloc_core.export import write_density_stack

    bench = load_benchmark()
    features = cached_features(bench, DEFAULT_ARCHITECTURE)
    flickr = [i for i, path in enumerate(bench.paths) if "flickr-cc" in path]
    queries = flickr[::max(1, len(flickr) // photo_count)][:photo_count]
    references = sorted(set(range(len(bench.paths))) - set(queries))
    paths = [bench.paths[i] for i in queries]
    embedder = load_embedder(DEFAULT_ARCHITECTURE)
    options = LocateOptions()  # the panel's defaults
    resolution = DEFAULT_DENSITY_RESOLUTION_DEG
    with tempfile.TemporaryDirectory() as tmp:
        database = ReferenceDatabase.create(Path(tmp) / "refs.geoloc", embedder.identity)
        database.add_embedded([EmbeddedRecord(bench.paths[i], f"{i:064x}", bench.lat[i], bench.lon[i])
                               for i in references], features[references])
        locator = Locator(database, embedder)
        raster = Path(tmp) / "run-density.tif"

        def embed(should_stop=None, progress=None):
            return embedder.embed_paths(paths, 16, progress, should_stop=should_stop).features

        def search(vectors, should_stop=None):
            return locator.locate_features(vectors, paths * (len(vectors) // len(paths)), options,
                                           should_stop=should_stop)

        def density(results, should_stop=None, progress=None, bandwidth_km=options.bandwidth_km,
                    resolution_deg=resolution):
            return write_density_stack(raster, results, bandwidth_km, resolution_deg, overwrite=True,
                                       progress=progress, should_stop=should_stop)

        embed_s = float("inf")
        for _ in range(EMBEDDING_RUNS):  # the quickest run (the first loads the network): the ratio errs against density
            started = time.perf_counter()
            vectors = embed()
            embed_s = min(embed_s, time.perf_counter() - started)
        started = time.perf_counter()
        results = search(vectors)
        search_s = time.perf_counter() - started
        settings = [(options.bandwidth_km, resolution), (options.bandwidth_km, FINE_RESOLUTION_DEG),
                    (NARROW_BANDWIDTH_KM, resolution)]  # the defaults, an explicit 0.1 degree, a narrower kernel
        rows = {(bandwidth, asked): density_row(lambda b=bandwidth, a=asked: density(results, bandwidth_km=b,
                                                                                      resolution_deg=a), raster)
                for bandwidth, asked in settings}
        before = {asked: baseline(results, options.bandwidth_km, asked, baseline_commit)
                  for asked in (resolution, FINE_RESOLUTION_DEG)} if baseline_commit else {}
        drawn = bilinear_departures(results, options.bandwidth_km, resolution)

        # stops asked part-way through each phase (the search repeated so that it lasts over a second)
        repeat = max(1, int(np.ceil(1.5 / max(search_s, 1e-3))))
        latency = {  # embedding and density: stopped on their first progress report (one batch, one photo in)
            "embedding": stop_latency(lambda stop: embed(stop, lambda _: stop.ask())),
            "search": stop_latency(lambda stop: search(np.tile(vectors, (repeat, 1)), stop), 0.4 * search_s * repeat),
            "density": stop_latency(lambda stop: density(results, stop, lambda p: p.done and stop.ask(),
                                                         resolution_deg=FINE_RESOLUTION_DEG)),  # the slower one
        }
        left = sorted(p.name for p in Path(tmp).iterdir() if p.name != "refs.geoloc")
        database.close()

    n = len(paths)
    def cells(asked: float, bandwidth_km: float) -> str:
        given = density_resolution(asked, bandwidth_km)
        return f"{given:g}" if given == asked else f"auto {given:g}"

    print(f"{n} photos of flickr-cc against {len(references)} references; k={options.k}, {options.estimator}, "
          f"{options.bandwidth_km:g} km, density resolution {cells(resolution, options.bandwidth_km)} degrees "
          "(the panel's defaults)")
    print(f"{'phase':<22} {'s/photo':>8}")
    print(f"{'embedding':<22} {embed_s / n:8.3f}   (the quickest of {EMBEDDING_RUNS} runs; the first loads the network)")
    print(f"{'search + estimate':<22} {search_s / n:8.3f}")
    print(f"{'bandwidth':>9} {'cells (deg)':>11} {'density s/photo':>15} {'/embedding':>10} {'target':>7} "
          f"{'MB/photo':>8} {'mass Mkm2/photo':>15} {'cells w/ mass':>13} {'bytes/cell':>10}")
    for (bandwidth, asked), (seconds, file_bytes, holding_km2, holding_cells) in rows.items():
        share = seconds / embed_s
        verdict = "met" if share <= DENSITY_SHARE_TARGET else "NOT met"
        print(f"{bandwidth:>6g} km {cells(asked, bandwidth):>11} {seconds / n:15.3f} {share:10.2f} {verdict:>7} "
              f"{file_bytes / n / 1e6:8.2f} {holding_km2 / 1e6:15.2f} {holding_cells:13,.0f} "
              f"{file_bytes / (n + 1) / holding_cells:10.2f}")
    print(f"(target: density at most {DENSITY_SHARE_TARGET:.0%} of embedding per photo, each the quickest of "
          f"{DENSITY_RUNS} runs; bytes per cell holding mass over all bands, the all-photos band included)")
    print(f"{cells(resolution, options.bandwidth_km)} degree cells drawn bilinear against {FINE_RESOLUTION_DEG:g} degree "
          f"ones, {options.bandwidth_km:g} km: the largest difference is {np.median(drawn):.2%} of the peak for the "
          f"median photo, {max(drawn):.2%} at worst")
    for asked, (seconds, size, given) in before.items():
        print(f"commit {baseline_commit}, same photos, {options.bandwidth_km:g} km, {cells(asked, options.bandwidth_km)} "
              f"degrees: {seconds / n:.3f} s/photo ({seconds / rows[(options.bandwidth_km, asked)][0]:.1f}x this "
              f"one), {size / n / 1e6:.2f} MB/photo, cells of {given:.3g} degrees")
    for phase, seconds in latency.items():
        verdict = "met" if seconds <= CANCEL_TARGET_S else "NOT met"
        print(f"stop during {phase:<10} ended it in {seconds:.3f} s (target <= {CANCEL_TARGET_S:g} s: {verdict})")
    print(f"files a stopped density phase left: {left or 'none'}")
    print(f"peak memory {peak_rss_mib():.0f} MiB")


BASELINE_SCRIPT = """
import json, sys, time
from pathlib import Path
from osgeo import gdal
from geoloc_core.export import write_density_stack
from geoloc_core.results import LocationResult, Neighbour
asked = json.load(sys.stdin)
results = [LocationResult(r["photo"], r["lat"], r["lon"], 0.5, r["radius50_km"], r["radius90_km"], "cascade",
                          len(r["neighbours"]), [Neighbour(i + 1, i, 0.5, 0.5, w, a, b, "")
                                                 for i, (a, b, w) in enumerate(r["neighbours"])])
           for r in asked["results"]]
seconds = float("inf")
for _ in range(asked["runs"]):
    started = time.perf_counter()
    path = write_density_stack(Path("before.tif"), results, asked["bandwidth_km"], asked["resolution"], overwrite=True)
    seconds = min(seconds, time.perf_counter() - started)
print(json.dumps([seconds, path.stat().st_size, gdal.Open(str(path)).GetGeoTransform()[1]]))
"""


def baseline(results, bandwidth_km: float, resolution: float, commit: str) -> tuple[float, int, float]:
    """(seconds, file bytes, resolution given) of the density raster of `commit`'s engine for the same
    results, run in its own Python from the commit's geoloc_core (git archive), the quickest of DENSITY_RUNS."""
    asked = {"bandwidth_km": bandwidth_km, "resolution": resolution, "runs": DENSITY_RUNS, "results": [
        {"photo": r.photo, "lat": r.lat, "lon": r.lon, "radius50_km": r.radius50_km, "radius90_km": r.radius90_km,
         "neighbours": [(n.lat, n.lon, n.weight) for n in r.neighbours]} for r in results]}
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "engine.tar"
        subprocess.run(["git", "-C", str(REPO_ROOT), "archive", "-o", str(archive), commit, "geoloc_core"], check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(tmp)  # our own commit's files
        answer = subprocess.run([sys.executable, "-c", BASELINE_SCRIPT], cwd=tmp, input=json.dumps(asked),
                                capture_output=True, text=True, check=True)
    seconds, size, given = json.loads(answer.stdout.splitlines()[-1])
    return seconds, size, given


def bilinear_departures(results, bandwidth_km: float, resolution_deg: float) -> list[float]:
    """Per photo, how far its density at resolution_deg, drawn with bilinear resampling (as the panel's
    layer is), departs from the same density computed at FINE_RESOLUTION_DEG: the largest difference over
    the fine cells, as a share of the peak."""
    from geoloc_core.estimators import photo_density

    departures = []
    for result in results:
        kernels = ([n.lat for n in result.neighbours], [n.lon for n in result.neighbours],
                   [n.weight for n in result.neighbours], bandwidth_km)
        fine, coarse = photo_density(*kernels, FINE_RESOLUTION_DEG), photo_density(*kernels, resolution_deg)
        lat = fine.north - (np.arange(fine.values.shape[0]) + 0.5) * fine.resolution
        lon = fine.west + (np.arange(fine.values.shape[1]) + 0.5) * fine.resolution
        departures.append(float(np.abs(bilinear(coarse, lat, lon) - fine.values).max() / fine.values.max()))
    return departures


def bilinear(grid, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """grid's values bilinearly interpolated at every (lat[i], lon[j]), the Earth going round in longitude,
    held at the outermost cell centres (as a renderer does at a raster's edge)."""
    rows, cols = grid.values.shape
    row = np.clip((grid.north - grid.resolution / 2 - lat) / grid.resolution, 0, rows - 1)
    col = np.clip(((lon - grid.west) % 360.0 - grid.resolution / 2) / grid.resolution, 0, cols - 1)
    r0, c0 = np.minimum(row.astype(int), max(rows - 2, 0)), np.minimum(col.astype(int), max(cols - 2, 0))
    r1, c1 = np.minimum(r0 + 1, rows - 1), np.minimum(c0 + 1, cols - 1)
    down, right = (row - r0)[:, None], (col - c0)[None, :]
    values = grid.values.astype(np.float64)
    top = values[r0][:, c0] * (1 - right) + values[r0][:, c1] * right
    bottom = values[r1][:, c0] * (1 - right) + values[r1][:, c1] * right
    return top * (1 - down) + bottom * down


def density_row(write, raster: Path) -> tuple[float, int, float, float]:
    """(seconds, file bytes, km2 and cells holding mass per photo band) of one density raster written (the
    quickest of DENSITY_RUNS writes)."""
    from osgeo import gdal

    seconds = float("inf")
    for _ in range(DENSITY_RUNS):
        started = time.perf_counter()
        write()
        seconds = min(seconds, time.perf_counter() - started)
    dataset = gdal.Open(str(raster))
    north, step = dataset.GetGeoTransform()[3], dataset.GetGeoTransform()[1]
    rows = np.arange(dataset.RasterYSize)
    cell_km2 = (step * 111.195) ** 2 * np.cos(np.radians(north - (rows + 0.5) * step))[:, None]
    holding = [dataset.GetRasterBand(b).ReadAsArray() > 0 for b in range(2, dataset.RasterCount + 1)]
    photos = len(holding)
    km2 = sum(float((mask * cell_km2).sum()) for mask in holding) / photos
    cells = sum(float(mask.sum()) for mask in holding) / photos
    dataset = None
    size = raster.stat().st_size
    raster.unlink()
    return seconds, size, km2, cells


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--density", action="store_true", help="the density target on real photos")
    parser.add_argument("--search", action="store_true", help="per-query search + estimate on synthetic references")
    parser.add_argument("--photos", type=int, default=20, help="photos located for the density target")
    parser.add_argument("--baseline", metavar="COMMIT",
                        help="also time COMMIT's density raster on the same photos (default and 0.1 degree)")
    args = parser.parse_args()
    if args.density or not args.search:
        density_target(args.photos, args.baseline)
    if args.search or not args.density:
        search_timings()


if __name__ == "__main__":
    main()
