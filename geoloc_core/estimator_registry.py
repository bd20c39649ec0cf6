"""The estimators: from one photo's ranked neighbours to a predicted point. Each registers here, once,
with its name, a one-line label, its help and what it needs beyond the neighbours; the CLI, Processing,
the panel, the locator and docs/estimators.md (scripts/make_estimator_docs.py) all read this registry.

Adding an estimator is one decorated function in this module (and its test):

    @register_estimator("name", "one-line label", "help: what it does and when to choose it")
    def name(neighbourhood: Neighbourhood) -> Point:
        ...  # numpy and estimators.py imported inside: this module stays light for QGIS start-up

Registration order is Processing's stored enum order: append new estimators at the end. Confidence and
radii come from the estimator's own calibration when bench/accuracy.py --write-calibration fitted one,
else from the default estimator's (calibration.calibration_for).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .defaults import DEFAULT_BANDWIDTH_KM, DEFAULT_TEMPERATURE
from .errors import OptionError
from .registry import Registry

if TYPE_CHECKING:
    import numpy as np

    from .estimators import Estimate

Point = tuple  # (lat, lon, normalised neighbour weights in rank order): the weights feed the uncertainty


class LocationPrior(Protocol):
    """A probability over the Earth to weight neighbours by (geoclip_prior.GalleryPrediction)."""

    def prior_at(self, lat, lon) -> np.ndarray: ...


@dataclass(frozen=True)
class Neighbourhood:
    """What an estimator reads about one photo: its ranked neighbours (float64 arrays: degrees and cosine
    similarities, 1 = identical), the kernel settings, and the inputs its requirements bring (None when
    the run has none)."""

    lat: np.ndarray
    lon: np.ndarray
    similarities: np.ndarray
    bandwidth_km: float
    temperature: float
    cell_prior: np.ndarray | None = None  # trained view: the classifier's probability of each neighbour's geocell
    cell_location: tuple[float, float] | None = None  # trained view: the most probable geocell's centroid
    gallery: LocationPrior | None = None  # GeoCLIP: the photo's top GPS gallery points


@dataclass(frozen=True)
class Requirement:
    """Something an estimator needs beyond a database's neighbours: `text` follows "needs" in errors, the
    panel's disabled choices and the docs; `met_by` tells from a database's description (anything with
    service.DatabaseInfo's `architecture` and `view`) whether it has it; `inputs` are the Neighbourhood
    fields it fills."""

    name: str
    text: str
    met_by: Callable[[object], bool]
    inputs: tuple[str, ...]


TRAINED_VIEW = Requirement(
    "trained view", "trained features: run `python -m geoloc_core train` on the database first",
    lambda database: bool(getattr(database, "view", None)), ("cell_prior", "cell_location"))
GEOCLIP_FEATURES = Requirement(
    "GeoCLIP features", "GeoCLIP features: a reference database built with GeoCLIP (--architecture geoclip; in "
    "the panel, Feature model: GeoCLIP image encoder)",
    lambda database: getattr(database, "architecture", "") == "geoclip", ("gallery",))


@dataclass(frozen=True)
class EstimatorSpec:
    name: str
    label: str
    help: str
    requires: tuple[Requirement, ...]
    function: Callable[[Neighbourhood], Point]
    inputs: tuple[str, ...]  # the Neighbourhood fields beyond the neighbours that `function` reads
    density: bool = False  # its point is a mode of the neighbours' kernel density: the other modes are alternatives

    def problem(self, database) -> str | None:
        """Why this estimator cannot run on `database` (a description as in Requirement); None when it can."""
        unmet = [r for r in self.requires if not r.met_by(database)]
        return f"needs {unmet[0].text}" if unmet else None

    def missing_input(self, neighbourhood: Neighbourhood) -> str | None:
        """The error for a neighbourhood that lacks an input this estimator needs; None when it has them."""
        for requirement in self.requires:
            if any(getattr(neighbourhood, name) is None for name in self.inputs if name in requirement.inputs):
                return f"the {self.name} estimator needs {requirement.text}"
        return None


ESTIMATORS: Registry[EstimatorSpec] = Registry("estimator")


def register_estimator(name: str, label: str, help: str, requires: tuple[Requirement, ...] = (),
                       inputs: tuple[str, ...] | None = None, density: bool = False):
    """Decorator: register `function(neighbourhood) -> (lat, lon, weights)` as the estimator `name`;
    `inputs`: the Neighbourhood fields it reads of those its requirements bring (default: all of them);
    `density`: its point is a mode of the kernel density of the neighbours with those weights."""

    def register(function: Callable[[Neighbourhood], Point]) -> Callable[[Neighbourhood], Point]:
        reads = tuple(inputs) if inputs is not None else tuple(f for r in requires for f in r.inputs)
        ESTIMATORS.register(EstimatorSpec(name, label, help, tuple(requires), function, reads, density))
        return function

    return register


def estimator_spec(name: str) -> EstimatorSpec:
    """The registered estimator `name` (an OptionError naming the choices otherwise)."""
    return ESTIMATORS.get(name)


def estimator_names() -> tuple[str, ...]:
    return ESTIMATORS.names()


# -- running an estimator (numpy, the kernels and the calibration imported when one runs) --------------

def neighbourhood(lat, lon, similarities, bandwidth_km: float, temperature: float, cell_prior=None,
                  cell_location=None, gallery=None) -> Neighbourhood:
    """One photo's neighbours as the estimators read them (float64 arrays)."""
    import numpy as np

    return Neighbourhood(np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64),
                         np.asarray(similarities, dtype=np.float64), bandwidth_km, temperature, cell_prior,
                         cell_location, gallery)


def estimate(estimator: str, lat, lon, similarities, bandwidth_km: float = DEFAULT_BANDWIDTH_KM,
             temperature: float = DEFAULT_TEMPERATURE, cell_prior=None, cell_location=None,
             gallery=None) -> Estimate:
    """Predict a location from ranked neighbours (similarities are cosine, 1 = identical) with a registered
    estimator; cell_prior and cell_location come with a trained view, gallery with GeoCLIP features, for
    the estimators that need them."""
    return estimate_neighbourhood(estimator, neighbourhood(lat, lon, similarities, bandwidth_km, temperature,
                                                          cell_prior, cell_location, gallery))


def estimate_neighbourhood(estimator: str, n: Neighbourhood) -> Estimate:
    """The estimator's point, then its uncertainty and the calibrated confidence and radii."""
    from .calibration import calibration_for
    from .estimators import Estimate, uncertainty

    pred_lat, pred_lon, weights = point_of(estimator, n)
    share, mass50, mass90 = uncertainty(pred_lat, pred_lon, n.lat, n.lon, weights, n.bandwidth_km)
    calibration = calibration_for(estimator)
    r50, r90 = calibration.radii(mass50, mass90)
    confidence = float(calibration.probability(share, n.similarities.max())[0])
    return Estimate(float(pred_lat), float(pred_lon), confidence, r50, r90, weights, share, mass50, mass90)


def predicted_point(estimator: str, lat, lon, similarities, bandwidth_km: float, temperature: float,
                    cell_prior=None, cell_location=None) -> Point:
    """(lat, lon, normalised neighbour weights) of an estimator, before any uncertainty."""
    return point_of(estimator, neighbourhood(lat, lon, similarities, bandwidth_km, temperature, cell_prior,
                                             cell_location))


def point_of(estimator: str, n: Neighbourhood) -> Point:
    """The registered estimator's (lat, lon, weights), once its inputs are checked."""
    spec = estimator_spec(estimator)
    if n.lat.size == 0:
        raise ValueError("no neighbours to estimate a location from")
    missing = spec.missing_input(n)
    if missing:
        raise OptionError(missing)
    pred_lat, pred_lon, weights = spec.function(n)
    return float(pred_lat), float(pred_lon), weights


# -- the estimators, in Processing's enum order ---------------------------------------------------------

@register_estimator(
    "sphere", "kernel density on the sphere",
    "The highest mode of a von Mises-Fisher kernel density of the neighbours' locations, each weighted by the "
    "softmax of its similarity (temperature); found exactly by mean shift, also across the date line and near "
    "the poles. The bandwidth is the kernel's size on the ground.", density=True)
def sphere(n: Neighbourhood) -> Point:
    from .estimators import similarity_weights, sphere_mode

    weights = similarity_weights(n.similarities, n.temperature)
    return (*sphere_mode(n.lat, n.lon, weights, n.bandwidth_km), weights)


@register_estimator(
    "paper", "the IM2GPS authors' grid procedure",
    "Reproduces the IM2GPS authors' predict_gps.m: weights 1/d^10 on a 1-degree grid smoothed with sigma 4 "
    "cells, a 0.1-degree grid around its maximum, then a snap to the first neighbour within 100 km. Ignores "
    "the bandwidth; the temperature only shapes the uncertainty.")
def paper(n: Neighbourhood) -> Point:
    from .estimators import paper_location, similarity_weights

    return (*paper_location(n.lat, n.lon, 2.0 - 2.0 * n.similarities), similarity_weights(n.similarities,
                                                                                           n.temperature))


@register_estimator(
    "cells", "most probable geocell (trained features)",
    "The centroid of the trained classifier's most probable geocell (PlaNet); the neighbours only shape the "
    "uncertainty.", (TRAINED_VIEW,), ("cell_location",))
def cells(n: Neighbourhood) -> Point:
    from .estimators import similarity_weights

    return (*n.cell_location, similarity_weights(n.similarities, n.temperature))


@register_estimator(
    "hybrid", "density × geocell probabilities (trained features)",
    "The sphere estimator with each neighbour's weight multiplied by the trained classifier's probability of "
    "the geocell it lies in.", (TRAINED_VIEW,), ("cell_prior",), density=True)
def hybrid(n: Neighbourhood) -> Point:
    return prior_weighted_mode(n, n.cell_prior)


@register_estimator(
    "cascade", "continent, region, then the best-supported neighbour",
    "The default, ahead of paper from 25 km up on the development benchmark: the kernel density's mode with "
    "the bandwidth (the continent), the mode with a 0.3 x narrower kernel among the neighbours within 2 "
    "bandwidths of it (the region), then a snap to the neighbour within 100 km with the most weight around "
    "it, where a street- or city-level match, if any, lies.", density=True)
def cascade(n: Neighbourhood) -> Point:
    from .estimators import cascade_location, similarity_weights

    weights = similarity_weights(n.similarities, n.temperature)
    return (*cascade_location(n.lat, n.lon, weights, n.bandwidth_km), weights)


@register_estimator(
    "geoclip", "density × GeoCLIP's GPS gallery (GeoCLIP database)",
    "The hybrid rule with GeoCLIP's GPS gallery in place of a geocell classifier: each neighbour weighted by "
    "the gallery's probability around it (its top points smoothed by a 200 km kernel).", (GEOCLIP_FEATURES,),
    density=True)
def geoclip(n: Neighbourhood) -> Point:
    return prior_weighted_mode(n, n.gallery.prior_at(n.lat, n.lon))


def prior_weighted_mode(n: Neighbourhood, prior) -> Point:
    """The spherical mode with each neighbour's similarity weight multiplied by a location prior's
    probability at the neighbour (+1e-3, so that a neighbour the prior misses still counts a little)."""
    import numpy as np

    from .estimators import similarity_weights, sphere_mode

    weights = similarity_weights(n.similarities, n.temperature) * (np.asarray(prior, dtype=np.float64) + 1e-3)
    weights /= weights.sum()
    return (*sphere_mode(n.lat, n.lon, weights, n.bandwidth_km), weights)
