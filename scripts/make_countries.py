"""Regenerate resources/countries.geojson, the small countries layer behind `--area-country`.

Source: QGIS's resources/data/world_map.gpkg (layer `countries`), which derives from Natural Earth's
admin-0 countries (public domain, naturalearthdata.com). Each country is simplified (Douglas-Peucker
preserving topology, SIMPLIFY_DEG) and its coordinates rounded to 3 decimals (~100 m), so that the file
stays small; a country's border is then good to a few kilometres, which is what an area of interest
needs (a photo's reference search restricted to the country), not a border survey.

    .venv/bin/python scripts/make_countries.py [--source /usr/share/qgis/resources/data/world_map.gpkg]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from osgeo import ogr

SIMPLIFY_DEG = 0.1
DEFAULT_SOURCE = "/usr/share/qgis/resources/data/world_map.gpkg"
TARGET = Path(__file__).resolve().parent.parent / "resources" / "countries.geojson"


def rounded(coordinates):
    if isinstance(coordinates[0], (int, float)):
        return [round(coordinates[0], 3), round(coordinates[1], 3)]
    return [rounded(c) for c in coordinates]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=DEFAULT_SOURCE)
    args = parser.parse_args()
    dataset = ogr.Open(args.source)
    if dataset is None:
        raise SystemExit(f"{args.source}: cannot be opened by OGR")
    features = []
    for feature in dataset.GetLayerByName("countries"):
        geometry = feature.GetGeometryRef().SimplifyPreserveTopology(SIMPLIFY_DEG)
        if geometry is None or geometry.IsEmpty() or not feature.GetField("NAME"):
            continue
        shape = json.loads(geometry.ExportToJson())
        shape["coordinates"] = rounded(shape["coordinates"])
        features.append({"type": "Feature", "geometry": shape,
                         "properties": {"name": feature.GetField("NAME"), "iso_a2": feature.GetField("iso_a2")}})
    features.sort(key=lambda f: f["properties"]["name"])
    TARGET.write_text(json.dumps({
        "type": "FeatureCollection",
        "source": "Natural Earth admin-0 countries (public domain) via QGIS world_map.gpkg; "
                  f"simplified {SIMPLIFY_DEG} degrees by scripts/make_countries.py",
        "features": features}, separators=(",", ":")) + "\n")
    print(f"wrote {TARGET}: {len(features)} countries, {TARGET.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
