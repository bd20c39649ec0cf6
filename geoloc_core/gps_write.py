"""Writing the analyst's reviewed locations back into the photos (EXIF GPS, or an XMP sidecar).

The photo's own bytes are edited, never re-encoded: a JPEG gets a new APP1 Exif segment (every other
segment, the pixels included, copied as it was), a PNG its eXIf chunk, a WebP its EXIF chunk, a TIFF new
directories appended at its end. Inside the Exif block nothing moves either: the first directory is copied
to the end with its GPSInfo pointer aimed at a new GPS directory after it, so maker notes and thumbnails,
whose offsets are absolute, stay valid. HEIC/HEIF and every other format get an XMP sidecar.

Each photo is written beside itself and renamed into place (never half-written); the original is first
kept byte for byte as `<name>_original` (ExifTool's name for its backups). The write is listed in an undo
list beside the results file before either file is touched, so that a process killed at any point leaves
every photo either as it was or written with its backup, and `undo_gps` (which replays the list in
reverse) puts back both kinds. A photo that cannot be written (missing, unreadable, changed since the
run, a format it cannot hold) is one row with its reason; the others go on.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import stat
import struct
import zlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from xml.etree import ElementTree

from .errors import OptionError, UserError
from .files import FORMULA_STARTS, PhotoError, display_path, os_reason
from .progress import ProgressCallback, StopCheck, report
from .results import Skipped
from .schema import REVIEW_STATUSES
from .storage import atomic_write, atomic_write_json, remove_dead_temporaries, utc_now

DEFAULT_STATUSES = ("accepted", "moved")
WRITABLE_STATUSES = ("accepted", "moved", "unreviewed")  # a rejected place is never written
SIDECAR_NAMES = ("full", "stem")  # IMG_1.HEIC.xmp (darktable, digiKam) or IMG_1.xmp (Lightroom, Capture One)
BACKUP_SUFFIX = "_original"
UNDO_SUFFIX = ".gps-undo.json"
PREDICTIONS_LAYER = "predictions"
REQUIRED_FIELDS = ("photo", "lat", "lon", "review_status", "reviewed_lat", "reviewed_lon")
TIFF_SUFFIXES = (".tif", ".tiff")  # raw formats are TIFF inside too, but get a sidecar: their makers' layouts vary
MAX_JPEG_SEGMENT = 0xFFFF  # a JPEG segment's length field, itself included
CHANGED_TOLERANCE_S = 2.0  # the run's time is kept to the second; file systems round modification times
GPS_IFD_TAG = 0x8825
UNDO_OUTCOMES = ("restored", "removed", "unchanged", "would restore", "would remove")

EXIF_NS = "http://ns.adobe.com/exif/1.0/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XMP_META_NS = "adobe:ns:meta/"
XPACKET_BEGIN = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
XPACKET_END = '<?xpacket end="w"?>'

PROCESSING_METHODS = {
    "accepted": "Estimated from the image by Photo Geolocator; accepted by an analyst",
    "moved": "Estimated from the image by Photo Geolocator; moved to this place by an analyst",
    "unreviewed": "Estimated from the image by Photo Geolocator; not reviewed",
}


class FormatProblem(UserError):
    """A photo this module cannot write into as it is (its reason is the message)."""


@dataclass(frozen=True)
class ReviewedPhoto:
    """One row of a results file chosen for writing: the photo and the place the analyst kept."""

    path: str
    lat: float
    lon: float
    status: str
    note: str = ""
    run_time: str = ""
    capture_time: str = ""

    def attributes(self) -> dict:
        """What a reference database keeps about a photo added from a review: where its place came from."""
        return {"source": "analyst-reviewed", "review_status": self.status, "review_note": self.note,
                "located_at": self.run_time}


@dataclass
class GpsWriteRow:
    """What happened to one photo: `outcome` is written, would write, restored, removed, would restore,
    would remove (an undo's dry run), unchanged (undo found it as it was before the write: a run stopped
    before writing it, or an undo stopped before listing it as undone) or skipped."""

    photo: str
    outcome: str
    method: str = ""  # exif or sidecar
    target: str = ""  # the file written: the photo, or its sidecar
    status: str = ""  # the review status the place came from
    old_lat: float | None = None
    old_lon: float | None = None
    new_lat: float | None = None
    new_lon: float | None = None
    backup: str = ""
    problem: str = ""  # why it was skipped, or a warning beside a write

    def line(self) -> str:
        name = display_path(self.photo)
        if self.outcome == "skipped":
            return f"skipped {name}: {self.problem}"
        if self.outcome in ("restored", "would restore"):
            return f"{self.outcome} {display_path(self.target)} from {display_path(self.backup)}"
        if self.outcome in ("removed", "would remove"):
            return f"{self.outcome} {display_path(self.target)} (a sidecar this tool made)"
        if self.outcome == "unchanged":
            return f"{display_path(self.target)} is already as it was before GPS was written" + (
                f"; removed {display_path(self.backup)}" if self.backup else "")
        old = "none" if self.old_lat is None else f"{self.old_lat:.6f} {self.old_lon:.6f}"
        where = "EXIF" if self.method == "exif" else f"sidecar {display_path(self.target)}"
        text = f"{self.outcome} {name}: GPS {old} -> {self.new_lat:.6f} {self.new_lon:.6f} ({where}, {self.status})"
        return text + (f"; {self.problem}" if self.problem else "")


@dataclass
class GpsWriteReport:
    """Every photo's row, whether it was a dry run, and the undo list the writes were recorded in."""

    rows: list[GpsWriteRow] = field(default_factory=list)
    dry_run: bool = False
    undo_list: str = ""
    cancelled: bool = False

    def count(self, outcome: str) -> int:
        return sum(row.outcome == outcome for row in self.rows)

    def summary(self) -> str:
        if any(row.outcome in UNDO_OUTCOMES for row in self.rows):
            restore, remove = ("would restore", "would remove") if self.dry_run else ("restored", "removed")
            text = (f"{restore} {_counted(self.count(restore), 'file')}, {remove.split()[-1]} "
                    f"{_counted(self.count(remove), 'sidecar')}, {self.count('skipped')} left as they were")
            if self.count("unchanged"):
                text += f", {self.count('unchanged')} found as before the write"
            if self.dry_run:
                text += " (dry run: nothing was changed)"
        else:
            verb = "would write" if self.dry_run else "written"
            text = f"GPS {verb}: {_counted(self.count(verb), 'photo')}, {self.count('skipped')} skipped"
            if self.dry_run:
                text += " (dry run: nothing was changed)"
        return text + (" (cancelled)" if self.cancelled else "")

    def to_dict(self) -> dict:
        return {"rows": [asdict(row) for row in self.rows], "dry_run": self.dry_run, "undo_list": self.undo_list,
                "cancelled": self.cancelled}

    @classmethod
    def from_dict(cls, data: dict) -> GpsWriteReport:
        return cls([GpsWriteRow(**row) for row in data["rows"]], bool(data["dry_run"]), data["undo_list"],
                   bool(data["cancelled"]))


def _counted(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


# ---- reading the results file -------------------------------------------------------------------------

def check_statuses(statuses) -> tuple[str, ...]:
    """The review statuses to write, each a known one and none 'rejected' (OptionError otherwise)."""
    chosen = tuple(s.strip() for s in statuses if s.strip())
    for status in chosen:
        if status not in REVIEW_STATUSES:
            raise OptionError(f"status: {status!r} is no review status; use {', '.join(WRITABLE_STATUSES)}")
        if status not in WRITABLE_STATUSES:
            raise OptionError("status: a rejected place is never written; use "
                              f"{', '.join(WRITABLE_STATUSES)}")
    if not chosen:
        raise OptionError(f"status: choose at least one of {', '.join(WRITABLE_STATUSES)}")
    return chosen


def read_result_rows(results_path: str | os.PathLike) -> list[dict]:
    """The predictions of a results file that `locate -o` (or the panel) wrote: a .gpkg's `predictions`
    layer or a .csv; UserError naming the file when it is neither or lacks the review fields."""
    path = Path(results_path)
    if not path.is_file():
        raise UserError(f"{display_path(path)}: results file not found")
    suffix = path.suffix.lower()
    if suffix == ".gpkg":
        rows = _gpkg_rows(path)
    elif suffix == ".csv":
        rows = _csv_rows(path)
    else:
        raise UserError(f"{display_path(path)}: give the .gpkg or .csv results file that locate -o writes")
    missing = [name for name in REQUIRED_FIELDS if rows and name not in rows[0]]
    if missing:
        raise UserError(f"{display_path(path)}: no {', '.join(missing)} field; these results hold no review "
                        "(review them in the QGIS panel, or give a results file written since reviews were added)")
    return rows


def _csv_rows(path: Path) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else str(exc)
        raise UserError(f"{display_path(path)}: cannot be read as CSV ({reason})") from None
    return [{name: _cell(value) for name, value in row.items() if name is not None} for row in rows]


def _cell(value):
    """A CSV cell as written: empty is None; the apostrophe that kept a spreadsheet from running text as a
    formula (files.spreadsheet_safe) is taken off again."""
    if value is None or value == "":
        return None
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def _gpkg_rows(path: Path) -> list[dict]:
    from osgeo import gdal

    turned_on = not gdal.GetUseExceptions()  # QGIS's own setting is put back after the read
    if turned_on:
        gdal.UseExceptions()
    try:
        dataset = gdal.OpenEx(str(path), gdal.OF_VECTOR | gdal.OF_READONLY)
        layer = dataset.GetLayerByName(PREDICTIONS_LAYER)
        if layer is None:  # a results GeoPackage saved under another layer name: the one with the fields
            layers = (dataset.GetLayerByIndex(i) for i in range(dataset.GetLayerCount()))
            layer = next((candidate for candidate in layers if {"photo", "review_status"} <= {
                d.GetName() for d in candidate.schema}), None)
        if layer is None:
            raise UserError(f"{display_path(path)}: no {PREDICTIONS_LAYER} layer; give the results GeoPackage "
                            "that locate -o or the QGIS panel wrote")
        names = [definition.GetName() for definition in layer.schema]
        rows = [{name: feature.GetField(name) for name in names} for feature in layer]
    except RuntimeError as exc:
        raise UserError(f"{display_path(path)}: cannot be read as a GeoPackage ({' '.join(str(exc).split())})") \
            from None
    finally:
        layer = dataset = None
        if turned_on:
            gdal.DontUseExceptions()
    return rows


def _number(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is no place


def _photo_path(value: str, results_folder: Path) -> str:
    """A photo as the results name it; a relative name is found from here, else from the results' folder."""
    path = Path(value)
    if path.is_absolute() or path.exists() or not (results_folder / path).exists():
        return str(path)
    return str(results_folder / path)


def reviewed_photos(results_path: str | os.PathLike,
                    statuses=DEFAULT_STATUSES) -> tuple[list[ReviewedPhoto], list[Skipped]]:
    """The photos whose review status is one of `statuses`, each with the place the analyst kept
    (`reviewed_lat/lon`; for an accepted or unreviewed photo without one, the prediction), and the chosen
    rows that have no usable place."""
    chosen = check_statuses(statuses)
    folder = Path(results_path).parent
    photos, skipped = [], []
    for row in read_result_rows(results_path):
        status = (row.get("review_status") or "unreviewed").strip()
        if status not in chosen or not row.get("photo"):
            continue
        lat, lon = _number(row.get("reviewed_lat")), _number(row.get("reviewed_lon"))
        if (lat is None or lon is None) and status in ("accepted", "unreviewed"):
            lat, lon = _number(row.get("lat")), _number(row.get("lon"))
        photo = _photo_path(str(row["photo"]), folder)
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            skipped.append(Skipped(photo, f"{status}, but the results hold no valid reviewed location for it"))
            continue
        photos.append(ReviewedPhoto(photo, lat, lon, status, row.get("review_note") or "", row.get("run_time") or "",
                                    row.get("capture_time") or ""))
    return photos, skipped


# ---- the GPS directory --------------------------------------------------------------------------------

BYTE, ASCII, LONG, RATIONAL, UNDEFINED = 1, 2, 4, 5, 7


def _rationals(value: float, order: str) -> bytes:
    """Degrees as EXIF's three rationals (degrees, minutes, seconds to 1/10000 s: 3 mm)."""
    units = round(abs(value) * 3600 * 10000)
    degrees, units = divmod(units, 3600 * 10000)
    minutes, units = divmod(units, 60 * 10000)
    return struct.pack(order + "6I", degrees, 1, minutes, 1, units, 10000)


def _gps_entries(lat: float, lon: float, method: str, order: str) -> list[tuple[int, int, int, bytes]]:
    """The GPS directory's (tag, type, count, value): version 2.3, the place, WGS-84 and how it was found.
    Altitude and the fix's time are not written: they belonged to another place."""
    text = b"ASCII\x00\x00\x00" + method.encode("ascii")
    return [
        (0x0000, BYTE, 4, bytes((2, 3, 0, 0))),
        (0x0001, ASCII, 2, b"N\x00" if lat >= 0 else b"S\x00"),
        (0x0002, RATIONAL, 3, _rationals(lat, order)),
        (0x0003, ASCII, 2, b"E\x00" if lon >= 0 else b"W\x00"),
        (0x0004, RATIONAL, 3, _rationals(lon, order)),
        (0x0012, ASCII, 7, b"WGS-84\x00"),
        (0x001B, UNDEFINED, len(text), text),
    ]


def _directory(entries: list[tuple[int, int, int, bytes]], start: int, order: str) -> bytes:
    """An IFD at `start` (an offset from the TIFF header) with its long values right after it."""
    values_at = start + 2 + 12 * len(entries) + 4
    table, values = [], bytearray()
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            table.append(struct.pack(order + "HHI", tag, kind, count) + value.ljust(4, b"\x00"))
        else:
            table.append(struct.pack(order + "HHII", tag, kind, count, values_at + len(values)))
            values += value + b"\x00" * (len(value) % 2)  # offsets stay even
    return struct.pack(order + "H", len(entries)) + b"".join(table) + b"\x00\x00\x00\x00" + bytes(values)


def tiff_with_gps(tiff: bytes | None, lat: float, lon: float, method: str) -> bytes:
    """A TIFF structure (an Exif block, or a whole TIFF file) with a new GPS directory. Nothing already
    there moves: the first directory is copied to the end with its GPSInfo entry pointing to the new GPS
    directory after it, and the header pointed at the copy."""
    if not tiff:
        order = ">"
        header = b"MM\x00\x2a" + struct.pack(">I", 8)
        gps_at = 8 + 2 + 12 + 4
        ifd0 = struct.pack(">HHHII", 1, GPS_IFD_TAG, LONG, 1, gps_at) + b"\x00\x00\x00\x00"
        return header + ifd0 + _directory(_gps_entries(lat, lon, method, order), gps_at, order)
    if tiff[:4] in (b"II\x2b\x00", b"MM\x00\x2b"):
        raise FormatProblem("a BigTIFF, whose GPS this tool does not write; use --sidecar")
    order = {b"II\x2a\x00": "<", b"MM\x00\x2a": ">"}.get(tiff[:4])
    if order is None or len(tiff) < 8:
        raise FormatProblem("its Exif block is damaged (no TIFF header)")
    (first,) = struct.unpack(order + "I", tiff[4:8])
    if first + 2 > len(tiff):
        raise FormatProblem("its Exif block is damaged (the first directory lies past its end)")
    (count,) = struct.unpack(order + "H", tiff[first:first + 2])
    end = first + 2 + 12 * count
    if end + 4 > len(tiff):
        raise FormatProblem("its Exif block is damaged (the first directory is cut short)")
    entries = [tiff[first + 2 + 12 * i:first + 14 + 12 * i] for i in range(count)]
    following = tiff[end:end + 4]  # the next directory (a thumbnail, a page) stays where it is
    tags = [struct.unpack(order + "H", entry[:2])[0] for entry in entries]
    body = bytearray(tiff) + b"\x00" * (len(tiff) % 2)
    copy_at = len(body)
    gps_at = copy_at + 2 + 12 * (len(entries) + (GPS_IFD_TAG not in tags)) + 4
    pointer = struct.pack(order + "HHII", GPS_IFD_TAG, LONG, 1, gps_at)
    # the pointer replaces the old one, or goes where ascending order puts it; the other entries keep their
    # order (a damaged entry sorted first would hide the good ones from readers that stop at it)
    if GPS_IFD_TAG in tags:
        table = [pointer if tag == GPS_IFD_TAG else entry for tag, entry in zip(tags, entries)]
    else:
        at = next((i for i, tag in enumerate(tags) if tag > GPS_IFD_TAG), len(entries))
        table = [*entries[:at], pointer, *entries[at:]]
    body += struct.pack(order + "H", len(table)) + b"".join(table) + following
    body += _directory(_gps_entries(lat, lon, method, order), gps_at, order)
    if len(body) >= 1 << 32:
        raise FormatProblem("too large for a classic TIFF's offsets")
    body[4:8] = struct.pack(order + "I", copy_at)
    return bytes(body)


# ---- the containers -----------------------------------------------------------------------------------

EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_GPS_NOTE = "its embedded XMP holds a GPS position of its own, left unchanged"
OWN_GPS_NOTE = "the photo keeps its own EXIF GPS; programs that read the photo and not its sidecar show that one"


def _jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each segment before the image data (SOS)."""
    if data[:2] != b"\xff\xd8":
        raise FormatProblem("not a JPEG (no start-of-image marker)")
    segments, position = [], 2
    while True:
        if position + 4 > len(data) or data[position] != 0xFF:
            raise FormatProblem("a damaged or truncated JPEG (its header segments do not follow each other)")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0xDA, 0xD9):
            return segments
        (length,) = struct.unpack(">H", data[position + 2:position + 4])
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise FormatProblem("a damaged or truncated JPEG (a header segment runs past the file's end)")
        segments.append((marker, position, end))
        position = end


def jpeg_with_gps(data: bytes, lat: float, lon: float, method: str) -> tuple[bytes, str]:
    """The JPEG with its APP1 Exif segment rewritten (or one added after SOI/JFIF); every other byte kept.
    Also a note when an embedded XMP packet holds a GPS position of its own."""
    segments = _jpeg_segments(data)
    exif = next(((start, end) for marker, start, end in segments
                 if marker == 0xE1 and data[start + 4:start + 10] == EXIF_HEADER), None)
    note = next((XMP_GPS_NOTE for marker, start, end in segments if marker == 0xE1
                 and data[start + 4:start + 4 + len(XMP_HEADER)] == XMP_HEADER and b"GPSLatitude" in data[start:end]),
                "")
    old = data[exif[0] + 10:exif[1]] if exif else None
    payload = EXIF_HEADER + tiff_with_gps(old, lat, lon, method)
    if len(payload) + 2 > MAX_JPEG_SEGMENT:
        raise FormatProblem("its Exif block would pass JPEG's 64 KB segment limit; use --sidecar")
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    if exif:
        return data[:exif[0]] + segment + data[exif[1]:], note
    at = segments[0][2] if segments and segments[0][0] == 0xE0 else 2  # after JFIF's APP0, which must come first
    return data[:at] + segment + data[at:], note


def _png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of each chunk."""
    if data[:8] != PNG_SIGNATURE:
        raise FormatProblem("not a PNG (no PNG signature)")
    chunks, position = [], 8
    while position < len(data):
        if position + 12 > len(data):
            raise FormatProblem("a truncated PNG")
        (length,) = struct.unpack(">I", data[position:position + 4])
        end = position + 12 + length
        if end > len(data):
            raise FormatProblem("a truncated PNG (a chunk runs past the file's end)")
        chunks.append((data[position + 4:position + 8], position, end))
        position = end
    if not any(kind == b"IDAT" for kind, _, _ in chunks):
        raise FormatProblem("a PNG without image data")
    return chunks


def _unprefixed(exif: bytes) -> bytes:
    """An Exif chunk's TIFF structure: some writers put JPEG's 'Exif\\0\\0' before it."""
    return exif[len(EXIF_HEADER):] if exif.startswith(EXIF_HEADER) else exif


def png_with_gps(data: bytes, lat: float, lon: float, method: str) -> bytes:
    """The PNG with its eXIf chunk rewritten (or one added before the image data); every other chunk kept."""
    chunks = _png_chunks(data)
    exif = next(((start, end) for kind, start, end in chunks if kind == b"eXIf"), None)
    old = _unprefixed(data[exif[0] + 8:exif[1] - 4]) if exif else None
    tiff = tiff_with_gps(old, lat, lon, method)
    chunk = struct.pack(">I", len(tiff)) + b"eXIf" + tiff + struct.pack(">I", zlib.crc32(b"eXIf" + tiff))
    if exif:
        return data[:exif[0]] + chunk + data[exif[1]:]
    at = next(start for kind, start, _ in chunks if kind == b"IDAT")
    return data[:at] + chunk + data[at:]


def _riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) % 2)


def _webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise FormatProblem("not a WebP (no RIFF WEBP header)")
    (riff_size,) = struct.unpack("<I", data[4:8])
    if 8 + riff_size > len(data):
        raise FormatProblem("a truncated WebP (shorter than its RIFF header says)")
    data = data[:8 + riff_size]  # what follows the RIFF form is no part of the image
    chunks, position = [], 12
    while position + 8 <= len(data):
        fourcc = data[position:position + 4]
        (size,) = struct.unpack("<I", data[position + 4:position + 8])
        if position + 8 + size > len(data):
            raise FormatProblem("a truncated WebP (a chunk runs past the file's end)")
        chunks.append((fourcc, data[position + 8:position + 8 + size]))
        position += 8 + size + size % 2
    if not chunks:
        raise FormatProblem("a WebP without image data")
    return chunks


def _webp_canvas(fourcc: bytes, payload: bytes) -> tuple[int, int, bool]:
    """(width, height, has alpha) of a simple WebP's one image chunk, for the VP8X chunk EXIF needs."""
    if fourcc == b"VP8 " and len(payload) >= 10 and payload[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", payload[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    if fourcc == b"VP8L" and len(payload) >= 5 and payload[0] == 0x2F:
        (bits,) = struct.unpack("<I", payload[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise FormatProblem("a WebP whose image chunk cannot be read")


def webp_with_gps(data: bytes, lat: float, lon: float, method: str) -> bytes:
    """The WebP with its EXIF chunk rewritten (or one added before any XMP chunk, with the VP8X chunk and
    flag the extended format asks for); the image chunks copied as they were."""
    chunks = _webp_chunks(data)
    if chunks[0][0] != b"VP8X":
        width, height, alpha = _webp_canvas(*chunks[0])
        flags = 0x10 if alpha else 0
        vp8x = bytes((flags, 0, 0, 0)) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunks.insert(0, (b"VP8X", vp8x))
    chunks[0] = (b"VP8X", bytes((chunks[0][1][0] | 0x08,)) + chunks[0][1][1:])  # the EXIF flag
    old = next((_unprefixed(payload) for fourcc, payload in chunks if fourcc == b"EXIF"), None)
    exif = (b"EXIF", tiff_with_gps(old, lat, lon, method))
    if old is not None:
        chunks = [exif if fourcc == b"EXIF" else (fourcc, payload) for fourcc, payload in chunks]
    else:
        at = next((i for i, (fourcc, _) in enumerate(chunks) if fourcc == b"XMP "), len(chunks))
        chunks.insert(at, exif)
    body = b"WEBP" + b"".join(_riff_chunk(fourcc, payload) for fourcc, payload in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def embedded_format(data: bytes, path: Path) -> str | None:
    """Which container the photo's bytes are, when GPS can be written inside it (else None: a sidecar)."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == PNG_SIGNATURE:
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] in (b"II\x2a\x00", b"MM\x00\x2a") and path.suffix.lower() in TIFF_SUFFIXES:
        return "tiff"
    return None


def embedded_with_gps(kind: str, data: bytes, lat: float, lon: float, method: str) -> tuple[bytes, str]:
    """The photo's bytes with the GPS written in, and a note for the analyst ('' when none)."""
    if kind == "jpeg":
        return jpeg_with_gps(data, lat, lon, method)
    if kind == "png":
        return png_with_gps(data, lat, lon, method), ""
    if kind == "webp":
        return webp_with_gps(data, lat, lon, method), ""
    return tiff_with_gps(data, lat, lon, method), ""


# ---- the XMP sidecar ----------------------------------------------------------------------------------

def xmp_coordinate(value: float, positive: str, negative: str) -> str:
    """XMP's GPSCoordinate, 'DDD,MM.mmmmmmk' (minutes to a millionth: 2 cm)."""
    units = round(abs(value) * 60 * 10**6)
    degrees, units = divmod(units, 60 * 10**6)
    return f"{degrees},{units // 10**6}.{units % 10**6:06d}{positive if value >= 0 else negative}"


def xmp_gps_properties(lat: float, lon: float, method: str) -> dict[str, str]:
    return {"GPSVersionID": "2.3.0.0", "GPSLatitude": xmp_coordinate(lat, "N", "S"),
            "GPSLongitude": xmp_coordinate(lon, "E", "W"), "GPSMapDatum": "WGS-84", "GPSProcessingMethod": method}


def sidecar_path(photo: Path, naming: str = "full") -> Path:
    """IMG_1.HEIC -> IMG_1.HEIC.xmp ('full': darktable's and digiKam's name) or IMG_1.xmp ('stem':
    Lightroom's and Capture One's)."""
    if naming not in SIDECAR_NAMES:
        raise OptionError(f"sidecar_name: {naming!r}; use {' or '.join(SIDECAR_NAMES)}")
    return photo.with_name(photo.name + ".xmp") if naming == "full" else photo.with_suffix(".xmp")


def sidecar_with_gps(existing: bytes | None, lat: float, lon: float, method: str) -> bytes:
    """An XMP sidecar holding the place: a new one, or `existing` with its GPS properties replaced and
    everything else (other namespaces, other tools' properties) kept."""
    properties = xmp_gps_properties(lat, lon, method)
    if existing is None:
        attributes = "".join(f'\n    exif:{name}="{_xml_text(value)}"' for name, value in properties.items())
        body = (f'<x:xmpmeta xmlns:x="{XMP_META_NS}" x:xmptk="Photo Geolocator">\n'
                f' <rdf:RDF xmlns:rdf="{RDF_NS}">\n'
                f'  <rdf:Description rdf:about=""\n    xmlns:exif="{EXIF_NS}"{attributes}/>\n'
                " </rdf:RDF>\n</x:xmpmeta>")
        return f"{XPACKET_BEGIN}\n{body}\n{XPACKET_END}\n".encode()
    try:
        for _, (prefix, uri) in ElementTree.iterparse(io.BytesIO(existing), events=("start-ns",)):
            if prefix and not prefix.startswith("ns"):
                ElementTree.register_namespace(prefix, uri)
        root = ElementTree.fromstring(existing)
    except (ElementTree.ParseError, ValueError) as exc:
        raise FormatProblem(f"its sidecar cannot be read as XMP ({exc}); it was left unchanged") from None
    ElementTree.register_namespace("exif", EXIF_NS)
    rdf = root if root.tag == f"{{{RDF_NS}}}RDF" else root.find(f".//{{{RDF_NS}}}RDF")
    if rdf is None:
        raise FormatProblem("its sidecar holds no rdf:RDF element; it was left unchanged")
    descriptions = rdf.findall(f"{{{RDF_NS}}}Description")
    for description in descriptions:
        for key in [k for k in description.attrib if k.startswith(f"{{{EXIF_NS}}}GPS")]:
            del description.attrib[key]
        for child in [c for c in description if c.tag.startswith(f"{{{EXIF_NS}}}GPS")]:
            description.remove(child)
    target = descriptions[0] if descriptions else ElementTree.SubElement(
        rdf, f"{{{RDF_NS}}}Description", {f"{{{RDF_NS}}}about": ""})
    for name, value in properties.items():
        target.set(f"{{{EXIF_NS}}}{name}", value)
    return f"{XPACKET_BEGIN}\n{ElementTree.tostring(root, encoding='unicode')}\n{XPACKET_END}\n".encode()


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


# ---- writing, with backups and the undo list ----------------------------------------------------------

def undo_list_path(results_path: str | os.PathLike) -> Path:
    path = Path(results_path)
    return path.with_name(path.name + UNDO_SUFFIX)


def _load_undo(path: Path) -> list[dict]:
    if not path.exists():
        return []
    try:
        return list(json.loads(path.read_text(encoding="utf-8"))["writes"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{display_path(path)}: the undo list cannot be read ({exc}); move it away to go on") \
            from None


def _save_undo(path: Path, writes: list[dict]) -> None:
    try:
        if writes:
            atomic_write_json(path, {"format": 1, "writes": writes})
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        raise UserError(f"{display_path(path)}: the undo list cannot be written ({os_reason(exc)})") from None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _backup_path(target: Path) -> Path:
    """`<name>_original`, or `_original.2`, `.3`... where an earlier backup is there: none is replaced."""
    candidate, number = target.with_name(target.name + BACKUP_SUFFIX), 1
    while candidate.exists():
        number += 1
        candidate = target.with_name(f"{target.name}{BACKUP_SUFFIX}.{number}")
    return candidate


def _replace_bytes(target: Path, data: bytes, mode: int | None, times: tuple[int, int] | None = None) -> None:
    """`target` holds `data` after one rename, with these permissions and (access, modification) times in
    nanoseconds already set on it, or is left as it was."""
    def write(temporary: Path) -> None:
        temporary.write_bytes(data)
        if times is not None:
            os.utime(temporary, ns=times)
        if mode is not None:
            os.chmod(temporary, mode)
    atomic_write(target, write)


def _holds(path: Path, data: bytes | None) -> bool:
    """Whether `path` holds these bytes (None: whether it is absent)."""
    if data is None:
        return not path.exists()
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def _parse_time(text: str) -> float | None:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def _changed_since_run(path: Path, photo: ReviewedPhoto, data: bytes, our_writes: set[str]) -> str:
    """Why the photo may not be the one that was located ('' when it is, or when we wrote it since)."""
    located = _parse_time(photo.run_time)
    modified = path.stat().st_mtime
    if located is None or modified <= located + CHANGED_TOLERANCE_S or _sha256(data) in our_writes:
        return ""
    when = datetime.fromtimestamp(modified, timezone.utc).isoformat(timespec="seconds")
    return (f"changed since the run ({photo.run_time}): modified {when}; locate it again, or allow changed photos "
            "(--allow-changed)")


def _old_gps(path: Path) -> tuple[float | None, float | None]:
    from .photos import read_gps

    fix = read_gps(path)
    return (fix.lat, fix.lon) if fix is not None else (None, None)


def write_gps(results_path: str | os.PathLike, statuses=DEFAULT_STATUSES, sidecar_only: bool = False,
              dry_run: bool = False, backup: bool = True, sidecar_name: str = "full", allow_changed: bool = False,
              progress: ProgressCallback | None = None, should_stop: StopCheck | None = None) -> GpsWriteReport:
    """Write each chosen photo's reviewed place into its EXIF GPS (JPEG, PNG, WebP, TIFF) or an XMP sidecar
    (other formats, or all with `sidecar_only`). See the module's docstring for what is kept."""
    sidecar_path(Path("photo"), sidecar_name)  # a bad naming is refused before any work
    photos, unusable = reviewed_photos(results_path, statuses)
    undo_path = undo_list_path(results_path)
    if not dry_run and not os.access(undo_path.parent, os.W_OK):  # before any photo is touched
        raise UserError(f"{display_path(undo_path.parent)}: the undo list cannot be written there (permission "
                        "denied); copy the results file to a folder you can write to")
    with contextlib.nullcontext() if dry_run else _one_writer(results_path):
        if not dry_run:
            remove_dead_temporaries(undo_path)  # a killed run's, even where it wrote no list
        return _write_all(photos, unusable, undo_path, sidecar_only, dry_run, backup, sidecar_name, allow_changed,
                          progress, should_stop)


@contextlib.contextmanager
def _one_writer(results_path: str | os.PathLike):
    """One write or undo at a time per results file (two would each save their own undo list, and the
    writes of one would be lost to undo): an advisory lock on the results file; none where fcntl is
    missing (Windows), where the file system has no locks (some network shares), or for an undo whose
    results file is gone or unreadable (no write can run on it)."""
    try:
        import fcntl

        handle = open(results_path, "rb")
    except (ImportError, OSError):
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"{display_path(results_path)}: another process is writing GPS for these results "
                            "(write-gps or its undo); run this once it has finished") from None
        except OSError:
            yield
            return
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_all(photos: list[ReviewedPhoto], unusable: list[Skipped], undo_path: Path, sidecar_only: bool,
               dry_run: bool, backup: bool, sidecar_name: str, allow_changed: bool,
               progress: ProgressCallback | None, should_stop: StopCheck | None) -> GpsWriteReport:
    writes = _load_undo(undo_path)
    result = GpsWriteReport([GpsWriteRow(s.path, "skipped", problem=s.reason) for s in unusable], dry_run,
                            str(undo_path))
    for done, photo in enumerate(photos, start=1):
        if should_stop is not None and should_stop():
            result.cancelled = True
            break
        row = GpsWriteRow(photo.path, "skipped", status=photo.status, new_lat=photo.lat, new_lon=photo.lon)
        try:
            _write_one(photo, row, sidecar_only, dry_run, backup, sidecar_name, allow_changed, writes, undo_path)
        except (FormatProblem, PhotoError) as exc:
            row.outcome, row.problem = "skipped", exc.reason if isinstance(exc, PhotoError) else str(exc)
        except OSError as exc:
            row.outcome, row.problem = "skipped", f"cannot be written ({os_reason(exc)}); left as it was"
        result.rows.append(row)
        report(progress, done, len(photos), "write-gps", photo.path)
    return result


def _write_one(photo: ReviewedPhoto, row: GpsWriteRow, sidecar_only: bool, dry_run: bool, backup: bool,
               sidecar_name: str, allow_changed: bool, writes: list[dict], undo_path: Path) -> None:
    """Write one photo (or its sidecar), listed in the undo list first, and fill its row."""
    path = Path(os.path.realpath(photo.path))  # through a link, the photo itself (a rename would replace the link)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PhotoError(path, "not found (moved or deleted since the run?)") from None
    except OSError as exc:
        raise PhotoError(path, f"cannot be read ({os_reason(exc)})") from None
    ours = {entry["after_sha256"] for entry in writes if entry["target"] == str(path)}
    changed = "" if allow_changed else _changed_since_run(path, photo, data, ours)
    if changed:
        raise PhotoError(path, changed)
    row.old_lat, row.old_lon = _old_gps(path)  # also proves the photo readable (PhotoError otherwise)
    method = PROCESSING_METHODS[photo.status]
    kind = None if sidecar_only else embedded_format(data, path)
    if kind is not None:
        if not os.access(path, os.W_OK):
            raise PhotoError(path, "is read-only; left as it is (make it writable, or write a sidecar: --sidecar)")
        target, before = path, data
        after, row.problem = embedded_with_gps(kind, data, photo.lat, photo.lon, method)
        row.method = "exif"
    else:
        target = sidecar_path(path, sidecar_name)
        before = target.read_bytes() if target.exists() else None
        after = sidecar_with_gps(before, photo.lat, photo.lon, method)
        row.method = "sidecar"
        if row.old_lat is not None:
            row.problem = OWN_GPS_NOTE
    if not os.access(target.parent, os.W_OK | os.X_OK):  # the new file is made beside the old one
        raise PhotoError(path, f"its folder {display_path(target.parent)} is read-only, and the new "
                         f"{'photo' if kind else 'sidecar'} is made beside it; left as it is")
    row.target = str(target)
    if dry_run:
        row.outcome = "would write"
        return None
    original_stat = target.stat() if before is not None else None
    backup_file = _backup_path(target) if backup and before is not None else None
    entry = {"photo": photo.path, "target": str(target), "method": row.method,
             "backup": str(backup_file) if backup_file else None, "created": before is None,
             "before_sha256": _sha256(before) if before is not None else None, "after_sha256": _sha256(after),
             "written_at": utc_now()}
    writes.append(entry)
    _save_undo(undo_path, writes)  # first: killed from here on, undo finds the photo either way
    try:
        if backup_file is not None:  # with the photo's permissions and times, which undo puts back
            _replace_bytes(backup_file, before, stat.S_IMODE(original_stat.st_mode),
                           (original_stat.st_atime_ns, original_stat.st_mtime_ns))
        _replace_bytes(target, after, stat.S_IMODE(original_stat.st_mode) if original_stat else None)
    except OSError:
        if _holds(target, before):  # nothing was changed: neither its backup nor its entry is kept
            if backup_file is not None:
                backup_file.unlink(missing_ok=True)
            writes.remove(entry)
            _save_undo(undo_path, writes)
        raise
    row.backup = str(backup_file) if backup_file else ""
    row.outcome = "written"


def undo_gps(results_path: str | os.PathLike, dry_run: bool = False) -> GpsWriteReport:
    """Undo the writes recorded for this results file, the latest first: each file still as written is
    put back from its backup (which is then removed), each sidecar that was new is removed, and a file
    found as it was before its write (a run or an undo killed half-way) only loses that write's backup. A
    file changed since, or without a backup, is left as it is, listed with its reason, and stays in the
    undo list. A `dry_run` lists what would be restored ("would restore", "would remove") and changes
    nothing, so that a front end can ask first."""
    undo_path = undo_list_path(results_path)
    with contextlib.nullcontext() if dry_run else _one_writer(results_path):
        return _undo_all(undo_path, dry_run)


def _undo_all(undo_path: Path, dry_run: bool = False) -> GpsWriteReport:
    if not dry_run:
        remove_dead_temporaries(undo_path)  # a killed run's, even where it wrote no list
    writes = _load_undo(undo_path)
    if not writes:
        raise UserError(f"{display_path(undo_path)}: nothing to undo (no GPS write recorded for these results)")
    result, kept = GpsWriteReport(dry_run=dry_run, undo_list=str(undo_path)), []
    for entry in reversed(writes):
        row = GpsWriteRow(entry["photo"], "skipped", method=entry["method"], target=entry["target"],
                          backup=entry["backup"] or "")
        try:
            _undo_one(entry, row, dry_run)
        except OSError as exc:
            row.problem = f"cannot be restored ({os_reason(exc)}); left as it is"
        if row.outcome == "skipped":
            kept.insert(0, entry)
        result.rows.append(row)
    if not dry_run:
        _save_undo(undo_path, kept)
    return result


def _undo_one(entry: dict, row: GpsWriteRow, dry_run: bool = False) -> None:
    target = Path(entry["target"])
    backup = Path(entry["backup"]) if entry["backup"] else None
    if not dry_run:
        for path in (target, backup) if backup else (target,):  # what a killed write or undo left
            remove_dead_temporaries(path)
    found = _sha256(target.read_bytes()) if target.exists() else None
    if found != entry["after_sha256"] and found == entry["before_sha256"]:
        row.outcome, row.backup = "unchanged", ""
        if backup is not None and backup.is_file() and _sha256(backup.read_bytes()) == entry["before_sha256"]:
            if not dry_run:
                backup.unlink()
                row.backup = str(backup)
        return
    if found is None:
        row.problem = f"{display_path(target)} is gone; nothing to restore"
        return
    if found != entry["after_sha256"]:
        row.problem = f"{display_path(target)} changed since GPS was written; left as it is"
        return
    if entry["created"]:
        if not dry_run:
            target.unlink()
        row.outcome = "would remove" if dry_run else "removed"
        return
    if backup is None:
        row.problem = "no backup was kept (written without one); left as it is"
        return
    original = backup.read_bytes()
    if _sha256(original) != entry["before_sha256"]:
        row.problem = f"the backup {display_path(backup)} is not the original any more; left as it is"
        return
    if dry_run:
        row.outcome = "would restore"
        return
    kept = backup.stat()
    _replace_bytes(target, original, stat.S_IMODE(kept.st_mode), (kept.st_atime_ns, kept.st_mtime_ns))
    backup.unlink()
    row.outcome = "restored"
