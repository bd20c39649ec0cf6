"""Embedders: real bundled weights, torchvision architectures with user weights, identities."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import torch
import torchvision
from PIL import Image

from geoloc_core.embedders import EmbedderError, embedder_for, load_embedder

from ..conftest import make_photos


def test_bundled_backbone_recognises_real_images(embedder):
    logits = embedder.imagenet_logits([Image.fromarray(skimage.data.chelsea()), Image.fromarray(skimage.data.coffee())])
    cat, coffee = logits.argmax(axis=1)
    assert 281 <= cat <= 285, f"chelsea should be a cat, got ImageNet class {cat}"
    assert coffee == 967, f"coffee should be espresso, got ImageNet class {coffee}"


def test_features_are_normalised_and_identity_is_recorded(embedder):
    features = embedder.embed_images([Image.fromarray(skimage.data.astronaut()), Image.fromarray(skimage.data.coffee())])
    assert features.shape == (2, 1280) and features.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, atol=1e-5)
    identity = embedder.identity
    assert identity.architecture == "efficientnet_lite0" and identity.dimension == 1280
    assert identity.weights_sha256.startswith("57934424")  # the file name's hash prefix
    assert "mean=std=0.5" in identity.preprocessing


def test_same_photo_twice_gives_the_same_features(embedder, tmp_path):
    (path,) = make_photos(tmp_path, 1)
    result = embedder.embed_paths([path, path])
    np.testing.assert_allclose(result.features[0], result.features[1], atol=1e-6)


@pytest.fixture(scope="module")
def resnet18_weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "resnet18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    return path


@pytest.mark.parametrize("pooling", ["avg", "max", "gem"])
def test_torchvision_architecture_with_user_weights(resnet18_weights, pooling):
    embedder = load_embedder("resnet18", resnet18_weights, pooling)
    features = embedder.embed_images([Image.fromarray(skimage.data.coffee())])
    assert features.shape == (1, 512)
    assert embedder.identity.pooling == pooling and "ImageNet mean/std" in embedder.identity.preprocessing


def test_weights_that_do_not_fit_are_refused(resnet18_weights, tmp_path):
    with pytest.raises(EmbedderError, match="do not fit architecture 'resnet50'"):
        load_embedder("resnet50", resnet18_weights)
    with pytest.raises(EmbedderError, match="unknown torchvision architecture"):
        load_embedder("no_such_net", resnet18_weights)
    with pytest.raises(EmbedderError, match="needs a weights file"):
        load_embedder("resnet18")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"definitely not a state dict")
    with pytest.raises(EmbedderError, match="not a readable PyTorch state dict"):
        load_embedder("resnet18", junk)
    with pytest.raises(EmbedderError, match="unknown pooling"):
        load_embedder(pooling="median")


def test_embedder_for_rebuilds_and_checks_identity(resnet18_weights, tmp_path, embedder):
    assert embedder_for(embedder.identity).identity == embedder.identity
    original = load_embedder("resnet18", resnet18_weights)
    other = tmp_path / "other.pth"
    torch.manual_seed(1)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), other)
    with pytest.raises(EmbedderError, match="embedder mismatch"):
        embedder_for(original.identity, other)


@pytest.mark.parametrize(("architecture", "size"), [("efficientnet_lite1", 240), ("efficientnet_lite2", 260)])
def test_larger_lite_variants_recognise_real_images_with_their_own_identity(embedder, architecture, size):
    larger = load_embedder(architecture)
    logits = larger.imagenet_logits([Image.fromarray(skimage.data.chelsea()), Image.fromarray(skimage.data.coffee())])
    cat, coffee = logits.argmax(axis=1)
    assert 281 <= cat <= 285 and coffee == 967, f"{architecture}: got ImageNet classes {cat}, {coffee}"
    assert larger.input_size == size and f"centre-crop {size}" in larger.identity.preprocessing
    assert larger.identity != embedder.identity and larger.identity.weights_sha256 != embedder.identity.weights_sha256
    assert embedder_for(larger.identity).identity == larger.identity  # rebuilt from the package, no weights path
    features = larger.embed_images([Image.fromarray(skimage.data.astronaut())])
    assert features.shape == (1, 1280)
    with pytest.raises(EmbedderError, match=f"not {architecture} weights"):
        load_embedder(architecture, embedder.identity.weights_path)  # Lite0's weights in a Lite1/2 network


def _sample_crops(embedder, count: int = 4) -> list[np.ndarray]:
    image = Image.fromarray(skimage.data.astronaut())
    return [embedder.square_crop(image.rotate(angle)) for angle in range(0, 15 * count, 15)]


def test_device_choices_and_batch_sizes():
    from geoloc_core.embedders import batch_size_for, pick_device

    assert pick_device("cpu") == torch.device("cpu")
    assert batch_size_for(torch.device("cpu")) == 32 and batch_size_for(torch.device("cuda")) == 256
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        pick_device("gpu0")
    with pytest.raises(ValueError, match="not supported"):
        pick_device("meta")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            pick_device("cuda")


def test_cpu_device_keeps_identity_and_features(embedder):
    crops = _sample_crops(embedder)
    before = embedder.embed_crops(crops)
    identity = embedder.identity
    assert embedder.to_device("cpu") is embedder
    assert embedder.identity == identity and embedder.micro_batch == 2
    np.testing.assert_array_equal(embedder.embed_crops(crops), before)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (bench/gpu_check.py measures it where one is)")
def test_cuda_features_match_the_cpu_within_float_tolerance():
    cpu = load_embedder()
    crops = _sample_crops(cpu, 8)
    expected = cpu.embed_crops(crops)
    cuda = load_embedder().to_device("cuda")
    assert cuda.identity == cpu.identity and cuda.device.type == "cuda"
    got = cuda.embed_crops(crops)
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert np.abs(got - expected).max() < 1e-2
    assert np.sum(got * expected, axis=1).min() > 0.999


def test_folding_batchnorm_after_training_keeps_the_features(embedder):
    """Fine-tuning trains the unfolded Lite0 trunk, then folds its BatchNorm: the folded network (what a view
    saves and embeds with) gives the unfolded one's features, also for statistics moved away from ImageNet's."""
    from torch import nn

    from geoloc_core.embedders import fold_batchnorm

    unfolded = load_embedder(fold=False)
    norms = [m for m in unfolded.trunk.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms, "the unfolded trunk keeps its BatchNorm layers"
    crops = _sample_crops(unfolded)
    np.testing.assert_allclose(unfolded.embed_crops(crops), embedder.embed_crops(crops), atol=1e-5)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # as after training: every statistic and affine parameter moved
        for norm in norms:
            shape = norm.running_mean.shape
            norm.running_mean.add_(0.1 * torch.randn(shape, generator=generator))
            norm.running_var.mul_(0.5 + torch.rand(shape, generator=generator))
            norm.weight.mul_(0.8 + 0.4 * torch.rand(shape, generator=generator))
            norm.bias.add_(0.1 * torch.randn(shape, generator=generator))
    trained = unfolded.embed_crops(crops)
    assert np.abs(trained - embedder.embed_crops(crops)).max() > 1e-3, "the changed statistics change the features"
    folded = fold_batchnorm(unfolded.trunk)
    assert folded is unfolded.trunk and not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert set(folded.state_dict()) == set(embedder.trunk.state_dict()), "saved as load_embedder's folded trunk"
    np.testing.assert_allclose(unfolded.embed_crops(crops), trained, atol=1e-5)
