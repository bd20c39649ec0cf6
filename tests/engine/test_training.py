"""Learned geolocation features: geocells, grouped splits, training, and trained views on disk."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from geoloc_core.circles import EARTH_RADIUS_KM
from geoloc_core.database import DamagedDatabaseError, EmbedderMismatchError, ReferenceDatabase
from geoloc_core.feature_space import save_view, train_view
from geoloc_core.geo import haversine_km, to_lat_lon, to_unit_vectors
from geoloc_core.geocells import face_uv_to_xyz, partition, xyz_to_face_uv
from geoloc_core.ingest import add_photos, build_database
from geoloc_core.locate import LocateOptions, Locator
from geoloc_core.sources import from_csv
from geoloc_core.training import TrainOptions, grouped_folds, grouped_split, photo_groups

from ..conftest import make_located_photos, write_csv


def random_points(n, seed=0):
    rng = np.random.default_rng(seed)
    xyz = rng.standard_normal((n, 3))
    return to_lat_lon(xyz / np.linalg.norm(xyz, axis=1, keepdims=True))


def test_cube_face_coordinates_round_trip():
    lat, lon = random_points(2000)
    xyz = to_unit_vectors(lat, lon)
    face, u, v = xyz_to_face_uv(xyz)
    assert set(face.tolist()) == set(range(6))
    back = np.stack([face_uv_to_xyz(int(f), a, b) for f, a, b in zip(face, u, v)])
    np.testing.assert_allclose(back, xyz, atol=1e-12)


def test_partition_counts_respect_t_max_and_t_min():
    lat, lon = random_points(3000)
    lat = np.concatenate([lat, np.full(400, 48.85) + np.linspace(0, 0.05, 400)])  # a dense city
    lon = np.concatenate([lon, np.full(400, 2.35)])
    cells = partition(lat, lon, t_max=40, t_min=5)
    counts = np.array([c.count for c in cells.cells])
    assert counts.max() <= 40 and counts.min() >= 5
    assigned = cells.assign(lat, lon)
    assert np.array_equal(np.bincount(assigned[assigned >= 0], minlength=len(cells)), counts)
    assert (assigned < 0).sum() == len(lat) - counts.sum(), "only photos of dropped cells are unassigned"
    city = cells.cells[assigned[-1]]
    assert city.level > max(c.level for c in cells.cells if c.count < 40) - 8, "dense areas get deeper cells"
    assert haversine_km(city.lat, city.lon, 48.87, 2.35) < 5, "a cell's centroid is its photos' centre"


def test_cells_across_the_antimeridian_are_whole():
    lat = np.random.default_rng(1).uniform(-5, 5, 60)
    lon = np.concatenate([np.random.default_rng(2).uniform(179.0, 180.0, 30),
                          np.random.default_rng(3).uniform(-180.0, -179.0, 30)])
    cells = partition(lat, lon, t_max=100, t_min=5)
    assigned = cells.assign(lat, lon)
    assert len(set(assigned.tolist())) == 1, "points on both sides of 180 degrees share one cell"
    ring = cells.cells[0].boundary()
    xs = [x for x, _ in ring]
    assert max(xs) - min(xs) < 180, "its polygon does not wrap around the globe"
    assert ring[0] == ring[-1]


def test_cells_at_the_poles():
    lon = np.linspace(-180, 180, 80, endpoint=False)
    lat = np.full(80, 89.5)
    cells = partition(lat, lon, t_max=100, t_min=5)
    assert len(cells) == 1 and cells.cells[0].face == 2
    ring = cells.cells[0].boundary()
    assert any(y == 90.0 for _, y in ring), "a cell holding the pole is closed along it"
    assert cells.cells[0].lat > 89.9
    split = partition(lat, lon, t_max=30, t_min=5)
    assert len(split) >= 2 and (split.assign(lat, lon) >= 0).all()
    for cell in split.cells:
        assert cell.boundary()[0] == cell.boundary()[-1]


def test_groups_keep_photographers_places_and_duplicates_together():
    lat = np.array([10.0, 10.0 + 0.5 / EARTH_RADIUS_KM * 57.3, 30.0, -20.0, 45.0, 60.0])
    lon = np.array([20.0, 20.0, 40.0, 100.0, 5.0, 70.0])
    attributes = [{}, {}, {"flickr_owner": "ann"}, {"flickr_owner": "ann"}, {}, {}]
    features = np.eye(6, dtype=np.float32)
    features[5] = features[4]  # a near-duplicate photo taken elsewhere
    groups = photo_groups(lat, lon, attributes, features)
    assert groups[0] == groups[1], "within 1 km"
    assert groups[2] == groups[3], "same photographer"
    assert groups[4] == groups[5], "near-duplicate"
    assert len(set(groups.tolist())) == 3
    apart = photo_groups(lat, lon, attributes, features, places=False)  # bench/accuracy.py --same-place
    assert apart[0] != apart[1], "places not kept together"
    assert apart[2] == apart[3] and apart[4] == apart[5], "photographers and near-duplicates still are"


def test_grouped_splits_never_leak_a_group():
    groups = np.repeat(np.arange(50), np.random.default_rng(0).integers(1, 8, 50))
    train, held = grouped_split(groups, 0.2)
    assert not set(groups[train]) & set(groups[held])
    assert 0.15 < len(held) / len(groups) < 0.35
    folds = grouped_folds(groups, 5)
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested.tolist()) == list(range(len(groups))), "every photo is tested exactly once"
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])


@pytest.fixture(scope="module")
def trained_database(embedder, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("train")
    candidates, _ = from_csv(write_csv(tmp / "refs.csv", make_located_photos(tmp / "photos", 240, seed=8)))
    database, _ = build_database(tmp / "t.geoloc", candidates, embedder)
    summary = train_view(database, options=TrainOptions(t_max=25, t_min=4, geo_dim=32, epochs=40))
    database.close()
    return tmp / "t.geoloc", candidates, summary.trained


@pytest.mark.slow
def test_training_learns_and_the_view_is_used_after_reopening(trained_database, embedder):
    path, candidates, trained = trained_database
    assert trained.history and trained.history[0][1] > min(h[1] for h in trained.history), "training loss falls"
    queries = [c.path for c in candidates[:6]]
    with ReferenceDatabase.open(path, embedder.identity) as database:
        assert database.view is not None and database.view.index.d == 32
        assert database.view.index.ntotal == database.count
        first = Locator(database, embedder).locate_paths(queries, LocateOptions(k=10, estimator="hybrid"))
        cells = Locator(database, embedder).locate_paths(queries, LocateOptions(k=10, estimator="cells"))
    centroids = {(c.lat, c.lon) for c in trained.partition.cells}
    assert all((r.lat, r.lon) in centroids for r in cells.results), "cells predicts a cell centroid"
    with ReferenceDatabase.open(path) as database:
        again = Locator(database, embedder).locate_paths(queries, LocateOptions(k=10, estimator="hybrid"))
        rows = database._connection.execute("SELECT count(*) FROM geocells WHERE view = 'geocells'").fetchone()
    assert rows[0] == len(trained.partition), "the partition is stored in the database"
    for a, b in zip(first.results, again.results):
        assert (a.lat, a.lon) == pytest.approx((b.lat, b.lon))
        assert [n.record_id for n in a.neighbours] == [n.record_id for n in b.neighbours]
    assert not list(path.rglob("*.pkl")) and not list(path.rglob("*.pt")), "no pickle anywhere"


@pytest.mark.slow
def test_adding_photos_extends_the_view_index(trained_database, embedder, tmp_path):
    path, _, _ = trained_database
    copy = tmp_path / "copy.geoloc"
    shutil.copytree(path, copy)
    more, _ = from_csv(write_csv(tmp_path / "more.csv", make_located_photos(tmp_path / "more", 10, seed=9)))
    with ReferenceDatabase.open(copy, writable=True) as database:
        assert add_photos(database, more, embedder).added == 10
    with ReferenceDatabase.open(copy) as database:
        assert database.view.index.ntotal == database.count == 250 and not database.warnings


@pytest.mark.slow
def test_a_view_trained_on_another_embedder_is_refused(trained_database, tmp_path):
    path, _, _ = trained_database
    copy = tmp_path / "copy.geoloc"
    shutil.copytree(path, copy)
    view_file = copy / "views" / "geocells" / "view.json"
    view = json.loads(view_file.read_text())
    view["base"]["architecture"], view["base"]["weights_sha256"] = "resnet50", "f" * 64
    view_file.write_text(json.dumps(view))
    with pytest.raises(EmbedderMismatchError, match="trained on features of resnet50.*efficientnet_lite0"):
        ReferenceDatabase.open(copy)


@pytest.mark.slow
def test_edited_view_weights_are_reported_as_damage(trained_database, tmp_path):
    path, _, _ = trained_database
    copy = tmp_path / "copy.geoloc"
    shutil.copytree(path, copy)
    head = copy / "views" / "geocells" / "head.npz"
    arrays = dict(np.load(head))
    arrays["classify.2.bias"] = arrays["classify.2.bias"] + 1.0
    np.savez(head, **arrays)
    with pytest.raises(DamagedDatabaseError, match="do not match their recorded hash"):
        ReferenceDatabase.open(copy)


def test_cells_and_hybrid_need_a_trained_view(embedder, tmp_path):
    from geoloc_core.sources import from_folder

    make_located_photos(tmp_path / "photos", 9)
    candidates, _ = from_folder(tmp_path / "photos")
    database, _ = build_database(tmp_path / "plain.geoloc", candidates, embedder)
    with pytest.raises(ValueError, match="needs trained features"):
        Locator(database, embedder).locate_paths([candidates[0].path], LocateOptions(estimator="cells"))


@pytest.mark.slow
def test_cli_train_and_cells_export(trained_database, tmp_path):
    import subprocess
    import sys

    from ..conftest import REPO_ROOT

    path, _, _ = trained_database
    copy = tmp_path / "copy.geoloc"
    shutil.copytree(path, copy)
    result = subprocess.run([sys.executable, "-m", "geoloc_core", "--progress", "json", "train", str(copy),
                             "--t-max", "30", "--epochs", "15", "--name", "cli", "--cells-output",
                             str(tmp_path / "cells.gpkg")], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert any(e["stage"] == "train" for e in events) and events[-1]["view"] == "cli"
    from osgeo import ogr

    source = ogr.Open(str(tmp_path / "cells.gpkg"))  # keep the dataset alive while its layer is used
    layer = source.GetLayer(0)
    assert layer.GetFeatureCount() == events[-1]["cells"] and layer.GetGeomType() == ogr.wkbMultiPolygon
    geojson = subprocess.run([sys.executable, "-m", "geoloc_core", "cells", str(copy), "-o",
                              str(tmp_path / "cells.geojson")], cwd=REPO_ROOT, capture_output=True, text=True)
    assert geojson.returncode == 0, geojson.stderr
    assert len(json.loads((tmp_path / "cells.geojson").read_text())["features"]) == events[-1]["cells"]
    switch = subprocess.run([sys.executable, "-m", "geoloc_core", "view", str(copy), "none"], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert switch.returncode == 0
    with ReferenceDatabase.open(copy) as database:
        assert database.view is None


@pytest.mark.slow
def test_end_to_end_finetuning_gives_a_view_with_its_own_backbone(embedder, tmp_path):
    from geoloc_core.finetune import FinetuneOptions, finetune, pick_device

    assert pick_device("auto").type in ("cpu", "cuda")
    candidates, _ = from_csv(write_csv(tmp_path / "refs.csv", make_located_photos(tmp_path / "photos", 60, seed=10)))
    database, _ = build_database(tmp_path / "ft.geoloc", candidates, embedder)
    records = database.all_records()
    lat, lon = np.array([r.lat for r in records]), np.array([r.lon for r in records])
    groups = photo_groups(lat, lon, [r.attributes for r in records])
    before = {k: v.clone() for k, v in embedder.trunk.state_dict().items()}
    trained, backbone = finetune(database.identity, [r.path for r in records], lat, lon, groups,
                                 TrainOptions(t_max=15, t_min=3, geo_dim=16),
                                 FinetuneOptions(epochs=1, batch_size=8, device="cpu"))
    assert all(np.array_equal(before[k].numpy(), v.numpy()) for k, v in embedder.trunk.state_dict().items()), \
        "the base embedder is left untouched"
    assert any(not np.allclose(backbone[k], before[k].numpy()) for k in backbone), "the backbone was trained"
    save_view(database, "tuned", trained, backbone)
    database.close()
    assert not list((tmp_path / "ft.geoloc").rglob("*.pt"))
    with ReferenceDatabase.open(tmp_path / "ft.geoloc") as reopened:
        view = reopened.view
        assert view.backbone is not None and "finetuned:tuned" in view.backbone.identity.architecture
        assert view.index.ntotal == 60 and view.index.d == 16
        locator = Locator(reopened, embedder)
        assert locator.query_embedder is view.backbone
        report = locator.locate_paths([candidates[0].path], LocateOptions(k=5, estimator="hybrid"))
        assert len(report.results) == 1
    head = tmp_path / "ft.geoloc" / "views" / "tuned" / "backbone.npz"
    arrays = dict(np.load(head))
    first = sorted(arrays)[0]
    arrays[first] = arrays[first] * 1.01
    np.savez(head, **arrays)
    with pytest.raises(DamagedDatabaseError, match="backbone of trained view 'tuned' does not match"):
        ReferenceDatabase.open(tmp_path / "ft.geoloc")
