"""An area of interest: polygons in WGS84 that the photos are known to come from (a vector file, a
bounding box or a country of the bundled Natural Earth layer). It restricts the reference search to the
references inside it, keeps predictions inside, and flags photos whose evidence lies far outside."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..geo import haversine_km

COUNTRIES_FILE = Path(__file__).resolve().parent.parent.parent / "resources" / "countries.geojson"


class AreaError(UserError):
    """An area that cannot be used: unreadable, not polygons, empty, or no reference inside it."""


@dataclass(frozen=True)
class Area:
    """Polygon rings (each an (n, 2) array of lon, lat; holes are rings too: containment is even-odd)
    and their bounding box (west, south, east, north)."""

    name: str
    rings: tuple[np.ndarray, ...]
    bbox: tuple[float, float, float, float]

    @classmethod
    def from_rings(cls, name: str, rings) -> Area:
        rings = tuple(np.asarray(r, dtype=np.float64)[:, :2] for r in rings if len(r) >= 3)
        if not rings:
            raise AreaError(f"{name}: the area holds no polygon")
        points = np.concatenate(rings)
        return cls(name, rings, (float(points[:, 0].min()), float(points[:, 1].min()),
                                 float(points[:, 0].max()), float(points[:, 1].max())))

    def contains(self, lat, lon) -> np.ndarray:
        """Whether each point lies inside (even-odd rule over all rings, so holes are left out)."""
        lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        west, south, east, north = self.bbox
        inside = np.zeros(lat.shape, dtype=bool)
        candidates = np.flatnonzero((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north))
        if candidates.size == 0:
            return inside
        x, y = lon[candidates], lat[candidates]
        crossings = np.zeros(candidates.size, dtype=bool)
        for ring in self.rings:
            x0, y0 = ring[:, 0], ring[:, 1]
            x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
            keep = (np.maximum(y0, y1) >= y.min()) & (np.minimum(y0, y1) <= y.max())
            for ax, ay, bx, by in zip(x0[keep], y0[keep], x1[keep], y1[keep]):
                straddles = (ay > y) != (by > y)
                if not straddles.any():
                    continue
                at = ax + (y - ay) * (bx - ax) / np.where(by != ay, by - ay, 1.0)
                crossings ^= straddles & (x < at)
        inside[candidates] = crossings
        return inside

    def distance_km(self, lat: float, lon: float) -> float:
        """0 inside; outside, the distance to the nearest point of the area's borders (densified to
        about 10 km, so good to that)."""
        if self.contains(lat, lon)[0]:
            return 0.0
        points = self.border_points
        return float(haversine_km(lat, lon, points[:, 1], points[:, 0]).min())

    @cached_property
    def border_points(self) -> np.ndarray:
        """(n, 2) lon, lat along every ring, about 0.1 degree apart."""
        return np.concatenate([densified(r) for r in self.rings])

    def nearest_inside(self, lat: float, lon: float, candidates_lat, candidates_lon, weights) -> int | None:
        """Among candidate points, the index of the heaviest one inside the area (None if none is)."""
        inside = np.flatnonzero(self.contains(candidates_lat, candidates_lon))
        if inside.size == 0:
            return None
        return int(inside[np.argmax(np.asarray(weights)[inside])])

    def extent_km(self) -> float:
        """The length of the bounding box's diagonal: no circle around a point inside needs more."""
        west, south, east, north = self.bbox
        return float(haversine_km(south, west, north, east))


def densified(ring: np.ndarray, step_deg: float = 0.1) -> np.ndarray:
    """The ring with points added along long edges, so that vertex distances approximate edge distances."""
    pieces = []
    for (ax, ay), (bx, by) in zip(ring, np.roll(ring, -1, axis=0)):
        count = max(1, int(np.ceil(max(abs(bx - ax), abs(by - ay)) / step_deg)))
        t = np.arange(count)[:, None] / count
        pieces.append(np.array([ax, ay]) + t * np.array([bx - ax, by - ay]))
    return np.concatenate(pieces)


def _rings_of_geojson(geometry: dict) -> list:
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        return list(coordinates)
    if kind == "MultiPolygon":
        return [ring for polygon in coordinates for ring in polygon]
    return []


def area_from_bbox(west: float, south: float, east: float, north: float) -> Area:
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise AreaError(f"bbox {west},{south},{east},{north} is not west,south,east,north within -180..180 and "
                        "-90..90 (west < east)")
    ring = np.array([[west, south], [east, south], [east, north], [west, north]])
    return Area.from_rings(f"bbox {west:g},{south:g},{east:g},{north:g}", [ring])


@lru_cache(maxsize=2)
def countries_layer(path: Path = COUNTRIES_FILE) -> tuple[tuple[str, str, Area], ...]:
    """(name, ISO code, area) of every country of the bundled layer, read once."""
    found = []
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        properties, rings = feature["properties"], _rings_of_geojson(feature["geometry"])
        if rings:
            found.append((str(properties["name"]), str(properties.get("iso_a2") or ""),
                          Area.from_rings(properties["name"], rings)))
    return tuple(found)


def country_names(path: Path = COUNTRIES_FILE) -> list[str]:
    return [name for name, _, _ in countries_layer(path)]


def area_from_country(name: str, path: Path = COUNTRIES_FILE) -> Area:
    """A country of the bundled layer by its name or ISO 3166 alpha-2 code (case-insensitive)."""
    wanted = name.strip().casefold()
    for country, code, area in countries_layer(path):
        if wanted in (country.casefold(), code.casefold()):
            return area
    close = [n for n in country_names(path) if wanted[:4] in n.casefold()][:5]
    hint = f"; did you mean {', '.join(close)}?" if close else " (names as in Natural Earth, e.g. 'France', or 'FR')"
    raise AreaError(f"unknown country '{name}'{hint}")


def country_of(lat, lon, path: Path = COUNTRIES_FILE) -> list[str | None]:
    """The bundled layer's country name of each point (None at sea or between simplified borders)."""
    lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    names: list[str | None] = [None] * len(lat)
    for name, _, area in countries_layer(path):
        for i in np.flatnonzero(area.contains(lat, lon)):
            names[i] = names[i] or name
    return names


def area_from_file(path: str | os.PathLike) -> Area:
    """The union of a vector file's polygons (any OGR format: GeoJSON, GPKG, shapefile; the first layer
    with polygons), reprojected to WGS84. Point and line layers are refused."""
    from osgeo import ogr

    from .vector import features_in_wgs84, open_vector

    path = Path(path)
    if not path.exists():
        raise AreaError(f"{path}: area file not found")
    dataset = open_vector(path, AreaError, "a vector file")
    if dataset.GetLayerCount() == 0:
        raise AreaError(f"{path}: not a vector file OGR can read")
    kinds = []
    for layer in dataset:
        rings = []
        for _, geometry in features_in_wgs84(layer):
            kinds.append(ogr.GeometryTypeToName(geometry.GetGeometryType()).lower())
            rings += _rings_of_geojson(json.loads(geometry.ExportToJson()))
        if rings:
            return Area.from_rings(path.name, rings)
    found = ", ".join(sorted(set(kinds))) or "no geometry"
    raise AreaError(f"{path}: an area must be polygons; this file holds {found}")


def resolve_area(spec: str, base: Path | None = None) -> Area:
    """An area from its text as the CLI and the CSV's `area` column give it: an existing vector file
    (relative to `base`), 'bbox:W,S,E,N', or a country name or code."""
    text = spec.strip()
    if text.lower().startswith("bbox:"):
        try:
            west, south, east, north = (float(v) for v in text[5:].split(","))
        except ValueError:
            raise AreaError(f"'{spec}': a bbox is bbox:west,south,east,north in degrees") from None
        return area_from_bbox(west, south, east, north)
    candidate = Path(text) if base is None or Path(text).is_absolute() else base / text
    if candidate.suffix and candidate.exists():
        return area_from_file(candidate)
    if candidate.suffix.lower() in (".geojson", ".gpkg", ".shp", ".json", ".kml", ".fgb"):
        raise AreaError(f"{candidate}: area file not found")
    return area_from_country(text)
