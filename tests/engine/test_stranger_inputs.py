"""What a stranger's file, URL list or server can make the engine do (issue 28): limits, confinement, plain
text, geometry within the world. The command-line behaviour of each is in bench/faults.py; these check the
pieces directly."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from geoloc_core import limits
from geoloc_core.download import DownloadError, ascii_url, check_sha256_argument, download
from geoloc_core.files import redact, short_text, write_csv

from ..range_server import trickling_server


def test_limits_default_and_override(monkeypatch):
    assert limits.PACK_RATIO.value() == 200
    monkeypatch.setenv("GEOLOC_LIMIT_PACK_MEMBER_BYTES", "1.5G")
    assert limits.PACK_MEMBER_BYTES.value() == 1.5 * limits.GIB
    monkeypatch.setenv("GEOLOC_LIMIT_PACK_MEMBER_BYTES", "lots")
    with pytest.raises(limits.LimitExceeded, match="GEOLOC_LIMIT_PACK_MEMBER_BYTES"):
        limits.PACK_MEMBER_BYTES.value()


def test_json_limits_refuse_depth_and_size(monkeypatch):
    assert limits.load_json(b"[" * 64 + b"]" * 64) is not None  # 64 levels are allowed
    for data in (b"[" * 65 + b"]" * 65, b"[" * 100_000 + b"]" * 100_000, b'{"a": ' + b"[" * 70 + b"]" * 70 + b"}"):
        with pytest.raises(limits.LimitExceeded, match="nesting depth"):
            limits.load_json(data)
    monkeypatch.setenv("GEOLOC_LIMIT_JSON_BYTES", "10")
    with pytest.raises(limits.LimitExceeded, match="JSON file's size"):
        limits.load_json(b'{"key": "a longer value"}')


def test_redact_and_short_text():
    assert redact("http://user:pw@host/x failed; https://tok@h2/") == "http://***@host/x failed; https://***@h2/"
    assert redact("http:/user:pw@host/x") == "http:/***@host/x"  # as pathlib shows a URL
    line = short_text("/" + "p" * 5000)
    assert len(line) < 300 and line.startswith("/ppp")


@pytest.mark.parametrize("value", ["", "abc", "0" * 63, "0" * 65, "g" * 64])
def test_sha256_argument_is_checked(value):
    with pytest.raises(DownloadError, match="64 hexadecimal"):
        check_sha256_argument(value)


def test_sha256_argument_accepts_a_checksum():
    check_sha256_argument("A" * 64)
    check_sha256_argument(None)


def test_non_ascii_url_is_encoded():
    assert ascii_url("http://bücher.example/päck.geolocpack?q=ö") == \
        "http://xn--bcher-kva.example/p%C3%A4ck.geolocpack?q=%C3%B6"


def test_csv_rows_with_control_characters_are_quoted_and_formulas_neutralised():
    buffer = io.StringIO()
    names = ["a\r=HYPERLINK(1).jpg", "b\x0b=1.jpg", "=SUM(1).jpg", "plain.jpg", "c\u2028=2.jpg"]
    write_csv(buffer, ["file_name", "lat"], [{"file_name": name, "lat": -1.5} for name in names], "\n")
    rows = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert len(rows) == 1 + len(names)
    assert [row[0] for row in rows[1:]] == [names[0], names[1], "'=SUM(1).jpg", "plain.jpg", names[4]]
    assert all(not cell.startswith("=") for row in rows for cell in row)


def test_credentials_are_not_repeated(tmp_path):
    with pytest.raises(DownloadError) as raised:
        download("http://user:s3cret@127.0.0.1:9/x", tmp_path / "x")
    assert "s3cret" not in str(raised.value) and "***@" in str(raised.value)


def test_download_below_the_minimum_rate_stops(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOLOC_LIMIT_DOWNLOAD_RATE_WINDOW", "1")
    server = trickling_server(0.25, 12)
    try:
        with pytest.raises(DownloadError, match="minimum"):
            download(f"http://127.0.0.1:{server.server_address[1]}/slow", tmp_path / "slow")
    finally:
        server.shutdown()


def test_download_past_its_deadline_stops(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOLOC_LIMIT_DOWNLOAD_SECONDS", "0.5")
    server = trickling_server(0.1, 20)
    try:
        with pytest.raises(DownloadError, match="duration"):
            download(f"http://127.0.0.1:{server.server_address[1]}/slow", tmp_path / "slow")
    finally:
        server.shutdown()


def test_url_list_keeps_only_web_rows(tmp_path):
    from geoloc_core.shards import web_rows_only

    url_list = tmp_path / "urls.csv"
    url_list.write_text("url,lat,lon\nhttps://example.org/a.jpg,1,2\nfile:///etc/hostname,3,4\n"
                        "/home/me/private.jpg,5,6\nftp://u:pw@x/b.jpg,7,8\n", encoding="utf-8")
    checked, refused = web_rows_only(url_list, tmp_path)
    with open(checked, newline="", encoding="utf-8") as handle:
        assert [row["url"] for row in csv.DictReader(handle)] == ["https://example.org/a.jpg"]
    assert [item.path for item in refused] == ["file:///etc/hostname", "/home/me/private.jpg", "ftp://***@x/b.jpg"]


def test_url_list_of_web_rows_is_used_as_it_is(tmp_path):
    from geoloc_core.shards import web_rows_only

    url_list = tmp_path / "urls.csv"
    url_list.write_text("url,lat\nhttp://example.org/a.jpg,1\n", encoding="utf-8")
    assert web_rows_only(url_list, tmp_path) == (url_list, [])


def test_shard_coordinates_refuse_booleans():
    from geoloc_core.shards import _coordinate

    assert _coordinate("12.5") == 12.5 and _coordinate(3) == 3.0
    for value in (True, False, None, [1], {"v": 1}):
        with pytest.raises(ValueError, match="not a number"):
            _coordinate(value)


def test_unknown_embedders_are_refused():
    pytest.importorskip("torchvision")
    from geoloc_core.identity import EmbedderIdentity
    from geoloc_core.packs import embedder_problem

    for name in ("__class__", "get_model", "list_models", "", "os"):
        identity = EmbedderIdentity(name, "0" * 64, "gem", "imagenet", 1280)
        assert "cannot load" in embedder_problem(identity)
    assert "pooling" in embedder_problem(EmbedderIdentity("resnet18", "0" * 64, "__dict__", "imagenet", 512))


def test_thumbnail_path_stays_inside_the_pack(tmp_path):
    from geoloc_core.packs import thumbnail_path

    (tmp_path / "thumbnails").mkdir()
    name = "a" * 64 + ".jpg"
    (tmp_path / "thumbnails" / name).write_bytes(b"jpeg")
    (tmp_path / "thumbnails" / ("b" * 64 + ".jpg")).symlink_to("/etc/hostname")
    assert thumbnail_path(tmp_path, f"thumbnails/{name}") == tmp_path / "thumbnails" / name
    for path in ("thumbnails/../../../etc/hostname", "/etc/hostname", "thumbnails/" + "b" * 64 + ".jpg",
                 f"thumbnails/{name}/../{name}"):
        assert thumbnail_path(tmp_path, path) is None


def test_geocell_across_the_antimeridian_is_split():
    from geoloc_core.export import world_polygons

    pieces = world_polygons([(135.0, 10.0), (225.0, 10.0), (225.0, 20.0), (135.0, 20.0), (135.0, 10.0)])
    assert len(pieces) == 2
    assert all(-180 <= x <= 180 for piece in pieces for x, _ in piece)
    assert sorted((min(x for x, _ in p), max(x for x, _ in p)) for p in pieces) == [(-180, -135), (135, 180)]
    inside = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]
    assert world_polygons(inside) == [inside]


@pytest.mark.parametrize("resolution", [0.7, 0.33, 1.3, 2.9, 7.0])
def test_density_grid_stays_within_the_world(resolution):
    from geoloc_core.estimators import density_grid

    grid = density_grid([-80.0], [170.0], [1.0], 2000.0, (-180.0, -90.0, 180.0, 90.0), resolution, 10**7)
    west, dx, _, north, _, dy = grid.geotransform
    rows, cols = grid.values.shape
    assert west >= -180 and north <= 90
    assert north + dy * rows >= -90 - 1e-9 and west + dx * cols <= 180 + 1e-9


def test_plain_tooltip_escapes_markup():
    from ui.plain_text import escaped, plain_tooltip

    credit = '<img src="http://x/y.png"><a href="http://evil">me</a>'
    assert "<img" not in plain_tooltip(credit) and "&lt;img" in plain_tooltip(credit)
    assert escaped("a & <b>") == "a &amp; &lt;b&gt;"


@pytest.mark.parametrize("size", ["abc", True, -1, 1.5])
def test_hub_listing_size_that_is_not_a_number_names_the_url(tmp_path, monkeypatch, size):
    import json

    from geoloc_core import clip_embedders

    def listing(url, destination, **_):
        files = [{"rfilename": name, "size": size, "lfs": {"sha256": "0" * 64, "size": size}}
                 for name in clip_embedders.MODEL_FILES]
        Path(destination).parent.mkdir(parents=True, exist_ok=True)
        Path(destination).write_text(json.dumps({"sha": "c" * 40, "siblings": files}))
        return Path(destination)

    monkeypatch.setattr(clip_embedders, "download", listing)
    with pytest.raises(DownloadError, match=r"/api/models/.*not a number of bytes"):
        clip_embedders.list_model_files("clip_vit_b32", tmp_path)
