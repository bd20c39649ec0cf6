"""GPS tracks: where the analyst was at each moment. A GPX file (track points, else route points, with
times), a CSV of points (lat, lon, time columns), any OGR point layer with a time field, or a line layer
whose M values are the times (UTC seconds since 1970, as a GPKG LineStringM), reprojected to WGS84.
The position at a photo's time is interpolated between the two fixes around it, as exiftool -geotag
and gpscorrelate do; beyond MAX_GAP_S from any fix the track does not speak."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..geo import haversine_km

DEFAULT_MAX_GAP_S = 600.0  # gpscorrelate's default maximum gap between fixes is 10 minutes
FIX_ACCURACY_KM = 0.01  # a consumer GPS fix: about 10 m
DRIFT_KMH = 5.0  # how fast the interpolated place may stray from the truth with time from the nearest fix
CLOCK_SEARCH_S = 14 * 3600.0  # a camera clock off by up to a time zone and a bit either way
CLOCK_STEP_S = 60.0  # the coarse search's step; then refined to the second
# one placed photo can be slid to wherever the track passes near it: its place alone says nothing of the clock
CLOCK_MIN_PHOTOS = 2
TIME_NAMES = ("time", "timestamp", "datetime", "date_time", "utc")
LAT_NAMES = ("lat", "latitude", "y")
LON_NAMES = ("lon", "lng", "long", "longitude", "x")


class TrackError(UserError):
    """A track that cannot be used: unreadable, without times, or not in degrees."""


@dataclass(frozen=True)
class TrackPosition:
    lat: float
    lon: float
    radius_km: float
    gap_s: float  # time to the nearest fix


@dataclass(frozen=True)
class Track:
    """Fixes in time order: UTC seconds since the epoch, latitude, longitude."""

    name: str
    time_s: np.ndarray
    lat: np.ndarray
    lon: np.ndarray

    def position_at(self, time_s: float, max_gap_s: float = DEFAULT_MAX_GAP_S) -> TrackPosition | None:
        """The interpolated place at a moment, or None where the track does not speak (outside its span,
        or in a gap between fixes longer than max_gap_s)."""
        if not np.isfinite(time_s) or time_s < self.time_s[0] or time_s > self.time_s[-1]:
            return None
        after = int(np.searchsorted(self.time_s, time_s, side="left"))
        if self.time_s[after] == time_s:
            return TrackPosition(float(self.lat[after]), float(self.lon[after]), FIX_ACCURACY_KM, 0.0)
        before = after - 1
        span = self.time_s[after] - self.time_s[before]
        if span > max_gap_s:
            return None
        share = (time_s - self.time_s[before]) / span
        lat = self.lat[before] + share * (self.lat[after] - self.lat[before])
        lon = self.lon[before] + share * (self.lon[after] - self.lon[before])
        gap = min(time_s - self.time_s[before], self.time_s[after] - time_s)
        return TrackPosition(float(lat), float(lon), float(FIX_ACCURACY_KM + DRIFT_KMH * gap / 3600.0), float(gap))

    def clock_offset_s(self, camera_s: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> float | None:
        """How far a camera's clock ran ahead (seconds, within CLOCK_SEARCH_S), from photos whose place is
        known (EXIF GPS) but whose true time is not: the offset that brings the track nearest their places
        (least median distance, over a minute grid and then to the second), as one would slide the photos
        along the track by hand in gpscorrelate. None where no offset puts half of them in the track's span,
        or with fewer than CLOCK_MIN_PHOTOS photos."""
        camera_s, lat, lon = (np.asarray(v, dtype=np.float64) for v in (camera_s, lat, lon))
        if len(camera_s) < CLOCK_MIN_PHOTOS:
            return None

        def misfit(offset: float) -> float:
            moment = camera_s - offset
            inside = (moment >= self.time_s[0]) & (moment <= self.time_s[-1])
            if 2 * inside.sum() < len(moment):
                return np.inf
            at_lat = np.interp(moment[inside], self.time_s, self.lat)
            at_lon = np.interp(moment[inside], self.time_s, self.lon)
            return float(np.median(haversine_km(at_lat, at_lon, lat[inside], lon[inside])))

        coarse = np.arange(-CLOCK_SEARCH_S, CLOCK_SEARCH_S + CLOCK_STEP_S, CLOCK_STEP_S)
        best = float(coarse[int(np.argmin([misfit(o) for o in coarse]))])
        fine = np.arange(best - CLOCK_STEP_S, best + CLOCK_STEP_S + 1.0, 1.0)
        scores = [misfit(o) for o in fine]
        return float(fine[int(np.argmin(scores))]) if np.isfinite(min(scores)) else None

    def length_km(self) -> float:
        return float(haversine_km(self.lat[:-1], self.lon[:-1], self.lat[1:], self.lon[1:]).sum())


def _utc_seconds(value, where: str) -> float:
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value or "").strip()
        if not text:
            return np.nan
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("/", "-"))
        except ValueError:
            raise TrackError(f"{where}: '{text}' is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # GPS logs write UTC
    return moment.timestamp()


def _track(name: str, times, lat, lon) -> Track:
    times, lat, lon = (np.asarray(v, dtype=np.float64) for v in (times, lat, lon))
    keep = np.isfinite(times) & np.isfinite(lat) & np.isfinite(lon)
    if not keep.any():
        raise TrackError(f"{name}: the track's points carry no time; a track needs a time on each point")
    if (np.abs(lat[keep]) > 90).any() or (np.abs(lon[keep]) > 180).any():
        raise TrackError(f"{name}: coordinates are not degrees of latitude/longitude (another CRS?); save the track "
                         "in WGS84 (EPSG:4326) or as a layer that declares its CRS")
    order = np.argsort(times[keep], kind="stable")
    return Track(name, times[keep][order], lat[keep][order], lon[keep][order])


def _column(header, names):
    lowered = {h.strip().lower(): h for h in header}
    return next((lowered[n] for n in names if n in lowered), None)


def _read_csv(path: Path) -> Track:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        lat_key, lon_key, time_key = _column(header, LAT_NAMES), _column(header, LON_NAMES), _column(header, TIME_NAMES)
        if lat_key is None or lon_key is None:
            raise TrackError(f"{path}: a track CSV needs lat and lon columns; columns are {header}")
        if time_key is None:
            raise TrackError(f"{path}: the track has no time column ({', '.join(TIME_NAMES)}); columns are {header}")
        rows = list(reader)
    try:
        lat = [float(r[lat_key]) for r in rows]
        lon = [float(r[lon_key]) for r in rows]
    except (TypeError, ValueError):
        raise TrackError(f"{path}: lat/lon values that are not numbers") from None
    return _track(path.name, [_utc_seconds(r[time_key], str(path)) for r in rows], lat, lon)


def _read_ogr(path: Path) -> Track:
    from osgeo import ogr

    from .vector import features_in_wgs84, open_vector

    dataset = open_vector(path, TrackError, "a track file")
    names = [dataset.GetLayer(i).GetName() for i in range(dataset.GetLayerCount())]
    preferred = [n for n in ("track_points", "route_points") if n in names] or names
    for name in preferred:
        layer = dataset.GetLayerByName(name)
        if layer.GetFeatureCount() == 0:
            continue
        if ogr.GT_Flatten(layer.GetGeomType()) in (ogr.wkbLineString, ogr.wkbMultiLineString):
            return _read_line_m(path, name, layer)
        definition = layer.GetLayerDefn()
        fields = [definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())]
        time_key = _column(fields, TIME_NAMES)
        if time_key is None:
            raise TrackError(f"{path}: layer '{name}' has no time field; a track needs a time on each point")
        times, lat, lon = [], [], []
        for feature, geometry in features_in_wgs84(layer):
            if ogr.GT_Flatten(geometry.GetGeometryType()) != ogr.wkbPoint:
                raise TrackError(f"{path}: layer '{name}' holds {geometry.GetGeometryName().lower()}s; a track is a "
                                 "point layer with a time field (GPX track points)")
            value = feature.GetFieldAsDateTime(time_key) if feature.IsFieldSetAndNotNull(time_key) else None
            times.append(_ogr_time(value))
            lon.append(geometry.GetX())
            lat.append(geometry.GetY())
        return _track(f"{path.name}:{name}", times, lat, lon)
    raise TrackError(f"{path}: no points in any layer")


def _read_line_m(path: Path, name: str, layer) -> Track:
    """A line layer whose vertices carry their time as M (UTC seconds since 1970)."""
    from osgeo import ogr

    from .vector import features_in_wgs84

    if not ogr.GT_HasM(layer.GetGeomType()):
        raise TrackError(f"{path}: layer '{name}' is a line layer without M values; a track line needs each "
                         "vertex's time as M (UTC seconds since 1970), or give the track as points with a time field")
    times, lat, lon = [], [], []
    for _, geometry in features_in_wgs84(layer):
        parts = ([geometry.GetGeometryRef(i) for i in range(geometry.GetGeometryCount())]
                 if ogr.GT_Flatten(geometry.GetGeometryType()) == ogr.wkbMultiLineString else [geometry])
        for part in parts:
            for i in range(part.GetPointCount()):
                times.append(part.GetM(i))
                lon.append(part.GetX(i))
                lat.append(part.GetY(i))
    if times and not any(t > 0 for t in times):
        raise TrackError(f"{path}: the track's M values are all zero or negative; a track line needs each vertex's "
                         "time as M (UTC seconds since 1970)")
    return _track(f"{path.name}:{name}", times, lat, lon)


def _ogr_time(value) -> float:
    """OGR's [year, month, day, hour, minute, second (float), tz flag] as UTC seconds (flag 100 = UTC,
    above: +15 min per step, 1 = local (taken as UTC, as GPS logs are))."""
    if not value or value[0] <= 0:
        return np.nan
    year, month, day, hour, minute, second, flag = value
    whole = int(second)
    moment = datetime(year, month, day, hour, minute, whole, int(round((second - whole) * 1e6)), tzinfo=timezone.utc)
    if flag > 1:
        moment = moment.replace(tzinfo=None)
        offset_s = (flag - 100) * 15 * 60
        return moment.replace(tzinfo=timezone.utc).timestamp() - offset_s
    return moment.timestamp()


def read_track(path: str | os.PathLike) -> Track:
    path = Path(path)
    if not path.is_file():
        raise TrackError(f"{path}: track file not found")
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    return _read_ogr(path)
