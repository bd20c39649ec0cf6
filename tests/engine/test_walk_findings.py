"""Defects found walking the panel as an analyst would, with real photos of two cameras in one batch."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from geoloc_core.context.capture_time import read_capture_time
from geoloc_core.context.run import ContextRequest, ContextRun, photo_context_from_file


def camera_photo(path: Path, make: str, model: str, taken: str, gps_utc: datetime | None) -> Path:
    """A JPEG as a camera writes it: make, model, DateTimeOriginal in the camera's clock, and where given a
    GPS place with the GPS date and time (UTC)."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = make, model
    exif.get_ifd(0x8769)[0x9003] = taken
    if gps_utc is not None:
        exif.get_ifd(0x8825).update({
            1: "N", 2: (IFDRational(43, 1), IFDRational(28, 1), IFDRational(0, 1)),
            3: "E", 4: (IFDRational(11, 1), IFDRational(53, 1), IFDRational(0, 1)),
            7: (IFDRational(gps_utc.hour, 1), IFDRational(gps_utc.minute, 1), IFDRational(gps_utc.second, 1)),
            29: gps_utc.strftime("%Y:%m:%d")})
    Image.new("RGB", (32, 24), (90, 120, 150)).save(path, exif=exif)
    return path


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def test_each_camera_of_a_batch_keeps_its_own_clock(tmp_path):
    """A camera whose clock ran 21 h 58 min ahead (three photos with GPS time) and a phone set to UTC+2 (one
    photo with GPS time) in one batch: each photo's time is corrected by its own camera's clock. The batch's
    median offset, applied to all, put the phone's photo a day late."""
    nikon = [camera_photo(tmp_path / f"dscn{i}.jpg", "NIKON", "COOLPIX P6000", taken, datetime.fromisoformat(true))
             for i, (taken, true) in enumerate([("2008:10:22 16:28:39", "2008-10-23 14:26:11"),
                                                ("2008:10:22 16:43:21", "2008-10-23 14:40:53"),
                                                ("2008:10:22 16:52:15", "2008-10-23 14:49:47")])]
    nikon_without_gps = camera_photo(tmp_path / "dscn9.jpg", "NIKON", "COOLPIX P6000", "2008:10:22 16:55:37", None)
    phone = camera_photo(tmp_path / "htc.jpg", "HTC", "Desire", "2011:05:06 09:59:48",
                         datetime.fromisoformat("2011-05-06 07:59:48"))
    assert read_capture_time(phone).camera == "HTC Desire"
    contexts = [photo_context_from_file(p) for p in (*nikon, nikon_without_gps, phone)]
    seconds = ContextRun(ContextRequest(), None).photo_seconds(contexts)
    assert seconds[4] == utc("2011-05-06 07:59:48"), "the phone's photo at its own GPS time, not a day later"
    assert seconds[3] == utc("2008-10-23 14:53:09"), "the camera's photo without GPS by the camera's own clock"


def test_a_clock_the_user_gives_holds_for_every_camera(tmp_path):
    phone = camera_photo(tmp_path / "htc.jpg", "HTC", "Desire", "2011:05:06 09:59:48",
                         datetime.fromisoformat("2011-05-06 07:59:48"))
    request = ContextRequest(time_offset="+00:10", time_zone="+02:00")
    seconds = ContextRun(request, None).photo_seconds([photo_context_from_file(phone)])
    assert seconds[0] == utc("2011-05-06 07:49:48"), "the user's zone and offset, not the one the GPS time gives"


def test_a_prior_answer_outside_the_area_keeps_its_radii_and_is_flagged():
    """Area = Italy as a prior, a photo the pixels put in California: it was reported with evidence "area",
    50% and 90% radii both cut to the area's size (1,625 km) and no flag. The area did not decide it."""
    from geoloc_core.context.area import resolve_area
    from geoloc_core.context.run import UNLIKE_AREA
    from geoloc_core.results import LocationResult, Neighbour

    area = resolve_area("bbox:6,36,19,47.5")
    neighbours = [Neighbour(1, 1, 0.1, 0.9, 1.0, 37.3, -119.0, "")]
    california = LocationResult("p", 37.3, -119.0, 0.4, 3000.0, 9000.0, "cascade", 1, neighbours, evidence="pixels")
    kept = ContextRun._kept_inside(california, area, prior=True, unlike=False)
    assert (kept.lat, kept.lon) == (37.3, -119.0)
    assert (kept.radius50_km, kept.radius90_km) == (3000.0, 9000.0) and kept.evidence == "pixels"
    assert kept.note == UNLIKE_AREA
    rome = LocationResult("p", 41.9, 12.5, 0.4, 3000.0, 9000.0, "cascade", 1, neighbours)
    inside = ContextRun._kept_inside(rome, area, prior=True, unlike=False)
    assert inside.evidence == "area" and inside.radius90_km < 9000.0 and inside.note == ""
