"""Reading photos and EXIF GPS: agreement with exiftool on real device photos, and bad files."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image, TiffImagePlugin

from geoloc_core.files import PhotoError, find_photos
from geoloc_core.photos import gps_from_exif, image_size, load_photo, read_gps

from ..conftest import exif_block, heif_writable, make_exif_samples


def _truth_rows(shared_photos):
    with open(shared_photos / "truth.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def assert_gps_agrees_with_truth(folder, rows):
    for row in rows:
        fix = read_gps(folder / row["path"])
        if row["gps_status"] == "ok":
            assert fix is not None, row["path"]
            assert abs(fix.lat - float(row["lat"])) < 1e-6, row["path"]
            assert abs(fix.lon - float(row["lon"])) < 1e-6, row["path"]
        else:
            assert fix is None, f"{row['path']} holds no real location ({row['gps_status']})"


def assert_decoded_upright_at_reduced_size(folder, rows):
    for row in rows:
        path = folder / row["path"]
        image = load_photo(path)
        assert image.mode == "RGB"
        assert min(image.size) >= 224 or min(image_size(path)) < 448, row["path"]
        width, height = image_size(path)
        assert abs(image.size[0] / image.size[1] - width / height) < 0.02, f"{row['path']}: orientation"
        if row["format"] == "JPEG" and max(width, height) >= 2000:
            assert max(image.size) <= max(width, height) / 2, "large JPEGs must be decoded at reduced size"


def test_gps_agrees_with_exiftool_on_every_shared_photo(shared_photos):
    rows = _truth_rows(shared_photos)
    assert len(rows) == 55
    assert_gps_agrees_with_truth(shared_photos, rows)


def test_every_shared_photo_decodes_upright_at_reduced_size(shared_photos):
    assert_decoded_upright_at_reduced_size(shared_photos, _truth_rows(shared_photos))


@pytest.fixture(scope="module")
def exif_samples(tmp_path_factory):
    """Photos with the EXIF quirks of ../shared/photos, written here, and their truth."""
    folder = tmp_path_factory.mktemp("exif-samples")
    return folder, make_exif_samples(folder)


def test_gps_agrees_with_the_written_truth_on_made_up_quirky_photos(exif_samples):
    folder, rows = exif_samples
    assert {row["gps_status"] for row in rows} == {"ok", "zero", "none"}
    assert_gps_agrees_with_truth(folder, rows)
    for row in rows:
        fix = read_gps(folder / row["path"])
        if row["altitude_m"] != "":
            assert fix.altitude_m == pytest.approx(float(row["altitude_m"])), row["path"]
        elif fix is not None:
            assert fix.altitude_m is None, row["path"]


def test_made_up_quirky_photos_decode_upright_at_reduced_size(exif_samples):
    folder, rows = exif_samples
    assert_decoded_upright_at_reduced_size(folder, rows)
    for row in rows:
        stored = (row["width"], row["height"])
        upright = stored[::-1] if row["exif_orientation"] in (5, 6, 7, 8) else stored
        assert image_size(folder / row["path"]) == upright, row["path"]


def test_exif_orientation_is_applied(shared_photos):
    path = shared_photos / "exif-samples/jpg/hdr/canon_hdr_NO.jpg"  # stored 2048x1536, orientation 6
    image = load_photo(path, min_side=0)
    assert image.size == (1536, 2048)


@pytest.mark.parametrize("orientation, turn", [(1, None), (3, Image.Transpose.ROTATE_180),
                                               (6, Image.Transpose.ROTATE_270), (8, Image.Transpose.ROTATE_90)])
@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp"])
def test_exif_orientation_is_applied_to_a_made_up_photo(tmp_path, orientation, turn, suffix):
    """A photo stored sideways whose EXIF says how to turn it (losslessly, so pixels compare exactly)."""
    stored = Image.fromarray(np.random.default_rng(orientation).integers(0, 255, (30, 40, 3), dtype=np.uint8))
    path = tmp_path / f"stored{suffix}"
    stored.save(path, exif=exif_block(orientation=orientation), **({"lossless": True} if suffix == ".webp" else {}))
    upright = stored if turn is None else stored.transpose(turn)
    image = load_photo(path, min_side=0)
    assert image.size == upright.size == image_size(path)
    np.testing.assert_array_equal(np.asarray(image), np.asarray(upright))


def test_gps_tags_that_hold_no_location():
    dms = ((45, 1), (30, 1), (0, 1))
    assert gps_from_exif({1: "N", 2: dms, 3: "E", 4: dms}).lat == pytest.approx(45.5)
    assert gps_from_exif({1: "S", 2: dms, 3: "W", 4: dms}).lon == pytest.approx(-45.5)
    zero = TiffImagePlugin.IFDRational(0, 0)
    assert gps_from_exif({1: "N", 2: (zero, zero, zero), 3: "E", 4: (zero, zero, zero)}) is None
    assert gps_from_exif({2: ((0, 1), (0, 1), (0, 1)), 4: ((0, 1), (0, 1), (0, 1))}) is None, "0/0 is no fix"
    assert gps_from_exif({2: ((95, 1), (0, 1), (0, 1)), 4: dms}) is None, "latitude out of range"
    assert gps_from_exif({2: ((45, 0), (0, 1), (0, 1)), 4: dms}) is None, "zero denominator"
    assert gps_from_exif({2: dms}) is None
    fix = gps_from_exif({2: dms, 4: dms, 5: b"\x01", 6: (120, 1), 7: ((10, 1), (5, 1), (30, 1)), 29: "2020:05:17"})
    assert fix.altitude_m == -120 and fix.timestamp == "2020-05-17T10:05:30+00:00"


@pytest.fixture
def odd_images(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)
    files = {}
    files["cmyk"] = tmp_path / "cmyk.jpg"
    Image.fromarray(rgb).convert("CMYK").save(files["cmyk"])
    files["gray"] = tmp_path / "gray.png"
    Image.fromarray(rgb[..., 0]).save(files["gray"])
    files["sixteen"] = tmp_path / "sixteen.png"
    Image.fromarray(rgb[..., 0].astype(np.uint16) * 257).save(files["sixteen"])
    files["palette_alpha"] = tmp_path / "palette.png"
    palette = Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE)
    palette.info["transparency"] = 0
    palette.save(files["palette_alpha"], transparency=0)
    files["rgba_webp"] = tmp_path / "alpha.webp"
    Image.fromarray(np.dstack([rgb, rgb[..., :1]])).save(files["rgba_webp"])
    files["tiff"] = tmp_path / "image.tif"
    Image.fromarray(rgb).save(files["tiff"])
    return files


def test_unusual_modes_become_rgb(odd_images):
    for name, path in odd_images.items():
        image = load_photo(path)
        assert image.mode == "RGB" and image.size == (400, 300), name
    sixteen = np.asarray(load_photo(odd_images["sixteen"]))
    assert sixteen.max() > 200, "16-bit values must be scaled, not clipped to white"


def test_bad_files_give_a_clear_error_naming_the_file(tmp_path, monkeypatch):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    truncated = tmp_path / "truncated.jpg"
    buffer = tmp_path / "full.jpg"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (500, 500, 3), dtype=np.uint8)).save(buffer)
    truncated.write_bytes(buffer.read_bytes()[:3000])
    cases = {empty: "empty", text: "not an image", truncated: "damaged or truncated", tmp_path / "gone.jpg": "not found"}
    for path, reason in cases.items():
        with pytest.raises(PhotoError, match=reason) as error:
            load_photo(path)
        assert str(path) in str(error.value)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(PhotoError, match="too large"):
        load_photo(buffer)


def test_find_photos_is_recursive_and_skips_hidden_and_other_files(tmp_path):
    (tmp_path / "a" / ".cache").mkdir(parents=True)
    for name in ("a/one.JPG", "a/.cache/two.jpg", "three.heic", "notes.txt", "four.webp"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in find_photos(tmp_path)] == ["a/one.JPG", "four.webp", "three.heic"]
    with pytest.raises(PhotoError, match="not a folder"):
        find_photos(tmp_path / "missing")


@pytest.mark.slow
def test_heif_through_gdal_matches_pillow_heif(shared_photos, monkeypatch):
    """Inside the QGIS application HEIF goes through GDAL's driver (pillow-heif's libheif would clash with
    the libheif QGIS loaded); it must read the same location, size and pixels."""
    heic = shared_photos / "exif-samples" / "heic"
    assert_heif_routes_agree([heic / "IMG_5195.HEIC", heic / "mobile" / "HMD_Nokia_8.3_5G.heif"], monkeypatch)


@pytest.mark.skipif(not heif_writable(), reason="needs pillow-heif with an HEVC encoder to write HEIC")
def test_heif_through_gdal_matches_pillow_heif_on_made_up_heic(exif_samples, monkeypatch):
    folder, rows = exif_samples
    heif = [folder / row["path"] for row in rows if row["format"] == "HEIC"]
    assert len(heif) == 2
    assert_heif_routes_agree(heif, monkeypatch)
    fix = read_gps(folder / "heic" / "tuscany.heic")
    assert fix.timestamp == "2021-06-01T10:05:30.500000+00:00" and fix.altitude_m == pytest.approx(250.5)


def assert_heif_routes_agree(paths, monkeypatch):
    """The route taken inside QGIS (the loaded libheif for pixels, GDAL's HEIF driver for size and EXIF) and
    pillow-heif read the same location, altitude, time, size and pixels."""
    import ctypes.util

    from geoloc_core import photos

    assert photos.heif_decoder() == "pillow-heif"  # a plain Python holds no global libheif
    for path in paths:
        expected = (photos.read_gps(path), photos.image_size(path), np.asarray(photos.load_photo(path)))
        with monkeypatch.context() as patch:
            patch.setattr(photos, "heif_decoder", lambda: "libheif")
            patch.setattr(photos, "loaded_libheif", lambda: ctypes.CDLL(ctypes.util.find_library("heif")))
            fix, size, pixels = photos.read_gps(path), photos.image_size(path), np.asarray(photos.load_photo(path))
        assert (fix.lat, fix.lon) == pytest.approx((expected[0].lat, expected[0].lon), abs=1e-6)
        assert fix.altitude_m == pytest.approx(expected[0].altitude_m, abs=0.01)
        assert fix.timestamp == expected[0].timestamp
        assert size == expected[1] and pixels.shape == expected[2].shape
        assert np.abs(pixels.astype(int) - expected[2]).mean() < 0.5
