"""Leave-one-out accuracy on ../shared/flickr-cc (609 photos worldwide) for both estimators.

    .venv/bin/python bench/accuracy.py [--database flickr.geoloc] [--sweep]

Builds (or reuses) a database of the 609 photos, then locates each photo against the other 608.
--sweep also prints the spherical estimator over a grid of bandwidths and temperatures, which is how
the defaults were chosen (by mean GeoGuessr score).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import shared

from geoloc_core.database import build_database
from geoloc_core.embedders import load_embedder
from geoloc_core.evaluate import evaluate
from geoloc_core.locate import LocateOptions, Locator
from geoloc_core.sources import from_csv


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", type=Path, help="database folder to build or reuse (default: temporary)")
    parser.add_argument("--sweep", action="store_true")
    args = parser.parse_args()
    items, _ = from_csv(shared("flickr-cc", "manifest.csv"))
    with tempfile.TemporaryDirectory() as tmp:
        path = args.database or Path(tmp) / "flickr.geoloc"
        database, report = build_database(path, items, load_embedder())
        locator = Locator(database)
        print(f"flickr-cc, {database.count} references, leave-one-out, k=100")
        for estimator in ("paper", "sphere"):
            print(evaluate(locator, items, LocateOptions(estimator=estimator)).table())
        if args.sweep:
            print("\nsphere sweep: bandwidth_km temperature -> acc 1/25/200/750/2500 km, median km, GeoGuessr")
            for bandwidth in (25, 100, 300, 1000):
                for temperature in (0.02, 0.05, 0.2, 1.0):
                    s = evaluate(locator, items, LocateOptions(bandwidth_km=bandwidth, temperature=temperature)).summary()
                    accs = " ".join(f"{100 * s[f'acc_{t}km']:5.1f}" for t in (1, 25, 200, 750, 2500))
                    print(f"{bandwidth:6} {temperature:5} -> {accs}  {s['median_km']:6.0f} {s['mean_geoguessr']:5.0f}")
        database.close()


if __name__ == "__main__":
    main()
