"""The service layer (geoloc_core.service) on its own, without QGIS, and the front ends that call it: the
CLI, the Processing algorithm and the dock's in-process engine give the service's answer for the same
request. Made-up photos (conftest), so that these run without ../shared; the bundled network, because
a database must name an embedder the engine can load again."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from geoloc_core import embedders
from geoloc_core.cli import main
from geoloc_core.errors import UserError
from geoloc_core.progress import Cancelled
from geoloc_core.results import BuildReport, LocationResult, Neighbour, Skipped
from geoloc_core.service import (
    BuildRequest,
    DatabaseInfo,
    LocateOutcome,
    LocateRequest,
    Session,
    build,
    read_sources,
    weights_for,
    write_run_density,
)

from ..conftest import REPO_ROOT, make_located_photos, make_photos


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    folder = tmp_path_factory.mktemp("references")
    make_located_photos(folder, 12, seed=21)
    return folder


@pytest.fixture(scope="module")
def database(references, tmp_path_factory):
    target = tmp_path_factory.mktemp("service") / "made-up.geoloc"
    with Session() as session:
        info, report = session.build(BuildRequest(str(target)), read_sources(references)[0])
    assert info.count == report.added == 12 and session.database is None
    return target


@pytest.fixture(scope="module")
def queries(tmp_path_factory):
    folder = tmp_path_factory.mktemp("queries")
    return [str(p) for p in make_photos(folder, 2, seed=22)] + [str(folder / "missing.jpg")]


def request_for(database, photos, request_type=LocateRequest, **changes):
    values = {"k": 6, "estimator": "sphere", "bandwidth_km": 25.0, "temperature": 0.1, "density_resolution": None}
    return request_type(str(database), list(photos), **{**values, **changes})


def assert_same_results(mine, theirs):
    assert [r.photo for r in mine] == [r.photo for r in theirs]
    for a, b in zip(mine, theirs):
        for name in ("lat", "lon", "confidence", "radius50_km", "radius90_km"):
            assert getattr(a, name) == pytest.approx(getattr(b, name), abs=1e-6), name
        assert [n.record_id for n in a.neighbours] == [n.record_id for n in b.neighbours]


def test_outcomes_come_back_whole_through_json():
    info = DatabaseInfo("/db/walk.geoloc", "walk", 12, "efficientnet_lite0 (...)", ["a warning"], "efficientnet_lite0",
                        "geocells")
    assert DatabaseInfo.from_dict(json.loads(json.dumps(info.to_dict()))) == info
    assert info.description == "efficientnet_lite0 (...); trained features 'geocells'"
    result = LocationResult("/q.jpg", 1.0, 2.0, 0.5, 10.0, 100.0, "sphere", 1,
                            [Neighbour(1, 3, 0.2, 0.98, 1.0, 1.1, 2.1, "/r.jpg")])
    outcome = LocateOutcome([result], [Skipped("/x.jpg", "unreadable")], "/run.tif", "walk", {"/q.jpg": "/d.tif"})
    assert LocateOutcome.from_dict(json.loads(json.dumps(outcome.to_dict()))) == outcome


def test_the_service_and_the_cli_import_no_heavy_package():
    """QGIS's Python imports the requests at start-up, and `--help` must start at once."""
    code = ("import sys; import geoloc_core.service, geoloc_core.cli; "
            "print([m for m in ('numpy', 'torch', 'faiss', 'PIL') if m in sys.modules])")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr


def test_sources_without_locations_are_refused(tmp_path):
    make_located_photos(tmp_path, 2, seed=23, gps_in_exif=False)
    with pytest.raises(UserError, match="no photo with a usable EXIF GPS location .2 photos without one.; nothing"):
        read_sources(tmp_path)


def test_weights_are_the_given_file_else_a_downloadable_models_folder(tmp_path):
    assert weights_for("geoclip", None, tmp_path) == str(tmp_path)
    assert weights_for("geoclip", "/w/geoclip", tmp_path) == "/w/geoclip"
    assert weights_for("efficientnet_lite0", None, tmp_path) is None
    assert weights_for("resnet50", "/w/r.pth", None) == "/w/r.pth"


def test_a_session_keeps_the_database_and_network_between_runs(database, queries, monkeypatch):
    loads = []
    original = embedders.embedder_for
    monkeypatch.setattr(embedders, "embedder_for", lambda *args: loads.append(args) or original(*args))
    events = []
    with Session() as session:
        info = session.open(database)
        assert (info.count, info.view, info.architecture) == (12, None, "efficientnet_lite0")
        first = session.locate(request_for(database, queries), events.append)
        assert events[0].stage == "load", "the network's load is announced before the first run"
        second = session.locate(request_for(database, queries, k=4))
        assert len(loads) == 1 and session.searched(request_for(database, queries)) is session.database
        assert [len(r.neighbours) for r in second.results] == [4, 4]
        assert first.reference == info.name and [f.path for f in first.failed] == [queries[2]]
    assert session.database is None


def test_adding_the_same_photos_again_adds_none(database, references, capsys):
    candidates, _ = read_sources(references)
    opened, report = build(BuildRequest(str(database), add=True), candidates)
    opened.close()
    assert (report.added, report.already_present) == (0, 12)
    assert main(["--progress", "json", "add", str(database), str(references)]) == 0
    by_cli = BuildReport.from_dict(json.loads(capsys.readouterr().out.splitlines()[-1]))
    assert (by_cli.added, by_cli.already_present, by_cli.failed) == (report.added, report.already_present, [])


def test_a_stopped_density_write_leaves_no_file(database, queries, tmp_path):
    request = request_for(database, queries[:1], density_resolution=0.5)
    with Session() as session:
        outcome = session.locate(request)
    target = tmp_path / "run.tif"
    calls = []
    with pytest.raises(Cancelled):
        write_run_density(outcome, request, target, should_stop=lambda: calls.append(1) or len(calls) > 1)
    assert not target.exists() and outcome.density_path is None
    assert write_run_density(outcome, request, target) == str(target) and target.is_file()


def test_the_cli_processing_and_the_dock_give_the_services_answer(database, queries, tmp_path, capsys, qgis_app,
                                                                 qgis_processing, plugin_module):
    with Session() as session:
        expected = session.locate(request_for(database, queries))
        info = session.open(database)

    assert main(["--progress", "json", "info", str(database)]) == 0
    assert DatabaseInfo.from_dict(json.loads(capsys.readouterr().out.splitlines()[-1])) == info
    assert main(["--progress", "json", "locate", str(database), *queries, "-k", "6", "--estimator", "sphere",
                 "--bandwidth", "25", "--temperature", "0.1"]) == 0
    by_cli = LocateOutcome.from_dict(json.loads(capsys.readouterr().out.splitlines()[-1]))
    assert_same_results(by_cli.results, expected.results)
    assert by_cli.failed == expected.failed

    engine_module = plugin_module("ui.engine")
    engine = engine_module.InProcessEngine()
    assert engine.open(str(database)).count == 12
    in_dock = engine.locate(request_for(database, queries, engine_module.LocateRequest), tmp_path / "runs", 1, None,
                            None)
    engine.close()
    assert_same_results(in_dock.results, expected.results)
    assert [(f.path, f.reason) for f in in_dock.failed] == [(f.path, f.reason) for f in expected.failed]

    import processing
    from qgis.core import QgsApplication

    provider = plugin_module("processing_provider.provider").PhotoGeolocatorProvider()
    assert QgsApplication.processingRegistry().addProvider(provider)
    try:
        located = processing.run("photo_geolocator:geolocate_photos", {
            "FILES": ";".join(queries), "DATABASE": str(database), "K": 6, "ESTIMATOR": 0, "BANDWIDTH": 25,
            "TEMPERATURE": 0.1, "PREDICTIONS": "TEMPORARY_OUTPUT", "NEIGHBOURS": "TEMPORARY_OUTPUT"})
    finally:
        QgsApplication.processingRegistry().removeProvider(provider)
    assert (located["LOCATED"], located["FAILED"]) == (2, 1)
    features = sorted(located["PREDICTIONS"].getFeatures(), key=lambda f: f["photo"])
    assert [f["photo"] for f in features] == [r.photo for r in expected.results]
    for feature, result in zip(features, expected.results):
        assert (feature["lat"], feature["lon"], feature["confidence"]) == pytest.approx(
            (result.lat, result.lon, result.confidence), abs=1e-6)
