"""Geodesic circles on a spherical Earth in plain Python (no numpy), for uncertainty polygons drawn
by QGIS even where the engine's packages live in another Python.

Polygons are given in EPSG:4326 as QGIS and GeoPackage expect them: longitudes within [-180, 180], a
circle across the antimeridian split in two, a circle holding a pole closed along the pole, and a
circle holding both poles written as the world minus the cap around the antipode.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0
Ring = list[tuple[float, float]]  # closed ring of (lon, lat)


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


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points in degrees."""
    return _central_angle(lat1, lon1, lat2, lon2) * EARTH_RADIUS_KM


def _unwrapped_ring(lat: float, lon: float, radius_km: float, segments: int) -> list[tuple[float, float]]:
    """The circle's vertices (open), each longitude within 180 degrees of the previous one."""
    ring: list[tuple[float, float]] = []
    for i in range(segments):
        vertex_lat, vertex_lon = destination(lat, lon, 360.0 * i / segments, radius_km)
        if ring:
            vertex_lon += 360.0 * round((ring[-1][0] - vertex_lon) / 360.0)
        ring.append((vertex_lon, vertex_lat))
    return ring


def _crossing(a: tuple[float, float], b: tuple[float, float], x: float) -> tuple[float, float]:
    t = (x - a[0]) / (b[0] - a[0])
    return x, a[1] + t * (b[1] - a[1])


def _clip(ring: list[tuple[float, float]], west: float, east: float) -> list[tuple[float, float]]:
    """The part of a polygon (open ring) between two meridians (Sutherland-Hodgman; the strip is convex)."""
    for inside, edge in ((lambda p: p[0] >= west, west), (lambda p: p[0] <= east, east)):
        clipped = []
        for i, current in enumerate(ring):
            previous = ring[i - 1]
            if inside(current):
                if not inside(previous):
                    clipped.append(_crossing(previous, current, edge))
                clipped.append(current)
            elif inside(previous):
                clipped.append(_crossing(previous, current, edge))
        ring = clipped
        if not ring:
            break
    return ring


def _area(ring: list[tuple[float, float]]) -> float:
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]))) / 2


def _split_at_antimeridian(ring: list[tuple[float, float]]) -> list[Ring]:
    pieces = []
    for shift in (-360.0, 0.0, 360.0):
        piece = _clip([(x + shift, y) for x, y in ring], -180.0, 180.0)
        if len(piece) >= 3 and _area(piece) > 1e-12:
            pieces.append(piece + piece[:1])
    return pieces


def _polar_cap(ring: list[tuple[float, float]], pole: float) -> Ring:
    """A ring winding once around a pole, cut at the antimeridian and closed along the pole."""
    wrapped = [((x + 180.0) % 360.0 - 180.0, y) for x, y in ring]
    cut = next(i for i in range(len(wrapped)) if abs(wrapped[i][0] - wrapped[i - 1][0]) > 180.0)
    ordered = wrapped[cut:] + wrapped[:cut]  # starts just after the antimeridian, ends just before it
    start, end = ordered[0], ordered[-1]
    edge = 180.0 if end[0] > 0 else -180.0  # the side the ring reaches last
    _, lat = _crossing(end, (start[0] + 2 * edge, start[1]), edge)
    cap = [(-edge, lat), *ordered, (edge, lat), (edge, pole), (-edge, pole)]
    return cap + cap[:1]


def _notch(piece: Ring, edge: float, upward: bool) -> list[tuple[float, float]]:
    """The boundary of a piece touching the meridian `edge`, without its stretch along that meridian,
    running along the edge's direction of travel (upward or downward)."""
    open_piece = piece[:-1]
    on_edge = [abs(x - edge) < 1e-9 for x, _ in open_piece]
    first = next(i for i in range(len(open_piece)) if on_edge[i - 1] and not on_edge[i])
    ordered = open_piece[first:] + open_piece[:first]
    inner = [p for p, touching in zip(ordered, on_edge[first:] + on_edge[:first]) if not touching]
    run = ordered[len(inner):]
    path = [run[-1], *inner, run[0]]
    if (path[0][1] > path[-1][1]) == upward:
        path.reverse()
    return path


def _world_minus(holes: list[Ring]) -> list[list[Ring]]:
    """The whole world minus some pieces: those touching the antimeridian notch the world's outline,
    the others become holes."""
    right = [p for p in holes if any(abs(x - 180.0) < 1e-9 for x, _ in p)]
    left = [p for p in holes if any(abs(x + 180.0) < 1e-9 for x, _ in p)]
    shell = [(-180.0, -90.0), (180.0, -90.0)]
    for piece in right:
        shell += _notch(piece, 180.0, upward=True)
    shell += [(180.0, 90.0), (-180.0, 90.0)]
    for piece in left:
        shell += _notch(piece, -180.0, upward=False)
    shell.append(shell[0])
    return [[shell] + [p for p in holes if p not in right and p not in left]]


def geodesic_polygons(lat: float, lon: float, radius_km: float, segments: int = 128) -> list[list[Ring]]:
    """The area within radius_km of (lat, lon) as polygons, each [outer ring, *holes], with closed
    rings of (lon, lat) within [-180, 180] x [-90, 90] (see the module's docstring)."""
    radius_km = min(radius_km, math.pi * EARTH_RADIUS_KM * 0.999)
    north, south = (_central_angle(lat, lon, pole, 0.0) * EARTH_RADIUS_KM < radius_km for pole in (90.0, -90.0))
    if north and south:
        antipode_lon = (lon + 360.0) % 360.0 - 180.0
        rest = _unwrapped_ring(-lat, antipode_lon, math.pi * EARTH_RADIUS_KM - radius_km, segments)
        return _world_minus(_split_at_antimeridian(rest))
    ring = _unwrapped_ring(lat, lon, radius_km, segments)
    if north or south:
        return [[_polar_cap(ring, 90.0 if north else -90.0)]]
    return [[piece] for piece in _split_at_antimeridian(ring)]
