"""Do learned geolocation features help? 5-fold grouped cross-validation on ../shared/flickr-cc.

Each fold's test photos are located against the other folds' photos only; the head is trained on those
other folds only. Groups keep a photographer's photos, photos within 1 km of each other, and
near-duplicates on one side. Configurations: ImageNet features + paper / sphere estimators, trained
features + sphere, the classifier alone (cells), and classifier x density (hybrid).

    .venv/bin/python bench/features.py [--database flickr.geoloc] [--folds 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
from common import peak_rss_mib, shared

from geoloc_core.embedders import load_embedder
from geoloc_core.estimator_registry import estimate
from geoloc_core.evaluate import THRESHOLDS_KM, geoguessr_score
from geoloc_core.geo import haversine_km
from geoloc_core.ingest import build_database
from geoloc_core.sources import from_csv
from geoloc_core.training import TrainOptions, grouped_folds, train_head, training_data

K = 100


def search(references: np.ndarray, queries: np.ndarray, k: int):
    index = faiss.IndexFlatIP(references.shape[1])
    index.add(np.ascontiguousarray(references, dtype=np.float32))
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, len(references)))


def locate(estimator, sims, idx, lat, lon, priors=None, locations=None):
    predictions = []
    for q in range(len(sims)):
        nbr = idx[q]
        result = estimate(estimator, lat[nbr], lon[nbr], sims[q],
                          cell_prior=None if priors is None else priors[q],
                          cell_location=None if locations is None else locations[q])
        predictions.append((result.lat, result.lon))
    return np.array(predictions)


def row(name, errors):
    accs = " ".join(f"{100 * np.mean(errors <= t):8.1f}%" for t in THRESHOLDS_KM)
    return f"{name:<26} {accs} {np.median(errors):10.0f} {np.mean(geoguessr_score(errors)):9.0f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", type=Path, help="database of flickr-cc to build or reuse")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    items, _ = from_csv(shared("flickr-cc", "manifest.csv"))
    with tempfile.TemporaryDirectory() as tmp:
        database, _ = build_database(args.database or Path(tmp) / "flickr.geoloc", items, load_embedder())
        data = training_data(database)
        features = data.features[np.arange(len(data.ids))]
        database.close()
    photos, lat, lon, groups = len(data.ids), data.lat, data.lon, data.groups
    configs = ["ImageNet + paper", "ImageNet + sphere", "trained + sphere", "cells", "hybrid"]
    errors = {name: np.zeros(photos) for name in configs}
    training_seconds = []
    for fold, (train, test) in enumerate(grouped_folds(groups, args.folds)):
        sims, idx = search(features[train], features[test], K)
        for name, estimator in (("ImageNet + paper", "paper"), ("ImageNet + sphere", "sphere")):
            predicted = locate(estimator, sims, idx, lat[train], lon[train])
            errors[name][test] = haversine_km(lat[test], lon[test], predicted[:, 0], predicted[:, 1])
        started = time.perf_counter()
        trained = train_head(features[train], lat[train], lon[train], groups[train], TrainOptions(t_max=30, t_min=5))
        training_seconds.append(time.perf_counter() - started)
        geo_train, _ = trained.transform(features[train])
        geo_test, probabilities = trained.transform(features[test])
        sims, idx = search(geo_train, geo_test, K)
        cells = trained.partition
        priors = [cells.probability_at(probabilities[q], lat[train][n], lon[train][n]) for q, n in enumerate(idx)]
        locations = [cells.most_probable(p) for p in probabilities]
        for name, estimator in (("trained + sphere", "sphere"), ("cells", "cells"), ("hybrid", "hybrid")):
            predicted = locate(estimator, sims, idx, lat[train], lon[train], priors, locations)
            errors[name][test] = haversine_km(lat[test], lon[test], predicted[:, 0], predicted[:, 1])
        print(f"fold {fold + 1}/{args.folds}: {len(train)} references, {len(test)} queries, "
              f"{len(cells)} geocells, trained in {training_seconds[-1]:.1f} s ({len(trained.history)} epochs)")
    head = " ".join(f"{f'{t} km':>9}" for t in THRESHOLDS_KM)
    print(f"\n{photos} photos, {len(set(groups.tolist()))} groups, {args.folds}-fold grouped cross-validation, "
          f"k={K}\n{'configuration':<26} {head} {'median km':>10} {'GeoGuessr':>9}")
    for name in configs:
        print(row(name, errors[name]))
    baseline = geoguessr_score(errors["ImageNet + sphere"])
    rng = np.random.default_rng(0)
    draws = rng.integers(0, photos, (2000, photos))
    print("\nmean GeoGuessr difference against ImageNet + sphere, paired bootstrap 95% interval:")
    for name in configs:
        if name != "ImageNet + sphere":
            diff = geoguessr_score(errors[name]) - baseline
            low, high = np.percentile(diff[draws].mean(axis=1), [2.5, 97.5])
            print(f"  {name:<24} {diff.mean():+7.0f}  [{low:+.0f}, {high:+.0f}]")
    print(f"training: {np.mean(training_seconds):.1f} s per fold on this machine")
    synthetic = 5000  # the scale: a few thousand photos
    fake = rng.standard_normal((synthetic, features.shape[1])).astype(np.float32)
    fake /= np.linalg.norm(fake, axis=1, keepdims=True)
    fake_lat = np.degrees(np.arcsin(rng.uniform(-1, 1, synthetic)))
    fake_lon = rng.uniform(-180, 180, synthetic)
    started = time.perf_counter()
    trained = train_head(fake, fake_lat, fake_lon, np.arange(synthetic), TrainOptions(epochs=60, patience=1000))
    print(f"training 60 epochs on {synthetic} photos ({len(trained.partition)} geocells): "
          f"{time.perf_counter() - started:.0f} s; peak memory {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
