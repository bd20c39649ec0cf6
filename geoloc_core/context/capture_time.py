"""When a photo was taken: EXIF DateTimeOriginal (with OffsetTimeOriginal and SubSecTimeOriginal), else
the EXIF GPS time (UTC), else a time in the file name (IMG_20230512_101502, PXL_20230512_101502123,
2023-05-12 10.15.02; a fallback the user can turn off). Camera clocks are local and often wrong: a
`Clock` (the user's time offset and time zone, or one estimated from photos that carry GPS time) turns
what was read into UTC."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from ..errors import UserError

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL, SUBSEC_TIME_ORIGINAL = 0x9003, 0x9011, 0x9291
MAKE, MODEL = 0x010F, 0x0110
FILENAME_TIME = re.compile(r"(?<!\d)(20\d{2}|19\d{2})[-_.]?(\d{2})[-_.]?(\d{2})[ _T-]?(\d{2})[-_.:]?(\d{2})[-_.:]?"
                           r"(\d{2})(\d{0,3})(?!\d)")
OFFSET_TEXT = re.compile(r"^\s*([+-])?(\d{1,2}):?(\d{2})?\s*$")


class TimeError(UserError):
    """A capture time or clock setting that cannot be read."""


@dataclass(frozen=True)
class CaptureTime:
    """A moment as read: `moment` is timezone-aware when the source says its zone (GPS time, an EXIF
    offset, an ISO text with an offset), naive (camera-local) otherwise. `source`: exif / gps / filename /
    given. `camera`: the EXIF make and model ("" where unknown), as each camera of a batch keeps its own
    clock."""

    moment: datetime
    source: str
    camera: str = ""


def parse_offset(text: str) -> timedelta:
    """'+02:00', '-5', '0130' as a time difference (a time zone or a camera clock offset)."""
    match = OFFSET_TEXT.match(text or "")
    if not match:
        raise TimeError(f"'{text}' is not a time offset like +02:00 or -5")
    sign = -1 if match.group(1) == "-" else 1
    delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
    if delta > timedelta(hours=26):
        raise TimeError(f"'{text}' is more than a day: give the offset in hours and minutes")
    return sign * delta


def parse_iso(text: str, where: str = "") -> CaptureTime:
    """An ISO 8601 time as given (the `time` column of a CSV); 'Z' is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise TimeError(f"{where}'{text}' is not an ISO 8601 time (e.g. 2023-05-12T10:15:02+02:00)") from None
    return CaptureTime(moment, "given")


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    return str(value or "").strip("\x00 ")


def from_exif_tags(exif: dict, gps: dict) -> CaptureTime | None:
    """The capture time from EXIF sub-IFD tags (tag number -> value) and GPS IFD tags."""
    original = _text(exif.get(DATE_TIME_ORIGINAL))
    if original:
        try:
            moment = datetime.strptime(original[:19], "%Y:%m:%d %H:%M:%S")
        except ValueError:
            moment = None
        if moment is not None:
            fraction = re.sub(r"\D", "", _text(exif.get(SUBSEC_TIME_ORIGINAL)))
            if fraction:
                moment = moment.replace(microsecond=int(fraction[:6].ljust(6, "0")))
            offset = _text(exif.get(OFFSET_TIME_ORIGINAL))
            if offset:
                try:
                    moment = moment.replace(tzinfo=timezone(parse_offset(offset)))
                except TimeError:
                    pass
            return CaptureTime(moment, "exif")
    from ..photos import _gps_time

    stamp = _gps_time(gps)
    return CaptureTime(datetime.fromisoformat(stamp), "gps") if stamp else None


def from_filename(name: str) -> CaptureTime | None:
    """A camera-local time in a file name (IMG_20230512_101502.jpg, PXL_20230512_101502123.jpg)."""
    match = FILENAME_TIME.search(Path(name).stem)
    if not match:
        return None
    year, month, day, hour, minute, second, millis = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                          int(millis.ljust(3, "0")) * 1000 if millis else 0)
    except ValueError:
        return None
    return CaptureTime(moment, "filename")


def read_capture_time(path, use_filename: bool = True) -> CaptureTime | None:
    """The best capture time of a photo file, or None where it carries none."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            exif = image.getexif()
            found = from_exif_tags(dict(exif.get_ifd(EXIF_IFD)), dict(exif.get_ifd(GPS_IFD)))
            camera = " ".join(part for part in (_text(exif.get(MAKE)), _text(exif.get(MODEL))) if part)
            if found is not None and camera:
                found = replace(found, camera=camera)
    except Exception:  # an unreadable or exotic file: no EXIF time, the file name may still say it
        found = None
    if found is None and use_filename:
        found = from_filename(str(path))
    return found


@dataclass(frozen=True)
class Clock:
    """How camera-local times become UTC: the time zone the camera was set to, and how far its clock
    was off (seconds it ran ahead: subtracted). Times that carry their own zone only get the offset."""

    zone: timedelta = timedelta(0)
    offset: timedelta = timedelta(0)

    def utc(self, time: CaptureTime) -> datetime:
        moment = time.moment
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone(self.zone))
        if time.source in ("exif", "filename"):
            moment = moment - self.offset
        return moment.astimezone(timezone.utc)

    def seconds(self, times: list[CaptureTime | None]) -> np.ndarray:
        """UTC seconds since the epoch, NaN where no time is known."""
        return np.array([self.utc(t).timestamp() if t is not None else np.nan for t in times], dtype=np.float64)


def estimate_clock(camera: list[CaptureTime | None], true_utc: list[datetime | None]) -> Clock | None:
    """The camera's zone + offset from photos that carry both a camera-local time and a true UTC time (EXIF
    GPS time or a track): the median of their differences, as one combined offset (zone 0). None where no
    photo carries both."""
    gaps = [(t.moment.replace(tzinfo=timezone.utc) - u).total_seconds() for t, u in zip(camera, true_utc)
            if t is not None and u is not None and t.moment.tzinfo is None]
    if not gaps:
        return None
    return Clock(timedelta(0), timedelta(seconds=float(np.median(gaps))))
