"""Spherical geometry on a spherical Earth (R = 6371 km), vectorised over numpy arrays."""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcasts)."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=np.float64)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def to_unit_vectors(lat, lon) -> np.ndarray:
    """Degrees to points on the unit sphere, shape (..., 3)."""
    lat, lon = np.radians(np.asarray(lat, dtype=np.float64)), np.radians(np.asarray(lon, dtype=np.float64))
    cos_lat = np.cos(lat)
    return np.stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)], axis=-1)


def to_lat_lon(xyz) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors (..., 3) back to degrees, longitude in [-180, 180]."""
    xyz = np.asarray(xyz, dtype=np.float64)
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    lat = np.degrees(np.arctan2(z, np.hypot(x, y)))
    lon = np.degrees(np.arctan2(y, x))
    return lat, lon


def destination(lat: float, lon: float, bearing_deg, distance_km: float) -> tuple[np.ndarray, np.ndarray]:
    """Points reached from (lat, lon) along the given bearings over distance_km on the sphere."""
    phi1, lam1 = np.radians(lat), np.radians(lon)
    theta = np.radians(np.asarray(bearing_deg, dtype=np.float64))
    delta = distance_km / EARTH_RADIUS_KM
    sin_phi2 = np.sin(phi1) * np.cos(delta) + np.cos(phi1) * np.sin(delta) * np.cos(theta)
    phi2 = np.arcsin(np.clip(sin_phi2, -1.0, 1.0))
    lam2 = lam1 + np.arctan2(np.sin(theta) * np.sin(delta) * np.cos(phi1), np.cos(delta) - np.sin(phi1) * sin_phi2)
    return np.degrees(phi2), (np.degrees(lam2) + 540.0) % 360.0 - 180.0


def geodesic_circle(lat: float, lon: float, radius_km: float, segments: int = 128) -> list[tuple[float, float]]:
    """A closed ring of (lon, lat) vertices at radius_km from the centre, for a polygon layer.

    Longitudes are unwrapped (they may run past +-180) so that a circle crossing the antimeridian
    stays one simple polygon instead of a band around the globe. A circle holding a pole is closed
    along that pole's latitude, so it covers the cap rather than its complement.
    """
    radius_km = min(radius_km, np.pi * EARTH_RADIUS_KM * 0.999)
    bearings = np.linspace(0.0, 360.0, segments, endpoint=False)
    lats, lons = destination(lat, lon, bearings, radius_km)
    lons = np.degrees(np.unwrap(np.radians(lons)))
    ring = list(zip(lons.tolist(), lats.tolist()))
    for pole in (90.0, -90.0):
        if haversine_km(lat, lon, pole, 0.0) < radius_km:
            ring += [(ring[-1][0], pole), (ring[0][0], pole)]
            break
    ring.append(ring[0])
    return ring
