"""Shared fixtures: the real photos beside the checkout, and the plugin folder on a plugin path."""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"
PLUGIN_PACKAGE = "photo_geolocator"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test with a clear reason where it is absent: in a user's
    clone. In CI (CI=true), where ../shared is always laid beside the clone, its absence fails the test,
    so that the real-photo tests cannot go quietly unrun."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        reason = f"needs the real photos in {path} (../shared beside the checkout), which is absent here"
        if in_ci():
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)
    return path


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def real_photos_here() -> bool:
    """Whether the tests take the real photos: where ../shared is, and in CI, where it must be (shared_path
    fails there without it). Tests too slow to run twice (the QGIS application's) take the real photos
    then, and made-up ones in a clone without ../shared."""
    return SHARED_DIR.is_dir() or in_ci()


@pytest.fixture
def shared_photos() -> Path:
    return shared_path("photos")


@pytest.fixture(scope="session")
def embedder():
    """The bundled EfficientNet-Lite0 embedder (loaded once per test session)."""
    from geoloc_core.embedders import load_embedder

    return load_embedder()


def write_csv(path: Path, rows: list[dict]) -> Path:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def flickr_rows(flickr_dir: Path, count: int | None = None) -> list[dict]:
    """Rows of the flickr-cc manifest with absolute paths, the first `count` of them."""
    import csv

    with open(flickr_dir / "manifest.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:count]
    return [{**row, "path": str(flickr_dir / row["path"])} for row in rows]


def structured_vectors(count: int, dimension: int, seed: int = 0, clusters: int = 40):
    """Unit vectors with the clustered, anisotropic structure of photo features (an index can learn
    it, unlike isotropic noise): cluster centres plus noise that decays across dimensions."""
    import numpy as np

    rng = np.random.default_rng(seed)
    scales = 1.0 / np.sqrt(np.arange(1, dimension + 1))
    centres = rng.standard_normal((clusters, dimension)) * scales
    vectors = centres[rng.integers(0, clusters, count)] + 0.5 * rng.standard_normal((count, dimension)) * scales
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


@pytest.fixture(scope="session")
def tiny_embedder():
    """A random-weight convolutional embedder (16-d): for tests where the network's output does not
    matter, so that they need neither the bundled weights' time nor ../shared."""
    import torch
    from torch import nn

    from geoloc_core.embedders import LITE_NORMALISATION, Embedder, EmbedderIdentity

    torch.manual_seed(0)
    trunk = nn.Sequential(nn.Conv2d(3, 16, 5, stride=4), nn.ReLU(), nn.Conv2d(16, 16, 3, stride=2))
    identity = EmbedderIdentity("tiny-test-cnn", "0" * 64, "avg", "centre-crop 224 bicubic, mean=std=0.5", 16)
    return Embedder(trunk, identity, LITE_NORMALISATION)


def make_photos(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """Small distinct JPEGs (random colour fields) written by the test."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        path = folder / f"photo{index:05d}.jpg"
        Image.fromarray(pixels).resize((96, 64), Image.BILINEAR).save(path, quality=90)
        paths.append(path)
    return paths


# (latitude, longitude) of the places the located stand-in photos are spread around
STAND_IN_PLACES = ((48.8566, 2.3522), (-33.8675, 151.2070), (40.7128, -74.0060), (35.6762, 139.6503),
                   (-22.9068, -43.1729), (64.1466, -21.9426))


def make_located_photos(folder: Path, count: int, seed: int = 0, gps_in_exif: bool = True,
                        places: tuple = STAND_IN_PLACES) -> list[dict]:
    """Small distinct JPEGs near a few places (within ~10 km), with their location in EXIF GPS (unless not asked), and
    their rows as a located CSV holds them (path, lat, lon, licence, flickr_owner): a stand-in for the
    located photos of ../shared where their content does not matter, so that a clone without them
    still runs those tests."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for index, path in enumerate(make_photos(folder, count, seed)):
        lat, lon = places[rng.integers(len(places))] + rng.normal(0, 0.05, 2)
        lat, lon = round(float(lat), 6), round(float(lon), 6)
        if gps_in_exif:
            add_exif(path, gps=gps_ifd(lat, lon))
        rows.append({"path": str(path), "lat": lat, "lon": lon, "licence": "CC BY 2.0",
                     "flickr_owner": f"owner{seed}-{index}"})  # one photographer each: nothing to group
    return rows


def gps_ifd(lat: float, lon: float, altitude_m: float | None = None) -> dict:
    """An EXIF GPS IFD as cameras write it: unsigned degrees, minutes and seconds (to 1/100 s) as
    rationals, the hemisphere in the N/S and E/W references, the altitude in metres with 1 below sea level."""
    from PIL.TiffImagePlugin import IFDRational

    def dms(value: float) -> tuple:
        seconds = round(abs(value) * 3600 * 100)
        return (IFDRational(seconds // 360000, 1), IFDRational(seconds // 6000 % 60, 1),
                IFDRational(seconds % 6000, 100))

    gps = {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}
    if altitude_m is not None:
        gps.update({5: b"\x01" if altitude_m < 0 else b"\x00", 6: IFDRational(round(abs(altitude_m) * 100), 100)})
    return gps


def exif_block(gps: dict | None = None, orientation: int | None = None, taken: str | None = None) -> bytes:
    """EXIF bytes (Pillow's Exif API) with a GPS IFD, an orientation and a DateTimeOriginal, each where given."""
    from PIL import Image

    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if gps is not None:
        exif[0x8825] = gps
    if taken is not None:
        exif[0x8769] = {0x9003: taken}
    return exif.tobytes()


def add_exif(path: Path, **tags) -> None:
    """Write the photo again with the EXIF of `exif_block(**tags)`."""
    from PIL import Image

    with Image.open(path) as image:
        image.load()
    image.save(path, exif=exif_block(**tags), quality=90)


@pytest.fixture(scope="session")
def lite_identity():
    """The bundled embedder's identity (a pack must name an embedder the engine can load), without
    loading the network: for tests whose features are random unit vectors (1280-d)."""
    from geoloc_core.embedders import EmbedderIdentity, bundled_weights_path, sha256_of

    return EmbedderIdentity("efficientnet_lite0", sha256_of(bundled_weights_path()), "avg",
                            "centre-crop 224 bicubic, mean=std=0.5", 1280)


def make_place_photos(folder: Path, per_place: int, seed: int = 0, places: tuple = STAND_IN_PLACES,
                      prefix: str = "place") -> list[dict]:
    """Small JPEGs with EXIF GPS where the photos of one place look alike (one colour pattern per place,
    each photo with its own noise; within ~2 km of the place) and differ from other places' photos, as
    one landmark's photos do: a stand-in for a walk's photos where the test needs near neighbours to be
    found by what the photos show. Rows as `make_located_photos` gives them; `{prefix}{place}x{index}.jpg`."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    looks = np.random.default_rng(1234).integers(0, 256, (len(places), 8, 8, 3))  # the same look in every call
    rows = []
    for place, (place_lat, place_lon) in enumerate(places):
        for index in range(per_place):
            pixels = np.clip(looks[place] + rng.integers(-24, 25, (8, 8, 3)), 0, 255).astype(np.uint8)
            path = folder / f"{prefix}{place}x{index}.jpg"
            lat, lon = (round(float(v), 6) for v in (place_lat, place_lon) + rng.normal(0, 0.01, 2))
            Image.fromarray(pixels).resize((96, 64), Image.BILINEAR).save(
                path, quality=90, exif=exif_block(gps=gps_ifd(lat, lon)))
            rows.append({"path": str(path), "lat": lat, "lon": lon, "licence": "CC BY 2.0",
                         "flickr_owner": f"owner{seed}-{place}-{index}"})
    return rows


FORMATS = {".jpg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".webp": "WEBP", ".heic": "HEIC", ".heif": "HEIC"}


def _degrees(degrees: int, minutes: int, seconds: float) -> float:
    return degrees + minutes / 60 + seconds / 3600


def make_exif_samples(folder: Path) -> list[dict]:
    """Photos with the EXIF quirks of ../shared/photos (JPEG, PNG, TIFF, WebP and HEIC; orientations 1, 3,
    6, 8; GPS south and west, with altitude and time, as one rational for the degrees; GPS tags that hold
    0/0 or zero denominators; GPS without coordinates, out of range, or none; a large JPEG), written by the
    test with Pillow's Exif API, and their truth as rows of ../shared/photos/truth.csv (path relative to
    `folder`, format, width, height as stored, exif_orientation, gps_status ok/zero/none, lat, lon,
    altitude_m): a clone without ../shared checks the same reading code against values it wrote."""
    import numpy as np
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational

    tuscany = (_degrees(43, 28, 2.81), _degrees(11, 53, 6.46))
    rio = (-_degrees(22, 54, 24.48), -_degrees(43, 10, 22.44))
    zero, undefined = IFDRational(0, 1), IFDRational(0, 0)
    gps_time = {7: (IFDRational(10, 1), IFDRational(5, 1), IFDRational(3050, 100)), 29: "2021:06:01"}
    samples = [  # name, stored (width, height), orientation, GPS IFD, status, (lat, lon), altitude
        ("jpg/gps/tuscany.jpg", (320, 240), 1, gps_ifd(*tuscany, 250.5), "ok", tuscany, 250.5),
        ("jpg/gps/rio-upside-down.jpg", (320, 240), 3, gps_ifd(*rio, -3.25), "ok", rio, -3.25),
        ("jpg/large-rotated-6.jpg", (2400, 1800), 6, gps_ifd(*tuscany), "ok", tuscany, None),
        ("jpg/degrees-as-one-value.jpg", (200, 150), 1,
         {1: "S", 2: IFDRational(4350, 100), 3: "E", 4: (IFDRational(11, 1),)}, "ok", (-43.5, 11.0), None),
        ("jpg/rotated-8-no-gps.jpg", (240, 180), 8, None, "none", None, None),
        ("jpg/zero.jpg", (200, 150), 1, {1: "N", 2: (zero, zero, zero), 3: "E", 4: (zero, zero, zero)},
         "zero", None, None),
        ("jpg/zero-denominators.jpg", (200, 150), 6,
         {1: "N", 2: (undefined,) * 3, 3: "E", 4: (undefined,) * 3}, "zero", None, None),
        ("jpg/references-only.jpg", (200, 150), 1, {1: "N", 3: "E"}, "none", None, None),
        ("jpg/latitude-out-of-range.jpg", (200, 150), 1, {1: "N", 2: (IFDRational(95, 1), zero, zero),
                                                           3: "E", 4: (IFDRational(11, 1), zero, zero)}, "none", None, None),
        ("jpg/no-exif.jpg", (200, 150), None, None, "none", None, None),
        ("png/rotated-6.png", (240, 180), 6, gps_ifd(*rio), "ok", rio, None),
        ("tiff/rotated-6.tif", (240, 180), 6, gps_ifd(*tuscany), "ok", tuscany, None),
        ("tiff/plain.tif", (240, 180), 1, gps_ifd(*rio), "ok", rio, None),
        ("webp/rotated-6.webp", (240, 180), 6, gps_ifd(*tuscany, 12.0), "ok", tuscany, 12.0),
        ("heic/tuscany.heic", (320, 240), None, {**gps_ifd(*tuscany, 250.5), **gps_time}, "ok", tuscany, 250.5),
        ("heic/mobile/rio.heif", (240, 320), None, gps_ifd(*rio), "ok", rio, None),
    ]
    if heif_writable():
        from pillow_heif import register_heif_opener

        register_heif_opener()
    else:
        samples = [s for s in samples if not s[0].startswith("heic/")]
    rng = np.random.default_rng(0)
    rows = []
    for name, (width, height), orientation, gps, status, location, altitude in samples:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        image = Image.fromarray(pixels).resize((width, height), Image.BILINEAR)
        tags = {"gps": gps, "orientation": orientation, "taken": "2021:06:01 10:20:30"}
        image.save(path, **({"exif": exif_block(**tags)} if orientation or gps else {}))
        rows.append({"path": name, "format": FORMATS[path.suffix], "width": width, "height": height,
                     "exif_orientation": orientation or "", "gps_status": status,
                     "lat": location[0] if location else "", "lon": location[1] if location else "",
                     "altitude_m": "" if altitude is None else altitude})
    return rows


def heif_writable() -> bool:
    """Whether pillow-heif is here with an HEVC encoder, so that the tests can write HEIC photos."""
    try:
        import pillow_heif
    except ImportError:
        return False
    return bool(pillow_heif.libheif_info().get("HEIF"))


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory) -> Path:
    """A tiny random CLIP in the hub's file layout (tests/clip_hub.py), made once for the whole run."""
    pytest.importorskip("transformers", reason="CLIP embedders need transformers (requirements-clip.txt)")
    from .clip_hub import save_tiny_clip

    return save_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture
def hub(tiny_clip, monkeypatch):
    """The model hub serving tiny_clip from 127.0.0.1, named by the variable the engine reads its address from."""
    from geoloc_core import clip_embedders

    from .clip_hub import HubServer

    server = HubServer(tiny_clip)
    monkeypatch.setenv(clip_embedders.HUB_ENV, server.url)
    yield server
    server.close()


@pytest.fixture(scope="session")
def small_gallery():
    """GeoCLIP's location encoder and first 1,500 gallery points, from the installed geoclip wheel."""
    pytest.importorskip("geoclip", reason="the GeoCLIP head and gallery come from the geoclip wheel "
                                          "(requirements-clip.txt), which is not installed here")
    import numpy as np

    from geoloc_core.geoclip_prior import GALLERY_CSV, GeoClipGallery, _geoclip_package_dir

    points = np.loadtxt(_geoclip_package_dir() / GALLERY_CSV, delimiter=",", skiprows=1, max_rows=1500)
    return GeoClipGallery(coordinates=points)


@pytest.fixture(scope="session")
def walk_database(embedder, tmp_path_factory):
    """The nine Tuscany walk photos of ../shared but DSCN0010, plus 60 worldwide flickr photos as distractors,
    built once for the run with the bundled network: (the closed database's folder, DSCN0010's candidate)."""
    from geoloc_core.ingest import build_database
    from geoloc_core.sources import from_csv, from_folder

    walk, _ = from_folder(shared_path("photos", "exif-samples", "jpg", "gps"))
    query = next(c for c in walk if c.path.name == "DSCN0010.jpg")
    tmp = tmp_path_factory.mktemp("walk")
    distractors, _ = from_csv(write_csv(tmp / "world.csv", flickr_rows(shared_path("flickr-cc"), 60)))
    database, _ = build_database(tmp / "walk.geoloc", [c for c in walk if c is not query] + distractors, embedder)
    database.close()
    return tmp / "walk.geoloc", query


def unit_vectors(count: int, seed: int, dimension: int = 1280):
    """Random unit-length features, as many as the bundled Lite0 gives by default."""
    import numpy as np

    vectors = np.random.default_rng(seed).normal(size=(count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def references(count: int, seed: int, photos: list[Path] | None = None) -> list:
    """Records at random places with the licence, author and source a pack needs; private paths unless `photos`."""
    import numpy as np

    from geoloc_core.database import EmbeddedRecord

    rng = np.random.default_rng(seed + 1000)
    return [EmbeddedRecord(str(photos[i]) if photos else f"/home/someone/private/{seed}-{i}.jpg", f"{seed:04d}{i:060d}",
                           float(rng.uniform(-60, 70)), float(rng.uniform(-180, 180)),
                           attributes={"licence": "CC BY 2.0", "author": f"author {i}",
                                       "source_url": f"https://example.org/{seed}/{i}"})
            for i in range(count)]


def make_database(folder: Path, identity, records, vectors) -> Path:
    """A closed database of the given records and features."""
    from geoloc_core.database import ReferenceDatabase

    database = ReferenceDatabase.create(folder, identity)
    database.add_embedded(records, vectors)
    database.close()
    return folder


QGIS_FACING = re.compile(r"^\s*(from qgis[ .]|import qgis)|qgis_process|run_in_qgis|xvfb-run", re.MULTILINE)


def pytest_collection_modifyitems(config, items):
    """Mark `qgis` the tests that need QGIS (their module imports qgis, runs qgis_process or the application
    under Xvfb, or they ask for pytest-qgis's fixtures), wherever their files lie: `make test-qgis` selects them
    with -m to run on other QGIS releases."""
    facing = {}
    for item in items:
        path = getattr(item, "path", None)
        if path not in facing:
            try:
                facing[path] = bool(QGIS_FACING.search(Path(path).read_text(encoding="utf-8")))
            except (OSError, TypeError):
                facing[path] = False
        function = getattr(item, "function", None)
        asked = inspect.signature(function).parameters if function is not None else ()
        if facing[path] or any(name.startswith("qgis_") for name in asked):
            item.add_marker(pytest.mark.qgis)
