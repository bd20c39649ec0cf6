"""Learned geolocation features (the paper's central finding): a head trained on the frozen backbone
embeddings already stored in a database to classify photos into geocells. Its hidden layer is the new
geo-embedding that retrieval then uses; its cell probabilities serve the `cells` and `hybrid`
estimators. Trains on a CPU in minutes for a few thousand photos: no photo is decoded again.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .checks import real_number, whole_number
from .geo import EARTH_RADIUS_KM, to_unit_vectors
from .geocells import Partition, cell_distances_km, partition
from .progress import ProgressCallback, StopCheck, check_stop, report

GROUP_FIELDS = ("group", "owner", "flickr_owner", "photographer", "author", "user")
SAME_PLACE_KM = 1.0
NEAR_DUPLICATE_SIMILARITY = 0.97


@dataclass(frozen=True)
class TrainOptions:
    t_max: int = 50  # most photos in one geocell
    t_min: int = 5  # fewer and the cell is dropped (its photos still serve as references)
    geo_dim: int = 128  # size of the learned geo-embedding
    hidden: int = 512
    epochs: int = 300
    patience: int = 20  # epochs without validation improvement before stopping
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 128
    smoothing_km: float | None = 500.0  # soft targets exp(-d/smoothing) between cells; None: one-hot
    validation: float = 0.15
    seed: int = 0

    def __post_init__(self):
        whole_number("t_min (fewest photos per geocell)", self.t_min, 1)
        whole_number("t_max (most photos per geocell)", self.t_max, max(self.t_min, 2))
        whole_number("geo_dim (size of the learned features)", self.geo_dim, 2, 65_536)
        whole_number("hidden layer size", self.hidden, 1, 65_536)
        whole_number("epochs", self.epochs, 1)
        whole_number("patience", self.patience, 1)
        whole_number("training batch size", self.batch_size, 1)
        whole_number("seed", self.seed, 0)
        real_number("learning rate", self.learning_rate, 0.0, 10.0)
        real_number("weight decay", self.weight_decay, 0.0, 10.0, low_inclusive=True)
        real_number("validation share", self.validation, 0.0, 0.9)
        if self.smoothing_km is not None:
            real_number("label smoothing distance (km; 0 for none)", self.smoothing_km, 0.0, 40_000.0)


class GeoHead(nn.Module):
    """base embedding -> MLP -> geo-embedding (L2-normalised for retrieval) -> cell logits."""

    def __init__(self, in_dim: int, hidden: int, geo_dim: int, cells: int):
        super().__init__()
        self.embed = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(0.2), nn.Linear(hidden, geo_dim))
        self.classify = nn.Sequential(nn.ReLU(), nn.Dropout(0.2), nn.Linear(geo_dim, cells))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.embed(x)
        return F.normalize(z, dim=1), self.classify(z)


@dataclass
class TrainedHead:
    head: GeoHead
    partition: Partition
    options: TrainOptions
    history: list = field(default_factory=list)  # (epoch, train loss, validation loss, validation accuracy)

    @torch.inference_mode()
    def transform(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(geo-embeddings, cell probabilities) of base features."""
        self.head.eval()
        embedding, logits = self.head(torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32)))
        return embedding.numpy(), logits.softmax(dim=1).numpy()

    def arrays(self) -> dict[str, np.ndarray]:
        """The weights as plain arrays (saved with numpy, never pickled)."""
        return {name: tensor.detach().numpy() for name, tensor in self.head.state_dict().items()}

    def sha256(self) -> str:
        buffer = io.BytesIO()
        for name, array in sorted(self.arrays().items()):
            buffer.write(name.encode())
            buffer.write(np.ascontiguousarray(array).tobytes())
        return hashlib.sha256(buffer.getvalue()).hexdigest()

    @classmethod
    def from_arrays(cls, arrays: dict, partition_: Partition, options: TrainOptions) -> TrainedHead:
        in_dim = arrays["embed.0.weight"].shape[1]
        head = GeoHead(in_dim, options.hidden, options.geo_dim, len(partition_))
        head.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in arrays.items()})
        head.eval()
        return cls(head, partition_, options)

    def options_dict(self) -> dict:
        return asdict(self.options)


def photo_groups(lat, lon, attributes: list[dict] | None = None, features: np.ndarray | None = None) -> np.ndarray:
    """Group ids such that photos by the same photographer, photos within 1 km of each other, and
    near-duplicate photos share a group (so a split by group cannot leak near-duplicates)."""
    lat = np.asarray(lat, dtype=np.float64)
    n = len(lat)
    parent = np.arange(n)

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    if attributes:
        name = next((f for f in GROUP_FIELDS if any(f in (a or {}) for a in attributes)), None)
        if name is not None:
            first: dict = {}
            for index, attrs in enumerate(attributes):
                value = (attrs or {}).get(name)
                if value:
                    union(index, first.setdefault(value, index))
    def union_similar(vectors: np.ndarray, threshold: float) -> None:
        """Join every pair of unit vectors whose inner product reaches the threshold."""
        for start in range(0, n, 1024):
            rows, cols = np.nonzero(vectors[start:start + 1024] @ vectors.T >= threshold)
            for a, b in zip(rows + start, cols):
                if a < b:
                    union(int(a), int(b))

    union_similar(to_unit_vectors(lat, lon), math.cos(SAME_PLACE_KM / EARTH_RADIUS_KM))
    if features is not None:
        union_similar(features, NEAR_DUPLICATE_SIMILARITY)
    return np.array([find(i) for i in range(n)])


def grouped_split(groups: np.ndarray, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) indices with whole groups on one side, about `fraction` held out."""
    rng = np.random.default_rng(seed)
    unique = rng.permutation(np.unique(groups))
    target = fraction * len(groups)
    held, count = set(), 0
    sizes = {g: int(s) for g, s in zip(*np.unique(groups, return_counts=True))}
    for group in unique:
        if count >= target:
            break
        held.add(group)
        count += sizes[group]
    mask = np.isin(groups, list(held))
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def grouped_folds(groups: np.ndarray, folds: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """k (train, test) splits; each group is in exactly one test fold."""
    rng = np.random.default_rng(seed)
    unique = rng.permutation(np.unique(groups))
    sizes = dict(zip(*np.unique(groups, return_counts=True)))
    load = np.zeros(folds)
    fold_of = {}
    for group in sorted(unique, key=lambda g: -sizes[g]):  # largest first, into the emptiest fold
        fold = int(np.argmin(load))
        fold_of[group] = fold
        load[fold] += sizes[group]
    assigned = np.array([fold_of[g] for g in groups])
    return [(np.flatnonzero(assigned != k), np.flatnonzero(assigned == k)) for k in range(folds)]


def _targets(labels: torch.Tensor, distances: torch.Tensor | None, smoothing_km: float | None) -> torch.Tensor:
    if smoothing_km is None or distances is None:
        return F.one_hot(labels, distances.shape[0] if distances is not None else int(labels.max()) + 1).float()
    soft = torch.exp(-distances[labels] / smoothing_km)
    return soft / soft.sum(dim=1, keepdim=True)


def labelled_split(lat, lon, groups: np.ndarray, options: TrainOptions):
    """Geocells of the coordinates, each photo's cell, and grouped (train, validation) indices of the
    photos whose cell was kept."""
    cells = partition(lat, lon, options.t_max, options.t_min)
    if len(cells) < 2:
        raise ValueError(f"only {len(cells)} geocell(s) with at least {options.t_min} photos: too few photos or "
                         "too narrow an area to learn from; lower t_min/t_max or add photos")
    labels = cells.assign(lat, lon)
    train_idx, val_idx = grouped_split(groups, options.validation, options.seed)
    return cells, labels, train_idx[labels[train_idx] >= 0], val_idx[labels[val_idx] >= 0]


def train_head(features: np.ndarray, lat, lon, groups: np.ndarray, options: TrainOptions | None = None,
               progress: ProgressCallback | None = None, should_stop: StopCheck | None = None) -> TrainedHead:
    """Partition the coordinates into geocells and train the head with early stopping on a grouped
    validation split. Photos in dropped cells are not trained on."""
    options = options or TrainOptions()
    torch.manual_seed(options.seed)
    cells, labels, train_idx, val_idx = labelled_split(lat, lon, groups, options)
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    y = torch.from_numpy(labels)
    distances = torch.from_numpy(cell_distances_km(cells)).float() if options.smoothing_km else None
    head = GeoHead(x.shape[1], options.hidden, options.geo_dim, len(cells))
    optimiser = torch.optim.AdamW(head.parameters(), lr=options.learning_rate, weight_decay=options.weight_decay)
    result = TrainedHead(head, cells, options)
    best, best_state, waited = math.inf, None, 0
    generator = torch.Generator().manual_seed(options.seed)
    for epoch in range(1, options.epochs + 1):
        check_stop(should_stop)
        head.train()
        order = torch.from_numpy(train_idx)[torch.randperm(len(train_idx), generator=generator)]
        total = 0.0
        for start in range(0, len(order), options.batch_size):
            batch = order[start:start + options.batch_size]
            _, logits = head(x[batch])
            target = _targets(y[batch], distances, options.smoothing_km) if distances is not None else None
            loss = (torch.sum(-target * logits.log_softmax(dim=1), dim=1).mean() if target is not None
                    else F.cross_entropy(logits, y[batch]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(batch)
        head.eval()
        with torch.no_grad():
            monitored = val_idx if len(val_idx) else train_idx
            _, logits = head(x[monitored])
            val_loss = float(F.cross_entropy(logits, y[monitored]))
            accuracy = float((logits.argmax(dim=1) == y[monitored]).float().mean())
        result.history.append((epoch, total / max(len(train_idx), 1), val_loss, accuracy))
        report(progress, epoch, options.epochs, "train", f"epoch {epoch}: validation loss {val_loss:.3f}, "
                                                         f"cell accuracy {accuracy:.1%}")
        if val_loss < best - 1e-4:
            best, waited = val_loss, 0
            best_state = {k: v.clone() for k, v in head.state_dict().items()}
        else:
            waited += 1
            if waited >= options.patience:
                break
    if best_state is not None:
        head.load_state_dict(best_state)
    head.eval()
    return result


@dataclass
class TrainingData:
    """What training needs from a database: its records, their stored base features, locations and groups."""

    records: list
    features: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    groups: np.ndarray


def training_data(database) -> TrainingData:
    records = database.all_records()
    features = database.embeddings([r.id for r in records])
    lat = np.array([r.lat for r in records])
    lon = np.array([r.lon for r in records])
    return TrainingData(records, features, lat, lon, photo_groups(lat, lon, [r.attributes for r in records], features))


@dataclass
class TrainingSummary:
    view: str
    photos: int
    groups: int
    trained: TrainedHead

    @property
    def best(self) -> tuple:
        """(epoch, train loss, validation loss, validation accuracy) of the kept epoch."""
        return min(self.trained.history, key=lambda h: h[2])

    def text(self) -> str:
        epoch, _, loss, accuracy = self.best
        return (f"trained view '{self.view}' on {self.photos} photos in {self.groups} groups: "
                f"{len(self.trained.partition)} geocells, stopped after {len(self.trained.history)} epochs, best "
                f"validation loss {loss:.3f} (cell accuracy {accuracy:.1%}) at epoch {epoch}")

    def to_dict(self) -> dict:
        epoch, _, loss, accuracy = self.best
        return {"view": self.view, "photos": self.photos, "groups": self.groups, "cells": len(self.trained.partition),
                "epochs": len(self.trained.history), "best_epoch": epoch, "validation_loss": loss,
                "validation_accuracy": accuracy}


def train_view(database, name: str = "geocells", options: TrainOptions | None = None, finetune_options=None,
               progress: ProgressCallback | None = None, should_stop: StopCheck | None = None) -> TrainingSummary:
    """Train on a writable database, by the head route or (with `finetune_options`) end to end, and make
    the result its active view."""
    data = training_data(database)
    backbone = None
    if finetune_options is not None:
        from .finetune import finetune

        trained, backbone = finetune(database.identity, [r.path for r in data.records], data.lat, data.lon,
                                     data.groups, options, finetune_options, progress, should_stop)
    else:
        trained = train_head(data.features, data.lat, data.lon, data.groups, options, progress, should_stop)
    view = database.save_view(name, trained, backbone)
    return TrainingSummary(view.name, len(data.records), len(set(data.groups.tolist())), trained)
