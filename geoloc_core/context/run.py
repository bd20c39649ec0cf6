"""Locating a batch with what the analyst knows: the request (`ContextRequest`), each photo's own
context (`PhotoContext`: capture time, a known place, an area) and the run that applies them
(`ContextRun`): the area restricts each photo's reference search, then the batch's anchors, the track
and the streams revise the one-by-one answers. Each answer says which evidence decided it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..geo import haversine_km
from ..results import Alternative, LocationResult
from .area import Area, resolve_area
from .capture_time import CaptureTime, Clock, estimate_clock, parse_iso, parse_offset, read_capture_time
from .search import AreaFilter
from .streams import DEFAULT_MAX_GAP_S, PhotoEvidence, locate_stream, split_streams
from .tracks import DEFAULT_MAX_GAP_S as TRACK_MAX_GAP_S
from .tracks import Track, read_track

AREA_MODES = ("restrict", "prior")
# a photo is flagged when its best match inside the area is this much less similar than its best match
# anywhere, and under FLAG_SHARE of its unrestricted evidence lies inside
FLAG_MARGIN = 0.25  # chosen on bench/context.py: 16% of photos flagged in their true country, 53% in a wrong one
FLAG_SHARE = 0.05
UNLIKE_AREA = "the photo looks unlike anything in the area"


@dataclass(frozen=True)
class ContextRequest:
    """What the analyst knows about the whole batch. `area`: a vector file, 'bbox:W,S,E,N' or a country;
    `time_offset`: how far the camera's clock ran ahead of the true time ('+00:05:30', '-1:00' or
    seconds); `time_zone`: the zone the camera was set to where its times carry none ('+02:00')."""

    area: str | None = None
    area_mode: str = "restrict"
    track: str | None = None
    track_max_gap_s: float = TRACK_MAX_GAP_S
    time_offset: str | None = None
    time_zone: str | None = None
    streams: bool = True
    stream_gap_s: float = DEFAULT_MAX_GAP_S
    filename_times: bool = True

    def __post_init__(self):
        if self.area_mode not in AREA_MODES:
            raise UserError(f"area mode '{self.area_mode}': choose one of {', '.join(AREA_MODES)}")
        if not self.track_max_gap_s > 0 or not self.stream_gap_s > 0:
            raise UserError("the track's maximum gap and the stream gap must be positive seconds")
        self.clock()  # a bad offset or zone is refused before any photo is read

    def clock(self) -> Clock | None:
        """The user's clock, or None where the user set neither an offset nor a zone."""
        if self.time_offset is None and self.time_zone is None:
            return None
        return Clock(parse_offset(self.time_zone) if self.time_zone else timedelta(0), offset_of(self.time_offset))

    def to_dict(self) -> dict:
        return dict(vars(self))

    @classmethod
    def from_dict(cls, data: dict) -> ContextRequest:
        return cls(**data)


def offset_of(text: str | None) -> timedelta:
    """'+00:05:30', '-1:00' (hours:minutes[:seconds]) or plain seconds ('330') as a time difference."""
    if not text:
        return timedelta(0)
    value = text.strip()
    try:
        return timedelta(seconds=float(value))
    except ValueError:
        pass
    sign = -1 if value.startswith("-") else 1
    try:
        parts = [float(p) for p in value.lstrip("+-").split(":")]
    except ValueError:
        parts = []
    if not 2 <= len(parts) <= 3:
        raise UserError(f"time offset '{text}': give seconds (330) or hours:minutes[:seconds] (+00:05:30)")
    parts += [0.0] * (3 - len(parts))
    return sign * timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])


@dataclass
class PhotoContext:
    """One photo's own knowledge: its capture time, a known place (EXIF GPS of the batch or a CSV
    anchor, used as known and never scored) and an area that overrides the request's."""

    time: CaptureTime | None = None
    gps_utc: object = None  # a datetime where the photo's EXIF GPS time is known (to estimate the clock)
    anchor: tuple[float, float] | None = None
    area: str | None = None


def photo_context_from_file(path, use_filename: bool = True) -> PhotoContext:
    """What a photo file says about itself: its capture time and EXIF GPS (an anchor)."""
    from datetime import datetime

    from ..files import PhotoError
    from ..photos import read_gps

    try:
        fix = read_gps(path)
    except PhotoError:
        fix = None
    gps_utc = datetime.fromisoformat(fix.timestamp) if fix is not None and fix.timestamp else None
    return PhotoContext(read_capture_time(path, use_filename), gps_utc, (fix.lat, fix.lon) if fix else None)


TRUE_WORDS = ("1", "true", "yes", "y")


def contexts_of_candidates(items, use_filename: bool = True) -> list[PhotoContext]:
    """Each evaluated photo's context from its CSV row: `time` (ISO 8601, over the file's own time),
    `anchor` (1: its coordinates are known to the engine) and `area` (a vector file, relative to the
    current folder, a bbox:W,S,E,N or a country)."""
    from datetime import datetime

    contexts = []
    for item in items:
        attributes = item.attributes or {}
        text = str(attributes.get("time") or "").strip()
        moment = parse_iso(text, f"{item.path}: ") if text else read_capture_time(item.path, use_filename)
        anchor = str(attributes.get("anchor") or "").strip().lower() in TRUE_WORDS
        gps_utc = datetime.fromisoformat(item.time) if item.time else None
        contexts.append(PhotoContext(moment, gps_utc, (item.lat, item.lon) if anchor else None,
                                     str(attributes.get("area") or "").strip() or None))
    return contexts


class ContextRun:
    """One run's context: the areas (each read and prefiltered once), the track, the clock."""

    def __init__(self, request: ContextRequest, references, base: Path | None = None):
        self.request = request
        self.references = references
        self.base = base
        self._filters: dict[str, AreaFilter] = {}
        self.track: Track | None = read_track(request.track) if request.track else None
        if request.area:
            self.filter_for(request.area)  # an unusable area is refused before any photo is read

    def filter_for(self, spec: str) -> AreaFilter:
        if spec not in self._filters:
            self._filters[spec] = AreaFilter(self.references, resolve_area(spec, self.base))
        return self._filters[spec]

    # -- the area: the search and the answer stay inside ---------------------------------------------

    def locate_features(self, locator, features: np.ndarray, photos: Sequence[str], options,
                        exclude: Sequence[set[int]] | None = None, should_stop=None,
                        areas: Sequence[str | None] | None = None) -> list[LocationResult]:
        """Locator.locate_features, each photo searched inside its area (its own, else the request's)."""
        areas = [a or self.request.area for a in (areas or [None] * len(photos))]
        results: list[LocationResult | None] = [None] * len(photos)
        for spec in dict.fromkeys(areas):
            rows = [i for i, a in enumerate(areas) if a == spec]
            chosen = features[rows]
            names = [photos[i] for i in rows]
            banned = [exclude[i] for i in rows] if exclude else None
            if spec is None:
                found = locator.locate_features(chosen, names, options, banned, should_stop)
            else:
                found = self._locate_in_area(locator, self.filter_for(spec), chosen, names, options, banned,
                                             should_stop)
            for i, result in zip(rows, found):
                results[i] = result
        return results

    def _locate_in_area(self, locator, area_filter: AreaFilter, features, names, options, exclude, should_stop):
        space = locator.space
        prior = self.request.area_mode == "prior"
        search_in = area_filter.prior_search if prior else area_filter.search

        def search(vectors, k):
            return search_in(space, locator.database, vectors, k)

        found = locator.locate_features(features, names, options, exclude, should_stop, search=search)
        plain_sims, plain_ids = space.search(space.encode(features).vectors, options.k)
        revised = []
        for i, result in enumerate(found):
            inside = area_filter.holds(plain_ids[i]) & (plain_ids[i] >= 0)
            weights = np.exp((plain_sims[i] - plain_sims[i].max()) / options.temperature)
            weights = np.where(plain_ids[i] >= 0, weights, 0.0)
            share_inside = float(weights[inside].sum() / weights.sum()) if weights.sum() > 0 else 0.0
            best_inside = max((n.similarity for n in result.neighbours
                               if not prior or area_filter.holds(np.array([n.record_id]))[0]), default=-1.0)
            unlike = best_inside < float(plain_sims[i].max()) - FLAG_MARGIN and share_inside < FLAG_SHARE
            revised.append(self._kept_inside(result, area_filter.area, prior, unlike))
        return revised

    @staticmethod
    def _kept_inside(result: LocationResult, area: Area, prior: bool, unlike: bool) -> LocationResult:
        """The answer inside the area (restrict): a kernel mode between two parts of a concave area moves
        to the heaviest neighbour inside; the radii no larger than the area; the density zero outside.
        A prior whose answer still lies outside the area did not decide it: the radii stay the pixels'
        (capped at the area's size, a California answer to an Italy prior claimed 1,625 km) and the photo
        is flagged as unlike the area."""
        lat, lon = result.lat, result.lon
        if not prior and not area.contains(lat, lon)[0] and result.neighbours:
            best = area.nearest_inside(lat, lon, [n.lat for n in result.neighbours], [n.lon for n in result.neighbours],
                                       [n.weight for n in result.neighbours])
            if best is not None:
                lat, lon = result.neighbours[best].lat, result.neighbours[best].lon
        if prior and not area.contains(lat, lon)[0]:
            return led_by_answer(replace(result, note=UNLIKE_AREA))
        reach = area.extent_km()
        density = result.density if prior or result.density is None else masked_density(result.density, area)
        return led_by_answer(replace(result, lat=lat, lon=lon, radius50_km=min(result.radius50_km, reach),
                                     radius90_km=min(result.radius90_km, reach), density=density, evidence="area",
                                     note=UNLIKE_AREA if unlike else result.note))

    # -- times, anchors, the track, the streams -----------------------------------------------------

    def clock_for(self, contexts: Sequence[PhotoContext]) -> Clock:
        """The user's clock, else one estimated from the batch's photos that carry EXIF GPS time, else from
        the track and the photos whose place is known but not their true time, else UTC."""
        given = self.request.clock()
        if given is not None:
            return given
        estimated = estimate_clock([c.time for c in contexts], [c.gps_utc for c in contexts])
        if estimated is None and self.track is not None:
            placed = [c for c in contexts if c.anchor is not None and c.time is not None and c.gps_utc is None
                      and c.time.source in ("exif", "filename")]
            offset = self.track.clock_offset_s(Clock().seconds([c.time for c in placed]),
                                               [c.anchor[0] for c in placed], [c.anchor[1] for c in placed])
            estimated = Clock(timedelta(0), timedelta(seconds=offset)) if offset is not None else None
        return estimated or Clock()

    def photo_seconds(self, contexts: Sequence[PhotoContext]) -> np.ndarray:
        """Each photo's UTC seconds (NaN where unknown). A camera whose own photos carry EXIF GPS time keeps
        the clock estimated from them: a phone's zone is no camera's clock offset (a batch of two cameras
        a day apart moved the phone's photos by a day). Other cameras take the batch's clock."""
        batch = self.clock_for(contexts)
        clocks: dict[str, Clock] = {}
        if self.request.clock() is None:
            cameras = {c.time.camera for c in contexts if c.time is not None and c.time.camera}
            for camera in cameras:
                own = [c for c in contexts if c.time is not None and c.time.camera == camera]
                estimated = estimate_clock([c.time for c in own], [c.gps_utc for c in own])
                if estimated is not None:
                    clocks[camera] = estimated
        return np.array([clocks.get(c.time.camera, batch).utc(c.time).timestamp() if c.time is not None else np.nan
                         for c in contexts], dtype=np.float64)

    def revise(self, results: Sequence[LocationResult | None], contexts: Sequence[PhotoContext]
               ) -> list[LocationResult | None]:
        """The answers with anchors, the track and the streams applied (None stays None: a photo that
        could not be located and has no known place)."""
        seconds = self.photo_seconds(contexts)
        revised = list(results)
        known: dict[int, tuple[float, float, float, str]] = {}
        for i, context in enumerate(contexts):
            if context.anchor is not None:
                known[i] = (*context.anchor, 0.0, "anchor")
            elif self.track is not None:
                position = self.track.position_at(seconds[i], self.request.track_max_gap_s)
                if position is not None:
                    known[i] = (position.lat, position.lon, position.radius_km, "track")
        for i, (lat, lon, radius, evidence) in known.items():
            if revised[i] is not None:
                revised[i] = replace(revised[i], lat=lat, lon=lon, confidence=1.0, radius50_km=max(radius, 0.01),
                                     radius90_km=max(radius, 0.01), evidence=evidence, note="")
        streams = split_streams(seconds, self.request.stream_gap_s)
        revised = with_times(revised, seconds, streams if self.request.streams else [])
        if not self.request.streams:
            return [led_by_answer(r) for r in revised]
        for stream in streams:
            members = [i for i in stream if revised[i] is not None or i in known]
            if len(members) < 2:
                continue
            if not any(i in known for i in members):
                continue  # without an anchor the joint pass lost to one by one (docs/context.md): keep those
            photos = [self._evidence(seconds[i], revised[i], known.get(i)) for i in members]
            for i, answer in zip(members, locate_stream(photos)):
                if i in known or revised[i] is None:
                    continue
                evidence = answer.evidence if answer.evidence != "pixels" else revised[i].evidence
                revised[i] = replace(revised[i], lat=answer.lat, lon=answer.lon, confidence=answer.confidence,
                                     radius50_km=answer.radius50_km, radius90_km=answer.radius90_km,
                                     evidence=evidence)
        return [led_by_answer(r) for r in revised]

    @staticmethod
    def _evidence(time_s: float, result: LocationResult | None, known) -> PhotoEvidence:
        if known is not None:
            return PhotoEvidence(time_s, known[0], known[1], 1.0, known=True, known_radius_km=known[2])
        neighbours = result.neighbours
        return PhotoEvidence(time_s, result.lat, result.lon, result.confidence,
                             np.array([n.lat for n in neighbours]), np.array([n.lon for n in neighbours]),
                             np.array([n.weight for n in neighbours]))


def with_times(results: Sequence[LocationResult | None], seconds: np.ndarray, streams: Sequence[np.ndarray]
               ) -> list[LocationResult | None]:
    """The answers carrying their corrected capture time (ISO 8601 UTC) and stream number (from 1, in time
    order; 0 for a photo alone in its stream or where streams are off), for the stream layer's line."""
    from datetime import datetime, timezone

    number = {}
    for n, stream in enumerate((s for s in streams if len(s) > 1), start=1):
        number.update({int(i): n for i in stream})
    timed = []
    for i, result in enumerate(results):
        moment = (datetime.fromtimestamp(seconds[i], timezone.utc).isoformat(timespec="seconds")
                  if np.isfinite(seconds[i]) else "")
        if result is not None and (moment, number.get(i, 0)) != (result.capture_time, result.stream):
            result = replace(result, capture_time=moment, stream=number.get(i, 0))
        timed.append(result)
    return timed


SAME_PLACE_KM = 1.0


def led_by_answer(result: LocationResult | None) -> LocationResult | None:
    """The alternatives led by the answer's own place: where the context moved the answer (an anchor, the
    track, the stream, the area) the pixels' modes follow it, ranked from 2, with their distances from the
    new answer; the answer keeps the mass of a pixel mode at its place, else 0."""
    if result is None or not result.alternatives:
        return result
    lead = result.alternatives[0]
    if (lead.lat, lead.lon) == (result.lat, result.lon):
        return result
    away = [float(haversine_km(result.lat, result.lon, a.lat, a.lon)) for a in result.alternatives]
    mass = next((a.mass for a, km in zip(result.alternatives, away) if km < SAME_PLACE_KM), 0.0)
    others = [(a, km) for a, km in zip(result.alternatives, away) if km >= SAME_PLACE_KM]
    led = [Alternative(1, result.lat, result.lon, mass, 0.0)]
    led += [Alternative(rank, a.lat, a.lon, a.mass, km)
            for rank, (a, km) in enumerate(others[:len(result.alternatives) - 1], start=2)]
    return replace(result, alternatives=led)


def masked_density(grid, area: Area):
    """The density grid with the cells whose centre lies outside the area set to zero."""
    rows, cols = grid.values.shape
    lat = grid.north - (np.arange(rows) + 0.5) * grid.resolution
    lon = (grid.west + (np.arange(cols) + 0.5) * grid.resolution + 180.0) % 360.0 - 180.0  # a grid past 180 wraps
    grid_lat, grid_lon = np.meshgrid(lat, lon, indexing="ij")
    inside = area.contains(grid_lat.ravel(), grid_lon.ravel()).reshape(rows, cols)
    return replace(grid, values=np.where(inside, grid.values, 0.0).astype(np.float32))


def locate_with_context(locator, paths: Sequence[str | os.PathLike], options, request: ContextRequest,
                        progress=None, should_stop=None, batch_size: int = 16):
    """Locator.locate_paths with the context: each photo's time and EXIF GPS read from its file."""
    from ..locate import locate_files

    run = ContextRun(request, locator.database)
    report = locate_files(locator.query_embedder, paths, batch_size, progress, should_stop,
                          lambda indices, features: run.locate_features(
                              locator, features, [str(paths[i]) for i in indices], options, should_stop=should_stop))
    contexts = [photo_context_from_file(r.photo, request.filename_times) for r in report.results]
    require_times(run, contexts, [r.photo for r in report.results])
    report.results = [r for r in run.revise(report.results, contexts) if r is not None]
    return report


def with_batch_anchors(results: Sequence[LocationResult], use_filename: bool = True) -> list[LocationResult]:
    """The default locate's context pass, run without any context option: where a photo of the batch
    carries EXIF GPS and a photo without GPS shares its stream, the photos with GPS anchor their streams
    (measured on bench/context.py: equal to copying the nearest anchor, far above one by one). Streams
    without an anchor stay one by one, and a batch without such a pair is returned as it is."""
    contexts = [photo_context_from_file(r.photo, use_filename) for r in results]
    request = ContextRequest()
    seconds = Clock().seconds([c.time for c in contexts])
    if not any(c.anchor is not None for c in contexts):
        return list(results)
    paired = any(any(contexts[i].anchor is not None for i in stream) and any(contexts[i].anchor is None for i in stream)
                 for stream in split_streams(seconds, request.stream_gap_s) if len(stream) > 1)
    if not paired:
        return list(results)
    return [r for r in ContextRun(request, None).revise(results, contexts) if r is not None]


def require_times(run: ContextRun, contexts: Sequence[PhotoContext], names: Sequence[str]) -> None:
    """A track needs capture times: refuse a run where no photo has one (one line naming a photo)."""
    if run.track is not None and names and all(c.time is None for c in contexts):
        raise UserError(f"{names[0]}: no capture time (EXIF DateTimeOriginal, GPS time or a time in the file "
                        f"name) in any of the {len(names)} photo(s); a track needs them (or give a `time` column "
                        "in a CSV)")

