"""Speed of the embedder options that bench/accuracy.py scores, measured together: photos/s of the
bundled Lite0, the larger Lite1 and Lite2, and Lite0 with flip test-time augmentation, each decoding and
embedding the same ../shared photos, in rounds (the options take turns, the order rotating), so that the
ratios to Lite0 come from one run on one machine's load.

    .venv/bin/python bench/embedder_speed.py [--photos 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from benchdata import embed_flipped, load_benchmark

from geoloc_core.embedders import load_embedder

OPTIONS = (("efficientnet_lite0", False), ("efficientnet_lite1", False), ("efficientnet_lite2", False),
           ("efficientnet_lite0", True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    paths = load_benchmark().paths[:args.photos]
    embedders = {architecture: load_embedder(architecture) for architecture, _ in OPTIONS}
    rates: dict[tuple[str, bool], list[float]] = {option: [] for option in OPTIONS}
    print(f"{len(paths)} photos, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    for number in range(args.rounds):
        for architecture, flip in OPTIONS[number % len(OPTIONS):] + OPTIONS[:number % len(OPTIONS)]:
            embedder = embedders[architecture]
            started = time.perf_counter()
            if flip:
                embed_flipped(embedder, paths)
            else:
                embedder.embed_paths(paths, batch_size=32)
            rates[(architecture, flip)].append(len(paths) / (time.perf_counter() - started))
    base = statistics.median(rates[OPTIONS[0]])
    print("| embedder | input px | photos/s (median of rounds) | time per photo vs Lite0 |\n|---|---|---|---|")
    for (architecture, flip), measured in rates.items():
        rate = statistics.median(measured)
        print(f"| {architecture}{' + flip' if flip else ''} | {embedders[architecture].input_size} | {rate:.1f} "
              f"| {base / rate:.2f}x |")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
