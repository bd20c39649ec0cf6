"""One request protocol: every service request travels whole as JSON (`to_dict`/`from_dict`), and runs
the same in QGIS's process (a Session) and in the external engine (another Python, `python -m geoloc_core
request -`): each request type is answered with the same outcome, field by field, on both routes, and a
request the engine refuses is refused with the same message."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from geoloc_core.errors import UserError
from geoloc_core.service import (
    AddReviewedRequest,
    BuildRequest,
    DatasetRequest,
    InstallRequest,
    LocateRequest,
    OpenRequest,
    TrainRequest,
    WorldwideRequest,
    WriteGpsRequest,
    request_from_dict,
)

from ..conftest import REPO_ROOT, make_located_photos, make_photos

EVERY_KIND = [
    OpenRequest("/db.geoloc", records=True),
    BuildRequest("/db.geoloc", add=True, weights="/w.pt", device="cpu", batch_size=8, source="/refs",
                 models_dir="/models"),
    BuildRequest(Path("/db.geoloc"), architecture="resnet50", dataset=DatasetRequest(Path("/shards"), "ray", "h:6379", 2,
                                                                                     Path("/work"), None, "y", "x")),
    TrainRequest("/db.geoloc", "mine", 40, 4, 64, 20, 0.0, 3, "cpu"),
    LocateRequest("/db.geoloc", [Path("/q/a.jpg"), "/q/b.jpg"], 7, "sphere", 25.0, 0.1, 0.5, True, ["pack"], "/w.pt",
                  "/models", "/packs", True, "/run.tif", "/grids", True),
    WorldwideRequest(["/q/a.jpg"], 12, "/models"),
    InstallRequest("https://example.org/a.geolocpack", "/packs", "ab" * 32),
    WriteGpsRequest(Path("/r/results.gpkg"), ["moved", "unreviewed"], True, True, False, "stem", True, False),
    WriteGpsRequest("/r/results.csv", undo=True),
    AddReviewedRequest(Path("/r/results.gpkg"), "/db.geoloc", ["accepted"], "/w.pt", Path("/models")),
]


@pytest.mark.parametrize("request_", EVERY_KIND, ids=lambda r: r.kind)
def test_every_request_comes_back_whole_through_json(request_):
    back = request_from_dict(json.loads(json.dumps(request_.to_dict())))
    assert type(back) is type(request_)
    assert back.to_dict() == request_.to_dict()
    assert json.loads(json.dumps(back.to_dict())) == request_.to_dict(), "paths travel as text"


def test_a_request_from_another_version_is_refused():
    data = LocateRequest("/db", [], 5, "sphere", 10.0, 0.1, None).to_dict()
    with pytest.raises(UserError, match="different versions"):
        request_from_dict({**data, "jitter": 3})
    with pytest.raises(UserError, match="not an engine request"):
        request_from_dict({"request": "dance"})


# -- both routes ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def routes(plugin_module):
    """The dock's two engines, and the service and errors modules as the plugin imports them."""
    module = plugin_module("ui.engine")
    inside, outside = module.InProcessEngine(), module.ExternalEngine(sys.executable)
    yield inside, outside, plugin_module("geoloc_core.service"), plugin_module("geoloc_core.errors")
    inside.close()


def answerer(errors):
    def answer(engine, request, *call):
        """What a route answers: ("ok", the outcome) or ("refused", the user's message)."""
        try:
            return "ok", (getattr(engine, call[0])(*call[1:]) if call else engine.run(request))
        except errors.UserError as exc:
            return "refused", str(exc) if isinstance(exc, errors.EngineError) else errors.user_message(exc)
    return answer


def same(inside: dict, outside: dict, *own_paths: tuple) -> None:
    """Field by field, each route's own target paths read as the other's, times left out."""
    text = json.dumps(outside)
    for mine, theirs in own_paths:
        text = text.replace(json.dumps(str(theirs))[1:-1], json.dumps(str(mine))[1:-1])
    outside = json.loads(text)
    for data in (inside, outside):
        data.pop("seconds", None)
    assert _approx(outside) == _approx(inside)


def _approx(value):
    """Floats to 6 significant digits, so that the two processes' last bits do not matter."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _approx(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_approx(v) for v in value]
    return value


@pytest.mark.slow
def test_every_request_type_gives_the_same_outcome_on_both_routes(routes, tmp_path):
    from geoloc_core.packs import PackCredits, pack
    from geoloc_core.shards import pack_shards

    inside, outside, svc, errors = routes
    answer = answerer(errors)
    rows = make_located_photos(tmp_path / "refs", 12, seed=31)
    make_located_photos(tmp_path / "more", 3, seed=32)
    queries = [str(p) for p in make_photos(tmp_path / "queries", 2, seed=33)] + [str(tmp_path / "missing.jpg")]
    # each route writes under its own folder, the same names in both
    own, other = tmp_path / "in", tmp_path / "out"
    a, b = own / "walk.geoloc", other / "walk.geoloc"
    both = ((inside, a), (outside, b))

    # build, then add: each route its own database from the same photos
    built = [answer(e, svc.BuildRequest(str(db), source=str(tmp_path / "refs"))) for e, db in both]
    assert built[0][0] == built[1][0] == "ok", built
    same(built[0][1].to_dict(), built[1][1].to_dict(), (own, other))
    assert built[0][1].report.added == 12
    added = [answer(e, svc.BuildRequest(str(db), add=True, source=str(tmp_path / "more"), batch_size=2))
             for e, db in both]
    same(added[0][1].to_dict(), added[1][1].to_dict(), (own, other))
    assert added[0][1].report.added == 3 and added[0][1].info.count == 15

    # open, with the reference photos
    opened = [answer(e, svc.OpenRequest(str(db), records=True)) for e, db in both]
    same(opened[0][1].to_dict(), opened[1][1].to_dict(), (own, other))
    assert len(opened[1][1].records) == 15 and opened[1][1].records[0].path == opened[0][1].records[0].path

    # a build from WebDataset shards
    pack_shards([(Path(r["path"]), {"lat": r["lat"], "lon": r["lon"], "licence": r["licence"]}) for r in rows[:6]],
                tmp_path / "shards", 4)
    c, d = own / "sharded.geoloc", other / "sharded.geoloc"
    sharded = [answer(e, svc.BuildRequest(str(db), dataset=svc.DatasetRequest(str(tmp_path / "shards"))))
               for e, db in ((inside, c), (outside, d))]
    assert sharded[0][0] == sharded[1][0] == "ok", sharded
    same(sharded[0][1].to_dict(), sharded[1][1].to_dict(), (own, other))
    assert sharded[0][1].report.added == 6

    # install a pack of database a: each route into its own packs folder
    pack(a, tmp_path / "walk.geolocpack", "walk", credits=PackCredits(default_licence="CC0", default_author="tests"),
         thumbnails=False)
    packs_in, packs_out = own / "packs", other / "packs"
    installed = [answer(e, svc.InstallRequest(str(tmp_path / "walk.geolocpack"), str(folder)))
                 for e, folder in ((inside, packs_in), (outside, packs_out))]
    assert installed[0][0] == installed[1][0] == "ok", installed
    same(installed[0][1].to_dict(), installed[1][1].to_dict(), (own, other))

    # locate in the installed pack by its name (only the request's packs_dir finds it), with the run's
    # density raster and each photo's density grid
    def locate_request(packs: Path):
        return svc.LocateRequest("walk", queries, 5, "sphere", 30.0, 0.1, 0.5, packs_dir=str(packs),
                                 density_grids=True, models_dir=str(tmp_path / "models"))

    located = [answer(e, None, "locate", locate_request(folder / "packs"), folder / "runs", 1, None, None)
               for e, folder in ((inside, own), (outside, other))]
    assert located[0][0] == located[1][0] == "ok", located
    mine, theirs = located[0][1], located[1][1]
    same(mine.to_dict(), theirs.to_dict(), (own, other))
    assert len(mine.results) == 2 and [f.path for f in theirs.failed] == [queries[2]]
    assert Path(theirs.density_path).is_file() and Path(mine.density_path).is_file()
    for here, there in zip(mine.results, theirs.results):
        assert there.density is not None and there.density.geotransform == pytest.approx(here.density.geotransform)
        np.testing.assert_allclose(there.density.values, here.density.values, rtol=1e-5, atol=1e-12)

    # the request's weights reach the engine on both routes: the same file refused the same way
    (tmp_path / "not-weights.pt").write_bytes(b"no state dict")
    weighted = [answer(e, svc.LocateRequest(str(a), queries[:1], 5, "sphere", 30.0, 0.1, None,
                                            weights=str(tmp_path / "not-weights.pt"))) for e in (inside, outside)]
    assert weighted[0] == weighted[1] and weighted[0][0] == "refused" and "not-weights.pt" in weighted[0][1], weighted

    # worldwide, with a models folder holding no GeoCLIP: refused alike
    worldwide = [answer(e, svc.WorldwideRequest(queries[:1], 5, str(tmp_path / "models"))) for e in (inside, outside)]
    assert worldwide[0] == worldwide[1] and worldwide[0][0] == "refused", worldwide
    refused = [answer(e, svc.WorldwideRequest(queries[:1], 0, None)) for e in (inside, outside)]
    assert refused[0] == refused[1] == ("refused", "top-k (gallery points per photo) must be a whole number between "
                                                   "1 and 100000 (got 0)")

    # train a view on each route's database (same photos, same seed)
    trained = [answer(e, svc.TrainRequest(str(db), t_max=6, t_min=2, epochs=3)) for e, db in both]
    assert trained[0][0] == trained[1][0] == "ok", trained
    same(trained[0][1].to_dict(), trained[1][1].to_dict(), (own, other))
    assert trained[0][1].info.view == "geocells" and trained[1][1].brief == trained[0][1].brief


def test_a_bug_in_the_external_engine_comes_back_as_one_with_its_traceback(routes, tmp_path, monkeypatch):
    _, outside, svc, errors = routes
    # the hook imports the engine while Python starts, before the child's working folder is on its path
    (tmp_path / "hook" / "sitecustomize.py").parent.mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(
        "from geoloc_core import service\n"
        "def broken(self, *args, **kwargs):\n"
        "    raise KeyError('an internal invariant')\n"
        "service.Session.open = broken\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path / "hook"), str(REPO_ROOT)]))
    with pytest.raises(errors.EngineBug) as raised:
        outside.run(svc.OpenRequest(str(tmp_path / "any.geoloc")))
    assert not errors.is_user_error(raised.value)
    assert str(raised.value) == f"KeyError: 'an internal invariant', in the engine run by {sys.executable}"
    assert "KeyError: 'an internal invariant'" in raised.value.details
