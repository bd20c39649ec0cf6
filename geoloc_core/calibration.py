"""Calibrated uncertainty: `confidence` is the probability that the prediction lies within
CONFIDENCE_RADIUS_KM of the truth, and the 50%/90% radii hold the truth for 50%/90% of photos.

Both are fitted on held-out folds of the development benchmark (bench/accuracy.py --write-calibration
writes calibration.json beside this module) from what the neighbours say about one photo:
- the share of the weighted neighbours within CONFIDENCE_RADIUS_KM of the prediction and the best
  cosine similarity, mapped to a probability by logistic regression;
- the radii holding 50%/90% of the kernel density's mass, scaled by the factor that makes them hold
  50%/90% of held-out truths (a KDE of a few hundred thousand times fewer photos than the paper's is
  far too sure of itself; the scale keeps the ranking, the tightest radii go to the most certain photos).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

CONFIDENCE_RADIUS_KM = 750.0  # country scale: the distance `confidence` is the probability of being within
HALF_CIRCUMFERENCE_KM = 20015.1  # no error on Earth is larger
CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
SHARE_CLIP = 1e-3


def calibration_features(share_within: np.ndarray, top_similarity: np.ndarray) -> np.ndarray:
    """(n, 3): intercept, logit of the (clipped) share of weight within the stated distance, best similarity."""
    share = np.clip(np.asarray(share_within, dtype=np.float64), SHARE_CLIP, 1 - SHARE_CLIP)
    return np.column_stack([np.ones_like(share), np.log(share / (1 - share)),
                            np.asarray(top_similarity, dtype=np.float64)])


def fit_logistic(x: np.ndarray, hits: np.ndarray, ridge: float = 1e-2, iterations: int = 50) -> np.ndarray:
    """Logistic regression by Newton's method (IRLS) with a small ridge on the slopes, so that a
    separable or tiny sample still gives finite coefficients."""
    y = np.asarray(hits, dtype=np.float64)
    coefficients = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], ridge)
    penalty[0] = 0.0
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-(x @ coefficients)))
        gradient = x.T @ (y - p) - penalty * coefficients
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        coefficients += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return coefficients


def radius_scale(errors_km: np.ndarray, mass_radii_km: np.ndarray, level: float) -> float:
    """The factor s such that a share `level` of the errors fall within s x the density's radius."""
    ratio = np.asarray(errors_km, dtype=np.float64) / np.maximum(np.asarray(mass_radii_km, dtype=np.float64), 1e-9)
    return float(np.quantile(ratio, level, method="higher"))


@dataclass(frozen=True)
class Calibration:
    """Fitted for one estimator: logistic coefficients for `confidence` and the two radius scales."""

    coefficients: tuple[float, float, float]
    scale50: float
    scale90: float

    def probability(self, share_within, top_similarity) -> np.ndarray:
        z = calibration_features(share_within, top_similarity) @ np.asarray(self.coefficients)
        return 1 / (1 + np.exp(-z))

    def radii(self, mass_radius50_km: float, mass_radius90_km: float) -> tuple[float, float]:
        return (min(self.scale50 * mass_radius50_km, HALF_CIRCUMFERENCE_KM),
                min(self.scale90 * mass_radius90_km, HALF_CIRCUMFERENCE_KM))

    @classmethod
    def fit(cls, errors_km, share_within, top_similarity, mass_radius50_km, mass_radius90_km) -> Calibration:
        hits = np.asarray(errors_km) <= CONFIDENCE_RADIUS_KM
        coefficients = fit_logistic(calibration_features(share_within, top_similarity), hits)
        return cls(tuple(float(c) for c in coefficients), radius_scale(errors_km, mass_radius50_km, 0.5),
                   radius_scale(errors_km, mass_radius90_km, 0.9))


@lru_cache(maxsize=1)
def stored_calibrations() -> dict[str, Calibration]:
    """estimator name -> Calibration, from calibration.json (written by bench/accuracy.py)."""
    data = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    if data.get("distance_km") != CONFIDENCE_RADIUS_KM:
        raise ValueError(f"{CALIBRATION_FILE}: fitted for {data.get('distance_km')} km, not {CONFIDENCE_RADIUS_KM:g} km")
    return {name: Calibration(tuple(c["coefficients"]), c["scale50"], c["scale90"])
            for name, c in data["estimators"].items()}


def calibration_for(estimator: str) -> Calibration:
    """The estimator's own calibration; estimators that need a trained view (never benchmarked on
    the shared photos, whose database is too small to train) use the default estimator's."""
    from .defaults import DEFAULT_ESTIMATOR

    calibrations = stored_calibrations()
    return calibrations.get(estimator, calibrations[DEFAULT_ESTIMATOR])


def reliability_table(probabilities, hits, bins=(0.0, 0.1, 0.2, 0.3, 0.5, 1.0)) -> list[tuple[str, int, float, float]]:
    """Per confidence bin: (label, photos, mean predicted probability, observed share of hits)."""
    p = np.asarray(probabilities, dtype=np.float64)
    hits = np.asarray(hits, dtype=np.float64)
    rows = []
    for low, high in zip(bins[:-1], bins[1:]):
        inside = (p >= low) & ((p < high) if high < 1 else (p <= high))
        if inside.any():
            rows.append((f"{low:.2f}-{high:.2f}", int(inside.sum()), float(p[inside].mean()), float(hits[inside].mean())))
    return rows
