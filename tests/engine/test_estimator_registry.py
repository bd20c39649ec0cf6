"""The estimator and evidence-source registries: one place that names the estimators (for the CLI,
Processing, the panel and the docs), what each needs, and which evidence decided each photo."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from geoloc_core import estimator_registry as est
from geoloc_core.estimator_registry import ESTIMATORS, Neighbourhood, estimator_names, estimator_spec
from geoloc_core.evidence import PIXELS, STAGES, EvidenceBatch, EvidenceSource, PhotoCase, register_source, weigh
from geoloc_core.geoclip_prior import GalleryPrediction, prior_estimate
from geoloc_core.locate import LocateOptions
from geoloc_core.registry import Registry
from geoloc_core.results import LocationResult
from geoloc_core.service import DatabaseInfo

from ..conftest import REPO_ROOT

LAT, LON, SIMS = [45.0, 45.2, 10.0, -30.0], [7.0, 7.1, 20.0, 150.0], [0.9, 0.85, 0.7, 0.6]


def test_the_processing_enum_order_is_kept_and_new_estimators_come_last():
    """Processing stores the estimator as an index: the first six must never move."""
    assert estimator_names()[:6] == ("sphere", "paper", "cells", "hybrid", "cascade", "geoclip")
    assert all(spec.label and spec.help for spec in ESTIMATORS)


def test_an_unknown_estimator_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="unknown estimator 'median'; choose one of sphere, paper, cells"):
        LocateOptions(estimator="median")
    with pytest.raises(ValueError, match="unknown estimator"):
        estimator_spec(None)


def test_a_part_is_registered_once():
    parts = Registry("part")
    source = EvidenceSource("x", "x", "x", "photo", lambda batch: None)
    parts.register(source)
    with pytest.raises(ValueError, match="part 'x' is registered twice"):
        parts.register(source)
    assert parts.names() == ("x",) and "x" in parts and len(parts) == 1


@pytest.mark.parametrize("name,architecture,view,problem", [
    ("sphere", "", None, None),
    ("cells", "efficientnet_lite0", None, "needs trained features"),
    ("hybrid", "efficientnet_lite0", "geocells", None),
    ("geoclip", "efficientnet_lite0", None, "needs GeoCLIP features: a reference database built with GeoCLIP"),
    ("geoclip", "geoclip", None, None),
])
def test_requirements_say_what_a_database_lacks(name, architecture, view, problem):
    info = DatabaseInfo("/db", "db", 3, "description", [], architecture, view)
    found = estimator_spec(name).problem(info)
    assert (found is None) if problem is None else found.startswith(problem)
    assert estimator_spec(name).problem(None) == (None if not estimator_spec(name).requires else
                                                  f"needs {estimator_spec(name).requires[0].text}")


@pytest.mark.parametrize("name", ["cells", "hybrid", "geoclip"])
def test_an_estimator_without_its_input_names_what_it_needs(name):
    with pytest.raises(ValueError, match=f"the {name} estimator needs"):
        est.estimate(name, LAT, LON, SIMS)


def test_the_geoclip_estimator_is_the_hybrid_rule_with_the_gallery_as_prior():
    gallery = GalleryPrediction(np.array([45.1, 10.0]), np.array([7.05, 20.0]), np.array([0.7, 0.3]),
                                np.array([0.3, 0.2]))
    lat, lon = np.array(LAT), np.array(LON)
    geoclip = prior_estimate(gallery, lat, lon, np.array(SIMS), 1000.0)
    hybrid = est.estimate("hybrid", lat, lon, SIMS, 1000.0, cell_prior=gallery.prior_at(lat, lon))
    assert (geoclip.lat, geoclip.lon, geoclip.confidence, geoclip.radius90_km) == \
        (hybrid.lat, hybrid.lon, hybrid.confidence, hybrid.radius90_km)
    np.testing.assert_array_equal(geoclip.weights, hybrid.weights)


def test_each_registered_estimator_returns_a_point_and_normalised_weights():
    n = est.neighbourhood(LAT, LON, SIMS, 1000.0, 0.05, cell_prior=np.array([0.5, 0.5, 0.0, 0.0]),
                          cell_location=(45.1, 7.05),
                          gallery=GalleryPrediction(np.array([45.1]), np.array([7.05]), np.array([1.0]),
                                                    np.array([0.3])))
    for spec in ESTIMATORS:
        lat, lon, weights = est.point_of(spec.name, n)
        assert -90 <= lat <= 90 and -180 <= lon <= 180 and weights.sum() == pytest.approx(1.0), spec.name
        assert abs(lat - 45.1) < 0.2, spec.name  # the two close, most similar neighbours win everywhere


def _case(photo: str) -> PhotoCase:
    return PhotoCase(photo, [], est.neighbourhood(LAT, LON, SIMS, 1000.0, 0.05))


def test_sources_contribute_stage_by_stage_and_pixels_decides_the_rest():
    calls = []
    sources = Registry("evidence source")
    sources.register(EvidenceSource("stream", "s", "s", "joint", lambda batch: calls.append(("joint", batch.undecided()))))

    def anchor(batch: EvidenceBatch) -> None:
        calls.append(("known", batch.undecided()))

    def pixels(batch: EvidenceBatch) -> None:
        calls.append(("photo", batch.undecided()))
        for i in batch.undecided():
            batch.decide(i, est.estimate_neighbourhood(batch.options.estimator, batch.cases[i].neighbourhood), PIXELS)

    sources.register(EvidenceSource("anchor", "a", "a", "known", anchor))
    sources.register(EvidenceSource(PIXELS, "p", "p", "photo", pixels))
    batch = EvidenceBatch([_case("a.jpg"), _case("b.jpg")], LocateOptions(estimator="sphere"))
    findings = weigh(batch, sources)
    assert calls == [("photo", [0, 1]), ("known", []), ("joint", [])]
    assert [f.evidence for f in findings] == [PIXELS, PIXELS]
    assert findings[0].estimate.lat == est.estimate("sphere", LAT, LON, SIMS).lat


def test_a_batch_that_no_source_decides_is_a_bug_and_a_stage_must_exist():
    with pytest.raises(RuntimeError, match="no evidence source decided a.jpg"):
        weigh(EvidenceBatch([_case("a.jpg")], LocateOptions()), Registry("evidence source"))
    with pytest.raises(ValueError, match="unknown stage 'before'; choose one of " + ", ".join(STAGES)):
        register_source("early", "early", "help", "before")


def test_the_pixels_source_decides_every_photo_with_the_chosen_estimator():
    findings = weigh(EvidenceBatch([_case("a.jpg")], LocateOptions(estimator="cascade")))
    assert findings[0].evidence == PIXELS
    assert findings[0].estimate.lat == est.estimate("cascade", LAT, LON, SIMS).lat


def test_located_photos_say_which_evidence_decided_them(tmp_path, tiny_embedder):
    from geoloc_core.ingest import build_database
    from geoloc_core.locate import Locator
    from geoloc_core.sources import from_csv

    from ..conftest import make_located_photos, write_csv

    references, _ = from_csv(write_csv(tmp_path / "refs.csv", make_located_photos(tmp_path / "photos", 6)))
    database, _ = build_database(tmp_path / "refs.geoloc", references, tiny_embedder)
    try:
        report = Locator(database, tiny_embedder).locate_paths([references[0].path], LocateOptions(k=3))
    finally:
        database.close()
    (result,) = report.results
    assert result.evidence == PIXELS and result.to_dict()["evidence"] == PIXELS
    assert LocationResult.from_dict(result.to_dict()) == LocationResult(**{**vars(result), "density": None})
    old = {key: value for key, value in result.to_dict().items() if key != "evidence"}  # an older engine's answer
    assert LocationResult.from_dict(old).evidence == PIXELS


def test_the_estimator_page_is_the_one_the_registry_writes():
    spec = importlib.util.spec_from_file_location("make_estimator_docs", REPO_ROOT / "scripts" / "make_estimator_docs.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.DOCS_FILE.read_text(encoding="utf-8") == script.page(), \
        "docs/estimators.md is stale: run .venv/bin/python scripts/make_estimator_docs.py"
    for spec in ESTIMATORS:
        assert f"### {spec.name}" in script.page()


def test_a_neighbourhood_is_what_estimate_reads():
    n = est.neighbourhood(LAT, LON, SIMS, 300.0, 0.2)
    assert isinstance(n, Neighbourhood) and n.lat.dtype == np.float64 and n.cell_prior is None
    assert est.estimate_neighbourhood("sphere", n).lat == est.estimate("sphere", LAT, LON, SIMS, 300.0, 0.2).lat
