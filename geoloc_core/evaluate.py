"""Accuracy of the locator on photos with known coordinates, as in IM2GPS: leave-one-out where the
query is itself a reference, accuracy at 1/25/200/750/2500 km, median error, GeoGuessr score."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .embedders import sha256_of
from .geo import haversine_km
from .locate import LocateOptions, Locator
from .progress import ProgressCallback, StopCheck, check_stop, report
from .results import LocationResult, skipped_to_dicts
from .sources import Candidate, Skipped

if TYPE_CHECKING:
    from .context.run import ContextRequest

THRESHOLDS_KM = (1, 25, 200, 750, 2500)
THRESHOLD_NAMES = {1: "street", 25: "city", 200: "region", 750: "country", 2500: "continent"}
GEOGUESSR_SCALE_KM = 1492.7


def geoguessr_score(error_km) -> np.ndarray:
    return 5000.0 * np.exp(-np.asarray(error_km, dtype=np.float64) / GEOGUESSR_SCALE_KM)


@dataclass(frozen=True)
class PhotoScore:
    photo: str
    true_lat: float
    true_lon: float
    pred_lat: float
    pred_lon: float
    error_km: float
    confidence: float
    radius50_km: float
    radius90_km: float
    left_out: bool
    evidence: str = "pixels"


@dataclass
class EvaluationReport:
    rows: list[PhotoScore] = field(default_factory=list)
    failed: list[Skipped] = field(default_factory=list)
    estimator: str = ""
    k: int = 0
    seconds: float = 0.0

    @property
    def errors_km(self) -> np.ndarray:
        return np.array([r.error_km for r in self.rows], dtype=np.float64)

    def summary(self) -> dict:
        errors = self.errors_km
        if errors.size == 0:
            return {"photos": 0}
        return {
            "photos": int(errors.size),
            "estimator": self.estimator,
            "k": self.k,
            **{f"acc_{t}km": float(np.mean(errors <= t)) for t in THRESHOLDS_KM},
            "median_km": float(np.median(errors)),
            "mean_geoguessr": float(np.mean(geoguessr_score(errors))),
        }

    def table(self) -> str:
        s = self.summary()
        if not s.get("photos"):
            return "no photo evaluated"
        head = " ".join(f"{f'{t} km':>9}" for t in THRESHOLDS_KM)
        values = " ".join(f"{100 * s[f'acc_{t}km']:8.1f}%" for t in THRESHOLDS_KM)
        return (f"{'estimator':<10} {'photos':>6} {head} {'median km':>10} {'GeoGuessr':>9}\n"
                f"{self.estimator:<10} {s['photos']:>6} {values} {s['median_km']:10.0f} {s['mean_geoguessr']:9.0f}")

    def to_dict(self) -> dict:
        return {"summary": self.summary(), "photos": [vars(r) for r in self.rows],
                "failed": skipped_to_dicts(self.failed)}


def evaluate(locator: Locator, items: Sequence[Candidate], options: LocateOptions | None = None,
             progress: ProgressCallback | None = None, should_stop: StopCheck | None = None,
             batch_size: int = 64, context: ContextRequest | None = None) -> EvaluationReport:
    """Locate photos with known coordinates; a photo whose content is in the database is located
    without its own record (leave-one-out) and with its stored features instead of re-embedding.
    With a `context` (context/run.py), each row's optional `time`, `anchor` and `area` columns are used:
    anchors are known places for their stream and are not scored."""
    options = options or LocateOptions()
    started = time.perf_counter()
    result = EvaluationReport(estimator=options.estimator, k=options.k)
    database = locator.database
    digests = []
    for item in items:
        try:
            digests.append(sha256_of(item.path))
        except OSError as exc:
            digests.append(None)
            result.failed.append(Skipped(str(item.path), f"cannot be read ({exc.strerror or exc})"))
    own_ids = database.ids_by_sha256([d for d in digests if d])
    # stored embeddings are base features; a fine-tuned view needs every photo embedded with its backbone
    reuse = locator.space.backbone is None
    stored = [i for i, d in enumerate(digests) if d in own_ids and reuse]
    reused = set(stored)
    fresh = [i for i, d in enumerate(digests) if d is not None and i not in reused]

    run = contexts = None
    if context is not None:
        from .context.run import ContextRun, contexts_of_candidates

        run = ContextRun(context, database)
        contexts = contexts_of_candidates(items, context.filename_times)
    answers: dict[int, LocationResult] = {}

    def score(indices: Sequence[int], features: np.ndarray) -> None:
        """Locate these photos, each without its own record where it is in the database."""
        names = [str(items[i].path) for i in indices]
        exclude = [{own_ids[digests[i]]} if digests[i] in own_ids else set() for i in indices]
        if run is None:
            found = locator.locate_features(features, names, options, exclude, should_stop)
        else:
            found = run.locate_features(locator, features, names, options, exclude, should_stop,
                                        [contexts[i].area for i in indices])
        answers.update(zip(indices, found))
        report(progress, len(answers) + len(result.failed), len(items), "evaluate", names[-1])

    for start in range(0, len(stored), batch_size):
        check_stop(should_stop)
        chunk = stored[start:start + batch_size]
        score(chunk, database.embeddings([own_ids[digests[i]] for i in chunk]))
    if fresh:
        outcome = locator.query_embedder.embed_paths(
            [items[i].path for i in fresh], batch_size, None, should_stop,
            on_batch=lambda idx, vec: score([fresh[j] for j in idx], vec), keep_features=False)
        result.failed.extend(Skipped(e.path, e.reason) for e in outcome.failures)
    if run is not None:
        order = sorted(answers)
        answers = dict(zip(order, run.revise([answers[i] for i in order], [contexts[i] for i in order])))
    for i, located in answers.items():
        if contexts is not None and contexts[i].anchor is not None:
            continue  # a known place is evidence, not a test
        truth = items[i]
        error = float(haversine_km(truth.lat, truth.lon, located.lat, located.lon))
        result.rows.append(PhotoScore(located.photo, truth.lat, truth.lon, located.lat, located.lon, error,
                                      located.confidence, located.radius50_km, located.radius90_km,
                                      digests[i] in own_ids, located.evidence))
    result.rows.sort(key=lambda r: r.photo)
    result.seconds = time.perf_counter() - started
    return result

