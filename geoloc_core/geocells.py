"""Adaptive geographic cells (geocells) for classification training, as PlaNet (Weyand et al. 2016):
a quadtree on the six faces of a cube around the sphere (S2's face layout, without its area
correction), split recursively until each cell holds at most t_max photos; cells left with fewer
than t_min photos are dropped. Dense areas get small cells and sparse areas large ones; the cube has
no seam at the antimeridian and no singularity at the poles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geo import to_lat_lon, to_unit_vectors

MAX_LEVEL = 20


def xyz_to_face_uv(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Face (0..5: +x, +y, +z, -x, -y, -z) and (u, v) in [-1, 1] of unit vectors (n, 3)."""
    xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
    axis = np.argmax(np.abs(xyz), axis=1)
    negative = xyz[np.arange(len(xyz)), axis] < 0
    face = axis + 3 * negative
    x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    u = np.empty(len(xyz))
    v = np.empty(len(xyz))
    with np.errstate(divide="ignore", invalid="ignore"):
        for f, (uu, vv) in enumerate([(y / x, z / x), (-x / y, z / y), (-x / z, -y / z),
                                      (z / x, y / x), (z / y, -x / y), (-y / z, -x / z)]):
            mask = face == f
            u[mask], v[mask] = uu[mask], vv[mask]
    return face, np.clip(u, -1.0, 1.0), np.clip(v, -1.0, 1.0)


def face_uv_to_xyz(face: int, u, v) -> np.ndarray:
    u, v = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
    one = np.ones_like(u)
    xyz = [np.stack([one, u, v]), np.stack([-u, one, v]), np.stack([-u, -v, one]),
           np.stack([-one, -v, -u]), np.stack([v, -one, -u]), np.stack([v, u, -one])][face]
    xyz = np.moveaxis(xyz, 0, -1)
    return xyz / np.linalg.norm(xyz, axis=-1, keepdims=True)


@dataclass(frozen=True)
class Cell:
    """A leaf of the partition: face, quadtree level and position (i along u, j along v)."""

    face: int
    level: int
    i: int
    j: int
    count: int
    lat: float  # centroid of the cell's photos (the prediction of the `cells` estimator)
    lon: float

    @property
    def token(self) -> str:
        return f"{self.face}/{self.level}/{self.i}/{self.j}"

    def bounds_uv(self) -> tuple[float, float, float, float]:
        size = 2.0 / (1 << self.level)
        return (-1 + self.i * size, -1 + self.j * size, -1 + (self.i + 1) * size, -1 + (self.j + 1) * size)

    def boundary(self, points_per_edge: int = 16) -> list[tuple[float, float]]:
        """The cell's outline as a closed (lon, lat) ring: edges follow great circles, longitudes are
        unwrapped across the antimeridian, and a cell holding a pole is closed along its latitude."""
        u0, v0, u1, v1 = self.bounds_uv()
        t = np.linspace(0.0, 1.0, points_per_edge, endpoint=False)
        u = np.concatenate([u0 + (u1 - u0) * t, np.full_like(t, u1), u1 - (u1 - u0) * t, np.full_like(t, u0)])
        v = np.concatenate([np.full_like(t, v0), v0 + (v1 - v0) * t, np.full_like(t, v1), v1 - (v1 - v0) * t])
        lat, lon = to_lat_lon(face_uv_to_xyz(self.face, u, v))
        ring: list[tuple[float, float]] = []
        for k in range(len(lat)):
            if abs(lat[k]) > 90 - 1e-9:  # a corner on a pole: its longitude is that of its neighbours
                ring += [(ring[-1][0] if ring else float(lon[(k + 1) % len(lon)]), float(lat[k])),
                         (float(lon[(k + 1) % len(lon)]), float(lat[k]))]
                continue
            x = float(lon[k])
            if ring:
                x += 360.0 * round((ring[-1][0] - x) / 360.0)
            ring.append((x, float(lat[k])))
        contains_pole = self.face in (2, 5) and u0 < 0 < u1 and v0 < 0 < v1
        if contains_pole:
            pole = 90.0 if self.face == 2 else -90.0
            ring += [(ring[-1][0], pole), (ring[0][0], pole)]
        ring.append(ring[0])
        return ring


class Partition:
    """Leaf cells, with a lookup from coordinates to the cell holding them."""

    def __init__(self, cells: list[Cell]):
        self.cells = cells
        self.index = {(c.face, c.level, c.i, c.j): n for n, c in enumerate(cells)}
        self.levels = sorted({c.level for c in cells})

    def __len__(self) -> int:
        return len(self.cells)

    def assign(self, lat, lon) -> np.ndarray:
        """Cell number of each point, -1 where its cell was dropped (too few photos)."""
        face, u, v = xyz_to_face_uv(to_unit_vectors(lat, lon))
        found = np.full(len(face), -1, dtype=np.int64)
        for level in self.levels:
            n = 1 << level
            i = np.minimum(((u + 1) / 2 * n).astype(np.int64), n - 1)
            j = np.minimum(((v + 1) / 2 * n).astype(np.int64), n - 1)
            for k in np.flatnonzero(found < 0):
                hit = self.index.get((int(face[k]), level, int(i[k]), int(j[k])))
                if hit is not None:
                    found[k] = hit
        return found

    def probability_at(self, probabilities: np.ndarray, lat, lon) -> np.ndarray:
        """A photo's cell probabilities read at each point (0 where the point's cell was dropped): the
        prior the hybrid estimator multiplies into the neighbours' weights."""
        where = self.assign(lat, lon)
        return np.where(where >= 0, probabilities[np.maximum(where, 0)], 0.0)

    def most_probable(self, probabilities: np.ndarray) -> tuple[float, float]:
        """Centroid of the most probable cell: the cells estimator's prediction."""
        best = self.cells[int(np.argmax(probabilities))]
        return best.lat, best.lon

    def centroids(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array([c.lat for c in self.cells]), np.array([c.lon for c in self.cells])

    def to_rows(self) -> list[tuple]:
        return [(c.token, c.face, c.level, c.i, c.j, c.count, c.lat, c.lon) for c in self.cells]

    @classmethod
    def from_rows(cls, rows) -> Partition:
        return cls([Cell(int(f), int(level), int(i), int(j), int(count), float(lat), float(lon))
                    for _, f, level, i, j, count, lat, lon in rows])


def partition(lat, lon, t_max: int = 50, t_min: int = 5, max_level: int = MAX_LEVEL) -> Partition:
    """Split the cube faces until every cell holds at most t_max points; drop cells under t_min."""
    if t_min > t_max:
        raise ValueError("t_min must not exceed t_max")
    points = to_unit_vectors(lat, lon).reshape(-1, 3)
    face, u, v = xyz_to_face_uv(points)
    cells: list[Cell] = []

    def split(f: int, level: int, i: int, j: int, members: np.ndarray) -> None:
        if len(members) > t_max and level < max_level:
            n = 1 << (level + 1)
            ci = np.minimum(((u[members] + 1) / 2 * n).astype(np.int64), n - 1)
            cj = np.minimum(((v[members] + 1) / 2 * n).astype(np.int64), n - 1)
            for di in (0, 1):
                for dj in (0, 1):
                    child = members[(ci == 2 * i + di) & (cj == 2 * j + dj)]
                    if len(child):
                        split(f, level + 1, 2 * i + di, 2 * j + dj, child)
            return
        if len(members) >= t_min:
            mean = points[members].mean(axis=0)
            clat, clon = to_lat_lon(mean / np.linalg.norm(mean))
            cells.append(Cell(f, level, i, j, len(members), float(clat), float(clon)))

    for f in range(6):
        members = np.flatnonzero(face == f)
        if len(members):
            split(f, 0, 0, 0, members)
    return Partition(cells)
