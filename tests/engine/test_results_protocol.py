"""The engine's answers travel as JSON between two Pythons (the panel's external engine route) and
come back as the same dataclasses the in-process engine gives."""

from __future__ import annotations

import json
import subprocess
import sys

from geoloc_core.packs import PackInfo
from geoloc_core.results import BuildReport, LocationResult, Neighbour, Record, skipped_from_dicts
from geoloc_core.sources import Skipped

from ..conftest import REPO_ROOT


def through_json(data: dict) -> dict:
    return json.loads(json.dumps(data))


def test_a_location_result_comes_back_whole_without_its_grid():
    neighbours = [Neighbour(1, 7, 0.4, 0.92, 0.75, 43.5, 11.2, "/refs/a.jpg"),
                  Neighbour(2, 9, 0.6, 0.82, 0.25, -33.9, 151.2, "/refs/b.jpg")]
    result = LocationResult("/photos/q.jpg", 43.4, 11.1, 0.31, 12.5, 480.0, "cascade", 2, neighbours)
    back = LocationResult.from_dict(through_json({**result.to_dict(), "density_path": "/tmp/d.tif"}))
    assert back == result and back.neighbours[1] == neighbours[1] and back.density is None
    assert LocationResult.from_dict(through_json(result.to_dict(with_neighbours=False))).neighbours == []


def test_a_build_report_and_records_come_back_whole():
    report = BuildReport(3, 2, [Skipped("/p/no-gps.jpg", "no location")], [Skipped("/p/bad.jpg", "truncated")],
                         True, 1.25)
    back = BuildReport.from_dict(through_json({"database": "/db.geoloc", "count": 5, **report.to_dict()}))
    assert back == report and back.summary() == report.summary()
    record = Record(4, "/refs/a.jpg", "ab" * 32, 1.5, -2.5, None, "2020:01:01 10:00:00", 640, 480, {"licence": "CC0"})
    assert Record(**through_json(vars(record))) == record
    assert skipped_from_dicts([{"path": "/x.jpg", "reason": "missing"}]) == [Skipped("/x.jpg", "missing")]


def test_a_pack_info_comes_back_whole(tmp_path):
    info = PackInfo(tmp_path / "world.geoloc", "world", "Starter", 315, "efficientnet_lite0 (...)",
                    {"continents": {"Europe": 100}}, {"CC BY 2.0": 315}, "2026-11-26T08:00:00Z", "cd" * 32)
    assert PackInfo.from_dict(through_json(info.to_dict())) == info


def test_the_answers_module_is_light_enough_for_qgis_python():
    code = ("import sys; import geoloc_core.results, geoloc_core.packs; "
            "print([m for m in ('numpy', 'torch', 'faiss', 'PIL') if m in sys.modules])")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr
