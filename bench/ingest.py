"""Ingest speed: decode + embed + index, photos per second, against a naive pipeline in the same run;
and (--memory) peak memory for ingesting 500 and 20,000 photos, each in a fresh process.

Both run the whole ingest (hash, decode, embed, commit, index) with the same network. The naive
pipeline decodes every photo at full size and embeds one photo at a time; ours decodes JPEGs at
reduced size (Image.draft) on a thread pool and embeds in batches of 32, with at most two batches of
photos decoded ahead of the network, so memory must not grow with the number of photos. The 20,000
distinct photos for the memory column are 512 px re-crops of the Creative Commons photos in ../shared,
written once to --photos-dir.

    .venv/bin/python bench/ingest.py [--memory]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import peak_rss_mib, shared

from geoloc_core.embedders import Embedder, load_embedder
from geoloc_core.ingest import build_database
from geoloc_core.photos import load_photo
from geoloc_core.sources import Candidate, from_csv, from_folder

MEMORY_SIZES = (500, 20_000)


class FullSizeDecoding(Embedder):
    """The same network, fed by a decoder that always decodes the whole image."""

    def __init__(self, embedder: Embedder):
        super().__init__(embedder.trunk, embedder.identity, (embedder._mean.flatten().tolist(),
                                                            embedder._std.flatten().tolist()))

    def _prepare(self, path):
        return self.square_crop(load_photo(path, min_side=0))


def ingest_rate(embedder, candidates, batch_size):
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        database, report = build_database(Path(tmp) / "bench.geoloc", candidates, embedder, batch_size=batch_size)
        elapsed = time.perf_counter() - started
        assert report.added == len(candidates), report.summary()
        database.close()
    return len(candidates) / elapsed


def measure(name, embedder, candidates, naive_limit):
    ours_rate = ingest_rate(embedder, candidates, 32)
    naive_rate = ingest_rate(FullSizeDecoding(embedder), candidates[:naive_limit], 1)
    print(f"{name:<28} {len(candidates):>5} photos  ours {ours_rate:6.1f} photos/s   "
          f"naive {naive_rate:6.1f} photos/s   ratio {ours_rate / naive_rate:4.1f}x")
    return ours_rate, naive_rate


def distinct_photos(folder: Path, count: int) -> list[Path]:
    """`count` distinct 512 px JPEGs: shifted square re-crops of the Creative Commons photos in ../shared."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    sources = []
    for name in ("flickr-cc", "im2gps3k-cc"):
        with open(shared(name, "manifest.csv"), newline="", encoding="utf-8") as handle:
            sources += [shared(name) / row["path"] for row in csv.DictReader(handle)]
    paths = [folder / f"{i:05d}.jpg" for i in range(count)]
    for i, path in enumerate(paths):
        if not path.exists():
            with Image.open(sources[i % len(sources)]) as image:
                image = image.convert("RGB")
                image.thumbnail((512, 512))
                shift = 3 * (i // len(sources))
                width, height = image.size
                image.crop((shift, 0, width - 40 + shift, height)).save(path, quality=88)
    return paths


def memory_child(folder: Path, count: int) -> None:
    """Ingest the first `count` photos of the folder into a new database and print the peak RSS."""
    paths = sorted(folder.glob("*.jpg"))[:count]
    candidates = [Candidate(p, (i % 170) - 85.0, (i % 350) - 175.0) for i, p in enumerate(paths)]
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        database, report = build_database(Path(tmp) / "memory.geoloc", candidates, load_embedder())
        assert report.added == count, report.summary()
        database.close()
    print(f"{peak_rss_mib():.1f} {count / (time.perf_counter() - started):.1f}")


def measure_memory(folder: Path) -> None:
    distinct_photos(folder, max(MEMORY_SIZES))
    peaks = {}
    for count in MEMORY_SIZES:
        child = subprocess.run([sys.executable, __file__, "--memory-child", str(count), "--photos-dir", str(folder)],
                               capture_output=True, text=True, check=True)
        peak, rate = map(float, child.stdout.split())
        peaks[count] = peak
        print(f"ingest of {count:>6} photos: peak RSS {peak:6.0f} MiB ({rate:.1f} photos/s)")
    low, high = peaks[MEMORY_SIZES[0]], peaks[MEMORY_SIZES[1]]
    print(f"peak RSS ratio {MEMORY_SIZES[1]} / {MEMORY_SIZES[0]} photos: {high / low:.3f} (target within 10%: "
          f"{'met' if abs(high / low - 1) <= 0.10 else 'NOT met'})")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--naive-limit", type=int, default=120, help="photos timed with the naive pipeline")
    parser.add_argument("--memory", action="store_true", help="only the memory column (500 vs 20,000 photos)")
    parser.add_argument("--photos-dir", type=Path, default=Path("/tmp/geoloc-ingest-photos"))
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.photos_dir, args.memory_child)
        return
    if args.memory:
        measure_memory(args.photos_dir)
        return
    embedder = load_embedder()
    embedder.embed_crops([np.zeros((224, 224, 3), np.uint8)] * 8)  # warm-up
    camera, _ = from_folder(shared("photos"))
    camera = [c for c in camera if c.path.suffix.lower() in (".jpg", ".jpeg")]
    flickr, _ = from_csv(shared("flickr-cc", "manifest.csv"))
    print("decode + embed + index (the bundled EfficientNet-Lite0), measured in one run")
    results = [measure("camera JPEGs (../shared/photos)", embedder, camera, args.naive_limit),
               measure("flickr-cc (1024 px JPEGs)", embedder, flickr, args.naive_limit)]
    print(f"peak memory {peak_rss_mib():.0f} MiB")
    camera_rate, camera_naive = results[0]
    print(f"target on the camera JPEGs (>= 25 photos/s and >= 2x naive): "
          f"{'met' if camera_rate >= 25 and camera_rate >= 2 * camera_naive else 'NOT met'}; "
          f"flickr-cc >= 25 photos/s: {'met' if results[1][0] >= 25 else 'NOT met'} (its 1024 px JPEGs leave "
          f"reduced-size decoding little to save, so the ratio there is mostly the network batching)")

if __name__ == "__main__":
    main()
