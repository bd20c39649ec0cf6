"""Shared fixtures: the real photos beside the checkout, and the plugin folder on a plugin path."""

from __future__ import annotations

import contextlib
import os
import sys
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
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture
def shared_photos() -> Path:
    return shared_path("photos")


@pytest.fixture
def flickr_dir() -> Path:
    return shared_path("flickr-cc")


def _forget_plugin_modules() -> None:
    for name in [m for m in sys.modules if m == PLUGIN_PACKAGE or m.startswith(PLUGIN_PACKAGE + ".")]:
        del sys.modules[name]


@contextlib.contextmanager
def on_plugin_path(plugins_dir: Path):
    """Put a folder holding `photo_geolocator/` on sys.path and QGIS's plugin paths, as QGIS does
    for its own plugin folders, and take it off again afterwards."""
    import qgis.utils

    sys.path.insert(0, str(plugins_dir))
    qgis.utils.plugin_paths.insert(0, str(plugins_dir))
    qgis.utils.updateAvailablePlugins()
    _forget_plugin_modules()
    try:
        yield plugins_dir
    finally:
        sys.path.remove(str(plugins_dir))
        qgis.utils.plugin_paths.remove(str(plugins_dir))
        qgis.utils.updateAvailablePlugins()
        _forget_plugin_modules()


@pytest.fixture(scope="module")
def plugin_module(tmp_path_factory):
    """Import modules of the plugin as QGIS does (package photo_geolocator): plugin_module("ui.dock")."""
    import importlib

    plugins_dir = tmp_path_factory.mktemp("plugins")
    (plugins_dir / PLUGIN_PACKAGE).symlink_to(REPO_ROOT, target_is_directory=True)
    with on_plugin_path(plugins_dir):
        yield lambda name: importlib.import_module(f"{PLUGIN_PACKAGE}.{name}")


@pytest.fixture
def plugin_path(tmp_path):
    """A plugin folder whose `photo_geolocator` is a link to this checkout."""
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / PLUGIN_PACKAGE).symlink_to(REPO_ROOT, target_is_directory=True)
    with on_plugin_path(plugins_dir):
        yield plugins_dir


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
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational

    def dms(value: float) -> tuple:
        seconds = round(abs(value) * 3600 * 100)
        return (IFDRational(seconds // 360000, 1), IFDRational(seconds // 6000 % 60, 1),
                IFDRational(seconds % 6000, 100))

    rng = np.random.default_rng(seed)
    rows = []
    for index, path in enumerate(make_photos(folder, count, seed)):
        lat, lon = places[rng.integers(len(places))] + rng.normal(0, 0.05, 2)
        lat, lon = round(float(lat), 6), round(float(lon), 6)
        if gps_in_exif:
            exif = Image.Exif()
            exif[0x8825] = {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}
            with Image.open(path) as image:
                image.load()
            image.save(path, exif=exif.tobytes(), quality=90)
        rows.append({"path": str(path), "lat": lat, "lon": lon, "licence": "CC BY 2.0",
                     "flickr_owner": f"owner{seed}-{index}"})  # one photographer each: nothing to group
    return rows


@pytest.fixture(scope="session")
def lite_identity():
    """The bundled embedder's identity (a pack must name an embedder the engine can load), without
    loading the network: for tests whose features are random unit vectors (1280-d)."""
    from geoloc_core.embedders import EmbedderIdentity, bundled_weights_path, sha256_of

    return EmbedderIdentity("efficientnet_lite0", sha256_of(bundled_weights_path()), "avg",
                            "centre-crop 224 bicubic, mean=std=0.5", 1280)
