"""The external engine route: another Python runs geoloc_core through its CLI (here the project's
own .venv Python), with the same results as in QGIS's process, and crashes that QGIS survives."""

from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np
import pytest
from qgis.core import QgsProject, QgsSettings

from ..conftest import REPO_ROOT, make_located_photos, make_photos


@pytest.fixture(scope="module")
def engine_module(plugin_module):
    return plugin_module("ui.engine")


@pytest.fixture(scope="module")
def database(engine_module, tmp_path_factory):
    folder = tmp_path_factory.mktemp("references")
    make_located_photos(folder, 15, seed=11)  # what the photos show does not matter here
    engine = engine_module.InProcessEngine()
    target = tmp_path_factory.mktemp("ext") / "walk.geoloc"
    info, report = engine.build(str(folder), str(target), None, None)
    engine.close()
    assert info.count == 15
    return target


def request(engine_module, database, photos, density=0.1):
    return engine_module.LocateRequest(str(database), [str(p) for p in photos], k=8, estimator="sphere",
                                       bandwidth_km=20.0, temperature=0.1, density_resolution=density)


@pytest.mark.slow
def test_external_route_gives_the_in_process_results(engine_module, database, tmp_path):
    photos = [*make_photos(tmp_path / "queries", 2, seed=12), tmp_path / "missing.jpg"]
    inside = engine_module.InProcessEngine()
    inside.open(str(database))
    expected = inside.locate(request(engine_module, database, photos), tmp_path / "in", 1, None, None)
    outside = engine_module.ExternalEngine(sys.executable)
    assert "torch" in outside.check()
    info = outside.open(str(database))
    assert info.count == 15 and len(outside.references()) == 15
    events = []
    got = outside.locate(request(engine_module, database, photos), tmp_path / "out", 1, events.append, None)
    assert events and any(e.total == 3 for e in events)
    assert (events[-1].stage, events[-1].message) == ("density", "Density maps: 2 of 2"), "the density phase says so"
    assert [r.photo for r in got.results] == [r.photo for r in expected.results]
    for mine, theirs in zip(got.results, expected.results):
        for name in ("lat", "lon", "confidence", "radius50_km", "radius90_km"):
            assert getattr(mine, name) == pytest.approx(getattr(theirs, name), abs=1e-6), name
        assert [n.record_id for n in mine.neighbours] == [n.record_id for n in theirs.neighbours]
        assert [n.weight for n in mine.neighbours] == pytest.approx([n.weight for n in theirs.neighbours], abs=1e-6)
    assert [f.path for f in got.failed] == [str(tmp_path / "missing.jpg")]
    assert os.path.basename(got.density_path) == os.path.basename(expected.density_path)
    from osgeo import gdal

    ours, theirs = gdal.Open(got.density_path), gdal.Open(expected.density_path)
    assert ours.RasterCount == theirs.RasterCount == 3, "one raster: all photos, then one band per photo"
    np.testing.assert_allclose(ours.ReadAsArray(), theirs.ReadAsArray(), rtol=1e-4, atol=1e-12)
    inside.close()


@pytest.mark.slow
def test_cancelling_terminates_the_child_and_leaves_nothing(engine_module, database, tmp_path):
    from geoloc_core.progress import Cancelled as EngineCancelled

    outside = engine_module.ExternalEngine(sys.executable)
    photos = make_photos(tmp_path / "many", 80, seed=13)
    seen = []
    started = time.monotonic()
    with pytest.raises(Exception) as raised:
        outside.locate(request(engine_module, database, photos), tmp_path / "out", 1, seen.append,
                       lambda: len(seen) >= 2)
    assert type(raised.value).__name__ == EngineCancelled.__name__
    assert time.monotonic() - started < 60 and outside.child is None
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.slow
def test_a_killed_engine_is_reported(engine_module, database, tmp_path):
    outside = engine_module.ExternalEngine(sys.executable)
    photos = make_photos(tmp_path / "many", 80, seed=13)

    def kill_on_first_progress(progress):
        os.kill(outside.child.pid, signal.SIGKILL)

    with pytest.raises(engine_module.EngineError, match=r"crashed \(SIGKILL\); QGIS is unaffected"):
        outside.locate(request(engine_module, database, photos), tmp_path / "out", 1, kill_on_first_progress, None)


def test_a_native_crash_in_the_engine_is_reported(engine_module, database, tmp_path, monkeypatch):
    # tests/crash_hook/sitecustomize.py makes the child call os.abort() at its first progress event
    # the hook imports the engine while Python starts, before the child's working folder is on its path
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO_ROOT / "tests" / "crash_hook"), str(REPO_ROOT)]))
    monkeypatch.setenv("GEOLOC_CORE_TEST_ABORT_AFTER", "1")
    outside = engine_module.ExternalEngine(sys.executable)
    with pytest.raises(engine_module.EngineError, match=r"crashed \(SIGABRT\)"):
        outside.locate(request(engine_module, database, make_photos(tmp_path / "query", 1, seed=14)),
                       tmp_path / "out", 1, None, None)


def test_a_python_without_the_engine_is_refused(engine_module, tmp_path):
    with pytest.raises(engine_module.EngineError, match="lacks some of the engine's packages|cannot run"):
        engine_module.ExternalEngine("/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3").check()
    with pytest.raises(engine_module.EngineError, match="cannot run this Python"):
        engine_module.ExternalEngine(str(tmp_path / "no-python")).check()


@pytest.mark.slow
def test_the_dock_runs_on_the_external_engine(qgis_app, qgis_iface, qgis_new_project, plugin_module, database,
                                              tmp_path):
    dock_module = plugin_module("ui.dock")
    settings_module = plugin_module("ui.settings")
    engine_module = plugin_module("ui.engine")

    from .conftest import run_groups, wait_until_idle

    QgsSettings().setValue(settings_module.EXTERNAL_PYTHON, sys.executable)
    try:
        dock = dock_module.PhotoGeolocatorDock(qgis_iface, qgis_iface.mainWindow())
    finally:
        QgsSettings().remove(settings_module.EXTERNAL_PYTHON)
    assert isinstance(dock.engine, engine_module.ExternalEngine)
    dock.options.output_widget.setFilePath(str(tmp_path / "rasters"))
    dock.database_section.open_database(database)
    wait_until_idle(dock, qgis_app)
    assert dock.database.count == 15
    dock.photos.add_photos([str(path) for path in make_photos(tmp_path / "query", 1, seed=14)])
    wait_until_idle(dock, qgis_app)  # the photos are read in the background
    finished = []
    dock.runFinished.connect(finished.append)
    dock.start_run()
    wait_until_idle(dock, qgis_app)
    assert finished[0] is not None and len(finished[0].results) == 1
    layer = QgsProject.instance().mapLayer(finished[0].layer_ids["predictions"])
    assert layer.featureCount() == 1 and len(run_groups()) >= 1
    dock.shutdown()
