"""Where reference photos come from: a folder of photos with EXIF GPS, or a CSV of path,lat,lon."""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from .files import PATH_MAX, PhotoError, find_photos, os_reason, short_text
from .photos import read_gps
from .results import Skipped

LAT_NAMES = ("lat", "latitude", "y")
LON_NAMES = ("lon", "lng", "long", "longitude", "x")


@dataclass(frozen=True)
class Candidate:
    """A photo with a known location, ready to be embedded into a database."""

    path: Path
    lat: float
    lon: float
    altitude_m: float | None = None
    time: str | None = None
    attributes: dict = field(default_factory=dict)


def valid_location(lat: float, lon: float) -> bool:
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def from_folder(folder: str | os.PathLike, recursive: bool = True) -> tuple[list[Candidate], list[Skipped]]:
    """Photos under a folder that carry a usable EXIF GPS location; the others are listed as skipped."""
    candidates, problems = [], []
    photos = find_photos(folder, recursive, problems)
    skipped = [Skipped(p.path, p.reason) for p in problems]
    for path in photos:
        try:
            fix = read_gps(path)
        except PhotoError as exc:
            skipped.append(Skipped(str(path), exc.reason))
            continue
        if fix is None:
            skipped.append(Skipped(str(path), "no usable GPS location in EXIF"))
            continue
        candidates.append(Candidate(path, fix.lat, fix.lon, fix.altitude_m, fix.timestamp))
    return candidates, skipped


def _column(header: list[str], names: tuple[str, ...], csv_path: Path, what: str) -> str:
    lowered = {h.strip().lower(): h for h in header}
    for name in names:
        if name in lowered:
            return lowered[name]
    raise PhotoError(csv_path, f"no {what} column (expected one of: {', '.join(names)}); columns are {header}")


def from_csv(csv_path: str | os.PathLike) -> tuple[list[Candidate], list[Skipped]]:
    """Rows of a CSV with path,lat,lon (relative paths resolved against the CSV's folder).
    Other columns are kept as attributes; rows with a bad location or a missing file are skipped."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise PhotoError(csv_path, "CSV file not found")
    candidates, skipped = [], []
    try:
        _read_csv(csv_path, candidates, skipped)
    except csv.Error as exc:
        raise PhotoError(csv_path, f"not a readable CSV ({exc})") from None
    except UnicodeDecodeError as exc:
        raise PhotoError(csv_path, f"not UTF-8 text (byte {exc.start}); save the CSV as UTF-8") from None
    return candidates, skipped


def _read_csv(csv_path: Path, candidates: list[Candidate], skipped: list[Skipped]) -> None:
    with open(csv_path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        path_col = _column(header, ("path", "file", "filename", "photo"), csv_path, "path")
        lat_col = _column(header, LAT_NAMES, csv_path, "latitude")
        lon_col = _column(header, LON_NAMES, csv_path, "longitude")
        for line, row in enumerate(reader, start=2):
            raw_path = (row.get(path_col) or "").strip()
            if not raw_path:
                skipped.append(Skipped(f"{csv_path}:{line}", "empty path"))
                continue
            path = Path(raw_path)
            if not path.is_absolute():
                path = csv_path.parent / path
            if len(os.fsencode(path)) >= PATH_MAX:
                skipped.append(Skipped(short_text(str(path)), f"line {line}: path is too long to open "
                                                              f"(over {PATH_MAX} bytes)"))
                continue
            try:
                lat, lon = float(row[lat_col]), float(row[lon_col])
            except (TypeError, ValueError):
                skipped.append(Skipped(str(path), f"line {line}: latitude/longitude are not numbers"))
                continue
            if not valid_location(lat, lon):
                skipped.append(Skipped(str(path), f"line {line}: location ({lat}, {lon}) is out of range"))
                continue
            try:
                found = path.is_file()
            except OSError as exc:
                skipped.append(Skipped(short_text(str(path)), f"line {line}: cannot be opened ({os_reason(exc)})"))
                continue
            if not found:
                skipped.append(Skipped(str(path), f"line {line}: file not found"))
                continue
            extra = {k: v for k, v in row.items() if k not in (path_col, lat_col, lon_col) and k is not None}
            candidates.append(Candidate(path, lat, lon, attributes=extra))


def from_source(source: str | os.PathLike) -> tuple[list[Candidate], list[Skipped]]:
    """A folder or a .csv file."""
    source = Path(source)
    if source.is_dir():
        return from_folder(source)
    if source.suffix.lower() == ".csv":
        return from_csv(source)
    raise PhotoError(source, "a reference source must be a folder of geotagged photos or a CSV (path,lat,lon)")
