"""Streams: photos taken close together in time, located jointly.

The design (docs/context.md has the reasoning and the measurements): a hidden Markov chain over each
stream in time order, solved by forward-backward.

- States of photo i: a handful of places, not a grid: the photo's own one-by-one prediction and its
  heaviest neighbours, the predictions of the photos around it in the stream, and the places of the
  stream's anchors (photos of the batch with GPS, or photos where a track speaks). Pooling the anchors'
  places into every photo's states is what lets an anchor pull a photo whose pixels never saw that place;
  the naive chain that only offered each photo its own neighbours lost to copying the anchor.
- Emission: pixels, tempered by how reliable they are: (1 - a) + a * K(s) / max K, where K is the
  photo's neighbour density at the state (a kernel of PIXEL_KERNEL_KM) and a the photo's calibrated
  confidence: pixels multiply a state's odds by at most 1 / (1 - a). Pixels that are unsure are nearly
  flat, so they move a photo only where they agree with the stream or where nothing else speaks. An
  anchor's only state is its place.
- Transition for a time gap dt: stay at the very place with probability exp(-dt / STAY_S); else move with
  a distance prior exp(-d / L(dt)), L(dt) = MOVE_FLOOR_KM + TRAVEL_KMH * dt, so that a near-in-time
  anchor dominates and a far one lets the pixels speak; a small teleport share keeps every state alive.
- Answer: the state of highest posterior marginal; with anchors, a photo whose calibrated confidence is
  under MOVE_CONFIDENCE stays at the anchors' places (weak pixels cost accuracy against copying the
  anchor, measured). The 50%/90% radii are the posterior's spread around it, at least RADIUS50_KMH /
  RADIUS90_KMH times the time to the nearest anchor (calibrated on the benchmark); confidence is the
  posterior mass within the confidence distance.
- Without any anchor in a stream the engine keeps the one-by-one answers (run.py): pooling the stream's
  pixels lost 1 to 3 points at every threshold on the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..calibration import CONFIDENCE_RADIUS_KM
from ..geo import haversine_km

DEFAULT_MAX_GAP_S = 3 * 3600.0  # a pause longer than this starts a new stream
PIXEL_KERNEL_KM = 25.0
STAY_S = 2 * 3600.0
TRAVEL_KMH = 30.0
MOVE_FLOOR_KM = 0.5
# The radii with anchors: the truth lies within RADIUS50_KMH / RADIUS90_KMH times the time to the nearest
# anchor, calibrated on bench/context.py's streams (50% / 90% of photos inside). Faster than any trip: there
# a stream is an owner's uploads in order, and consecutive uploads can be continents apart.
RADIUS50_KMH = 75.0
RADIUS90_KMH = 3000.0
EARTH_HALF_CIRCUMFERENCE_KM = 20015.0
MOVE_CONFIDENCE = 0.5  # with anchors, pixels below this calibrated confidence never leave the anchors' places
TELEPORT = 1e-3
OWN_NEIGHBOURS = 10  # a photo's heaviest neighbours offered as its states
AROUND = 5  # predictions of this many photos before and after offered as states
MIN_RADIUS_KM = 0.05
MIN_TRUST, MAX_TRUST = 0.02, 0.95


@dataclass
class PhotoEvidence:
    """What one photo brings to its stream: its one-by-one answer and neighbours, or a known place."""

    time_s: float
    lat: float
    lon: float
    confidence: float = 0.0
    neighbour_lat: np.ndarray | None = None
    neighbour_lon: np.ndarray | None = None
    neighbour_weight: np.ndarray | None = None
    known: bool = False  # an anchor: EXIF GPS of the batch, a CSV anchor, or a track position
    known_radius_km: float = 0.0


@dataclass(frozen=True)
class JointAnswer:
    lat: float
    lon: float
    confidence: float
    radius50_km: float
    radius90_km: float
    evidence: str  # anchor / stream / pixels (the caller says track where a track placed the photo)


def split_streams(times_s, max_gap_s: float = DEFAULT_MAX_GAP_S) -> list[np.ndarray]:
    """Indices of the photos of each stream, in time order; photos without a time (NaN) stand alone."""
    times_s = np.asarray(times_s, dtype=np.float64)
    timed = np.flatnonzero(np.isfinite(times_s))
    order = timed[np.argsort(times_s[timed], kind="stable")]
    streams = []
    if order.size:
        cuts = np.flatnonzero(np.diff(times_s[order]) > max_gap_s) + 1
        streams = [part for part in np.split(order, cuts)]
    return streams + [np.array([i]) for i in np.flatnonzero(~np.isfinite(times_s))]


def _reach_km(dt_s: float) -> float:
    return MOVE_FLOOR_KM + TRAVEL_KMH * abs(dt_s) / 3600.0


def _states(photos: list[PhotoEvidence], anchors: list[int], i: int) -> np.ndarray:
    """(m, 2) lat, lon of the places photo i may be at."""
    photo = photos[i]
    if photo.known:
        return np.array([[photo.lat, photo.lon]])
    places = [(photo.lat, photo.lon)]
    if photo.neighbour_weight is not None and len(photo.neighbour_weight):
        top = np.argsort(-photo.neighbour_weight, kind="stable")[:OWN_NEIGHBOURS]
        places += list(zip(photo.neighbour_lat[top], photo.neighbour_lon[top]))
    for j in range(max(0, i - AROUND), min(len(photos), i + AROUND + 1)):
        places.append((photos[j].lat, photos[j].lon))
    places += [(photos[a].lat, photos[a].lon) for a in anchors]
    return np.unique(np.array(places, dtype=np.float64), axis=0)


def _emission(photo: PhotoEvidence, states: np.ndarray) -> np.ndarray:
    if photo.known or photo.neighbour_weight is None or not len(photo.neighbour_weight):
        return np.ones(len(states))
    d = haversine_km(states[:, 0, None], states[:, 1, None], photo.neighbour_lat[None, :],
                     photo.neighbour_lon[None, :])
    density = np.exp(-0.5 * (d / PIXEL_KERNEL_KM) ** 2) @ photo.neighbour_weight
    trust = float(np.clip(photo.confidence, MIN_TRUST, MAX_TRUST))
    peak = density.max()
    return (1.0 - trust) + trust * (density / peak if peak > 0 else 1.0)


def _transition(before: np.ndarray, after: np.ndarray, dt_s: float) -> np.ndarray:
    d = haversine_km(before[:, 0, None], before[:, 1, None], after[None, :, 0], after[None, :, 1])
    move = np.exp(-(d - d.min(axis=1, keepdims=True)) / _reach_km(dt_s))  # shifted: no row underflows
    move /= move.sum(axis=1, keepdims=True)
    stay = np.exp(-abs(dt_s) / STAY_S)
    same = (d < 1e-6).astype(np.float64)
    has_same = same.sum(axis=1, keepdims=True) > 0
    matrix = np.where(has_same, stay * same / np.maximum(same.sum(axis=1, keepdims=True), 1) + (1 - stay) * move, move)
    return (1 - TELEPORT) * matrix + TELEPORT / after.shape[0]


def _nearest_anchor_gap(photos: list[PhotoEvidence], anchors: list[int], i: int) -> float:
    if not anchors:
        return np.inf
    return min(abs(photos[i].time_s - photos[a].time_s) for a in anchors)


def anchor_places(photos: list[PhotoEvidence], anchors: list[int], states: np.ndarray) -> np.ndarray:
    """Which states are the place of one of the stream's anchors."""
    places = {(photos[a].lat, photos[a].lon) for a in anchors}
    return np.array([(a, b) in places for a, b in states.tolist()], dtype=bool)


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][min(np.searchsorted(cumulative, q * cumulative[-1]), len(values) - 1)])


def locate_stream(photos: list[PhotoEvidence]) -> list[JointAnswer]:
    """The joint answer for every photo of one stream (photos in time order)."""
    anchors = [i for i, p in enumerate(photos) if p.known]
    states = [_states(photos, anchors, i) for i in range(len(photos))]
    emissions = [_emission(p, s) for p, s in zip(photos, states)]
    transitions = [_transition(states[i - 1], states[i], photos[i].time_s - photos[i - 1].time_s)
                   for i in range(1, len(photos))]
    forward = [emissions[0] / emissions[0].sum()]
    for i in range(1, len(photos)):
        f = emissions[i] * (forward[-1] @ transitions[i - 1])
        forward.append(f / f.sum())
    backward = [np.ones(len(states[-1]))]
    for i in range(len(photos) - 1, 0, -1):
        b = transitions[i - 1] @ (emissions[i] * backward[0])
        backward.insert(0, b / b.sum())
    answers = []
    for i, photo in enumerate(photos):
        if photo.known:
            radius = max(photo.known_radius_km, MIN_RADIUS_KM)
            answers.append(JointAnswer(photo.lat, photo.lon, 1.0, radius, radius, "anchor"))
            continue
        posterior = forward[i] * backward[i]
        posterior /= posterior.sum()
        best = int(np.argmax(posterior))
        at_anchor = anchor_places(photos, anchors, states[i])
        if at_anchor.any() and not at_anchor[best] and photo.confidence < MOVE_CONFIDENCE:
            best = int(np.argmax(np.where(at_anchor, posterior, -1.0)))  # weak pixels do not leave the anchors
        lat, lon = states[i][best]
        d = haversine_km(lat, lon, states[i][:, 0], states[i][:, 1])
        gap = _nearest_anchor_gap(photos, anchors, i) if anchors else 0.0
        r50 = min(max(_weighted_quantile(d, posterior, 0.5), MOVE_FLOOR_KM + RADIUS50_KMH * gap / 3600.0,
                      MIN_RADIUS_KM), EARTH_HALF_CIRCUMFERENCE_KM)
        r90 = min(max(_weighted_quantile(d, posterior, 0.9), MOVE_FLOOR_KM + RADIUS90_KMH * gap / 3600.0, r50),
                  EARTH_HALF_CIRCUMFERENCE_KM)
        confidence = float(posterior[d <= CONFIDENCE_RADIUS_KM].sum())
        if any(haversine_km(lat, lon, photos[a].lat, photos[a].lon) < 1e-3 for a in anchors):
            evidence = "anchor"
        elif haversine_km(lat, lon, photo.lat, photo.lon) < 1e-3:
            evidence = "pixels"
        else:
            evidence = "stream"
        answers.append(JointAnswer(float(lat), float(lon), min(confidence, 1.0), float(r50), float(r90), evidence))
    return answers
