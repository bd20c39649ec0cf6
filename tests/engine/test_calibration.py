"""Calibrated uncertainty: the fitting recovers a known probability model and radii that hold their
share of held-out truths (deterministic synthetic data), and the shipped calibration is sane."""

from __future__ import annotations

import numpy as np
import pytest

from geoloc_core.calibration import (
    CONFIDENCE_RADIUS_KM,
    HALF_CIRCUMFERENCE_KM,
    Calibration,
    calibration_features,
    calibration_for,
    reliability_table,
    stored_calibrations,
)
from geoloc_core.defaults import DEFAULT_ESTIMATOR
from geoloc_core.estimator_registry import estimate, estimator_names

TRUE_COEFFICIENTS = np.array([-1.5, 0.8, 2.0])


def synthetic_photos(n: int, seed: int):
    """Neighbour evidence and errors drawn from a known model: the chance of being within the stated
    distance is the logistic of TRUE_COEFFICIENTS, and errors scale with the density's radii."""
    rng = np.random.default_rng(seed)
    share = rng.beta(0.8, 1.5, n)
    top = rng.uniform(0.4, 0.95, n)
    p = 1 / (1 + np.exp(-(calibration_features(share, top) @ TRUE_COEFFICIENTS)))
    hit = rng.random(n) < p
    r50 = rng.uniform(100, 3000, n)
    r90 = 2.5 * r50
    # within: uniform inside the stated distance; beyond: far, growing with the density's spread
    errors = np.where(hit, rng.uniform(0, CONFIDENCE_RADIUS_KM, n), CONFIDENCE_RADIUS_KM + r50 * rng.exponential(3, n))
    return errors, share, top, r50, r90, p


def test_logistic_fit_recovers_the_generating_model():
    errors, share, top, r50, r90, _ = synthetic_photos(20000, seed=1)
    fitted = Calibration.fit(errors, share, top, r50, r90)
    assert np.asarray(fitted.coefficients) == pytest.approx(TRUE_COEFFICIENTS, abs=0.15)


def test_held_out_reliability_matches_the_stated_probability():
    fitted = Calibration.fit(*synthetic_photos(8000, seed=2)[:5])
    errors, share, top, r50, r90, _ = synthetic_photos(8000, seed=3)
    probability = fitted.probability(share, top)
    rows = reliability_table(probability, errors <= CONFIDENCE_RADIUS_KM)
    assert sum(photos for _, photos, _, _ in rows) == len(errors)
    for label, photos, predicted, observed in rows:
        if photos >= 300:  # binomial noise below 0.03 at this size
            assert observed == pytest.approx(predicted, abs=0.05), label


def test_held_out_radii_hold_half_and_nine_tenths_of_the_truths():
    fitted = Calibration.fit(*synthetic_photos(8000, seed=4)[:5])
    errors, _, _, r50, r90, _ = synthetic_photos(8000, seed=5)
    radii = np.array([fitted.radii(a, b) for a, b in zip(r50, r90)])
    assert np.mean(errors <= radii[:, 0]) == pytest.approx(0.5, abs=0.03)
    assert np.mean(errors <= radii[:, 1]) == pytest.approx(0.9, abs=0.02)


def test_reliability_table_bins_by_probability():
    rows = reliability_table([0.05, 0.05, 0.6, 0.9], [0, 1, 1, 1])
    assert rows == [("0.00-0.10", 2, 0.05, 0.5), ("0.50-1.00", 2, 0.75, 1.0)]


def test_shipped_calibration_is_monotone_bounded_and_used_by_estimate():
    calibrations = stored_calibrations()
    assert DEFAULT_ESTIMATOR in calibrations and set(calibrations) <= set(estimator_names())
    calibration = calibration_for(DEFAULT_ESTIMATOR)
    shares = np.linspace(0.0, 1.0, 11)
    probability = calibration.probability(shares, np.full(11, 0.7))
    assert np.all((probability > 0) & (probability < 1)) and np.all(np.diff(probability) > 0)
    assert calibration.radii(1e9, 1e9) == (HALF_CIRCUMFERENCE_KM, HALF_CIRCUMFERENCE_KM)
    assert calibration_for("hybrid") == calibration  # trained-view estimators fall back to the default's
    result = estimate(DEFAULT_ESTIMATOR, [10.0, 10.1, 50.0], [20.0, 20.1, 0.0], [0.8, 0.79, 0.6])
    assert result.confidence == pytest.approx(float(calibration.probability(result.share_within, 0.8)[0]))
    assert (result.radius50_km, result.radius90_km) == calibration.radii(result.mass_radius50_km,
                                                                         result.mass_radius90_km)


def test_training_size_warning_is_given_below_the_threshold_only():
    from geoloc_core.defaults import MIN_PHOTOS_FOR_TRAINING, training_size_warning

    assert "609 photos" in training_size_warning(609)
    assert training_size_warning(MIN_PHOTOS_FOR_TRAINING) is None
