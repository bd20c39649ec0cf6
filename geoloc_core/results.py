"""What the engine answers, as plain dataclasses: light enough (no numpy, torch or faiss) for QGIS's
Python to rebuild them from the JSON of an engine running in another Python (`from_dict`), so that
both engine routes hand the panel the same types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .files import display_path

if TYPE_CHECKING:
    from .estimators import DensityGrid


@dataclass(frozen=True)
class Skipped:
    """A photo passed over (no usable location) or that could not be used, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{display_path(self.path)}: {self.reason}"


def skipped_to_dicts(rows: list[Skipped]) -> list[dict]:
    """Photos passed over, as the JSON rows `skipped_from_dicts` reads."""
    return [{"path": row.path, "reason": row.reason} for row in rows]


def skipped_from_dicts(rows: list[dict]) -> list[Skipped]:
    """Photos an engine passed over or could not use, from their JSON rows."""
    return [Skipped(str(row["path"]), str(row["reason"])) for row in rows]


@dataclass(frozen=True)
class Record:
    """A reference photo in a database."""

    id: int
    path: str
    sha256: str
    lat: float
    lon: float
    altitude_m: float | None
    time: str | None
    width: int | None
    height: int | None
    attributes: dict


@dataclass
class BuildReport:
    """What an add/build did. `skipped`: photos with no usable location; `failed`: unreadable photos."""

    added: int = 0
    already_present: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    failed: list[Skipped] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        text = (f"added {self.added} photos, {self.already_present} already present, "
                f"{len(self.skipped)} without a usable location, {len(self.failed)} unreadable "
                f"in {self.seconds:.1f} s")
        return text + (" (cancelled: run again to resume)" if self.cancelled else "")

    def to_dict(self) -> dict:
        return {
            "added": self.added, "already_present": self.already_present, "cancelled": self.cancelled,
            "seconds": round(self.seconds, 3),
            "skipped": skipped_to_dicts(self.skipped), "failed": skipped_to_dicts(self.failed),
        }

    @classmethod
    def from_dict(cls, data: dict) -> BuildReport:
        return cls(int(data["added"]), int(data["already_present"]), skipped_from_dicts(data["skipped"]),
                   skipped_from_dicts(data["failed"]), bool(data["cancelled"]), float(data["seconds"]))


@dataclass(frozen=True)
class Neighbour:
    rank: int  # 1 = most similar
    record_id: int
    distance: float  # L2 distance between normalised features, in [0, 2]
    similarity: float  # cosine similarity, in [-1, 1]
    weight: float  # share of the estimate's evidence, sums to 1 over the neighbours
    lat: float
    lon: float
    path: str


@dataclass(frozen=True)
class Alternative:
    """A separate mode of a photo's density: another place the photo may be, with the share of the density
    around it. Rank 1 is the prediction itself."""

    rank: int
    lat: float
    lon: float
    mass: float  # share of the density's probability in this mode's basin, in [0, 1]
    distance_km: float  # from the prediction


@dataclass
class LocationResult:
    photo: str
    lat: float
    lon: float
    confidence: float
    radius50_km: float
    radius90_km: float
    estimator: str
    k: int
    neighbours: list[Neighbour]
    density: DensityGrid | None = None
    evidence: str = "pixels"  # what decided the answer: track / anchor / stream / pixels / area (context/)
    note: str = ""  # a warning about the answer, e.g. that the photo looks unlike anything in its area
    alternatives: list[Alternative] = field(default_factory=list)  # density modes, best first (estimators)
    capture_time: str = ""  # ISO 8601 UTC, the camera's clock corrected (context/); "" where unknown
    stream: int = 0  # the photo's stream in the batch, numbered from 1 in time order; 0 = in no stream

    def to_dict(self, with_neighbours: bool = True) -> dict:
        data = {
            "photo": self.photo, "lat": self.lat, "lon": self.lon, "confidence": self.confidence,
            "radius50_km": self.radius50_km, "radius90_km": self.radius90_km, "estimator": self.estimator,
            "k": self.k, "evidence": self.evidence, "note": self.note,
            "alternatives": [vars(a) for a in self.alternatives], "capture_time": self.capture_time,
            "stream": self.stream,
        }
        if with_neighbours:
            data["neighbours"] = [vars(n) for n in self.neighbours]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> LocationResult:
        """The result to_dict wrote (the density grid stays behind: the other engine writes it to a file)."""
        return cls(str(data["photo"]), float(data["lat"]), float(data["lon"]), float(data["confidence"]),
                   float(data["radius50_km"]), float(data["radius90_km"]), str(data["estimator"]), int(data["k"]),
                   [Neighbour(**n) for n in data.get("neighbours", [])], None, str(data.get("evidence", "pixels")),
                   str(data.get("note", "")), [Alternative(**a) for a in data.get("alternatives", [])],
                   str(data.get("capture_time", "")), int(data.get("stream", 0)))
