"""Build the world starter pack shipped with the plugin (resources/packs/world-starter.geolocpack) from the
Creative Commons photos in ../shared (flickr-cc/ and im2gps3k-cc/).

Only photos under CC BY 2.0 or CC BY-SA 2.0 are kept: a pack redistributes a thumbnail of each photo
(a copy, so ND-licensed photos are out) inside a GPL plugin that anyone may use for any purpose,
commercial ones included (so NC-licensed photos are out). Every kept photo is credited in the pack
(licence, Flickr owner, source link per record, in credits.csv and NOTICE.txt).

    .venv/bin/python scripts/build_starter_pack.py [--shared ../shared] [--work build/starter]

The embedding stage is resumable (a build database under --work); it takes a minute or two here.
`--licences` builds a larger pack for uses those licences allow (e.g. adding "CC BY-NC 2.0,CC BY-NC-SA 2.0"
for non-commercial work, never shipped with the plugin).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from geoloc_core.database import ReferenceDatabase  # noqa: E402
from geoloc_core.embedders import load_embedder  # noqa: E402
from geoloc_core.ingest import add_photos, build_database  # noqa: E402
from geoloc_core.packs import PackCredits, pack  # noqa: E402
from geoloc_core.sources import from_csv  # noqa: E402

COLLECTIONS = ("flickr-cc", "im2gps3k-cc")
REDISTRIBUTABLE = ("CC BY 2.0", "CC BY-SA 2.0")
LICENCE_URLS = {"CC BY 2.0": "https://creativecommons.org/licenses/by/2.0/",
                "CC BY-SA 2.0": "https://creativecommons.org/licenses/by-sa/2.0/",
                "CC BY-NC 2.0": "https://creativecommons.org/licenses/by-nc/2.0/",
                "CC BY-NC-SA 2.0": "https://creativecommons.org/licenses/by-nc-sa/2.0/",
                "CC BY-ND 2.0": "https://creativecommons.org/licenses/by-nd/2.0/",
                "CC BY-NC-ND 2.0": "https://creativecommons.org/licenses/by-nc-nd/2.0/"}
OUTPUT = REPO_ROOT / "resources" / "packs" / "world-starter.geolocpack"
NOTICE = """World starter pack for Photo Geolocator.

Reference photos: {count} Flickr photos taken worldwide, from the IM2GPS "2k random" set (Hays and Efros
2008) and the Im2GPS3k set (Vo, Jacobs and Hays 2017), kept only where the photographer published them under
{licences}. The pack holds, per photo, an image embedding, its location, a 96-pixel thumbnail
and the credit below; it holds no original photo. Thumbnails are copies of the photos under the photos' own
licences, whose terms apply to them (ShareAlike: shared only under the same licence; NonCommercial: no
commercial use). Each photo is at
https://www.flickr.com/photos/<owner>/<photo id>; credits.csv lists owner, licence and link of every photo.
"""


def filtered_csv(shared: Path, target: Path, licences=REDISTRIBUTABLE) -> Path:
    """One CSV of the photos under `licences` (absolute paths, licence/author/source columns)."""
    rows = []
    for collection in COLLECTIONS:
        manifest = shared / collection / "manifest.csv"
        with open(manifest, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["licence"] not in licences:
                    continue
                rows.append({
                    "path": str((manifest.parent / row["path"]).resolve()), "lat": row["lat"], "lon": row["lon"],
                    "licence": row["licence"], "licence_url": LICENCE_URLS[row["licence"]],
                    "author": f"Flickr user {row['flickr_owner']}",
                    "source_url": f"https://www.flickr.com/photos/{row['flickr_owner']}/{row['flickr_photo_id']}",
                    "collection": collection,
                })
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared")
    parser.add_argument("--work", type=Path, default=REPO_ROOT / "build" / "starter")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--name", default="world-starter", help="the pack's name (default world-starter)")
    parser.add_argument("--licences", default=",".join(REDISTRIBUTABLE),
                        help=f"licences to keep, comma-separated (default: {', '.join(REDISTRIBUTABLE)})")
    args = parser.parse_args()
    licences = tuple(part.strip() for part in args.licences.split(","))
    unknown = [licence for licence in licences if licence not in LICENCE_URLS]
    if unknown:
        parser.error(f"unknown licences {unknown}; choose from {', '.join(LICENCE_URLS)}")
    source = filtered_csv(args.shared, args.work / f"{args.name}.csv", licences)
    candidates, skipped = from_csv(source)
    if skipped:
        print("\n".join(f"skipped {s}" for s in skipped), file=sys.stderr)
    folder = args.work / f"{args.name}.geoloc"
    if (folder / "manifest.json").exists():
        database = ReferenceDatabase.open(folder, writable=True)
        report = add_photos(database, candidates, load_embedder())
    else:
        database, report = build_database(folder, candidates, load_embedder())
    print(f"{folder}: {report.summary()}")
    database.close()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    title = "World starter pack" if licences == REDISTRIBUTABLE else f"World pack ({', '.join(licences)})"
    notice = NOTICE.format(count=len(candidates), licences=" or ".join(licences))
    info = pack(folder, args.output, name=args.name, title=title, licence_notice=notice, credits=PackCredits(),
                overwrite=True)
    print(f"wrote {args.output} ({args.output.stat().st_size / 1e6:.2f} MB, {info.count} photos, "
          f"sha256 {info.sha256})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
