"""Learned geolocation features (the paper's central finding): a head trained on the frozen backbone
embeddings already stored in a database to classify photos into geocells. Its hidden layer is the new
geo-embedding that retrieval then uses; its cell probabilities serve the `cells` and `hybrid`
estimators. Trains on a CPU in minutes for a few thousand photos: no photo is decoded again.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from scipy import sparse
from scipy.sparse import csgraph
from torch import nn
from torch.nn import functional as F

from .checks import real_number, whole_number
from .defaults import DEFAULT_GEO_DIM, DEFAULT_SMOOTHING_KM, DEFAULT_T_MAX, DEFAULT_T_MIN, DEFAULT_TRAINING_EPOCHS
from .errors import OptionError
from .geo import EARTH_RADIUS_KM, to_unit_vectors
from .geocells import Partition, partition
from .options import check
from .progress import ProgressCallback, StopCheck, check_stop, report

GROUP_FIELDS = ("group", "owner", "flickr_owner", "photographer", "author", "user")
SAME_PLACE_KM = 1.0
NEAR_DUPLICATE_SIMILARITY = 0.97


@dataclass(frozen=True)
class TrainOptions:
    t_max: int = DEFAULT_T_MAX
    t_min: int = DEFAULT_T_MIN
    geo_dim: int = DEFAULT_GEO_DIM
    hidden: int = 512
    epochs: int = DEFAULT_TRAINING_EPOCHS
    patience: int = 20  # epochs without validation improvement before stopping
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 128
    smoothing_km: float | None = DEFAULT_SMOOTHING_KM  # soft targets exp(-d/smoothing) between cells; None: one-hot
    validation: float = 0.15
    seed: int = 0

    def __post_init__(self):
        check("t_min", self.t_min)
        check("t_max", self.t_max)
        whole_number("t_max (most photos per geocell)", self.t_max, self.t_min)
        check("geo_dim", self.geo_dim)
        whole_number("hidden layer size", self.hidden, 1, 65_536)
        check("epochs", self.epochs)
        whole_number("patience", self.patience, 1)
        whole_number("training batch size", self.batch_size, 1)
        whole_number("seed", self.seed, 0)
        real_number("learning rate", self.learning_rate, 0.0, 10.0)
        real_number("weight decay", self.weight_decay, 0.0, 10.0, low_inclusive=True)
        real_number("validation share", self.validation, 0.0, 0.9)
        if self.smoothing_km is not None:
            check("smoothing_km", self.smoothing_km)


def weights_sha256(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of a network's weights (names and bytes, in name order): what a view records for its head
    and for a fine-tuned backbone, and checks when it is opened."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(arrays[name]).tobytes())
    return digest.hexdigest()


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
        return weights_sha256(self.arrays())

    @classmethod
    def from_arrays(cls, arrays: dict, partition_: Partition, options: TrainOptions) -> TrainedHead:
        in_dim = arrays["embed.0.weight"].shape[1]
        head = GeoHead(in_dim, options.hidden, options.geo_dim, len(partition_))
        head.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in arrays.items()})
        head.eval()
        return cls(head, partition_, options)

    def options_dict(self) -> dict:
        return asdict(self.options)


def photo_groups(lat, lon, attributes: list[dict] | None = None, features=None, places: bool = True) -> np.ndarray:
    """Group ids such that photos by the same photographer, photos within 1 km of each other (unless
    `places` is false), and near-duplicate photos share a group (so a split by group cannot leak
    near-duplicates).

    Linear in the number of photos: places are joined through 1 km cubes on the globe (photos in the
    same or touching cubes share a group, so everything within 1 km does, and a few photos up to
    3.5 km apart too: a conservative rule for a leak check), near-duplicates by `near_duplicate_pairs`.
    `features` is any array-like with fancy row indexing (an ndarray, or a database's vector reader)."""
    lat = np.asarray(lat, dtype=np.float64)
    n = len(lat)
    edges = [_place_edges(lat, np.asarray(lon, dtype=np.float64)) if places else np.zeros((0, 2), np.int64)]
    if attributes:
        name = next((f for f in GROUP_FIELDS if any(f in (a or {}) for a in attributes)), None)
        if name is not None:
            first: dict = {}
            pairs = [(index, first.setdefault(value, index)) for index, attrs in enumerate(attributes)
                     if (value := (attrs or {}).get(name))]
            edges.append(np.array(pairs, dtype=np.int64).reshape(-1, 2))
    if features is not None:
        edges.append(near_duplicate_pairs(features, n, NEAR_DUPLICATE_SIMILARITY))
    pairs = np.concatenate(edges)
    graph = sparse.coo_matrix((np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = csgraph.connected_components(graph, directed=False)
    first_member = np.full(labels.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first_member, labels, np.arange(n))
    return first_member[labels]  # each group named by its first photo, as before


def _place_edges(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Edges joining photos in the same or touching 1 km cubes of 3-D space around the globe."""
    cubes = np.floor(to_unit_vectors(lat, lon) * (EARTH_RADIUS_KM / SAME_PLACE_KM)).astype(np.int64)
    span = int(EARTH_RADIUS_KM / SAME_PLACE_KM) + 2
    keys = ((cubes[:, 0] + span) * (2 * span + 1) + cubes[:, 1] + span) * (2 * span + 1) + cubes[:, 2] + span
    unique, first, member_of = np.unique(keys, return_index=True, return_inverse=True)
    edges = [np.stack([np.arange(len(lat)), first[member_of]], axis=1)]
    for dx, dy, dz in itertools.product((-1, 0, 1), repeat=3):
        offset = (dx * (2 * span + 1) + dy) * (2 * span + 1) + dz
        if offset <= 0:
            continue  # each touching pair once
        position = np.searchsorted(unique, unique + offset)
        found = position < len(unique)
        found[found] = unique[position[found]] == unique[found] + offset
        edges.append(np.stack([first[found], first[position[found]]], axis=1))
    return np.concatenate(edges)


def near_duplicate_pairs(features, n: int, threshold: float, exact_limit: int = 20_000) -> np.ndarray:
    """Pairs of rows whose unit feature vectors have an inner product of at least `threshold`.
    Up to `exact_limit` rows every pair is compared (in blocks); above it the rows are clustered
    with k-means (about sqrt(n) clusters) and compared within each cluster only, which finds
    near-duplicates (they fall in one cluster) without the n^2 cost; a pair split by a cluster
    boundary can be missed."""
    if n <= exact_limit:
        return _pairs_within(features, np.arange(n), threshold)
    import faiss

    sample = np.sort(np.random.default_rng(0).choice(n, min(n, 100_000), replace=False))
    training = np.asarray(features[sample], dtype=np.float32)
    kmeans = faiss.Kmeans(training.shape[1], int(math.sqrt(n)), niter=10, seed=0, spherical=True)
    kmeans.train(training)
    cluster = np.empty(n, np.int64)
    for start in range(0, n, 65_536):
        rows = np.arange(start, min(start + 65_536, n))
        cluster[rows] = kmeans.index.search(np.asarray(features[rows], dtype=np.float32), 1)[1][:, 0]
    order = np.argsort(cluster, kind="stable")
    bounds = np.flatnonzero(np.diff(cluster[order])) + 1
    return np.concatenate([_pairs_within(features, members, threshold)
                           for members in np.split(order, bounds)] or [np.zeros((0, 2), np.int64)])


def _pairs_within(features, rows: np.ndarray, threshold: float) -> np.ndarray:
    vectors = np.asarray(features[rows], dtype=np.float32)
    found = []
    for start in range(0, len(rows), 1024):
        a, b = np.nonzero(vectors[start:start + 1024] @ vectors.T >= threshold)
        keep = a + start < b
        found.append(np.stack([rows[a[keep] + start], rows[b[keep]]], axis=1))
    return np.concatenate(found) if found else np.zeros((0, 2), np.int64)


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


class CellTargets:
    """Training targets over geocells: one-hot, or smoothed by the great-circle distance between cell
    centroids (exp(-d / smoothing_km)). Computed per batch, so memory is batch x cells, not cells^2."""

    def __init__(self, cells: Partition, smoothing_km: float | None, device=None):
        lat, lon = cells.centroids()
        self.centres = torch.from_numpy(to_unit_vectors(lat, lon)).float().to(device)
        self.smoothing_km = smoothing_km

    def __call__(self, labels: torch.Tensor) -> torch.Tensor:
        if not self.smoothing_km:
            return F.one_hot(labels, len(self.centres)).float()
        cosine = (self.centres[labels] @ self.centres.T).clamp(-1.0, 1.0)
        soft = torch.exp(-torch.arccos(cosine) * EARTH_RADIUS_KM / self.smoothing_km)
        return soft / soft.sum(dim=1, keepdim=True)

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy of the cell logits against these targets."""
        return torch.sum(-self(labels) * logits.log_softmax(dim=1), dim=1).mean()


def labelled_split(lat, lon, groups: np.ndarray, options: TrainOptions):
    """Geocells of the coordinates, each photo's cell, and grouped (train, validation) indices of the
    photos whose cell was kept."""
    cells = partition(lat, lon, options.t_max, options.t_min)
    if len(cells) < 2:
        raise OptionError(f"only {len(cells)} geocell(s) with at least {options.t_min} photos: too few photos or "
                          "too narrow an area to learn from; lower t_min/t_max or add photos")
    labels = cells.assign(lat, lon)
    train_idx, val_idx = grouped_split(groups, options.validation, options.seed)
    return cells, labels, train_idx[labels[train_idx] >= 0], val_idx[labels[val_idx] >= 0]


def fit(modules: Sequence[nn.Module], optimiser: torch.optim.Optimizer, targets: CellTargets, labels: torch.Tensor,
        logits_of: Callable[[np.ndarray, bool], torch.Tensor], train_rows: np.ndarray, validation_rows: np.ndarray,
        shuffle: Callable[[int], np.ndarray], epochs: int, patience: int, batch_size: int, validation_batch: int,
        should_stop: StopCheck | None = None, on_step: Callable[[int, int, int], None] | None = None,
        on_epoch: Callable[[int, float, float], None] | None = None) -> list[tuple]:
    """The training loop of both routes (the head alone, and fine-tuning): each epoch, minibatch steps
    over `shuffle(epoch)` (the training rows in that epoch's order), then the validation loss and cell
    accuracy over `validation_rows` (the training rows where none are held out). Stops after `patience`
    epochs without a lower validation loss and leaves the modules with the weights of the best epoch, in
    eval mode. `logits_of(rows, training)` runs the network on those rows; `labels` are every row's cells.
    Returns the history: (epoch, training loss, validation loss, validation accuracy) per epoch."""
    monitored = validation_rows if len(validation_rows) else train_rows
    history, best, best_state, waited = [], math.inf, None, 0
    for epoch in range(1, epochs + 1):
        order = shuffle(epoch)
        steps = max(1, math.ceil(len(order) / batch_size))
        for module in modules:
            module.train()
        total = 0.0
        for step, start in enumerate(range(0, len(order), batch_size), start=1):
            check_stop(should_stop)
            rows = order[start:start + batch_size]
            loss = targets.loss(logits_of(rows, True), labels[torch.from_numpy(rows)])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(rows)
            if on_step is not None:
                on_step(epoch, step, steps)
        for module in modules:
            module.eval()
        with torch.no_grad():  # batch by batch: all validation logits at once are photos x cells (OOM at 1M)
            loss_sum, correct = 0.0, 0
            for start in range(0, len(monitored), validation_batch):
                rows = monitored[start:start + validation_batch]
                logits, truth = logits_of(rows, False), labels[torch.from_numpy(rows)]
                loss_sum += float(F.cross_entropy(logits, truth, reduction="sum"))
                correct += int((logits.argmax(dim=1) == truth).sum())
            validation_loss, accuracy = loss_sum / len(monitored), correct / len(monitored)
        history.append((epoch, total / max(len(train_rows), 1), validation_loss, accuracy))
        if on_epoch is not None:
            on_epoch(epoch, validation_loss, accuracy)
        if validation_loss < best - 1e-4:
            best, waited = validation_loss, 0
            best_state = [{k: v.detach().cpu().clone() for k, v in module.state_dict().items()} for module in modules]
        else:
            waited += 1
            if waited >= patience:
                break
    for module, state in zip(modules, best_state or []):
        module.load_state_dict(state)
    for module in modules:
        module.eval()
    return history


def train_head(features: np.ndarray, lat, lon, groups: np.ndarray, options: TrainOptions | None = None,
               progress: ProgressCallback | None = None, should_stop: StopCheck | None = None) -> TrainedHead:
    """Partition the coordinates into geocells and train the head with early stopping on a grouped
    validation split. Photos in dropped cells are not trained on."""
    options = options or TrainOptions()
    torch.manual_seed(options.seed)
    cells, labels, train_idx, val_idx = labelled_split(lat, lon, groups, options)
    head = GeoHead(features.shape[1], options.hidden, options.geo_dim, len(cells))
    optimiser = torch.optim.AdamW(head.parameters(), lr=options.learning_rate, weight_decay=options.weight_decay)
    generator = torch.Generator().manual_seed(options.seed)

    def report_epoch(epoch: int, validation_loss: float, accuracy: float) -> None:
        report(progress, epoch, options.epochs, "train", f"epoch {epoch}: validation loss {validation_loss:.3f}, "
                                                         f"cell accuracy {accuracy:.1%}")

    history = fit([head], optimiser, CellTargets(cells, options.smoothing_km), torch.from_numpy(labels),
                  lambda rows, training: head(_rows(features, rows))[1], train_idx, val_idx,
                  lambda epoch: train_idx[torch.randperm(len(train_idx), generator=generator).numpy()],
                  options.epochs, options.patience, options.batch_size, 8192, should_stop, on_epoch=report_epoch)
    return TrainedHead(head, cells, options, history)


def _rows(features, indices) -> torch.Tensor:
    """Rows of an array-like (an ndarray or a database's vector reader) as a float32 tensor."""
    return torch.from_numpy(np.ascontiguousarray(features[np.asarray(indices)], dtype=np.float32))


@dataclass
class TrainingData:
    """What training needs from a database: record ids, their stored base features (read from the
    vector file as batches ask for them, never all at once), locations and groups."""

    ids: np.ndarray
    features: object  # rows of base features by position: StoredFeatures or an ndarray
    lat: np.ndarray
    lon: np.ndarray
    groups: np.ndarray


class StoredFeatures:
    """A database's stored embeddings by row position, read on demand (an ndarray's fancy indexing)."""

    def __init__(self, database, ids: np.ndarray):
        self.database = database
        self.ids = ids
        self.shape = (len(ids), database.identity.dimension)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, rows) -> np.ndarray:
        return self.database.embeddings(self.ids[np.asarray(rows)])


def training_data(database) -> TrainingData:
    ids, lat, lon = database.locations()
    owner = next((f for f in GROUP_FIELDS if database.has_attribute(f)), None)
    attributes = [{owner: value} for value in database.attribute_values(owner)] if owner else None
    features = StoredFeatures(database, ids)
    return TrainingData(ids, features, lat, lon, photo_groups(lat, lon, attributes, features))
