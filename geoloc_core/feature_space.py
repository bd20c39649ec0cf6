"""Feature spaces: what a photo's features are compared in when it is located.

The base space is the embedder's own features, searched in the references' own index. A trained view
(`python -m geoloc_core train`) is a learned space over one database: its head maps base features (or,
for a fine-tuned view, its own backbone's features) to a geo-embedding searched in the view's own
index, and gives each photo's probabilities over the view's geocells. Both offer `encode(features)`
and `search(vectors, k)`, so that locating never looks inside a view.

This module owns a view's whole life: saving, loading, switching, keeping its index current as photos
are added (ingest.py calls `view_kept_current`) and its geocells, kept in the database's SQLite table.
The database only stores records, vectors and its index and names the active view in its manifest;
training only trains:

    <database>/views/<name>/
        view.json      base embedder, head (and backbone) SHA-256, geo_dim, cells, training options
        head.npz       the head's weights (numpy arrays, never pickled)
        backbone.npz   the fine-tuned network's weights (end-to-end views only)
        index.faiss    flat inner-product index over every record's geo-embedding, ids = record ids
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Union

import faiss
import numpy as np

from .defaults import DEFAULT_VIEW_NAME
from .errors import DamagedDatabaseError, DatabaseError, EmbedderMismatchError
from .finetune import FinetuneOptions, finetune, finetuned_embedder
from .geocells import Partition
from .identity import EmbedderIdentity
from .progress import ProgressCallback, StopCheck
from .search_index import query_matrix
from .storage import atomic_write, atomic_write_json, utc_now
from .training import TrainedHead, TrainOptions, train_head, training_data, weights_sha256

if TYPE_CHECKING:
    from .database import ReferenceDatabase
    from .embedders import Embedder

VIEWS = "views"
VIEW_FILE, HEAD_FILE, BACKBONE_FILE, INDEX_FILE = "view.json", "head.npz", "backbone.npz", "index.faiss"
ENCODE_BATCH = 4096  # records encoded at a time when a view's index is filled


@dataclass
class Encoded:
    """Photos in a feature space: the vectors its index is searched with and, in a trained view, each
    photo's probabilities over the view's geocells (None in the base space)."""

    vectors: np.ndarray
    cell_probabilities: np.ndarray | None = None


class BaseSpace:
    """The embedder's own features, searched in the references' own index (a database or a SearchSet)."""

    backbone = None  # photos are embedded with the base embedder

    def __init__(self, references):
        self.references = references

    def encode(self, features: np.ndarray) -> Encoded:
        return Encoded(features)

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Similarities and record ids of the k nearest references per query (-inf and -1 past the end)."""
        return self.references.search(vectors, k)


@dataclass
class TrainedView:
    """A learned feature space over one database: the head, its geocells, its own index and, for the
    end-to-end route, the fine-tuned network that embeds photos for it."""

    name: str
    identity: dict  # what view.json holds
    trained: TrainedHead
    index: faiss.Index  # over the records' geo-embeddings, ids = record ids
    backbone: Embedder | None = None  # None: the head takes the base embedder's features

    @property
    def partition(self) -> Partition:
        return self.trained.partition

    def encode(self, features: np.ndarray) -> Encoded:
        return Encoded(*self.trained.transform(features))

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Similarities and record ids of the k nearest references per geo-embedding."""
        return self.index.search(query_matrix(vectors, self.index.d), int(k))

    def cell_evidence(self, probabilities: np.ndarray, lat, lon) -> tuple[np.ndarray, tuple[float, float]]:
        """One photo's cell probabilities as the estimators take them: the probability of the cell of each
        neighbour at (lat, lon), and the centroid of the most probable cell."""
        return self.partition.probability_at(probabilities, lat, lon), self.partition.most_probable(probabilities)

    def manifest_entry(self) -> dict:
        """What the database's manifest lists about this view."""
        return {key: self.identity[key] for key in ("head_sha256", "geo_dim", "cells")}

    # -- the view's index over a database's records ---------------------------------------------------

    def inputs(self, database: ReferenceDatabase, ids: list[int]) -> tuple[list[int], np.ndarray]:
        """The features the head takes for these records: the stored base embeddings, or for a fine-tuned
        view the photos embedded again with its backbone (unreadable photos left out, with a warning)."""
        if self.backbone is None:
            return ids, database.embeddings(ids)
        records = database.records(ids)
        outcome = self.backbone.embed_paths([records[i].path for i in ids])
        for failure in outcome.failures:
            database.warnings.append(f"trained view '{self.name}' leaves out {failure}")
        return [ids[i] for i in outcome.indices], outcome.features

    def add(self, database: ReferenceDatabase, ids: list[int]) -> None:
        """Encode these records into the view's index (in memory; `write_index` keeps it)."""
        for start in range(0, len(ids), ENCODE_BATCH):
            kept, inputs = self.inputs(database, ids[start:start + ENCODE_BATCH])
            if kept:
                self.index.add_with_ids(self.encode(inputs).vectors, np.asarray(kept, dtype=np.int64))

    def write_index(self, database: ReferenceDatabase) -> None:
        target = view_folder(database.path, self.name) / INDEX_FILE
        atomic_write(target, lambda tmp: faiss.write_index(self.index, str(tmp)))

    def records_added(self, database: ReferenceDatabase, ids: list[int]) -> None:
        """Keep the view's index covering the database after an add."""
        self.add(database, ids)
        self.write_index(database)

    # -- persistence ------------------------------------------------------------------------------------

    @classmethod
    def create(cls, database: ReferenceDatabase, name: str, trained: TrainedHead,
               backbone_arrays: dict | None = None) -> TrainedView:
        """Write a trained head (and, for the end-to-end route, its fine-tuned backbone) beside the
        database: weights as .npz, an index over every record's geo-embedding, the geocells in the
        database's table. The caller holds the writer lock and switches the manifest to the view last."""
        if not name.replace("-", "").replace("_", "").isalnum():
            raise DatabaseError(f"view name '{name}' must be letters, digits, - and _")
        folder = view_folder(database.path, name)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = trained.arrays()
        atomic_write(folder / HEAD_FILE, lambda tmp: np.savez(tmp, **arrays))
        identity = {"name": name, "base": database.identity.to_dict(), "database_id": database.database_id,
                    "head_sha256": trained.sha256(),
                    "geo_dim": trained.options.geo_dim, "cells": len(trained.partition),
                    "options": trained.options_dict(), "created": utc_now()}
        backbone = None
        if backbone_arrays is not None:
            atomic_write(folder / BACKBONE_FILE, lambda tmp: np.savez(tmp, **backbone_arrays))
            identity["backbone_sha256"] = weights_sha256(backbone_arrays)
            backbone = finetuned_embedder(database.identity, backbone_arrays, name)
        atomic_write_json(folder / VIEW_FILE, identity)
        view = cls(name, identity, trained, _empty_index(trained.options.geo_dim), backbone)
        view.add(database, database.all_ids())
        view.write_index(database)
        store_geocells(database, name, trained.partition.to_rows())
        return view

    @classmethod
    def load(cls, database: ReferenceDatabase, name: str) -> TrainedView:
        """A stored view, checked against its recorded hashes and the database's embedder; an index that
        is missing or out of date is rebuilt (and kept, when the database is writable)."""
        folder = view_folder(database.path, name)
        unreadable = f"{database.path}: damaged database: trained view '{name}' is unreadable"
        try:
            identity = json.loads((folder / VIEW_FILE).read_text(encoding="utf-8"))
            base = EmbedderIdentity.from_dict(identity["base"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DamagedDatabaseError(f"{unreadable} ({exc})") from None
        if base != database.identity:
            raise EmbedderMismatchError(
                f"{database.path}: trained view '{name}' was trained on features of {base.describe()}, but this "
                f"database holds features of {database.identity.describe()}; train it again on this database")
        try:
            arrays = _read_arrays(folder / HEAD_FILE)
            options = TrainOptions(**identity["options"])
            trained = TrainedHead.from_arrays(arrays, Partition.from_rows(stored_geocells(database, name)), options)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise DamagedDatabaseError(f"{unreadable} ({exc})") from None
        if trained.sha256() != identity["head_sha256"]:
            raise DamagedDatabaseError(f"{database.path}: damaged database: the weights of trained view '{name}' do "
                                       "not match their recorded hash")
        backbone = None
        if "backbone_sha256" in identity:
            try:
                backbone_arrays = _read_arrays(folder / BACKBONE_FILE)
            except (OSError, ValueError) as exc:
                raise DamagedDatabaseError(f"{database.path}: damaged database: the backbone of trained view '{name}' "
                                           f"is unreadable ({exc})") from None
            if weights_sha256(backbone_arrays) != identity["backbone_sha256"]:
                raise DamagedDatabaseError(f"{database.path}: damaged database: the backbone of trained view '{name}' "
                                           "does not match its recorded hash")
            backbone = finetuned_embedder(database.identity, backbone_arrays, name)
        try:
            index = faiss.read_index(str(folder / INDEX_FILE))
        except RuntimeError:
            index = None
        view = cls(name, identity, trained, index, backbone)
        if index is None or (index.ntotal != database.count and backbone is None):
            view.index = _empty_index(options.geo_dim)
            view.add(database, database.all_ids())
            database.warnings.append(f"{database.path}: index of trained view '{name}' was out of date; rebuilt it")
            if database.writable:
                view.write_index(database)
        return view


FeatureSpace = Union[BaseSpace, TrainedView]


def load_view(database: ReferenceDatabase, name: str) -> TrainedView:
    """A stored view of this database (the database attaches its active one when opened)."""
    return TrainedView.load(database, name)


def save_view(database: ReferenceDatabase, name: str, trained: TrainedHead,
              backbone_arrays: dict | None = None) -> TrainedView:
    """Store a trained head (and a fine-tuned backbone's weights) as a view and make it active. Its
    files are written first and the manifest switches to it last, so a crash keeps the previous state."""
    with database.writing():
        view = TrainedView.create(database, name, trained, backbone_arrays)
        database.set_active_view(name, view, saved=view.manifest_entry())
    return view


def use_view(database: ReferenceDatabase, name: str | None) -> None:
    """Make a stored view active (None: search the base features again)."""
    with database.writing():
        if name is not None and not database.has_view(name):
            raise DatabaseError(f"{database.path}: no trained view named '{name}'")
        database.view = None
        database.set_active_view(name, load_view(database, name) if name is not None else None)


@contextlib.contextmanager
def view_kept_current(database: ReferenceDatabase):
    """Encode the records added in this block into the active view's index when it ends, also when it
    ends early (what was committed is searched in the view too). The caller holds `writing()`."""
    before = database.count
    try:
        yield
    finally:
        if database.view is not None and database.count > before:
            database.view.records_added(database, list(range(before + 1, database.count + 1)))


def store_geocells(database: ReferenceDatabase, view: str, rows: Sequence[tuple]) -> None:
    """A view's geocells (geocells.Partition.to_rows), replacing those stored under its name."""
    with database.metadata_transaction() as connection:
        connection.execute("DELETE FROM geocells WHERE view = ?", (view,))
        connection.executemany("INSERT INTO geocells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               [(view, *row) for row in rows])


def stored_geocells(database: ReferenceDatabase, view: str) -> list[tuple]:
    """A view's geocells as stored, in their partition's order (geocells.Partition.from_rows)."""
    return database.metadata_rows(
        "SELECT token, face, level, i, j, count, lat, lon FROM geocells WHERE view = ? ORDER BY rowid", (view,))


def space_of(references) -> FeatureSpace:
    """The space a database (or a SearchSet) is searched in: its active trained view, else the base features."""
    view = getattr(references, "view", None)
    return view if view is not None else BaseSpace(references)


def view_folder(database_path: Path, name: str) -> Path:
    return Path(database_path) / VIEWS / name


def _empty_index(geo_dim: int) -> faiss.Index:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(geo_dim))


def _read_arrays(file: Path) -> dict[str, np.ndarray]:
    with np.load(file, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}


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


def train_view(database: ReferenceDatabase, name: str = DEFAULT_VIEW_NAME, options: TrainOptions | None = None,
               finetune_options: FinetuneOptions | None = None, progress: ProgressCallback | None = None,
               should_stop: StopCheck | None = None) -> TrainingSummary:
    """Train on a writable database, by the head route or (with `finetune_options`) end to end, and make
    the result its active view."""
    data = training_data(database)
    backbone = None
    if finetune_options is not None:
        paths = [record.path for record in database.all_records()]
        trained, backbone = finetune(database.identity, paths, data.lat, data.lon, data.groups, options,
                                     finetune_options, progress, should_stop)
    else:
        trained = train_head(data.features, data.lat, data.lon, data.groups, options, progress, should_stop)
    view = save_view(database, name, trained, backbone)
    return TrainingSummary(view.name, len(data.ids), len(np.unique(data.groups)), trained)
