"""Capture times, tracks and streams on synthetic data: the clock, track interpolation and its gaps,
and the joint pass (an anchor near in time dominates; without anchors pixels keep their answer)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from PIL import Image

from geoloc_core.context.capture_time import (
    CaptureTime,
    Clock,
    TimeError,
    estimate_clock,
    from_exif_tags,
    from_filename,
    parse_iso,
    parse_offset,
    read_capture_time,
)
from geoloc_core.context.run import ContextRequest, offset_of
from geoloc_core.context.streams import PhotoEvidence, locate_stream, split_streams
from geoloc_core.context.tracks import TrackError, read_track
from geoloc_core.errors import UserError
from geoloc_core.geo import haversine_km


def test_exif_time_with_offset_and_subseconds():
    found = from_exif_tags({0x9003: "2023:05:12 10:15:02", 0x9011: "+02:00", 0x9291: "25"}, {})
    assert found.source == "exif"
    assert found.moment == datetime(2023, 5, 12, 8, 15, 2, 250000, tzinfo=timezone.utc)


def test_gps_time_when_no_exif_time():
    found = from_exif_tags({}, {29: "2023:05:12", 7: ((8, 1), (15, 1), (2, 1))})
    assert (found.source, found.moment) == ("gps", datetime(2023, 5, 12, 8, 15, 2, tzinfo=timezone.utc))


def test_file_name_times_and_the_switch(tmp_path):
    assert from_filename("IMG_20230512_101502.jpg").moment == datetime(2023, 5, 12, 10, 15, 2)
    assert from_filename("PXL_20230512_101502123.jpg").moment == datetime(2023, 5, 12, 10, 15, 2, 123000)
    assert from_filename("holiday.jpg") is None
    photo = tmp_path / "IMG_20230512_101502.jpg"
    Image.new("RGB", (8, 8)).save(photo)
    assert read_capture_time(photo).source == "filename"
    assert read_capture_time(photo, use_filename=False) is None


def test_exif_time_read_from_a_file(tmp_path):
    photo = tmp_path / "a.jpg"
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2021:01:02 03:04:05"
    Image.new("RGB", (8, 8)).save(photo, exif=exif)
    assert read_capture_time(photo) == CaptureTime(datetime(2021, 1, 2, 3, 4, 5), "exif")


def test_the_clock_applies_zone_and_offset_and_is_estimated_from_gps_photos():
    local = CaptureTime(datetime(2023, 5, 12, 10, 20, 0), "exif")
    clock = Clock(parse_offset("+02:00"), timedelta(minutes=5))
    assert clock.utc(local) == datetime(2023, 5, 12, 8, 15, tzinfo=timezone.utc)
    gps = datetime(2023, 5, 12, 8, 15, tzinfo=timezone.utc)
    estimated = estimate_clock([local, None], [gps, gps])
    assert estimated.utc(local) == gps
    assert offset_of("-00:01:30") == timedelta(seconds=-90) and offset_of("330") == timedelta(seconds=330)
    with pytest.raises(TimeError):
        parse_iso("yesterday")
    with pytest.raises(UserError, match="time offset 'soon'"):
        ContextRequest(time_offset="soon")


def write_gpx(path, points, with_times=True):
    rows = "".join(f'<trkpt lat="{lat}" lon="{lon}">' + (f"<time>{t}</time>" if with_times else "") + "</trkpt>"
                   for lat, lon, t in points)
    path.write_text('<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
                    f"<trk><trkseg>{rows}</trkseg></trk></gpx>")
    return path


def test_a_gpx_track_is_interpolated_and_silent_in_its_gaps(tmp_path):
    track = read_track(write_gpx(tmp_path / "t.gpx", [(45.0, 7.0, "2023-05-12T08:00:00Z"),
                                                      (45.01, 7.0, "2023-05-12T08:01:00Z"),
                                                      (45.5, 7.0, "2023-05-12T09:00:00Z")]))
    start = datetime(2023, 5, 12, 8, tzinfo=timezone.utc).timestamp()
    middle = track.position_at(start + 30)
    assert haversine_km(middle.lat, middle.lon, 45.005, 7.0) < 0.001
    assert middle.radius_km > track.position_at(start).radius_km
    assert track.position_at(start + 1800) is None  # a 59-minute gap
    assert track.position_at(start - 1) is None


def test_tracks_without_times_or_in_metres_are_refused(tmp_path):
    with pytest.raises(TrackError, match="no time"):
        read_track(write_gpx(tmp_path / "n.gpx", [(45.0, 7.0, ""), (45.1, 7.0, "")], with_times=False))
    csv_path = tmp_path / "m.csv"
    csv_path.write_text("x,y,time\n500000,5000000,2023-05-12T08:00:00Z\n")
    with pytest.raises(TrackError, match="not degrees"):
        read_track(csv_path)


def test_split_streams_cuts_at_gaps_and_leaves_untimed_photos_alone():
    streams = split_streams([0, 10, 5000, 20, np.nan], max_gap_s=100)
    assert [s.tolist() for s in streams] == [[0, 1, 3], [2], [4]]


def scattered(lat, lon, rng, spread_deg=20.0, n=20):
    """Neighbours that say nothing: scattered far and wide with equal weight."""
    return (lat + rng.uniform(-spread_deg, spread_deg, n), lon + rng.uniform(-spread_deg, spread_deg, n),
            np.full(n, 1.0 / n))


def test_an_anchor_near_in_time_pulls_unsure_photos_to_its_place():
    rng = np.random.default_rng(0)
    photos = [PhotoEvidence(0.0, 48.0, 2.0, known=True)]
    for t in (60.0, 120.0, 300.0):
        nlat, nlon, w = scattered(10.0, 10.0, rng)
        photos.append(PhotoEvidence(t, float(nlat[0]), float(nlon[0]), 0.1, nlat, nlon, w))
    answers = locate_stream(photos)
    assert all(a.evidence == "anchor" and (a.lat, a.lon) == (48.0, 2.0) for a in answers[1:])
    assert answers[1].radius90_km <= answers[3].radius90_km


def test_confident_pixels_far_in_time_from_the_anchor_keep_their_place():
    photos = [PhotoEvidence(0.0, 48.0, 2.0, known=True)]
    lat, lon = np.full(20, 48.0), np.full(20, 4.0)  # 150 km away: reachable in six hours
    photos.append(PhotoEvidence(6 * 3600.0, 48.0, 4.0, 0.95, lat, lon, np.full(20, 0.05)))
    assert (locate_stream(photos)[1].lat, locate_stream(photos)[1].lon) == (48.0, 4.0)
    photos[1].time_s = 60.0  # a minute after the anchor, the same pixels do not move it 150 km
    assert (locate_stream(photos)[1].lat, locate_stream(photos)[1].lon) == (48.0, 2.0)


def one_by_one(lat, lon, confidence=0.1, radius=500.0):
    from geoloc_core.results import LocationResult, Neighbour

    neighbours = [Neighbour(1, 1, 0.5, 0.8, 1.0, lat, lon, "")]
    return LocationResult("p", lat, lon, confidence, radius, 2 * radius, "cascade", 1, neighbours)


def at(minute):
    return CaptureTime(datetime(2023, 5, 12, 8, minute, tzinfo=timezone.utc), "given")


def test_revise_applies_anchor_track_and_stream_with_their_evidence(tmp_path):
    from geoloc_core.context.run import ContextRun, PhotoContext

    track = write_gpx(tmp_path / "t.gpx", [(10.0, 10.0, "2023-05-12T08:00:00Z"), (10.0, 10.1, "2023-05-12T08:10:00Z")])
    run = ContextRun(ContextRequest(track=str(track)), None)
    results = [one_by_one(0.0, 0.0) for _ in range(4)]
    contexts = [PhotoContext(at(5)), PhotoContext(at(30), anchor=(20.0, 20.0)), PhotoContext(at(31)),
                PhotoContext(None)]
    revised = run.revise(results, contexts)
    assert [r.evidence for r in revised] == ["track", "anchor", "anchor", "pixels"]
    assert (revised[0].lat, round(revised[0].lon, 6)) == (10.0, 10.05)
    assert (revised[2].lat, revised[2].lon) == (20.0, 20.0)
    assert revised[3] is results[3], "a photo without a time is located one by one"


def test_without_anchors_a_photo_kept_at_its_own_answer_keeps_its_radii():
    from geoloc_core.context.run import ContextRun, PhotoContext

    run = ContextRun(ContextRequest(), None)
    results = [one_by_one(48.0, 2.0, 0.9, 30.0), one_by_one(48.0, 2.0, 0.9, 40.0)]
    revised = run.revise(results, [PhotoContext(at(0)), PhotoContext(at(1))])
    assert [r.radius50_km for r in revised] == [30.0, 40.0]


def test_answers_carry_their_capture_time_and_stream_number():
    from geoloc_core.context.run import with_times
    from geoloc_core.context.streams import split_streams
    from geoloc_core.results import LocationResult

    results = [LocationResult(f"p{i}", 0.0, 0.0, 0.5, 1.0, 2.0, "kde", 1, []) for i in range(4)]
    seconds = np.array([100.0, 0.0, np.nan, 1e6])  # photo 0 after 1 in one stream, 2 untimed, 3 alone
    timed = with_times(results, seconds, split_streams(seconds, 3600))
    assert [r.stream for r in timed] == [1, 1, 0, 0]
    assert timed[1].capture_time == "1970-01-01T00:00:00+00:00" and timed[2].capture_time == ""
    assert timed[2] is results[2], "an answer with nothing to add is kept as it is"
    assert [r.stream for r in with_times(results, seconds, [])] == [0, 0, 0, 0]


def test_a_context_that_moves_the_answer_leads_the_alternatives_with_it():
    from geoloc_core.context.run import led_by_answer
    from geoloc_core.results import Alternative, LocationResult

    pixels = [Alternative(1, 10.0, 10.0, 0.6, 0.0), Alternative(2, 20.0, 20.0, 0.3, 1542.0),
              Alternative(3, 30.0, 30.0, 0.1, 3000.0)]
    moved = LocationResult("p", 20.0, 20.0, 1.0, 0.01, 0.01, "kde", 3, [], alternatives=pixels, evidence="anchor")
    led = led_by_answer(moved).alternatives
    assert [(a.rank, a.lat, a.mass) for a in led] == [(1, 20.0, 0.3), (2, 10.0, 0.6), (3, 30.0, 0.1)]
    assert led[0].distance_km == 0.0 and 1500 < led[1].distance_km < 1600
    elsewhere = LocationResult("p", -40.0, 100.0, 1.0, 0.01, 0.01, "kde", 3, [], alternatives=pixels)
    assert [(a.rank, a.mass) for a in led_by_answer(elsewhere).alternatives] == [(1, 0.0), (2, 0.6), (3, 0.3)]
    unmoved = LocationResult("p", 10.0, 10.0, 0.5, 1.0, 2.0, "kde", 3, [], alternatives=pixels)
    assert led_by_answer(unmoved) is unmoved
