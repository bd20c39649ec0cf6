"""Reading photos: decoding at the size the network needs, EXIF orientation, and EXIF GPS.

Decoding is the main cost of ingesting photos, so JPEGs are decoded at reduced size
(`Image.draft` lets libjpeg skip most of the work) when the network only needs ~224 px.

HEIC/HEIF photos are decoded by pillow-heif, except in a process whose global symbol scope already
holds a libheif (the QGIS application links Debian's through GDAL): pillow-heif's own, newer libheif
would then bind to that one and crash the process (SIGSEGV), so there the libheif already loaded decodes
them, called as pillow-heif calls it (the whole primary image at once, with its rotation and mirroring,
to interleaved RGB), so that QGIS 3.22, 3.40 and 3.44 give pillow-heif's pixels. GDAL's HEIF driver is not
used for pixels: from GDAL 3.10 on it decodes tile by tile, and GDAL 3.13's tiles of a rotated HEIC are
wrong. Before the first photo, a reference HEIC is decoded and checked against pillow-heif's pixels.
"""

from __future__ import annotations

import ctypes
import functools
import io
import math
import os
import re
import stat
import struct
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import GeolocError
from .files import PhotoError, os_reason, short_text

HEIF_SUFFIXES = frozenset({".heic", ".heif", ".hif", ".avif"})
GPS_IFD = 0x8825
EXIF_ORIENTATION = 0x0112
TIFF_IMAGE_WIDTH, TIFF_IMAGE_LENGTH = 256, 257
# GDAL's names of the EXIF GPS tags that gps_from_exif reads, by tag number
GDAL_GPS_TAGS = {1: "LatitudeRef", 2: "Latitude", 3: "LongitudeRef", 4: "Longitude", 5: "AltitudeRef",
                 6: "Altitude", 7: "TimeStamp", 29: "DateStamp"}
# A small HEIC and the pixels pillow-heif decodes from it (the PNG), against which the libheif loaded in
# QGIS is checked before it decodes photos; tolerance: the mean absolute difference in 0-255 levels
# (libheif versions round the YCbCr conversion a little differently).
HEIF_REFERENCE = Path(__file__).with_name("heif_reference.heic")
HEIF_REFERENCE_PIXELS = Path(__file__).with_name("heif_reference.png")
HEIF_TOLERANCE = 2.0


def libheif_in_global_scope() -> bool:
    """Whether this process already exports libheif's symbols globally (true inside the QGIS
    application on Linux, false in a plain Python, where GDAL is loaded privately)."""
    try:
        return hasattr(ctypes.CDLL(None), "heif_get_version")
    except (OSError, TypeError):  # no global scope to look into (Windows)
        return False


@functools.lru_cache(maxsize=1)
def heif_decoder() -> str | None:
    """'pillow-heif', 'libheif' (the one loaded, where pillow-heif would clash with it and it decodes the
    reference faithfully) or None."""
    if libheif_in_global_scope():
        return "libheif" if heif_mismatch() is None else None
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    register_heif_opener()
    return "pillow-heif"


def loaded_libheif() -> ctypes.CDLL:
    """The libheif whose symbols this process already exports (QGIS's, through GDAL)."""
    return ctypes.CDLL(None)


@functools.lru_cache(maxsize=1)
def heif_mismatch() -> str | None:
    """None where the loaded libheif decodes the reference HEIC to pillow-heif's pixels; otherwise why
    HEIC photos cannot be decoded here, in words."""
    import numpy as np

    try:
        decoded = np.asarray(_libheif_decode(HEIF_REFERENCE), dtype=np.int16)
    except PhotoError as exc:
        return f"the libheif loaded here cannot decode a reference HEIC ({exc.reason})"
    with Image.open(HEIF_REFERENCE_PIXELS) as recorded_image:
        recorded = np.asarray(recorded_image.convert("RGB"), dtype=np.int16)
    if decoded.shape != recorded.shape:
        return f"the libheif loaded here decodes a reference HEIC at the wrong size {decoded.shape[1::-1]}"
    difference = float(np.abs(decoded - recorded).mean())
    if difference > HEIF_TOLERANCE:
        return f"the libheif loaded here decodes a reference HEIC {difference:.0f} levels off on average"
    return None


class _HeifError(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("subcode", ctypes.c_int), ("message", ctypes.c_char_p)]


HEIF_COLORSPACE_RGB, HEIF_CHROMA_INTERLEAVED_RGB, HEIF_CHANNEL_INTERLEAVED = 1, 10, 10


def _libheif_decode(path: Path) -> Image.Image:
    """The primary image, decoded whole by the loaded libheif (rotation and mirroring applied) to 8-bit RGB."""
    lib = loaded_libheif()
    pointer, handle_pointer = ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)
    lib.heif_context_alloc.restype = pointer
    lib.heif_context_free.argtypes = [pointer]
    lib.heif_context_read_from_file.argtypes = [pointer, ctypes.c_char_p, pointer]
    lib.heif_context_get_primary_image_handle.argtypes = [pointer, handle_pointer]
    lib.heif_decode_image.argtypes = [pointer, handle_pointer, ctypes.c_int, ctypes.c_int, pointer]
    for name in ("heif_context_read_from_file", "heif_context_get_primary_image_handle", "heif_decode_image"):
        getattr(lib, name).restype = _HeifError
    lib.heif_image_get_width.argtypes = lib.heif_image_get_height.argtypes = [pointer, ctypes.c_int]
    lib.heif_image_get_plane_readonly.argtypes = [pointer, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    lib.heif_image_get_plane_readonly.restype = ctypes.POINTER(ctypes.c_uint8)
    lib.heif_image_release.argtypes = lib.heif_image_handle_release.argtypes = [pointer]

    def check(error: _HeifError) -> None:
        if error.code:
            raise PhotoError(path, f"cannot be decoded ({(error.message or b'').decode(errors='replace')})")

    context, handle, image = lib.heif_context_alloc(), ctypes.c_void_p(), ctypes.c_void_p()
    try:
        check(lib.heif_context_read_from_file(context, os.fsencode(path), None))
        check(lib.heif_context_get_primary_image_handle(context, ctypes.byref(handle)))
        check(lib.heif_decode_image(handle, ctypes.byref(image), HEIF_COLORSPACE_RGB, HEIF_CHROMA_INTERLEAVED_RGB,
                                    None))
        width = lib.heif_image_get_width(image, HEIF_CHANNEL_INTERLEAVED)
        height = lib.heif_image_get_height(image, HEIF_CHANNEL_INTERLEAVED)
        stride = ctypes.c_int()
        plane = lib.heif_image_get_plane_readonly(image, HEIF_CHANNEL_INTERLEAVED, ctypes.byref(stride))
        if not plane or width <= 0 or height <= 0:
            raise PhotoError(path, "cannot be decoded (libheif gave no RGB plane)")
        data = ctypes.string_at(plane, stride.value * height)
        return Image.frombuffer("RGB", (width, height), data, "raw", "RGB", stride.value, 1).copy()
    finally:
        if image:
            lib.heif_image_release(image)
        if handle:
            lib.heif_image_handle_release(handle)
        lib.heif_context_free(context)


def _through_gdal(path: Path) -> bool:
    """HEIC inside QGIS: pixels from the loaded libheif, size and EXIF through GDAL (both use that libheif)."""
    return path.suffix.lower() in HEIF_SUFFIXES and heif_decoder() == "libheif"


def _gdal_heif(path: Path):
    from osgeo import gdal

    gdal.UseExceptions()
    try:
        return gdal.Open(str(path))
    except RuntimeError as exc:
        raise PhotoError(path, f"cannot be read ({exc})") from None


def _gdal_gps(metadata: dict) -> dict:
    """GDAL's EXIF metadata ('EXIF_GPSLatitude': '(39) (3) (4.84)') as a GPS IFD mapping."""
    gps = {}
    for tag, name in GDAL_GPS_TAGS.items():
        text = metadata.get(f"EXIF_GPS{name}")
        if text is None:
            continue
        numbers = [float(n) for n in re.findall(r"\(([^)]*)\)", text) if n.strip()]
        if name == "AltitudeRef":
            gps[tag] = int(text, 0) if text.strip().startswith("0x") else int(float(text or 0))
        elif numbers:
            gps[tag] = tuple(numbers) if len(numbers) > 1 else numbers[0]
        else:
            gps[tag] = text
    return gps


class UnusablePixels(GeolocError):
    """Decoded pixels that no photo holds."""


@dataclass(frozen=True)
class GpsFix:
    """A location read from EXIF. Altitude in metres above sea level; time as ISO 8601 UTC."""

    lat: float
    lon: float
    altitude_m: float | None = None
    timestamp: str | None = None


def _check_file(path: Path) -> None:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise PhotoError(path, "file not found") from None
    except OSError as exc:  # a path too long to open, a folder on the way that cannot be entered...
        raise PhotoError(path, f"cannot be opened ({os_reason(exc)})") from None
    if stat.S_ISDIR(status.st_mode):
        raise PhotoError(path, "is a folder, not a photo")
    if status.st_size == 0:
        raise PhotoError(path, "file is empty (0 bytes)")


def _open(path: Path) -> Image.Image:
    _check_file(path)
    if path.suffix.lower() in HEIF_SUFFIXES and heif_decoder() is None:
        if libheif_in_global_scope():
            raise PhotoError(path, f"HEIC/HEIF photos cannot be decoded inside this QGIS: {heif_mismatch()}; "
                                   "locate them with the engine in its own Python (Setup > Use another Python…)")
        raise PhotoError(path, "HEIC/HEIF photos need the pillow-heif package, which is not installed")
    if _through_gdal(path):
        return _libheif_decode(path)
    return _pil_open(path, path)


def _pil_open(source, path: Path) -> Image.Image:
    """Image.open on a file or a file object (`path` names it in errors), with the errors in words."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
        if image.format == "HEIF" and isinstance(source, Path):
            _check_heif_complete(path, image)
        return image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoError(path, f"image is too large to decode safely ({exc})") from None
    except UnidentifiedImageError:
        raise PhotoError(path, "not an image, or a format that cannot be read") from None
    except (ValueError, SyntaxError, struct.error) as exc:  # Pillow's refusal of a text or ICC chunk that inflates too far
        raise PhotoError(path, f"image is damaged or unsafe to decode ({short_text(str(exc))})") from None
    except OSError as exc:
        if "truncated" in str(exc).lower():
            raise PhotoError(path, f"image data is damaged or truncated ({exc})") from None
        raise PhotoError(path, f"cannot be read ({exc})") from None


def _check_heif_complete(path: Path, image: Image.Image) -> None:
    """libheif decodes a HEIC cut short with its missing tiles left blank, so check that the file's
    top-level boxes (ftyp, meta, mdat...) all end within the file."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        offset = 0
        while offset + 8 <= size:
            handle.seek(offset)
            length, _ = struct.unpack(">I4s", handle.read(8))
            if length == 1:
                large = handle.read(8)
                if len(large) < 8:  # the 64-bit size itself is cut
                    length = size + 8
                else:
                    length = struct.unpack(">Q", large)[0]
            if length == 0:  # the last box runs to the end of the file
                return
            if length < 8 or offset + length > size:
                image.close()
                raise PhotoError(path, f"image data is truncated (the file ends at byte {size}, its data is "
                                       f"declared up to byte {offset + length})")
            offset += length


def load_photo(path: str | os.PathLike, min_side: int = 224) -> Image.Image:
    """The photo as an upright RGB image whose shorter side is at least `min_side` where the
    original allows (decoded at reduced size when possible). Raises PhotoError."""
    path = Path(path)
    return _decode(_open(path), path, min_side)


def load_photo_bytes(data: bytes, name: str, min_side: int = 224) -> tuple[Image.Image, tuple[int, int]]:
    """A photo held in memory (a member of a dataset shard), decoded as `load_photo` decodes a file,
    with the (width, height) of the upright original. `name` names it in errors."""
    label = Path(name)
    image = _pil_open(io.BytesIO(data), label)
    size = _upright_size(image)
    return _decode(image, label, min_side), size


def _decode(image: Image.Image, path: Path, min_side: int) -> Image.Image:
    try:
        with image:
            if image.format == "JPEG" and min_side:
                # draft() picks the smallest libjpeg scale (1/2, 1/4, 1/8) that keeps both sides
                # >= the request; the request is square, so EXIF rotation does not change it.
                image.draft("RGB", (min_side, min_side))
            image.load()
            upright = ImageOps.exif_transpose(image)
            return _to_rgb(upright)
    except PhotoError:
        raise
    except UnusablePixels as exc:
        raise PhotoError(path, str(exc)) from None
    except Image.DecompressionBombError as exc:
        raise PhotoError(path, f"image is too large to decode safely ({exc})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise PhotoError(path, f"image data is damaged or truncated ({exc})") from None


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB whatever the mode: 16-bit and float scaled, alpha composited over white, CMYK converted."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        import numpy as np

        values = np.asarray(image, dtype=np.float64)
        if not np.isfinite(values).all():
            raise UnusablePixels("pixels hold NaN or infinite values (a data raster, not a photo)")
        top = values.max() if values.size else 0.0
        scale = 255.0 / (65535.0 if top > 255 else max(top, 1.0))
        return Image.fromarray(np.clip(values * scale, 0, 255).astype("uint8"), "L").convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of the upright photo, read from the header without decoding."""
    path = Path(path)
    if _through_gdal(path):
        _check_file(path)
        dataset = _gdal_heif(path)  # libheif applies the rotation: its size is already upright
        return dataset.RasterXSize, dataset.RasterYSize
    with _open(path) as image:
        return _upright_size(image)


def _upright_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    if image.format == "TIFF":  # newer Pillow reports a rotated TIFF's size already upright: take the stored one
        width, height = image.tag_v2.get(TIFF_IMAGE_WIDTH, width), image.tag_v2.get(TIFF_IMAGE_LENGTH, height)
    if image.getexif().get(EXIF_ORIENTATION, 1) in (5, 6, 7, 8):
        width, height = height, width
    return width, height


def _ratio(value) -> float:
    """An EXIF rational as float; NaN where the denominator is zero or the value is unreadable."""
    try:
        if isinstance(value, tuple) and len(value) == 2:
            numerator, denominator = value
            return float(numerator) / float(denominator) if float(denominator) else math.nan
        denominator = getattr(value, "denominator", 1)
        return float(value) if denominator != 0 else math.nan
    except (TypeError, ValueError, ZeroDivisionError):
        return math.nan


DEGREE_TEXT = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?)(?:[\s,;:°'\"]+([0-9]+(?:\.[0-9]*)?))?"
                         r"(?:[\s,;:°'\"]+([0-9]+(?:\.[0-9]*)?))?[\s°'\"\x00]*")


def _dms_text(value: str | bytes) -> float:
    """Degrees written as text by some devices ("12.5", "12 30 0", "12°30'0\""); NaN for anything else."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    match = DEGREE_TEXT.fullmatch(value)
    if match is None:
        return math.nan
    degrees, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return degrees + minutes / 60.0 + seconds / 3600.0


def _dms(value) -> float:
    if isinstance(value, (str, bytes)):
        return _dms_text(value)
    if isinstance(value, (int, float)) or hasattr(value, "denominator") and not isinstance(value, tuple):
        return _ratio(value)
    parts = [_ratio(v) for v in value]
    if not 1 <= len(parts) <= 3:
        return math.nan
    parts += [0.0] * (3 - len(parts))
    return parts[0] + parts[1] / 60.0 + parts[2] / 3600.0


def _ref(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    return str(value or "").strip("\x00 ").upper()[:1]


def _gps_time(gps: dict) -> str | None:
    date, time = gps.get(29), gps.get(7)
    if not date or not time:
        return None
    try:
        if isinstance(date, bytes):
            date = date.decode("ascii", "ignore")
        hours, minutes, seconds = (_ratio(v) for v in time)
        day = datetime.strptime(str(date).strip("\x00 ")[:10], "%Y:%m:%d")
        whole = int(seconds)
        moment = day.replace(hour=int(hours), minute=int(minutes), second=whole,
                             microsecond=int(round((seconds - whole) * 1e6)), tzinfo=timezone.utc)
        return moment.isoformat()
    except (TypeError, ValueError, OverflowError):
        return None


def gps_from_exif(gps: dict) -> GpsFix | None:
    """A GpsFix from a GPS IFD mapping, or None where the tags hold no real location:
    missing tags, zero denominators, out-of-range values, or both coordinates exactly 0/0."""
    if 2 not in gps or 4 not in gps:
        return None
    lat, lon = _dms(gps[2]), _dms(gps[4])
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if lat == 0.0 and lon == 0.0:
        return None  # placeholder written by devices without a fix
    # The reference gives the hemisphere; a value already negative (written by some software) keeps it.
    if _ref(gps.get(1)) == "S":
        lat = -abs(lat)
    if _ref(gps.get(3)) == "W":
        lon = -abs(lon)
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    altitude = _ratio(gps[6]) if 6 in gps else math.nan
    if math.isfinite(altitude):
        ref = gps.get(5, 0)
        if isinstance(ref, bytes):
            ref = ref[0] if ref else 0
        if ref == 1:
            altitude = -altitude
    return GpsFix(lat, lon, altitude if math.isfinite(altitude) else None, _gps_time(gps))


def read_gps(path: str | os.PathLike) -> GpsFix | None:
    """The EXIF GPS location of a photo, or None. Raises PhotoError for unreadable files."""
    path = Path(path)
    if _through_gdal(path):
        _check_file(path)
        return gps_from_exif(_gdal_gps(_gdal_heif(path).GetMetadata("EXIF") or {}))
    image = _open(path)
    with image:
        try:
            gps = dict(image.getexif().get_ifd(GPS_IFD))
        except Exception:
            return None
    return gps_from_exif(gps)
