"""The optional end-to-end route: fine-tune the backbone together with the geocell head on the photos
themselves, with augmentation, on CUDA when present (else the CPU; expect hours there for thousands of
photos). The result is a trained view that carries its own backbone: queries and references are
embedded with it, and the head maps its features to the geo-embedding as in the head route.

The Lite networks are trained with their BatchNorm layers (in training mode, as torchvision's networks
are) and folded into the convolutions after training, so the saved network is the folded one that
`embedders.load_embedder` builds, with the same weights' names.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from .checks import real_number, whole_number
from .defaults import DEFAULT_FINETUNE_EPOCHS
from .embedders import Embedder, EmbedderIdentity, embedder_for, fold_batchnorm, pick_device, square_image
from .files import PhotoError
from .options import check
from .photos import load_photo
from .progress import ProgressCallback, StopCheck, report
from .training import CellTargets, GeoHead, TrainedHead, TrainOptions, fit, labelled_split, weights_sha256


@dataclass(frozen=True)
class FinetuneOptions:
    epochs: int = DEFAULT_FINETUNE_EPOCHS
    patience: int = 3
    backbone_learning_rate: float = 1e-4  # small: adapt the ImageNet features, do not overwrite them
    head_learning_rate: float = 1e-3
    batch_size: int = 16
    device: str = "auto"  # auto: CUDA when present, else CPU

    def __post_init__(self):
        check("finetune_epochs", self.epochs)
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


def finetuned_embedder(base: EmbedderIdentity, arrays: dict, view_name: str) -> Embedder:
    """The base network with fine-tuned weights, under an identity naming both."""
    embedder = embedder_for(base)
    embedder.trunk.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in arrays.items()})
    embedder.trunk.eval()
    embedder.identity = replace(base, architecture=f"{base.architecture}+finetuned:{view_name}",
                                weights_sha256=weights_sha256(arrays))
    return embedder


def finetune(base_identity: EmbedderIdentity, paths: list, lat, lon, groups: np.ndarray,
             options: TrainOptions | None = None, tune: FinetuneOptions | None = None,
             progress: ProgressCallback | None = None, should_stop: StopCheck | None = None) -> tuple[TrainedHead, dict]:
    """Train a fresh copy of the base network + a head end to end; returns the head and the backbone's
    weights as arrays. Photos that cannot be read are left out."""
    base: Embedder = embedder_for(base_identity, fold=False)  # BatchNorm trains as in torchvision's networks
    options = options or TrainOptions()
    tune = tune or FinetuneOptions()
    device = base.to_device(tune.device).device
    torch.manual_seed(options.seed)
    cells, labels, train_idx, val_idx = labelled_split(lat, lon, groups, options)
    squares = {}
    for i in np.concatenate([train_idx, val_idx]):
        try:  # decoded once, at a size that leaves room for random crops
            squares[int(i)] = square_image(load_photo(paths[i], 2 * base.input_size), 2 * base.input_size)
        except PhotoError:
            continue
    train_idx = np.array([i for i in train_idx if int(i) in squares], dtype=np.int64)
    val_idx = np.array([i for i in val_idx if int(i) in squares], dtype=np.int64)
    trunk = base.trunk
    head = GeoHead(base.dimension, options.hidden, options.geo_dim, len(cells)).to(device)
    optimiser = torch.optim.AdamW([
        {"params": trunk.parameters(), "lr": tune.backbone_learning_rate},
        {"params": head.parameters(), "lr": tune.head_learning_rate}], weight_decay=options.weight_decay)
    augment = augmentation(base.input_size)

    def logits_of(rows: np.ndarray, training: bool) -> torch.Tensor:
        crops = [np.asarray(augment(squares[int(i)]) if training else squares[int(i)].resize((base.input_size,) * 2),
                            dtype=np.uint8) for i in rows]
        return head(base.crop_features(crops))[1]

    def report_step(epoch: int, step: int, steps: int) -> None:
        report(progress, (epoch - 1) * steps + step, tune.epochs * steps, "finetune", f"epoch {epoch}")

    history = fit([trunk, head], optimiser, CellTargets(cells, options.smoothing_km, device),
                  torch.from_numpy(labels).to(device), logits_of, train_idx, val_idx,
                  lambda epoch: np.random.default_rng(options.seed + epoch).permutation(train_idx),
                  tune.epochs, tune.patience, tune.batch_size, 32, should_stop, on_step=report_step)
    base.to_device("cpu")
    head.to("cpu")
    folded = fold_batchnorm(trunk)  # the network that embeds photos for the view, as load_embedder's
    return TrainedHead(head, cells, options, history), {name: tensor.detach().numpy()
                                                       for name, tensor in folded.state_dict().items()}
