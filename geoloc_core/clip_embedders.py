"""Embedders fetched on the user's request: the CLIP ViT-B/32 and ViT-L/14 image towers (transformers'
CLIPVisionModelWithProjection) and GeoCLIP's image encoder (CLIP ViT-L/14 + the MLP head shipped in
the `geoclip` wheel). They need the optional packages of requirements-clip.txt; the bundled Lite0
works without them and without a network.

Nothing is fetched unless asked (`download_model`, CLI `download-model`, the panel's Download button).
The hub's API lists the model's files at a revision with their sizes and checksums (so the size is
known before any large transfer: GET /api/models/{repo}/revision/{revision}?blobs=true, the request
huggingface_hub's `model_info(files_metadata=True)` makes; `sha` is the commit, each sibling has
`rfilename`, `size`, `blobId` and, for LFS files, `lfs` = {sha256, size, pointerSize}, where the
blobId is the pointer's and only `lfs.sha256` identifies the bytes), the revision is pinned to the
commit it names, and each file comes as a plain HTTPS file through download.py (resume from a `.part`
file, progress, cancel, SHA-256 for the weights, the git blob id for the small JSON files).
`complete.json` is written last: a model folder without it is never loaded. The hub's address is GEOLOC_MODEL_HUB (default https://huggingface.co),
so that tests serve tiny models from 127.0.0.1.

The embedder identity records the hub model id and commit in `preprocessing` and the weights' SHA-256
(for GeoCLIP, of the backbone's and the head's together), so a database built with one model is
refused by any other.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .defaults import default_profile_data_dir
from .download import DownloadError, download, file_sha256
from .embedder_registry import EmbedderEntry, LoadRequest, downloadable, embedder_entry
from .errors import EmbedderError, OptionError
from .identity import EmbedderIdentity
from .progress import Progress, ProgressCallback, StopCheck, report
from .storage import atomic_write_json

HUB_ENV = "GEOLOC_MODEL_HUB"
DEFAULT_HUB = "https://huggingface.co"
MODELS_DIR_ENV = "GEOLOC_MODELS_DIR"
MODEL_FILES = ("config.json", "preprocessor_config.json", "model.safetensors")
COMPLETE = "complete.json"
LISTING = "listing.json"
POOLING = "clip-projection"  # the model's own projection of the class token: no pooling choice
INSTALL_HINT = "pip install -r requirements-clip.txt (transformers, safetensors; geoclip for GeoCLIP)"


DOWNLOADABLE = downloadable()


def choice(name: str) -> EmbedderEntry:
    """The registered model fetched on request of this name (its `download` says from where)."""
    entry = embedder_entry(name)
    if entry is None or entry.download is None:
        raise OptionError(f"unknown downloadable model '{name}'; choose one of {', '.join(DOWNLOADABLE)}")
    return entry


def default_models_dir() -> Path:
    """GEOLOC_MODELS_DIR, else the QGIS default profile's photo_geolocator/models (the plugin passes its
    own profile's folder)."""
    if os.environ.get(MODELS_DIR_ENV):
        return Path(os.environ[MODELS_DIR_ENV])
    return default_profile_data_dir() / "models"


def hub_url() -> str:
    return os.environ.get(HUB_ENV, DEFAULT_HUB).rstrip("/")


def model_folder(name: str, models_dir: str | os.PathLike | None = None) -> Path:
    """Where a model's files live; ViT-L/14 and GeoCLIP share one backbone download."""
    folder = Path(models_dir) if models_dir else default_models_dir()
    return folder / choice(name).download.repo_id.replace("/", "__")


def installed_model(name: str, models_dir: str | os.PathLike | None = None) -> dict | None:
    """The record of a complete download (repo_id, revision, files with sizes and hashes), else None."""
    return _installed_record(model_folder(name, models_dir))


def _installed_record(folder: Path) -> dict | None:
    try:
        return json.loads((folder / COMPLETE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def missing_packages(name: str) -> list[str]:
    return choice(name).missing_requirements()


def availability(name: str, models_dir: str | os.PathLike | None = None) -> str | None:
    """None when the model can be loaded now; else the one line saying what it needs (offline too)."""
    return _folder_problem(name, model_folder(name, models_dir))


def download_problem(name: str, models_dir: str | os.PathLike | None = None) -> str | None:
    """None when the model's files are here; else the line saying what to download. For a caller whose
    engine runs in another Python (whose packages it cannot see), the part of `availability` it can check."""
    return _download_problem(name, model_folder(name, models_dir))


def _folder_problem(name: str, folder: Path) -> str | None:
    missing = missing_packages(name)
    if missing:
        return f"{name} needs the Python packages {', '.join(missing)}: {INSTALL_HINT}"
    return _download_problem(name, folder)


def _download_problem(name: str, folder: Path) -> str | None:
    spec = choice(name).download
    if _installed_record(folder) is None:
        # the command downloads into the default profile unless told the folder asked for (QGIS's running one)
        elsewhere = f" --models-dir {folder.parent}" if folder.parent != default_models_dir() else ""
        return (f"{name} needs {spec.repo_id} (about {spec.approx_bytes / 1e9:.1f} GB) downloaded into "
                f"{folder}: run `python -m geoloc_core download-model {name}{elsewhere}` or press Download in "
                "the panel (needs internet once); the bundled efficientnet_lite0 works offline")
    return None


# -- download ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HubFile:
    name: str
    size: int
    sha256: str | None  # LFS files (the weights)
    blob_id: str | None  # git blob SHA-1 (small files kept in git)


@dataclass(frozen=True)
class HubListing:
    repo_id: str
    revision: str  # the commit the revision named when listed
    files: tuple[HubFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def _listing_url(repo_id: str, revision: str) -> str:
    return f"{hub_url()}/api/models/{repo_id}/revision/{urllib.parse.quote(revision, safe='')}?blobs=true"


def list_model_files(name: str, models_dir: str | os.PathLike | None = None, revision: str = "main",
                     should_stop: StopCheck | None = None) -> HubListing:
    """Ask the hub which files the model has at `revision` (a few kB): sizes and checksums up front."""
    spec = choice(name).download
    url = _listing_url(spec.repo_id, revision)
    path = download(url, model_folder(name, models_dir) / LISTING, should_stop=should_stop)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        siblings = {s["rfilename"]: s for s in data["siblings"]}
        commit = str(data["sha"])
    except (ValueError, KeyError, TypeError) as exc:
        raise DownloadError(f"{url}: not a model listing ({exc.__class__.__name__}: {exc})") from None
    missing = [f for f in MODEL_FILES if f not in siblings]
    if missing:
        raise DownloadError(f"{url}: {spec.repo_id} at {revision} has no {', '.join(missing)}; choose a revision "
                            "that has safetensors weights")
    files = []
    for file in MODEL_FILES:
        entry = siblings[file]
        lfs = entry.get("lfs") or {}
        size = lfs.get("size", entry.get("size"))
        if size is None or (not lfs.get("sha256") and not entry.get("blobId")):
            raise DownloadError(f"{url}: the listing gives no size or checksum for {file}")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise DownloadError(f"{url}: the listing gives {str(size)[:40]!r} as the size of {file}, not a number of bytes")
        files.append(HubFile(file, size, lfs.get("sha256"), entry.get("blobId")))
    return HubListing(spec.repo_id, commit, tuple(files))


def git_blob_id(path: Path) -> str:
    """The git object id of a file's bytes, which the hub gives for files kept in git (not LFS)."""
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def download_model(name: str, models_dir: str | os.PathLike | None = None, revision: str = "main",
                   progress: ProgressCallback | None = None, should_stop: StopCheck | None = None,
                   listing: HubListing | None = None) -> dict:
    """Fetch a model's files (resuming what an earlier attempt left) and return its installed record.
    Raises DownloadError (unreachable, HTTP error, checksum mismatch: the bad file is deleted) or
    Cancelled (finished files and the `.part` file are kept for the next call)."""
    folder = model_folder(name, models_dir)
    installed = installed_model(name, models_dir)
    if installed is not None and revision in ("main", installed["revision"]):
        return installed
    listing = listing or list_model_files(name, models_dir, revision, should_stop)
    (folder / COMPLETE).unlink(missing_ok=True)  # another revision: not loadable until all its files are here
    total, done = listing.total_bytes, 0
    hashes = {}
    for file in listing.files:
        target = folder / file.name
        url = f"{hub_url()}/{listing.repo_id}/resolve/{listing.revision}/{file.name}"
        if not _verified(target, file):
            target.unlink(missing_ok=True)

            def overall(event: Progress, before=done, name=file.name) -> None:
                report(progress, before + event.done, total, "download", name)

            download(url, target, file.sha256, overall, should_stop)
            if file.sha256 is None:
                _check_blob(url, target, file.blob_id)
        done += file.size
        report(progress, done, total, "download", file.name)
        hashes[file.name] = file_sha256(target, should_stop)
    record = {"name": name, "repo_id": listing.repo_id, "revision": listing.revision, "hub": hub_url(),
              "files": {f.name: {"size": f.size, "sha256": hashes[f.name]} for f in listing.files}}
    atomic_write_json(folder / COMPLETE, record)
    return record


def _check_blob(url: str, target: Path, expected: str | None) -> None:
    actual = git_blob_id(target)
    if actual != expected:
        target.unlink()
        raise DownloadError(f"{url}: checksum mismatch (git blob {actual}, expected {expected}): the file is "
                            "corrupted or not the one published; it was deleted")


def _verified(target: Path, file: HubFile) -> bool:
    """A file a previous attempt finished, with the published bytes (it is not fetched again)."""
    if not target.is_file() or target.stat().st_size != file.size:
        return False
    return file_sha256(target) == file.sha256 if file.sha256 else git_blob_id(target) == file.blob_id


# -- loading -----------------------------------------------------------------------------------------

def geoclip_weights_dir() -> Path:
    """The folder of GeoCLIP's head, location encoder and logit scale inside the installed wheel."""
    import importlib.util

    spec = importlib.util.find_spec("geoclip")
    if spec is None or spec.origin is None:
        raise EmbedderError(f"GeoCLIP needs the Python package geoclip: {INSTALL_HINT}")
    return Path(spec.origin).parent / "model" / "weights"


def _resolve_folder(name: str, weights: str | os.PathLike | None) -> Path:
    """`weights` may name the model's own folder or a models folder holding it (None: the default one)."""
    if weights is not None and (Path(weights) / COMPLETE).is_file():
        return Path(weights)
    return model_folder(name, weights)


def load_registered(request: LoadRequest):
    """The registry's loader: `request.weights` is the model's folder or a models folder (pooling and
    folding do not apply to CLIP's projection)."""
    return load_downloaded(request.architecture, request.weights)


def load_downloaded(name: str, weights: str | os.PathLike | None = None):
    """The embedder of a downloaded model; an EmbedderError that says what to install or download when
    it is not here."""
    import torch

    folder = _resolve_folder(name, weights)
    problem = _folder_problem(name, folder)
    if problem:
        raise EmbedderError(problem)
    record = _installed_record(folder)
    for file, expected in record["files"].items():  # hashed once at download; a changed size means damage
        size = (folder / file).stat().st_size if (folder / file).is_file() else None
        if size != expected["size"]:
            raise EmbedderError(f"{folder / file}: {size if size is not None else 'no'} bytes where the download "
                                  f"had {expected['size']}; delete {folder} and download {name} again")
    model = _vision_model(folder)
    preprocessor = _read_json(folder / "preprocessor_config.json")
    size = preprocessor.get("crop_size", 224)
    size = int(size["height"] if isinstance(size, dict) else size)
    normalisation = (tuple(preprocessor["image_mean"]), tuple(preprocessor["image_std"]))
    weights_sha256 = record["files"]["model.safetensors"]["sha256"]
    dimension = int(model.config.projection_dim)
    head = None
    if choice(name).download.geoclip_head:
        head_file = geoclip_weights_dir() / "image_encoder_mlp_weights.pth"
        head = torch.nn.Sequential(torch.nn.Linear(dimension, 768), torch.nn.ReLU(), torch.nn.Linear(768, 512))
        try:
            head.load_state_dict(torch.load(head_file, map_location="cpu", weights_only=True))
        except RuntimeError as exc:
            raise EmbedderError(f"{head_file}: GeoCLIP's head does not fit {folder.name} "
                                  f"({str(exc).splitlines()[0]})") from None
        head.eval()
        weights_sha256 = hashlib.sha256(f"{weights_sha256}+{file_sha256(head_file)}".encode()).hexdigest()
        dimension = 512
    identity = EmbedderIdentity(
        name, weights_sha256, POOLING,
        f"{record['repo_id']}@{record['revision']}, centre-crop {size} bicubic, CLIP mean/std", dimension,
        str(folder))
    return clip_embedder_class()(model, identity, normalisation, size, head)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EmbedderError(f"{path}: unreadable model file ({exc}); download the model again") from None


def _vision_model(folder: Path):
    """CLIP's image tower with its projection, from a full CLIP checkpoint (the text tower is not loaded)."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    config = _read_json(folder / "config.json")
    vision = config.get("vision_config", config)
    # a full CLIP config keeps the projection size at the top level
    vision = {**vision, "projection_dim": config.get("projection_dim", vision.get("projection_dim", 512))}
    try:
        return CLIPVisionModelWithProjection.from_pretrained(
            folder, config=CLIPVisionConfig(**vision), local_files_only=True, use_safetensors=True).eval()
    except (OSError, RuntimeError, ValueError) as exc:
        raise EmbedderError(f"{folder}: not a loadable CLIP model ({' '.join(str(exc).split())[:300]})") from None


@lru_cache(maxsize=1)
def clip_embedder_class():
    """The embedder class, built on first use: it needs torch (through embedders), which listing the
    choices must not import."""
    import numpy as np

    from .embedders import Embedder

    class ClipEmbedder(Embedder):
        """CLIP's projected image embedding (then GeoCLIP's head, when it has one), L2-normalised."""

        def __init__(self, model, identity, normalisation, input_size: int, head=None):
            super().__init__(model, identity, normalisation, input_size=input_size)
            self.head = head

        def embed_crops(self, crops: Sequence[np.ndarray], should_stop: StopCheck | None = None) -> np.ndarray:
            import torch
            from torch.nn import functional as F

            from .embedders import NETWORK_MICRO_BATCH
            from .progress import check_stop

            outputs = []
            with torch.inference_mode():
                for start in range(0, len(crops), NETWORK_MICRO_BATCH):
                    check_stop(should_stop)
                    pixels = self._to_tensor(crops[start:start + NETWORK_MICRO_BATCH]).contiguous()
                    features = self.trunk(pixel_values=pixels).image_embeds
                    if self.head is not None:
                        features = self.head(features)
                    outputs.append(F.normalize(features, dim=1))
            return torch.cat(outputs).numpy().astype(np.float32)

    return ClipEmbedder

