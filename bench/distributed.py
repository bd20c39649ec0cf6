"""Distributed build throughput: photos/s of the single-process shard build and of the Ray build with
1 and 2 workers, on the same WebDataset shards, in one run; and Ray's overhead at 1 worker.

    python bench/distributed.py [--photos N] [--per-shard 50] [--rounds 3] [--commands 2]

The shards are packed from ../shared (flickr-cc, then im2gps3k-cc; by default every located photo,
the largest set at hand) into a temporary folder, flushed to disk and read once before any timing (the
write-back of freshly packed shards slowed whichever build came first by up to 40%). Each build starts
from an empty database and includes the merge and the index. The local Ray is started once, before the
Ray builds, and its start is reported apart (on a cluster it is already running); each Ray build still
pays for starting its embedding actor (a new process that imports torch and loads the network), which
the single-process build, handed a loaded network, does not.

The builds run in rounds, single process and Ray in turn (the order alternates from round to round),
because the load of a shared machine drifts over minutes: the overhead is taken within each round and
the median over rounds is the figure. Each line also splits the build into the wait for the first
embedded shard (start-up) and the rate from there on (streaming), so that a fixed start-up cost is not
mistaken for a per-photo one.

Then, with the benchmark's Ray stopped, `--commands` rounds of what a user runs: `build` and
`build --engine ray --workers 1` on the same shards, each a fresh process (so the Ray command also starts
and stops its own local Ray and pays the first Ray Data pipeline of a new driver), timed from start to
exit; the difference is Ray's fixed cost, and from it the size above which that cost stays under 15%.
"""

from __future__ import annotations

import os

# OpenMP threads that spin while they wait make every build several times slower on a machine whose
# cores are already busy (measured 1.2 against 9.8 photos/s at load 8 on 2 cores); set before torch
# loads, and inherited by the local Ray's workers, so that the builds are compared rather than the spinning.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from common import shared

from geoloc_core.embedders import load_embedder
from geoloc_core.shards import build_from_shards, pack_shards

OVERHEAD_TARGET = 0.15


def located_photos(count: int | None) -> list[tuple[Path, dict]]:
    photos = []
    for collection in ("flickr-cc", "im2gps3k-cc"):
        folder = shared(collection)
        with open(folder / "manifest.csv", newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                photos.append((folder / row["path"], {"lat": float(row["lat"]), "lon": float(row["lon"]),
                                                      "licence": row["licence"], "author": row["flickr_owner"]}))
    if count and len(photos) < count:
        raise SystemExit(f"only {len(photos)} located photos in ../shared; ask for fewer")
    return photos[:count] if count else photos


def timed(label: str, build) -> float:
    """Runs build(progress) and prints its rate, its start-up (until the first shard is embedded) and its
    streaming rate (photos after the first shard over the time after it). Returns the whole build's rate."""
    first_shard = []

    def progress(step):
        if step.stage == "embed" and step.done > 0 and not first_shard:
            first_shard.append((time.perf_counter(), step.done / step.total))

    started = time.perf_counter()
    database, report = build(progress)
    seconds = time.perf_counter() - started
    count = database.count
    database.close()
    rate = report.added / seconds
    line = f"{label:<24} {report.added:5d} photos in {seconds:6.1f} s = {rate:5.1f} photos/s"
    if first_shard:
        at, share_done = first_shard[0]
        streaming = report.added * (1 - share_done) / (started + seconds - at)
        line += f"; start-up {at - started:5.1f} s, then {streaming:5.1f} photos/s"
    print(f"{line} ({count} in the database; load average {os.getloadavg()[0]:.1f})", flush=True)
    return rate


def timed_command(label: str, database: Path, shards: Path, extra: list[str]) -> float:
    """Wall time of `python -m geoloc_core build database shards *extra` in a new process."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "geoloc_core", "build", str(database), str(shards), *extra],
                   cwd=Path(__file__).resolve().parent.parent, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    print(f"{label:<36} {seconds:6.1f} s (load average {os.getloadavg()[0]:.1f})", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, help="how many of the located photos (default: all of them)")
    parser.add_argument("--per-shard", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of single process and Ray builds")
    parser.add_argument("--commands", type=int, default=2,
                        help="rounds of fresh `build` and `build --engine ray --workers 1` commands (0: none)")
    args = parser.parse_args()
    import ray

    from geoloc_core.distributed import build_on_ray, start_ray

    embedder = load_embedder()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start (the machine may be shared); "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}")
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        photos = located_photos(args.photos)
        shards = pack_shards(photos, scratch / "shards", args.per_shard)
        os.sync()
        for shard in shards:  # in the page cache, as for every build after the first
            shard.read_bytes()
        print(f"{len(photos)} photos in {len(shards)} shards of {args.per_shard}")
        started = time.perf_counter()
        start_ray(ray, None, 2)
        print(f"local Ray started in {time.perf_counter() - started:.1f} s (not counted below)")

        builds = {
            "single process": lambda target, progress: build_from_shards(target, shards, embedder, progress=progress),
            "ray, 1 worker": lambda target, progress: build_on_ray(target, shards, embedder, workers=1, progress=progress),
            "ray, 2 workers": lambda target, progress: build_on_ray(target, shards, embedder, workers=2, progress=progress),
        }
        overheads, speed_ups = [], []
        try:
            for number in range(1, args.rounds + 1):
                order = ["single process", "ray, 1 worker"]
                order = [*(order if number % 2 else order[::-1]), "ray, 2 workers"]
                rates = {label: timed(f"round {number}: {label}", partial(builds[label], scratch / f"{number}-{i}.geoloc"))
                         for i, label in enumerate(order)}
                overheads.append(rates["single process"] / rates["ray, 1 worker"] - 1)  # time Ray adds per photo
                speed_ups.append(rates["ray, 2 workers"] / rates["ray, 1 worker"])
        finally:
            ray.shutdown()
        commands = []
        for number in range(1, args.commands + 1):
            order = [("build", []), ("build --engine ray --workers 1", ["--engine", "ray", "--workers", "1"])]
            seconds = {label: timed_command(f"command round {number}: {label}", scratch / f"command-{number}-{i}.geoloc",
                                            shards[0].parent, extra)
                       for i, (label, extra) in enumerate(order if number % 2 else order[::-1])}
            commands.append((seconds["build"], seconds["build --engine ray --workers 1"]))
    overhead = statistics.median(overheads)
    print(f"Ray overhead at 1 worker by round: {', '.join(f'{o:+.1%}' for o in overheads)}; median {overhead:+.1%} "
          f"(target < {OVERHEAD_TARGET:.0%}: {'met' if overhead < OVERHEAD_TARGET else 'NOT met'}); "
          f"2 workers: {statistics.median(speed_ups):.2f}x 1 worker; load average {os.getloadavg()[0]:.1f} at the end")
    if commands:
        single = statistics.median(s for s, _ in commands)
        fixed = statistics.median(r - s for s, r in commands)
        photos = len(located_photos(args.photos))
        print(f"fresh commands: Ray adds {', '.join(f'{r / s - 1:+.1%}' for s, r in commands)} to `build` "
              f"(median {fixed:.1f} s, at {photos} photos); as a fixed cost at this machine's single-process rate "
              f"it stays under {OVERHEAD_TARGET:.0%} from about {fixed * photos / single / OVERHEAD_TARGET:,.0f} photos")


if __name__ == "__main__":
    main()
