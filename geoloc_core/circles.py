"""Geodesic circles on a spherical Earth in plain Python (no numpy), for uncertainty polygons drawn
by QGIS even where the engine's packages live in another Python."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0


def destination(lat: float, lon: float, bearing_deg: float, distance_km: float) -> tuple[float, float]:
    """The point reached from (lat, lon) along a bearing over distance_km; longitude in [-180, 180)."""
    phi1, lam1, theta = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    delta = distance_km / EARTH_RADIUS_KM
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lam2 = lam1 + math.atan2(math.sin(theta) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * sin_phi2)
    return math.degrees(phi2), (math.degrees(lam2) + 540.0) % 360.0 - 180.0


def _central_angle(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * math.asin(math.sqrt(min(1.0, max(0.0, a))))


def geodesic_circle(lat: float, lon: float, radius_km: float, segments: int = 128) -> list[tuple[float, float]]:
    """A closed ring of (lon, lat) vertices at radius_km from the centre, for a polygon layer.

    Longitudes are unwrapped (they may run past +-180) so that a circle crossing the antimeridian
    stays one simple polygon instead of a band around the globe. A circle holding a pole is closed
    along that pole's latitude, so it covers the cap rather than its complement.
    """
    radius_km = min(radius_km, math.pi * EARTH_RADIUS_KM * 0.999)
    ring: list[tuple[float, float]] = []
    for i in range(segments):
        vertex_lat, vertex_lon = destination(lat, lon, 360.0 * i / segments, radius_km)
        if ring:  # unwrap: keep each longitude within 180 degrees of the previous one
            previous = ring[-1][0]
            vertex_lon += 360.0 * round((previous - vertex_lon) / 360.0)
        ring.append((vertex_lon, vertex_lat))
    for pole in (90.0, -90.0):
        if _central_angle(lat, lon, pole, 0.0) * EARTH_RADIUS_KM < radius_km:
            ring += [(ring[-1][0], pole), (ring[0][0], pole)]
            break
    ring.append(ring[0])
    return ring
