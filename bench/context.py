"""What the analyst's knowledge buys: an area of interest, streams with and without an anchor, a track.

    .venv/bin/python bench/context.py [--draws 1000]

On the ~1,480 Creative Commons photos of ../shared (flickr-cc + im2gps3k-cc), each photo located
leave-owner-out (none of its photographer's photos among the references), k = 100, the default
estimator; embeddings from bench/.cache (bench/benchdata.py).

(a) Area = the photo's true country (the bundled Natural Earth layer; a photo on a coast that the
    simplified borders miss takes the nearest country): no area; a plain filter (top k among the
    references inside, the same estimator); the engine's restriction (the plain filter, the answer kept
    inside, the unlike-the-area flag); the soft prior. Also: the flag's rate with the true country and
    with a wrong one, and the recall of over-fetch plus filter against the exact prefiltered search.
(b) Streams from im2gps3k-cc: an owner's photos sorted by flickr_photo_id, capture time = a fixed epoch
    + 0.02 s per id, cut at gaps over 1e6 ids; scored on the photos after each stream's first; the
    first photo's GPS is the anchor where a row says so. Baselines: one by one; copy the nearest anchor
    in time. A synthetic track: the true positions of every other photo as fixes, with the middle third
    of each stream's span left out.
Every row against one by one (and the streams' anchor rows also against copying the anchor): accuracy
% at 1/25/200/750/2500 km with the difference in points and a 95% interval of a paired bootstrap over
photographers, median error km. Then the cost of the joint pass per photo for a stream of 1,000 photos.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone

import numpy as np
from accuracy import comparison_row, group_bootstrap
from benchdata import cached_features, load_benchmark, photographers

from geoloc_core.context.area import area_from_country, country_names, country_of
from geoloc_core.context.capture_time import CaptureTime
from geoloc_core.context.run import FLAG_MARGIN, FLAG_SHARE, UNLIKE_AREA, ContextRequest, ContextRun, PhotoContext
from geoloc_core.context.search import OVERFETCH_MARGIN
from geoloc_core.context.streams import PhotoEvidence, locate_stream
from geoloc_core.context.tracks import Track
from geoloc_core.defaults import DEFAULT_ARCHITECTURE, DEFAULT_BANDWIDTH_KM, DEFAULT_ESTIMATOR, DEFAULT_TEMPERATURE
from geoloc_core.estimator_registry import estimate
from geoloc_core.evaluate import THRESHOLDS_KM
from geoloc_core.geo import haversine_km
from geoloc_core.results import LocationResult, Neighbour

K = 100
EPOCH_S = datetime(2010, 1, 1, tzinfo=timezone.utc).timestamp()
SECONDS_PER_ID = 0.02
STREAM_GAP_IDS = 1e6
STREAM_SET = "im2gps3k-cc"


def located(i: int, sims: np.ndarray, ids: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> LocationResult:
    """Photo i located one by one from its neighbours (ids into the benchmark), as the engine does."""
    est = estimate(DEFAULT_ESTIMATOR, lat[ids], lon[ids], sims.astype(np.float64), DEFAULT_BANDWIDTH_KM,
                              DEFAULT_TEMPERATURE)
    neighbours = [Neighbour(r + 1, int(j), 0.0, float(s), float(w), float(lat[j]), float(lon[j]), "")
                  for r, (j, s, w) in enumerate(zip(ids, sims, est.weights))]
    return LocationResult(str(i), est.lat, est.lon, est.confidence, est.radius50_km, est.radius90_km,
                          DEFAULT_ESTIMATOR, K, neighbours)


def top_k(scores: np.ndarray, allowed: np.ndarray, k: int = K) -> tuple[np.ndarray, np.ndarray]:
    masked = np.where(allowed, scores, -np.inf)
    ids = np.argsort(-masked, kind="stable")[:k]
    ids = ids[np.isfinite(masked[ids])]
    return masked[ids], ids


def errors_of(results, truth_lat, truth_lon) -> np.ndarray:
    return np.array([haversine_km(la, lo, r.lat, r.lon) for r, la, lo in zip(results, truth_lat, truth_lon)])


def countries(bench) -> list[str]:
    """Each photo's country; a photo the simplified borders leave at sea takes the nearest country."""
    names = country_of(bench.lat, bench.lon)
    areas = None
    for i in [i for i, n in enumerate(names) if n is None]:
        if areas is None:
            areas = [area_from_country(n) for n in country_names()]
        names[i] = min(areas, key=lambda a: a.distance_km(bench.lat[i], bench.lon[i])).name
    return names


def area_rows(bench, scores, owner, plain, resamples, table) -> None:
    names = countries(bench)
    areas = {n: area_from_country(n) for n in set(names)}
    inside_of = {n: areas[n].contains(bench.lat, bench.lon) for n in areas}
    n = len(bench.lat)
    filtered, kept, prior, flagged_true, flagged_wrong = [], [], [], [], []
    recalls, exact_fallbacks = [], 0
    rng = np.random.default_rng(0)
    run = ContextRun(ContextRequest(), None)
    for i in range(n):
        others = owner != owner[i]
        sims, ids = top_k(scores[i], others)
        area = areas[names[i]]
        inside = inside_of[names[i]] & others
        if not inside.any():  # no other photographer's photo in the country: the area cannot be used
            filtered.append(plain[i])
            kept.append(plain[i])
            prior.append(plain[i])
            flagged_true.append(False)
        else:
            in_sims, in_ids = top_k(scores[i], inside)
            filtered.append(located(i, in_sims, in_ids, bench.lat, bench.lon))
            unlike = in_sims[0] < sims[0] - FLAG_MARGIN and _share_inside(sims, ids, inside) < FLAG_SHARE
            kept.append(run._kept_inside(filtered[-1], area, False, unlike))
            flagged_true.append(kept[-1].note == UNLIKE_AREA)
            shifted = np.where(inside, scores[i], scores[i] - 0.1)
            p_sims, p_ids = top_k(shifted, others)
            prior.append(located(i, p_sims, p_ids, bench.lat, bench.lon))
            # over-fetch plus filter against the exact prefiltered search
            share = inside_of[names[i]].mean()
            fetch = min(n, int(np.ceil(K / share * OVERFETCH_MARGIN)))
            fetched = np.argsort(-np.where(others, scores[i], -np.inf), kind="stable")[:fetch]
            found = fetched[inside[fetched]][:K]
            exact_fallbacks += len(found) < min(K, inside.sum())
            recalls.append(len(np.intersect1d(found, in_ids)) / len(in_ids))
        wrong_inside = inside_of[rng.choice([c for c in inside_of if c != names[i]])] & others
        if wrong_inside.any():
            w_sims, _ = top_k(scores[i], wrong_inside)
            flagged_wrong.append(w_sims[0] < sims[0] - FLAG_MARGIN and _share_inside(sims, ids, wrong_inside) < FLAG_SHARE)
    base = errors_of(plain, bench.lat, bench.lon)
    table("(a) area = the photo's true country", [
        ("no area (one by one)", base, None),
        ("plain filter: top k inside the country", errors_of(filtered, bench.lat, bench.lon), base),
        ("engine restrict: filter + kept inside + flag", errors_of(kept, bench.lat, bench.lon), base),
        ("engine soft prior (outside -0.1 similarity)", errors_of(prior, bench.lat, bench.lon), base),
    ], resamples)
    filt = errors_of(filtered, bench.lat, bench.lon)
    eng = errors_of(kept, bench.lat, bench.lon)
    print("engine restrict vs plain filter, every threshold: "
          + ", ".join(f"{t} km {100 * np.mean(eng <= t):.1f} vs {100 * np.mean(filt <= t):.1f}" for t in THRESHOLDS_KM))
    print(f"'{UNLIKE_AREA}' flag: {100 * np.mean(flagged_true):.1f}% of photos with their true country, "
          f"{100 * np.mean(flagged_wrong):.1f}% with a random wrong country ({len(flagged_wrong)} photos)")
    print(f"over-fetch (k / share inside x {OVERFETCH_MARGIN:g}) plus filter vs exact prefiltered search: mean "
          f"top-{K} recall {np.mean(recalls):.4f}, {exact_fallbacks} of {len(recalls)} queries short of k inside "
          "(the engine searches those exactly)\n")


def _share_inside(sims: np.ndarray, ids: np.ndarray, inside: np.ndarray) -> float:
    weights = np.exp((sims - sims.max()) / DEFAULT_TEMPERATURE)
    return float(weights[inside[ids]].sum() / weights.sum())


def streams_of(bench) -> list[np.ndarray]:
    """im2gps3k-cc photos grouped by owner, sorted by photo id, cut at id gaps over STREAM_GAP_IDS;
    streams of two photos or more."""
    chosen = [i for i, path in enumerate(bench.paths) if f"/{STREAM_SET}/" in path]
    by_owner: dict[str, list[int]] = {}
    for i in chosen:
        by_owner.setdefault(bench.attributes[i]["flickr_owner"], []).append(i)
    streams = []
    for members in by_owner.values():
        members.sort(key=lambda i: int(bench.attributes[i]["flickr_photo_id"]))
        ids = np.array([int(bench.attributes[i]["flickr_photo_id"]) for i in members])
        for part in np.split(np.array(members), np.flatnonzero(np.diff(ids) > STREAM_GAP_IDS) + 1):
            if len(part) >= 2:
                streams.append(part)
    return streams


def capture_s(bench, i: int) -> float:
    return EPOCH_S + SECONDS_PER_ID * int(bench.attributes[i]["flickr_photo_id"])


def stream_rows(bench, one, owner, groups, draws, table) -> None:
    streams = streams_of(bench)
    scored = [i for s in streams for i in s[1:]]
    truth_lat, truth_lon = bench.lat[scored], bench.lon[scored]
    print(f"(b) {len(streams)} streams of {STREAM_SET} ({sum(len(s) for s in streams)} photos, "
          f"{len(set(owner[i] for i in scored))} photographers), scored on the {len(scored)} photos after each "
          "stream's first")

    def run(anchor: bool, track: bool = False):
        request = ContextRequest(stream_gap_s=STREAM_GAP_IDS * SECONDS_PER_ID, track_max_gap_s=6 * 3600.0)
        context = ContextRun(request, None)
        answers = {}
        for stream in streams:
            contexts = [PhotoContext(CaptureTime(datetime.fromtimestamp(capture_s(bench, i), timezone.utc), "given"),
                                     anchor=(bench.lat[i], bench.lon[i]) if anchor and n == 0 else None)
                        for n, i in enumerate(stream)]
            context.track = synthetic_track(bench, stream) if track else None
            for i, result in zip(stream, context.revise([one[i] for i in stream], contexts)):
                answers[i] = result
        return [answers[i] for i in scored]

    copy = []
    for stream in streams:
        copy += [(bench.lat[stream[0]], bench.lon[stream[0]])] * (len(stream) - 1)
    copy_errors = haversine_km(truth_lat, truth_lon, np.array([c[0] for c in copy]), np.array([c[1] for c in copy]))
    base = errors_of([one[i] for i in scored], truth_lat, truth_lon)
    resamples = [group_bootstrap(groups[scored], draws)]
    started = time.perf_counter()
    without = run(False)
    with_anchor = run(True)
    seconds = time.perf_counter() - started
    tracked = run(False, track=True)
    raw = {}
    for stream in streams:  # the joint pass on streams without an anchor, which the engine does not use
        photos = [ContextRun._evidence(capture_s(bench, i), one[i], None) for i in stream]
        raw.update({i: a for i, a in zip(stream, locate_stream(photos))})
    rows = [("one by one", base, None), ("copy the nearest anchor in time", copy_errors, base),
            ("engine, no anchor (keeps one by one)", errors_of(without, truth_lat, truth_lon), base),
            ("joint pass, no anchor, raw (not used)", errors_of([raw[i] for i in scored], truth_lat, truth_lon), base),
            ("joint pass, first photo as anchor", errors_of(with_anchor, truth_lat, truth_lon), base),
            ("synthetic track (every other photo a fix, middle third a gap)", errors_of(tracked, truth_lat, truth_lon),
             base)]
    table("streams against one by one", rows, resamples)
    table("streams with the anchor against copying the anchor",
          [("copy the nearest anchor in time", copy_errors, None),
           ("joint pass, first photo as anchor", errors_of(with_anchor, truth_lat, truth_lon), copy_errors)], resamples)
    for label, answers in (("joint, no anchor", without), ("joint, anchor", with_anchor), ("track", tracked)):
        errors = errors_of(answers, truth_lat, truth_lon)
        r50 = np.array([a.radius50_km for a in answers])
        r90 = np.array([a.radius90_km for a in answers])
        kinds = {e: sum(a.evidence == e for a in answers) for e in ("track", "anchor", "stream", "pixels")}
        print(f"{label}: truth within the 50% radius for {100 * np.mean(errors <= r50):.1f}%, within the 90% radius "
              f"for {100 * np.mean(errors <= r90):.1f}% of photos; evidence {kinds}")
    in_span = [i for i, a in zip(scored, tracked) if a.evidence == "track"]
    print(f"track: {len(in_span)} photos where it speaks, answer within 100 m of the interpolated position for all "
          f"of them: {all(_on_track(bench, i, tracked[scored.index(i)], streams) for i in in_span)}")
    print(f"(two joint passes over {len(scored) + len(streams)} photos: {seconds:.1f} s)\n")


def synthetic_track(bench, stream: np.ndarray) -> Track:
    times = np.array([capture_s(bench, i) for i in stream])
    fixes = np.arange(len(stream)) % 2 == 0
    span = times[-1] - times[0]
    fixes &= ~((times > times[0] + span / 3) & (times < times[0] + 2 * span / 3))
    fixes[0] = True
    return Track("synthetic", times[fixes], bench.lat[stream][fixes], bench.lon[stream][fixes])


def _on_track(bench, i, answer, streams) -> bool:
    stream = next(s for s in streams if i in s)
    position = synthetic_track(bench, stream).position_at(capture_s(bench, i), 6 * 3600.0)
    return position is not None and haversine_km(answer.lat, answer.lon, position.lat, position.lon) <= 0.1


def joint_cost() -> None:
    rng = np.random.default_rng(0)
    photos = []
    for n in range(1000):
        lat, lon = 45 + rng.normal(0, 5, K), 7 + rng.normal(0, 5, K)
        photos.append(PhotoEvidence(60.0 * n, float(lat[0]), float(lon[0]), float(rng.random()), lat, lon,
                                    np.full(K, 1.0 / K), known=n % 100 == 0))
    started = time.perf_counter()
    locate_stream(photos)
    seconds = time.perf_counter() - started
    print(f"joint pass cost: {1000 * seconds / len(photos):.2f} ms per photo for a stream of {len(photos)} photos "
          f"with {K} neighbours each and an anchor every 100 photos")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=1000, help="bootstrap draws (default 1000)")
    args = parser.parse_args()
    bench = load_benchmark()
    features = cached_features(bench, DEFAULT_ARCHITECTURE)
    scores = features @ features.T
    owner = photographers(bench)
    resamples = [group_bootstrap(owner, args.draws)]
    print(f"{len(bench.paths)} photos, {len(set(owner))} photographers, leave-owner-out, k={K}, {DEFAULT_ESTIMATOR}; "
          "accuracy % (difference in points, 95% interval of a paired bootstrap over photographers), median km\n")

    def table(title, rows, resamples):
        print(f"{title}\n| configuration | " + " | ".join(f"{t} km" for t in THRESHOLDS_KM) + " | median km |\n|"
              + "---|" * (len(THRESHOLDS_KM) + 2))
        for label, errors, baseline in rows:
            print(comparison_row(label, errors, baseline, resamples), flush=True)
        print()

    started = time.perf_counter()
    plain = []
    for i in range(len(bench.lat)):
        sims, ids = top_k(scores[i], owner != owner[i])
        plain.append(located(i, sims, ids, bench.lat, bench.lon))
    print(f"(one by one: {time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    joint_cost()
    stream_rows(bench, plain, owner, owner, args.draws, table)
    area_rows(bench, scores, owner, plain, resamples, table)


if __name__ == "__main__":
    main()
