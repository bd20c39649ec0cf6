"""The feature-space contract: the base space and a trained view both encode features and search, a view
is kept beside the database in the same files as before, and locating goes through the space. Needs
nothing from ../shared (synthetic vectors, a head trained for two epochs)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from geoloc_core.database import DatabaseError, ReferenceDatabase
from geoloc_core.feature_space import BaseSpace, TrainedView, save_view, space_of, stored_geocells, use_view
from geoloc_core.ingest import add_batches
from geoloc_core.locate import LocateOptions, Locator
from geoloc_core.training import TrainOptions, train_head

from .test_storage_v2 import DIMENSION, IDENTITY, records_for, structured_vectors, synthetic_database

OPTIONS = TrainOptions(t_max=40, t_min=3, epochs=2, geo_dim=8, hidden=16)


@pytest.fixture()
def trained(tmp_path):
    """A writable synthetic database of 400 records with a trained view 'geocells' made active."""
    database, vectors = synthetic_database(tmp_path / "db", 400)
    _, lat, lon = database.locations()
    view = save_view(database, "geocells", train_head(vectors, lat, lon, np.arange(400), OPTIONS))
    yield database, vectors, view
    database.close()


def test_the_base_space_is_the_databases_own_features(tmp_path):
    database, vectors = synthetic_database(tmp_path / "db", 200)
    space = space_of(database)
    assert isinstance(space, BaseSpace) and space.backbone is None
    encoded = space.encode(vectors[:5])
    np.testing.assert_array_equal(encoded.vectors, vectors[:5])
    assert encoded.cell_probabilities is None
    for got, expected in zip(space.search(vectors[:5], 7), database.search(vectors[:5], 7)):
        np.testing.assert_array_equal(got, expected)
    database.close()


def test_a_trained_view_encodes_into_its_geo_embedding_and_searches_its_own_index(trained):
    database, vectors, view = trained
    assert space_of(database) is view and database.view is view
    encoded = view.encode(vectors[:6])
    assert encoded.vectors.shape == (6, OPTIONS.geo_dim)
    np.testing.assert_allclose(np.linalg.norm(encoded.vectors, axis=1), 1.0, atol=1e-5)
    assert encoded.cell_probabilities.shape == (6, len(view.partition))
    np.testing.assert_allclose(encoded.cell_probabilities.sum(axis=1), 1.0, atol=1e-5)
    similarities, ids = view.search(encoded.vectors, 3)
    assert view.index.ntotal == 400 and ids.shape == (6, 3)
    np.testing.assert_allclose(similarities[:, 0], 1.0, atol=1e-3)  # each record's own geo-embedding comes first
    with pytest.raises(DatabaseError, match="this index needs 8-d"):
        view.search(vectors[:1], 3)  # base features are not geo-embeddings
    _, lat, lon = database.locations()
    prior, location = view.cell_evidence(encoded.cell_probabilities[0], lat[:10], lon[:10])
    assert prior.shape == (10,) and location == view.partition.most_probable(encoded.cell_probabilities[0])


def test_a_view_is_stored_beside_the_database_and_reopens_identically(trained, tmp_path):
    database, vectors, view = trained
    folder = tmp_path / "db" / "views" / "geocells"
    assert sorted(p.name for p in folder.iterdir()) == ["head.npz", "index.faiss", "view.json"]
    stored = json.loads((folder / "view.json").read_text())
    assert set(stored) == {"name", "base", "database_id", "head_sha256", "geo_dim", "cells", "options", "created"}
    assert stored["database_id"] == database.database_id
    assert database.manifest["views"]["geocells"] == {"head_sha256": stored["head_sha256"], "geo_dim": 8,
                                                      "cells": len(view.partition)}
    assert database.manifest["active_view"] == "geocells"
    assert len(stored_geocells(database, "geocells")) == len(view.partition)
    expected = view.search(view.encode(vectors[:4]).vectors, 5)
    with ReferenceDatabase.open(tmp_path / "db") as reopened:
        again = space_of(reopened)
        assert isinstance(again, TrainedView) and again is not view and not reopened.warnings
        for got, want in zip(again.search(again.encode(vectors[:4]).vectors, 5), expected):
            np.testing.assert_array_equal(got, want)


def test_a_missing_view_index_is_rebuilt_and_added_photos_are_covered(trained, tmp_path):
    database, _, view = trained
    add_batches(database, [(records_for(20, start=400), structured_vectors(20, DIMENSION, seed=3))])
    assert view.index.ntotal == 420
    (tmp_path / "db" / "views" / "geocells" / "index.faiss").unlink()
    with ReferenceDatabase.open(tmp_path / "db") as reopened:
        assert reopened.view.index.ntotal == 420
        assert any("out of date; rebuilt it" in warning for warning in reopened.warnings)


def test_the_locator_uses_the_active_space_and_switching_views_changes_it(trained):
    database, vectors, view = trained
    locator = Locator(database, SimpleNamespace(identity=IDENTITY))  # locate_features embeds nothing
    in_view = locator.locate_features(vectors[:3], ["a", "b", "c"], LocateOptions(k=5, estimator="hybrid"))
    expected = view.search(view.encode(vectors[:3]).vectors, 5)[1]
    assert [[n.record_id for n in r.neighbours] for r in in_view] == expected.tolist()
    use_view(database, None)
    assert isinstance(locator.space, BaseSpace)
    with pytest.raises(ValueError, match="needs trained features"):
        locator.locate_features(vectors[:1], ["a"], LocateOptions(k=5, estimator="cells"))
    base = locator.locate_features(vectors[:3], ["a", "b", "c"], LocateOptions(k=5))
    assert [[n.record_id for n in r.neighbours] for r in base] == database.search(vectors[:3], 5)[1].tolist()


def test_a_view_name_must_be_a_plain_name(tmp_path):
    database, vectors = synthetic_database(tmp_path / "db", 100)
    _, lat, lon = database.locations()
    with pytest.raises(DatabaseError, match="must be letters, digits"):
        save_view(database, "../escape", train_head(vectors, lat, lon, np.arange(100), OPTIONS))
    assert not (tmp_path / "escape").exists() and database.view is None
    database.close()
