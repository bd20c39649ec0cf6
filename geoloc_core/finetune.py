"""The optional end-to-end route: fine-tune the backbone together with the geocell head on the photos
themselves, with augmentation, on CUDA when present (else the CPU; expect hours there for thousands of
photos). The result is a trained view that carries its own backbone: queries and references are
embedded with it, and the head maps its features to the geo-embedding as in the head route.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.nn import functional as F

from .checks import real_number, whole_number
from .embedders import Embedder, EmbedderIdentity, _pool, embedder_for, pick_device
from .files import PhotoError
from .photos import load_photo
from .progress import ProgressCallback, StopCheck, check_stop, report
from .training import CellTargets, GeoHead, TrainedHead, TrainOptions, labelled_split


@dataclass(frozen=True)
class FinetuneOptions:
    epochs: int = 10
    patience: int = 3
    backbone_learning_rate: float = 1e-4  # small: adapt the ImageNet features, do not overwrite them
    head_learning_rate: float = 1e-3
    batch_size: int = 16
    device: str = "auto"  # auto: CUDA when present, else CPU

    def __post_init__(self):
        whole_number("fine-tuning epochs", self.epochs, 1)
        whole_number("fine-tuning patience", self.patience, 1)
        whole_number("fine-tuning batch size", self.batch_size, 1)
        real_number("backbone learning rate", self.backbone_learning_rate, 0.0, 10.0)
        real_number("head learning rate", self.head_learning_rate, 0.0, 10.0)
        pick_device(self.device)


def augmentation(input_size: int):
    """Random crops of at least half the square, flips and mild colour changes, as the paper's training."""
    from torchvision import transforms

    return transforms.Compose([
        transforms.RandomResizedCrop(input_size, scale=(0.5, 1.0), ratio=(0.8, 1.25)),
        transforms.RandomHorizontalFlip(),
        transforms.ColorJitter(0.2, 0.2, 0.2),
    ])


def backbone_sha256(arrays: dict) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(arrays[name]).tobytes())
    return digest.hexdigest()


def finetuned_embedder(base: EmbedderIdentity, arrays: dict, view_name: str) -> Embedder:
    """The base network with fine-tuned weights, under an identity naming both."""
    embedder = embedder_for(base)
    embedder.trunk.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in arrays.items()})
    embedder.trunk.eval()
    embedder.identity = replace(base, architecture=f"{base.architecture}+finetuned:{view_name}",
                                weights_sha256=backbone_sha256(arrays))
    return embedder


def finetune(base_identity: EmbedderIdentity, paths: list, lat, lon, groups: np.ndarray,
             options: TrainOptions | None = None, tune: FinetuneOptions | None = None,
             progress: ProgressCallback | None = None, should_stop: StopCheck | None = None) -> tuple[TrainedHead, dict]:
    """Train a fresh copy of the base network + a head end to end; returns the head and the backbone's
    weights as arrays. Photos that cannot be read are left out."""
    base: Embedder = embedder_for(base_identity)
    options = options or TrainOptions()
    tune = tune or FinetuneOptions()
    device = pick_device(tune.device)
    torch.manual_seed(options.seed)
    cells, labels, train_idx, val_idx = labelled_split(lat, lon, groups, options)
    squares = {}
    for i in np.concatenate([train_idx, val_idx]):
        try:  # decoded once, at a size that leaves room for random crops
            image = load_photo(paths[i], 2 * base.input_size)
            side = min(image.size)
            left, top = (image.size[0] - side) // 2, (image.size[1] - side) // 2
            squares[int(i)] = image.crop((left, top, left + side, top + side)).resize((2 * base.input_size,) * 2)
        except PhotoError:
            continue
    train_idx = np.array([i for i in train_idx if int(i) in squares], dtype=np.int64)
    val_idx = np.array([i for i in val_idx if int(i) in squares], dtype=np.int64)
    trunk = base.trunk.to(device).train()
    head = GeoHead(base.dimension, options.hidden, options.geo_dim, len(cells)).to(device)
    optimiser = torch.optim.AdamW([
        {"params": trunk.parameters(), "lr": tune.backbone_learning_rate},
        {"params": head.parameters(), "lr": tune.head_learning_rate}], weight_decay=options.weight_decay)
    targets = CellTargets(cells, options.smoothing_km, device)
    mean, std = base._mean.to(device), base._std.to(device)
    augment = augmentation(base.input_size)

    def batch_tensor(indices, train: bool) -> torch.Tensor:
        crops = []
        for i in indices:
            image = squares[int(i)]
            image = augment(image) if train else image.resize((base.input_size,) * 2)
            crops.append(np.asarray(image, dtype=np.uint8))
        x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float().div_(255.0).to(device)
        return ((x - mean) / std).contiguous(memory_format=torch.channels_last)

    def features(x: torch.Tensor) -> torch.Tensor:
        return F.normalize(_pool(trunk(x), base.identity.pooling), dim=1)

    y = torch.from_numpy(labels).to(device)
    result = TrainedHead(head, cells, options)
    best, best_state, waited = math.inf, None, 0
    steps = max(1, math.ceil(len(train_idx) / tune.batch_size))
    for epoch in range(1, tune.epochs + 1):
        trunk.train()
        head.train()
        order = np.random.default_rng(options.seed + epoch).permutation(train_idx)
        total = 0.0
        for step, start in enumerate(range(0, len(order), tune.batch_size), start=1):
            check_stop(should_stop)
            batch = order[start:start + tune.batch_size]
            _, logits = head(features(batch_tensor(batch, True)))
            loss = torch.sum(-targets(y[batch]) * logits.log_softmax(dim=1), dim=1).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(batch)
            report(progress, (epoch - 1) * steps + step, tune.epochs * steps, "finetune", f"epoch {epoch}")
        trunk.eval()
        head.eval()
        with torch.no_grad():
            monitored = val_idx if len(val_idx) else train_idx
            logits = torch.cat([head(features(batch_tensor(monitored[s:s + 32], False)))[1]
                                for s in range(0, len(monitored), 32)])
            val_loss = float(F.cross_entropy(logits, y[monitored]))
            accuracy = float((logits.argmax(dim=1) == y[monitored]).float().mean())
        result.history.append((epoch, total / max(len(train_idx), 1), val_loss, accuracy))
        if val_loss < best - 1e-4:
            best, waited = val_loss, 0
            best_state = ({k: v.detach().cpu().clone() for k, v in trunk.state_dict().items()},
                          {k: v.detach().cpu().clone() for k, v in head.state_dict().items()})
        else:
            waited += 1
            if waited >= tune.patience:
                break
    trunk.load_state_dict(best_state[0])
    head.load_state_dict(best_state[1])
    trunk.to("cpu").eval()
    head.to("cpu").eval()
    return result, {name: tensor.detach().numpy() for name, tensor in trunk.state_dict().items()}
