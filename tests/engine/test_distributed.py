"""Dataset shards (WebDataset / img2dataset), URL lists, and the distributed build on Ray.

The shards are made here, from ../shared photos or from small synthetic JPEGs; the Ray tests start
their own Ray (a local one, or a two-node cluster on 127.0.0.1) and shut it down whatever happens."""

from __future__ import annotations

import csv
import functools
import hashlib
import http.server
import importlib.util
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from geoloc_core import cli
from geoloc_core.database import ReferenceDatabase
from geoloc_core.shards import LocationColumns, build_from_shards, decode_shard, pack_shards
from tests.conftest import REPO_ROOT, SHARED_DIR, make_located_photos, shared_path

HAS_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAS_RAY, reason="needs ray[data] (pip install -r requirements-distributed.txt)")
needs_img2dataset = pytest.mark.skipif(importlib.util.find_spec("img2dataset") is None,
                                       reason="needs img2dataset (pip install -r requirements-distributed.txt)")


def synthetic_photos(folder: Path, count: int, seed: int = 0) -> list[dict]:
    """conftest's made-up located photos (no EXIF GPS: the shards' metadata carries the location), keyed
    as the shards' samples name them."""
    return [{"path": Path(row["path"]), "lat": row["lat"], "lon": row["lon"], "licence": row["licence"],
             "author": row["flickr_owner"]} for row in make_located_photos(folder, count, seed, gps_in_exif=False)]


def shared_flickr_photos(count: int) -> list[dict]:
    folder = shared_path("flickr-cc")
    with open(folder / "manifest.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:count]
    return [{"path": folder / r["path"], "lat": float(r["lat"]), "lon": float(r["lon"]), "licence": r["licence"],
             "author": r["flickr_owner"]} for r in rows]


def _add_member(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def write_shards(photos: list[dict], folder: Path, per_shard: int, lat: str = "latitude",
                 lon: str = "longitude") -> list[Path]:
    """WebDataset shards as img2dataset writes them, with img2dataset's bookkeeping fields too."""
    return pack_shards([(p["path"], {"status": "success", "url": f"https://example.org/{p['path'].name}",
                                     lat: p["lat"], lon: p["lon"], "licence": p["licence"], "author": p["author"],
                                     "width": 1, "exif": "{}"}) for p in photos], folder, per_shard)


def assert_same_database(first: Path, second: Path) -> None:
    """Same records in the same order, same vectors (float16 storage), same neighbours."""
    with ReferenceDatabase.open(first) as a, ReferenceDatabase.open(second) as b:
        assert a.count == b.count > 0
        assert a.all_records() == b.all_records()
        ids = list(range(1, a.count + 1))
        vectors_a, vectors_b = a.embeddings(ids), b.embeddings(ids)
        np.testing.assert_allclose(vectors_a, vectors_b, atol=2e-3)
        k = min(5, a.count)
        assert np.array_equal(a.search(vectors_a, k)[1], b.search(vectors_a, k)[1])


def run_cli(args: list[str], capsys) -> tuple[int, list[dict], str]:
    status = cli.main(["--progress", "json", *args])
    captured = capsys.readouterr()
    return status, [json.loads(line) for line in captured.out.splitlines()], captured.err


# --- shards without Ray -------------------------------------------------------------------------------


def test_shards_read_metadata_credits_and_problems(tmp_path, embedder):
    photos = synthetic_photos(tmp_path / "photos", 5)
    shard = write_shards(photos[:3], tmp_path / "shards", 10, lat="gps_lat", lon="gps_lon")[0]
    with tarfile.open(shard, "a") as archive:  # a sample with no location, a damaged image, a lone json
        _add_member(archive, "000000010.jpg", photos[3]["path"].read_bytes())
        _add_member(archive, "000000010.json", json.dumps({"author": "nobody"}).encode())
        _add_member(archive, "000000011.jpg", b"\xff\xd8 not really a jpeg")
        _add_member(archive, "000000011.json", json.dumps({"gps_lat": 1.0, "gps_lon": 2.0}).encode())
        _add_member(archive, "000000012.json", json.dumps({"gps_lat": 1.0, "gps_lon": 2.0}).encode())
    decoded = decode_shard(shard, embedder.input_size, LocationColumns("gps_lat", "gps_lon"))
    assert [r.lat for r in decoded.records] == pytest.approx([p["lat"] for p in photos[:3]])
    first = decoded.records[0]
    assert first.path == f"{shard.resolve()}#000000000.jpg"
    assert first.sha256 == hashlib.sha256(photos[0]["path"].read_bytes()).hexdigest()
    assert (first.width, first.height) == Image.open(photos[0]["path"]).size
    assert first.attributes == {"url": f"https://example.org/{photos[0]['path'].name}",
                                "licence": photos[0]["licence"], "author": photos[0]["author"]}
    assert decoded.crops.shape == (3, embedder.input_size, embedder.input_size, 3)
    assert [(s.path.rsplit("#", 1)[1], "gps_lat" in s.reason) for s in decoded.skipped] == [("000000010.jpg", True)]
    assert [s.path.rsplit("#", 1)[1] for s in decoded.failed] == ["000000011.jpg", "000000012"]
    assert "not an image" in decoded.failed[0].reason
    # the usual names are found without being told; a named field that is absent is reported
    plain = write_shards(photos[:1], tmp_path / "plain", 10)[0]
    assert len(decode_shard(plain, embedder.input_size).records) == 1
    wrong = decode_shard(plain, embedder.input_size, LocationColumns("lat_deg", None))
    assert not wrong.records and "lat_deg" in wrong.skipped[0].reason


def test_parquet_sidecar_supplies_metadata(tmp_path, embedder):
    pa = pytest.importorskip("pyarrow", reason="needs pyarrow (pip install -r requirements-distributed.txt)")
    import pyarrow.parquet as pq

    photos = synthetic_photos(tmp_path / "photos", 2)
    shard = tmp_path / "shards" / "00000.tar"
    shard.parent.mkdir()
    with tarfile.open(shard, "w") as archive:  # images only: the metadata lives in the sidecar
        for index, photo in enumerate(photos):
            _add_member(archive, f"00000{index:04d}.jpg", photo["path"].read_bytes())
    pq.write_table(pa.table({"key": ["000000000", "000000001", "000000002"],
                             "status": ["success", "success", "failed_to_download"],
                             "lat": [10.0, 20.0, None], "lon": [30.0, 40.0, None], "author": ["a", "b", None]}),
                   shard.with_suffix(".parquet"))
    decoded = decode_shard(shard, embedder.input_size)
    assert [(r.lat, r.lon, r.attributes) for r in decoded.records] == [(10.0, 30.0, {"author": "a"}),
                                                                       (20.0, 40.0, {"author": "b"})]


@pytest.mark.slow
def test_shard_build_matches_a_folder_build_of_the_same_photos(tmp_path, embedder):
    """Photos decoded from a shard's bytes embed as the same files do through ReferenceDatabase.add."""
    from geoloc_core.ingest import build_database
    from geoloc_core.sources import Candidate

    photos = synthetic_photos(tmp_path / "photos", 6, seed=3)
    shards = write_shards(photos, tmp_path / "shards", 4)
    from_shards, report = build_from_shards(tmp_path / "shards.geoloc", shards, embedder)
    assert report.added == 6 and not report.failed
    candidates = [Candidate(p["path"], p["lat"], p["lon"]) for p in photos]
    from_files, _ = build_database(tmp_path / "files.geoloc", candidates, embedder)
    with from_shards, from_files:
        assert [r.sha256 for r in from_shards.all_records()] == [r.sha256 for r in from_files.all_records()]
        ids = list(range(1, 7))
        np.testing.assert_allclose(from_shards.embeddings(ids), from_files.embeddings(ids), atol=2e-3)
    # built again: everything is already there
    again, report = build_from_shards(tmp_path / "shards.geoloc", shards, embedder)
    again.close()
    assert (report.added, report.already_present) == (0, 6)


def test_distributed_build_without_ray_says_what_to_install(tmp_path, monkeypatch, capsys):
    photos = synthetic_photos(tmp_path / "photos", 1)
    write_shards(photos, tmp_path / "shards", 4)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    status, _, err = run_cli(["build", str(tmp_path / "db.geoloc"), str(tmp_path / "shards"), "--engine", "ray"], capsys)
    assert status == cli.EXIT_USER_ERROR
    assert "requirements-distributed.txt" in err and "Ray" in err
    assert not (tmp_path / "db.geoloc").exists()


def test_engine_imports_without_the_optional_packages():
    """The plugin's engine modules import with ray, pyarrow and img2dataset all missing."""
    code = ("import sys\n"
            "for name in ('ray', 'pyarrow', 'img2dataset', 'webdataset'):\n    sys.modules[name] = None\n"
            "import geoloc_core.cli, geoloc_core.shards, geoloc_core.distributed, geoloc_core.database\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr


def _port_nothing_listens_on() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_cluster_says_what_to_check():
    """Ray's own "Failed to connect" is all a user gets otherwise, also when only the cluster's token is missing."""
    from geoloc_core.distributed import start_ray
    from geoloc_core.errors import UserError

    class Unreachable:
        def is_initialized(self):
            return False

        def init(self, address, **options):
            raise ConnectionError(f"Failed to connect to Ray cluster at {address}")

    with socket.socket() as listening, pytest.raises(UserError) as raised:  # something answers, but not Ray
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        address = f"127.0.0.1:{listening.getsockname()[1]}"
        start_ray(Unreachable(), address)
    message = str(raised.value)
    assert message.startswith(f"Failed to connect to Ray cluster at {address}: ")
    assert "ray start --head" in message and "RAY_AUTH_MODE=token" in message


def test_address_where_nothing_listens_fails_at_once():
    """Ray retries a dead address for over ten minutes before it says anything."""
    from geoloc_core.distributed import start_ray
    from geoloc_core.errors import UserError

    port = _port_nothing_listens_on()

    class Untouched:  # ray.init must not be reached
        def is_initialized(self):
            return False

        def init(self, address, **options):
            raise AssertionError("ray.init called")

    with pytest.raises(UserError, match=f"no Ray cluster answers at 127.0.0.1:{port} .*ray start --head"):
        start_ray(Untouched(), f"127.0.0.1:{port}")


@needs_ray
def test_build_with_a_dead_address_stops_before_any_work(tmp_path, capsys):
    """The address is checked before a URL list is downloaded or the network loaded."""
    port = _port_nothing_listens_on()
    urls = tmp_path / "urls.csv"
    urls.write_text("url,lat,lon\nhttp://127.0.0.1:9/a.jpg,1,2\n", encoding="utf-8")
    status, _, err = run_cli(["build", str(tmp_path / "db.geoloc"), str(urls), "--engine", "ray",
                              "--address", f"127.0.0.1:{port}"], capsys)
    assert status == cli.EXIT_USER_ERROR
    assert f"no Ray cluster answers at 127.0.0.1:{port}" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["urls.csv"]  # nothing downloaded, nothing created


# --- Ray, local ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module's local builds (each build would otherwise start its own)."""
    if not HAS_RAY:
        pytest.skip("needs ray[data] (pip install -r requirements-distributed.txt)")
    import ray

    from geoloc_core.distributed import start_ray

    start_ray(ray, None, 2)
    try:
        yield ray
    finally:
        ray.shutdown()


def _photos_for(kind: str, tmp_path: Path) -> list[dict]:
    return synthetic_photos(tmp_path / "photos", 10, seed=7) if kind == "synthetic" else shared_flickr_photos(10)


@pytest.mark.slow
@needs_ray
@pytest.mark.parametrize("kind", ["synthetic", "shared"])
def test_ray_build_equals_the_single_process_build(kind, tmp_path, embedder, local_ray, capsys):
    from geoloc_core.distributed import default_work_dir, embed_decoded, write_shard_output

    photos = _photos_for(kind, tmp_path)
    photos.append(dict(photos[0]))  # the same photo in two shards is stored once, by both builds
    shards = write_shards(photos, tmp_path / "shards", 3)
    single, report = build_from_shards(tmp_path / "single.geoloc", shards, embedder)
    single.close()
    assert (report.added, report.already_present) == (10, 1)
    # a driver killed earlier left shard 00001 finished in the work folder: it is not embedded again
    database = tmp_path / "ray.geoloc"
    work = default_work_dir(database)
    work.mkdir()
    decoded = decode_shard(shards[1], embedder.input_size)
    write_shard_output(work, shards[1].resolve(), embedder.identity, decoded, embed_decoded(decoded, embedder))

    status, events, _ = run_cli(["build", str(database), str(tmp_path / "shards"), "--engine", "ray",
                                 "--workers", "2"], capsys)
    assert status == 0
    assert events[0]["stage"] == "embed" and events[0]["message"].startswith("1 of 4 shards already embedded")
    embed_events = [e for e in events if e["stage"] == "embed"]
    assert [e["done"] for e in embed_events] == [1, 2, 3, 4] and {e["total"] for e in embed_events} == {4}
    result = events[-1]
    assert result["stage"] == "result" and (result["added"], result["already_present"]) == (10, 1)
    assert_same_database(tmp_path / "single.geoloc", database)
    assert not work.exists()  # removed once the database holds everything
    with ReferenceDatabase.open(database) as built:
        assert built.all_records()[0].attributes["licence"] == photos[0]["licence"]


# --- Ray, a two-node cluster on 127.0.0.1, a worker killed ----------------------------------------------


def _embedding_worker_pids() -> list[int]:
    """Processes of Ray Data embedding actors (Ray names them after the actor class)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if command.startswith("ray::") and "ShardEmbedder" in command:
                pids.append(int(entry.name))
    return pids


@pytest.mark.slow
@needs_ray
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds Ray's worker processes through /proc (Linux)")
def test_cluster_build_through_address_survives_a_killed_worker(tmp_path, embedder):
    from ray.cluster_utils import Cluster

    photos = synthetic_photos(tmp_path / "photos", 32, seed=11)
    shards = write_shards(photos, tmp_path / "shards", 4)
    single, _ = build_from_shards(tmp_path / "single.geoloc", shards, embedder)
    single.close()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=2)
        cluster.wait_for_nodes()
        database = tmp_path / "cluster.geoloc"
        work = tmp_path / "work"
        driver = subprocess.Popen(
            [sys.executable, "-m", "geoloc_core", "--progress", "json", "build", str(database), str(tmp_path / "shards"),
             "--engine", "ray", "--address", cluster.address, "--workers", "2", "--work-dir", str(work)],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 240
            killed = None
            while killed is None and driver.poll() is None and time.monotonic() < deadline:
                workers = _embedding_worker_pids()
                if workers and work.is_dir() and any(p.suffix == ".json" for p in work.iterdir()):
                    finished_before_kill = sum(p.suffix == ".json" for p in work.iterdir())
                    killed = workers[0]
                    os.kill(killed, signal.SIGKILL)
                time.sleep(0.02)
            out, err = driver.communicate(timeout=max(10.0, deadline - time.monotonic()))
        finally:
            if driver.poll() is None:
                driver.kill()
                driver.communicate()
        assert killed is not None, f"no embedding worker was seen to kill; build said: {err[-2000:]}"
        assert finished_before_kill < len(shards), "the build had finished before the kill"
        assert driver.returncode == 0, err[-3000:]
        result = json.loads(out.splitlines()[-1])
        assert (result["added"], result["failed"]) == (32, [])
        with ReferenceDatabase.open(database) as built:
            digests = [r.sha256 for r in built.all_records()]
        assert len(digests) == len(set(digests)) == 32  # nothing lost, nothing twice
        assert_same_database(tmp_path / "single.geoloc", database)
    finally:
        cluster.shutdown()


# --- URL lists through img2dataset --------------------------------------------------------------------


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def photo_server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_CountingHandler, directory=str(root)))
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_port}/", server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
@needs_img2dataset
def test_url_list_build_downloads_embeds_and_lists_failures(tmp_path, photo_server, capsys):
    """Served photos from ../shared, or synthetic ones where it is absent (one download is slow enough)."""
    root, base, server = photo_server
    photos = shared_flickr_photos(5) if SHARED_DIR.is_dir() else synthetic_photos(tmp_path / "photos", 5, seed=5)
    for photo in photos:
        (root / photo["path"].name).write_bytes(photo["path"].read_bytes())
    (root / "broken.jpg").write_bytes(b"<html>this is not a photo</html>")
    url_list = tmp_path / "urls.csv"
    with open(url_list, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["url", "lat", "lon", "licence", "author"])
        for photo in photos:
            writer.writerow([base + photo["path"].name, photo["lat"], photo["lon"], photo["licence"], photo["author"]])
        writer.writerow([base + "missing.jpg", 1.0, 2.0, "CC0 1.0", "ghost"])
        writer.writerow([base + "broken.jpg", 3.0, 4.0, "CC0 1.0", "prankster"])
    database = tmp_path / "web.geoloc"

    status, events, err = run_cli(["build", str(database), str(url_list)], capsys)
    assert status == 0, err
    result = events[-1]
    assert result["added"] == 5
    failed = {item["path"]: item["reason"] for item in result["failed"]}
    assert "404" in failed[base + "missing.jpg"]
    assert any(path.endswith(".jpg") and "broken.jpg" in reason for path, reason in failed.items())
    assert "missing.jpg" in err  # each failure is also on a `skipped` line
    with ReferenceDatabase.open(database) as built:
        credits = {r.attributes["url"]: (r.attributes["licence"], r.attributes["author"]) for r in built.all_records()}
    assert credits == {base + p["path"].name: (p["licence"], p["author"]) for p in photos}

    # run again: the finished download is not fetched again, the photos are already in the database
    fetched = len(server.requests)
    status, events, _ = run_cli(["build", str(database), str(url_list)], capsys)
    assert status == 0 and (events[-1]["added"], events[-1]["already_present"]) == (0, 5)
    assert len(server.requests) == fetched

    # and a downloaded photo is located at its own place
    status, events, err = run_cli(["locate", str(database), str(photos[2]["path"]), "-k", "1"], capsys)
    assert status == 0, err
    located = events[-1]["results"][0]
    assert (located["lat"], located["lon"]) == pytest.approx((photos[2]["lat"], photos[2]["lon"]), abs=1e-4)
