"""Regressions of the fault campaign (issue 15) that need no reference database: bad names, bad GPS
tags, damaged images, bad option values, full disks during export, and the one-line error rule.
bench/faults.py runs the same faults through the whole command line."""

from __future__ import annotations

import errno
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from geoloc_core import cli, export
from geoloc_core.errors import user_message
from geoloc_core.files import PhotoError, display_path, find_photos
from geoloc_core.locate import DensityOptions, LocateOptions, LocationResult, Neighbour
from geoloc_core.photos import gps_from_exif, load_photo
from geoloc_core.training import TrainOptions

from ..conftest import REPO_ROOT

NON_UTF8 = os.fsdecode(b"caf\xe9-\xff.jpg")


def _jpeg(path: Path, seed: int = 0, size: int = 64) -> Path:
    pixels = (np.random.default_rng(seed).random((size, size, 3)) * 255).astype("uint8")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def _result(photo: str, k: int = 3) -> LocationResult:
    neighbours = [Neighbour(i + 1, i, 0.1 * i, 1 - 0.01 * i, 1 / k, 10.0 + i, 20.0 + i, f"/refs/=r{i}.jpg")
                  for i in range(k)]
    return LocationResult(photo, 10.0, 20.0, 0.5, 100.0, 200.0, "sphere", k, neighbours)


# -- EXIF GPS ---------------------------------------------------------------------------------------

def test_negative_gps_values_keep_their_hemisphere():
    fix = gps_from_exif({1: "S", 2: (-33.0, 0.0, 0.0), 3: "W", 4: (-70.5, 0.0, 0.0)})
    assert (fix.lat, fix.lon) == (-33.0, -70.5)
    fix = gps_from_exif({1: "S", 2: (33.0, 30.0, 0.0), 3: "E", 4: (70.0, 0.0, 0.0)})
    assert (fix.lat, fix.lon) == (-33.5, 70.0)


def test_gps_written_as_text_is_parsed_or_refused():
    assert gps_from_exif({1: "N", 2: "45.5", 3: "W", 4: "12 30 36"}).lon == pytest.approx(-12.51)
    assert gps_from_exif({1: "N", 2: b"45\x00", 3: "E", 4: "7"}).lat == 45.0
    assert gps_from_exif({1: "N", 2: "123", 3: "E", 4: "10"}) is None, "123 degrees is no latitude, not 1.034"
    assert gps_from_exif({1: "N", 2: "north-ish", 3: "E", 4: "10"}) is None


# -- images ------------------------------------------------------------------------------------------

def test_truncated_heic_is_refused(tmp_path):
    pytest.importorskip("pillow_heif").register_heif_opener()  # to write the HEIC this test damages
    Image.open(_jpeg(tmp_path / "a.jpg", size=256)).save(tmp_path / "whole.heic", quality=90)
    data = (tmp_path / "whole.heic").read_bytes()
    (tmp_path / "third.heic").write_bytes(data[: len(data) // 3])
    assert load_photo(tmp_path / "whole.heic").size == (256, 256)
    with pytest.raises(PhotoError, match="truncated"):
        load_photo(tmp_path / "third.heic")


def test_nan_tiff_is_refused_and_gif_is_read(tmp_path):
    Image.fromarray(np.full((32, 32), np.nan, dtype=np.float32), "F").save(tmp_path / "nan.tif")
    with pytest.raises(PhotoError, match="NaN"):
        load_photo(tmp_path / "nan.tif")
    Image.open(_jpeg(tmp_path / "a.jpg")).convert("P").save(tmp_path / "b.gif")
    assert tmp_path / "b.gif" in find_photos(tmp_path)
    assert load_photo(tmp_path / "b.gif").mode == "RGB"


def test_paths_too_long_to_open_are_reported_not_fatal(tmp_path):
    _jpeg(tmp_path / "top.jpg")
    fd = os.open(tmp_path, os.O_RDONLY)
    for _ in range(18):  # 18 x 250 bytes: deeper than PATH_MAX
        os.mkdir("d" * 250, dir_fd=fd)
        inner = os.open("d" * 250, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(os.open("deep.jpg", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    os.close(fd)
    problems = []
    assert find_photos(tmp_path, problems=problems) == [tmp_path / "top.jpg"]
    assert len(problems) == 1 and "too long" in problems[0].reason
    with pytest.raises(PhotoError, match="too long"):
        find_photos(tmp_path)
    with pytest.raises(PhotoError, match="too long"):
        load_photo(tmp_path / ("x" * 4100 + ".jpg"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder; bench/faults.py checks this as nobody")
def test_unreadable_subfolder_is_reported(tmp_path):
    _jpeg(tmp_path / "locked" / "a.jpg")
    (tmp_path / "locked").chmod(0)
    try:
        problems = []
        assert find_photos(tmp_path, problems=problems) == []
        assert "permission denied" in problems[0].reason
    finally:
        (tmp_path / "locked").chmod(0o755)


# -- names that are not UTF-8, and exports --------------------------------------------------------------

def test_display_path_makes_any_name_writable():
    assert display_path("/photos/café.jpg") == "/photos/café.jpg"
    assert display_path(f"/photos/{NON_UTF8}") == "/photos/caf\\xe9-\\xff.jpg"
    assert display_path("lone \ud800 surrogate").encode("utf-8")
    assert display_path(os.fsencode(f"/p/{NON_UTF8}")) == "/p/caf\\xe9-\\xff.jpg"


@pytest.mark.parametrize("suffix", [".csv", ".geojson", ".gpkg"])
def test_non_utf8_names_export(tmp_path, suffix):
    written = export.write_results(tmp_path / f"out{suffix}", [_result(f"/p/{NON_UTF8}"), _result("/p/b.jpg")])
    assert all(path.is_file() for path in written)
    if suffix == ".gpkg":
        from osgeo import ogr

        source = ogr.Open(str(written[0]))  # kept open while its layer is read
        photos = [feature.GetField("photo") for feature in source.GetLayerByName("predictions")]
    elif suffix == ".csv":
        photos = [line.split(",")[0] for line in written[0].read_text(encoding="utf-8").splitlines()[1:]]
    else:
        photos = [f["properties"]["photo"] for f in json.loads(written[0].read_text(encoding="utf-8"))["features"]]
    assert photos == ["/p/caf\\xe9-\\xff.jpg", "/p/b.jpg"]


def test_csv_cells_that_spreadsheets_run_are_neutralised(tmp_path):
    export.write_results(tmp_path / "out.csv", [_result("/p/=HYPERLINK(1).jpg")])
    text = (tmp_path / "out.csv").read_text()
    assert ",'=HYPERLINK(1).jpg," in text and ",10.0,20.0," in text, "numbers keep their sign"
    assert "'/refs/=r0.jpg" not in (tmp_path / "out-neighbours.csv").read_text(), "only cells starting with ="


@pytest.mark.parametrize("suffix", [".csv", ".geojson"])
def test_full_disk_leaves_neither_file_of_a_pair(tmp_path, monkeypatch, suffix):
    real = export.atomic_write_bytes

    def full(path, data):
        if "-neighbours" in Path(path).name:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(export, "atomic_write_bytes", full)
    with pytest.raises(export.ExportError, match="no space left"):
        export.write_results(tmp_path / f"out{suffix}", [_result("/p/a.jpg")])
    assert list(tmp_path.iterdir()) == []


def test_results_output_is_checked_before_any_work(tmp_path):
    (tmp_path / "out-neighbours.csv").write_text("kept\n")
    with pytest.raises(export.ExportError, match="out-neighbours.csv: file exists"):
        export.check_results_output(tmp_path / "out.csv")
    with pytest.raises(export.ExportError, match="unknown output format"):
        export.check_results_output(tmp_path / "out.txt")


# -- option values -------------------------------------------------------------------------------------

@pytest.mark.parametrize("options, says", [
    (dict(k=0), "k (neighbours)"), (dict(k=2**40), "k (neighbours)"), (dict(k=2.5), "k (neighbours)"),
    (dict(bandwidth_km=1e-9), "bandwidth"), (dict(bandwidth_km=math.inf), "bandwidth"),
    (dict(bandwidth_km=math.nan), "bandwidth"), (dict(temperature=0), "temperature"),
    (dict(temperature=math.nan), "temperature"),
])
def test_locate_options_refuse_garbage(options, says):
    with pytest.raises(ValueError, match=says.replace("(", r"\(").replace(")", r"\)")):
        LocateOptions(**options)


@pytest.mark.parametrize("resolution", [-0.001, -1, math.nan, math.inf, 90])  # 0 is auto
def test_density_options_refuse_garbage(resolution):
    with pytest.raises(ValueError, match="density resolution"):
        DensityOptions(resolution)
    with pytest.raises(ValueError, match="extent"):
        DensityOptions(0.1, (10, 0, -10, 5))


@pytest.mark.parametrize("options, says", [
    (dict(geo_dim=0), "geo_dim"), (dict(geo_dim=-5), "geo_dim"), (dict(epochs=0), "epochs"),
    (dict(smoothing_km=math.nan), "smoothing"), (dict(smoothing_km=-1.0), "smoothing"),
    (dict(t_min=0), "t_min"), (dict(t_min=10, t_max=5), "t_max"),
])
def test_train_options_refuse_garbage(options, says):
    with pytest.raises(ValueError, match=says):
        TrainOptions(**options)


def test_finetune_devices_are_checked():
    import torch

    from geoloc_core.finetune import FinetuneOptions

    with pytest.raises(ValueError, match="unknown device 'bogus'"):
        FinetuneOptions(device="bogus")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            FinetuneOptions(device="cuda")
    assert FinetuneOptions(device="cpu").device == "cpu"


# -- the one-line rule ------------------------------------------------------------------------------------

def test_user_message_names_the_file_and_the_problem():
    assert user_message(OSError(errno.ENOSPC, "No space left on device", "/d/x.csv")) == \
        "/d/x.csv: no space left on the disk; free some space and run the command again"
    assert "permission denied" in user_message(PermissionError(errno.EACCES, "Permission denied", "/db/.lock"))
    assert user_message(NotADirectoryError(errno.ENOTDIR, "Not a directory", "/a")).startswith("/a: is not a folder")
    assert "\n" not in user_message(ValueError("two\nlines"))
    with pytest.raises(UnicodeEncodeError) as caught:
        f"/p/{NON_UTF8}".encode()
    assert user_message(caught.value).startswith("/p/caf\\xe9-\\xff.jpg: a name that is not valid UTF-8")


def _main(capsys, *args) -> tuple[int, str]:
    code = cli.main(["--progress", "none", *map(str, args)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("args, says", [
    (("locate",), "required"),
    (("locate", "db", "a.jpg", "-k", "many"), "invalid"),
    (("add", "db", "refs.csv", "--batch-size", "0"), "--batch-size"),
    (("train", "db", "--geo-dim", "-5"), "geo_dim"),
    (("train", "db", "--finetune", "--device", "bogus"), "unknown device"),
    (("train", "db", "--device", "cpu"), "--finetune"),
    (("locate", "db", "a.jpg", "--density-dir", "d", "--density-resolution", "0"), "density resolution"),
])
def test_usage_and_option_mistakes_are_one_error_line(capsys, args, says):
    try:
        code, err = _main(capsys, *args)
    except SystemExit as exc:
        code, err = exc.code, capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1 and says in err, err


def test_outputs_are_checked_before_the_database_is_opened(capsys, tmp_path):
    database = tmp_path / "db.geoloc"
    database.mkdir()
    (tmp_path / "afile").write_text("x")
    photo = _jpeg(tmp_path / "a.jpg")
    for args, says in (
        (("locate", database, photo, "-o", database / "manifest.json", "--overwrite"), "inside the reference"),
        (("locate", database, photo, "--density-dir", tmp_path / "afile"), "is a file, not a folder"),
        (("locate", database, tmp_path / "nothing"), "no photos found"),
        (("evaluate", database, tmp_path, "--json", tmp_path / "nodir" / "e.json"), "folder not found"),
    ):
        if args[2] == tmp_path / "nothing":
            (tmp_path / "nothing").mkdir()
        code, err = _main(capsys, *args)
        assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err


def test_a_bug_shows_its_traceback_and_asks_for_a_report(capsys, monkeypatch):
    monkeypatch.setitem(cli.COMMANDS, "info", lambda args, printer: {}["boom"])
    code, err = _main(capsys, "info", "db")
    assert code == cli.EXIT_INTERNAL_ERROR and err.startswith("Traceback (most recent call last)")
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: internal error (KeyError") and "this is a bug, please report it" in last


# -- map tips ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("style, field", [("predictions", "photo"), ("neighbours", "reference_path")])
def test_map_tips_escape_the_path(qgis_app, style, field):
    from qgis.core import QgsExpression, QgsExpressionContext, QgsExpressionContextUtils, QgsFeature, QgsVectorLayer

    layer = QgsVectorLayer(f"Point?crs=EPSG:4326&field={field}:string&field=file_name:string", "tips", "memory")
    _, loaded = layer.loadNamedStyle(str(REPO_ROOT / "resources" / "styles" / f"{style}.qml"))
    assert loaded
    feature = QgsFeature(layer.fields())
    feature.setAttributes(['/p/<img src=x onerror=alert(1)>".jpg', '<img src=x onerror=alert(1)>".jpg'])
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    context.setFeature(feature)
    html = QgsExpression.replaceExpressionText(layer.mapTipTemplate(), context)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;&quot;.jpg" in html


def test_storable_paths_round_trip_through_sqlite(tmp_path):
    import sqlite3

    from geoloc_core.files import path_from_stored, storable_path

    names = [f"/p/{NON_UTF8}", "/p/café.jpg"]
    connection = sqlite3.connect(tmp_path / "r.sqlite")
    connection.execute("CREATE TABLE records (path TEXT NOT NULL)")
    connection.executemany("INSERT INTO records VALUES (?)", [(storable_path(n),) for n in names])
    assert [path_from_stored(v) for (v,) in connection.execute("SELECT path FROM records")] == names
    assert storable_path("/p/café.jpg") == "/p/café.jpg"
