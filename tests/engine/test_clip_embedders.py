"""CLIP-family embedders without the hub: a tiny random CLIP saved by the test, served from 127.0.0.1 the
way the hub serves files (listing API + resolve URLs, with Range), fetched through the real download
path and loaded through the code that loads a real model."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

pytest.importorskip("transformers", reason="CLIP embedders need transformers (requirements-clip.txt)")

from geoloc_core import clip_embedders
from geoloc_core.clip_embedders import availability, download_model, installed_model, model_folder
from geoloc_core.database import EmbedderMismatchError, ReferenceDatabase
from geoloc_core.download import DownloadError, part_path
from geoloc_core.embedders import EmbedderError, embedder_for, load_embedder
from geoloc_core.ingest import build_database
from geoloc_core.progress import Cancelled
from geoloc_core.sources import from_csv

from ..clip_hub import COMMIT, git_blob, make_geotagged_csv


def test_interrupted_download_resumes_and_loads_through_the_real_model_path(hub, tiny_clip, tmp_path):
    import torch
    from PIL import Image
    from transformers import CLIPModel

    hub.drop.add("model.safetensors")
    events = []
    record = download_model("clip_vit_b32", tmp_path, progress=events.append)
    size = len(hub.files["model.safetensors"])
    assert hub.transfers("model.safetensors") == [None, f"bytes={size // 2}-"]
    assert record["revision"] == COMMIT and record["repo_id"] == "openai/clip-vit-base-patch32"
    assert record["files"]["model.safetensors"]["sha256"] == hashlib.sha256(hub.files["model.safetensors"]).hexdigest()
    total = sum(len(d) for name, d in hub.files.items() if name in clip_embedders.MODEL_FILES)
    assert {e.total for e in events} == {total} and events[-1].done == total
    assert not list(model_folder("clip_vit_b32", tmp_path).glob("*.part"))

    embedder = load_embedder("clip_vit_b32", tmp_path)
    assert embedder.identity.architecture == "clip_vit_b32" and embedder.dimension == 768
    assert f"openai/clip-vit-base-patch32@{COMMIT}" in embedder.identity.preprocessing
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8))
    features = embedder.embed_images([image])
    reference = CLIPModel.from_pretrained(tiny_clip).eval()
    pixels = embedder._to_tensor([embedder.square_crop(image)]).contiguous()
    with torch.inference_mode():
        expected = reference.get_image_features(pixel_values=pixels)
    expected = getattr(expected, "pooler_output", expected)
    expected = torch.nn.functional.normalize(expected, dim=1).numpy()
    np.testing.assert_allclose(features, expected, atol=1e-5)
    assert download_model("clip_vit_b32", tmp_path) == record  # already here: nothing fetched again
    assert len(hub.transfers("model.safetensors")) == 2
    weights = model_folder("clip_vit_b32", tmp_path) / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(EmbedderError, match=r"model\.safetensors: .* bytes where the download had .* download "
                                            "clip_vit_b32 again"):
        load_embedder("clip_vit_b32", tmp_path)


def test_the_listing_is_read_in_the_hubs_format(hub, tmp_path, monkeypatch):
    from geoloc_core.clip_embedders import list_model_files

    listing = list_model_files("clip_vit_b32", tmp_path)
    (asked, _), = [r for r in hub.requests if r[0].startswith("/api/")]
    assert asked == "/api/models/openai/clip-vit-base-patch32/revision/main?blobs=true"
    assert listing.revision == COMMIT and [f.name for f in listing.files] == list(clip_embedders.MODEL_FILES)
    files = {f.name: f for f in listing.files}
    weights = hub.files["model.safetensors"]
    assert files["model.safetensors"].sha256 == hashlib.sha256(weights).hexdigest(), "LFS: its sha256, not a blob id"
    assert files["model.safetensors"].size == len(weights)
    assert files["config.json"].sha256 is None and files["config.json"].blob_id == git_blob(hub.files["config.json"])
    # a hub answering without blobs=true gives bare names: refused before anything large is fetched
    monkeypatch.setattr(clip_embedders, "_listing_url", lambda repo, revision: f"{hub.url}/api/models/{repo}/revision/"
                                                                                f"{revision}")
    with pytest.raises(DownloadError, match="the listing gives no size or checksum for config.json"):
        list_model_files("clip_vit_b32", tmp_path / "bare")


def test_corrupted_weights_are_refused_deleted_and_not_loadable(hub, tmp_path):
    hub.corrupt.add("model.safetensors")
    with pytest.raises(DownloadError, match=r"127\.0\.0\.1.*model\.safetensors: checksum mismatch"):
        download_model("clip_vit_l14", tmp_path)
    folder = model_folder("clip_vit_l14", tmp_path)
    assert not (folder / "model.safetensors").exists() and installed_model("clip_vit_l14", tmp_path) is None
    with pytest.raises(EmbedderError, match="download-model clip_vit_l14"):
        load_embedder("clip_vit_l14", tmp_path)
    hub.corrupt = {"config.json"}  # a small file kept in git: checked by its blob id
    with pytest.raises(DownloadError, match=r"config\.json: checksum mismatch \(git blob"):
        download_model("clip_vit_l14", tmp_path / "fresh")
    assert not (model_folder("clip_vit_l14", tmp_path / "fresh") / "config.json").exists()


def test_cancel_keeps_the_part_and_the_next_call_resumes(hub, tmp_path):
    seen = []
    before_weights = sum(len(hub.files[name]) for name in ("config.json", "preprocessor_config.json"))

    def stop():  # once some of the weights have come
        return any(e.message == "model.safetensors" and e.done > before_weights for e in seen)

    with pytest.raises(Cancelled):
        download_model("clip_vit_b32", tmp_path, progress=seen.append, should_stop=stop)
    weights = model_folder("clip_vit_b32", tmp_path) / "model.safetensors"
    kept = part_path(weights).stat().st_size
    assert 0 < kept < len(hub.files["model.safetensors"]) and installed_model("clip_vit_b32", tmp_path) is None
    download_model("clip_vit_b32", tmp_path)
    assert hub.transfers("model.safetensors")[-1] == f"bytes={kept}-"
    assert weights.read_bytes() == hub.files["model.safetensors"]


def test_offline_the_choice_says_what_it_needs_and_lite0_keeps_working(tmp_path, monkeypatch):
    monkeypatch.setenv(clip_embedders.HUB_ENV, "http://127.0.0.1:9")  # nothing listens on the discard port
    problem = availability("geoclip", tmp_path)
    assert "openai/clip-vit-large-patch14 (about 1.7 GB)" in problem and "download-model geoclip" in problem
    assert str(model_folder("geoclip", tmp_path)) in problem and "efficientnet_lite0 works offline" in problem
    with pytest.raises(EmbedderError, match="download-model clip_vit_b32"):
        load_embedder("clip_vit_b32", tmp_path)
    with pytest.raises(DownloadError, match=r"127\.0\.0\.1:9.*cannot be reached"):
        download_model("clip_vit_b32", tmp_path)
    assert load_embedder("efficientnet_lite0").dimension > 0


@pytest.mark.slow
def test_databases_refuse_another_embedder_both_ways(hub, tmp_path):
    download_model("clip_vit_b32", tmp_path / "models")
    clip = load_embedder("clip_vit_b32", tmp_path / "models")
    lite = load_embedder("efficientnet_lite0")
    candidates, _ = from_csv(make_geotagged_csv(tmp_path / "photos"))
    for embedder, other in ((clip, lite), (lite, clip)):
        folder = tmp_path / f"{embedder.identity.architecture}.geoloc"
        database, report = build_database(folder, candidates, embedder)
        database.close()
        assert report.added == len(candidates)
        with pytest.raises(EmbedderMismatchError, match="built with"):
            ReferenceDatabase.open(folder, other.identity)
        ReferenceDatabase.open(folder, embedder.identity).close()
    # the CLIP database finds its model again from the identity it recorded
    with ReferenceDatabase.open(tmp_path / "clip_vit_b32.geoloc") as database:
        assert embedder_for(database.identity).identity == clip.identity


def test_geoclip_embedder_puts_the_wheels_head_on_the_clip_projection(hub, tmp_path, small_gallery):
    import torch
    from PIL import Image

    from geoloc_core.clip_embedders import geoclip_weights_dir

    download_model("geoclip", tmp_path)
    assert installed_model("clip_vit_l14", tmp_path) is not None  # one backbone download serves both
    geo = load_embedder("geoclip", tmp_path)
    clip = load_embedder("clip_vit_l14", tmp_path)
    assert geo.dimension == 512 and geo.identity != clip.identity
    assert geo.identity.weights_sha256 != clip.identity.weights_sha256
    image = Image.fromarray(np.random.default_rng(1).integers(0, 255, (50, 40, 3), dtype=np.uint8))
    state = torch.load(geoclip_weights_dir() / "image_encoder_mlp_weights.pth", weights_only=True)
    pixels = clip._to_tensor([clip.square_crop(image)]).contiguous()
    with torch.inference_mode():
        projected = clip.trunk(pixel_values=pixels).image_embeds
        hidden = torch.relu(projected @ state["0.weight"].T + state["0.bias"])
        expected = torch.nn.functional.normalize(hidden @ state["2.weight"].T + state["2.bias"], dim=1).numpy()
    np.testing.assert_allclose(geo.embed_images([image]), expected, atol=1e-5)


def test_gallery_prediction_prior_and_worldwide_answer(small_gallery):
    from geoloc_core.estimator_registry import estimate
    from geoloc_core.geo import haversine_km
    from geoloc_core.geoclip_prior import prior_estimate, worldwide_estimate

    features = small_gallery.features()
    assert features.shape == (1500, 512)
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, atol=1e-5)
    target = 7  # a photo whose GeoCLIP feature is exactly a gallery point's location feature
    prediction = small_gallery.predict(features[[target]], top_k=20)[0]
    assert (prediction.lat[0], prediction.lon[0]) == tuple(small_gallery.coordinates[target])
    assert np.all(np.diff(prediction.probability) <= 0) and 0 < prediction.probability.sum() <= 1
    answer = worldwide_estimate(prediction)
    assert (answer.lat, answer.lon) == (prediction.lat[0], prediction.lon[0]) and 0 < answer.confidence <= 1

    # neighbours in two places: the slightly better matches far away, the others where the gallery points
    lat0, lon0 = small_gallery.coordinates[target]
    far = (-lat0, lon0 + 150 if lon0 < 0 else lon0 - 150)
    lat = np.array([far[0]] * 5 + [lat0] * 5) + np.linspace(0, 0.5, 10)
    lon = np.array([far[1]] * 5 + [lon0] * 5)
    sims = np.array([0.81] * 5 + [0.80] * 5)
    prior = prediction.prior_at(lat, lon)
    assert prior[5:].min() > 100 * prior[:5].max()
    without = estimate("sphere", lat, lon, sims, 1000.0)
    with_prior = prior_estimate(prediction, lat, lon, sims, 1000.0)
    assert haversine_km(without.lat, without.lon, *far) < 100
    assert haversine_km(with_prior.lat, with_prior.lon, lat0, lon0) < 100


def test_cli_download_build_locate_and_worldwide_with_tiny_models(hub, tmp_path, small_gallery, monkeypatch, capsys):
    from geoloc_core import geoclip_prior
    from geoloc_core.cli import main

    monkeypatch.setattr(geoclip_prior, "gallery_for", lambda cache_dir: small_gallery)
    models = tmp_path / "models"
    photos = make_geotagged_csv(tmp_path / "photos")
    assert main(["world", str(tmp_path / "photos"), "--models-dir", str(models)]) == 2
    assert "download-model geoclip" in capsys.readouterr().err

    assert main(["download-model", "geoclip", "--models-dir", str(models)]) == 0
    out = capsys.readouterr()
    size = sum(len(d) for name, d in hub.files.items() if name in clip_embedders.MODEL_FILES)
    assert f"openai/clip-vit-large-patch14@{COMMIT[:12]}, 3 files, {size / 1e6:,.1f} MB" in out.err
    assert f"geoclip: openai/clip-vit-large-patch14@{COMMIT}" in out.out

    database = tmp_path / "geo.geoloc"
    assert main(["build", str(database), str(photos), "--architecture", "geoclip", "--models-dir", str(models)]) == 0
    assert "10 photos in the database" in capsys.readouterr().out
    assert main(["--progress", "json", "locate", str(database), str(tmp_path / "photos" / "p3.jpg"),
                 "--estimator", "geoclip", "-k", "5"]) == 0
    located = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["results"][0]
    assert located["estimator"] == "geoclip" and len(located["neighbours"]) == 5
    assert main(["--progress", "json", "world", str(tmp_path / "photos" / "p3.jpg"), "--top-k", "8",
                 "--models-dir", str(models), "-o", str(tmp_path / "world.csv")]) == 0
    world = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [n["weight"] for n in world["results"][0]["neighbours"]] == sorted(
        [n["weight"] for n in world["results"][0]["neighbours"]], reverse=True)
    assert (world["results"][0]["lat"], world["results"][0]["lon"]) in {tuple(p) for p in small_gallery.coordinates}
    assert (tmp_path / "world.csv").is_file()

    lite = tmp_path / "lite.geoloc"  # --download fetches what is missing; the geoclip estimator needs GeoCLIP features
    assert main(["build", str(lite), str(photos), "--architecture", "clip_vit_b32", "--download",
                 "--models-dir", str(models)]) == 0
    capsys.readouterr()
    assert main(["locate", str(lite), str(tmp_path / "photos" / "p3.jpg"), "--estimator", "geoclip"]) == 2
    assert "needs GeoCLIP features" in capsys.readouterr().err
