"""A tiny random CLIP in the model hub's file layout, and the hub's API and files served from 127.0.0.1:
what the CLIP-family tests download and load through the real model path, with no network."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np

from .range_server import RangeServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"
TINY_SIZE = 32


def save_tiny_clip(folder: Path, seed: int = 0) -> Path:
    """A random full CLIP (vision + text towers) in the hub's file layout, projection 768 like ViT-L/14."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    torch.manual_seed(seed)
    config = CLIPConfig(
        projection_dim=768,
        text_config=dict(hidden_size=32, intermediate_size=37, num_hidden_layers=1, num_attention_heads=2,
                         vocab_size=99, max_position_embeddings=16),
        vision_config=dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2,
                           image_size=TINY_SIZE, patch_size=8))
    CLIPModel(config).save_pretrained(folder)
    CLIPImageProcessor(crop_size={"height": TINY_SIZE, "width": TINY_SIZE},
                       size={"shortest_edge": TINY_SIZE}).save_pretrained(folder)
    return folder


def git_blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class HubServer(RangeServer):
    """The model hub's API listing and its files at COMMIT, served from a folder on 127.0.0.1, in the hub's
    own format (GET /api/models/{repo}/revision/{revision}?blobs=true, as huggingface_hub's
    `model_info(files_metadata=True)` asks): `sha` is the commit; each sibling has `rfilename`, and with
    blobs=true `size` (the real file's), `blobId` (the git blob of what git holds: for a file in LFS, its
    pointer text) and, for LFS files, `lfs` = {sha256, size, pointerSize}. Without blobs=true the siblings
    are bare names, as on the hub."""

    def __init__(self, folder: Path):
        self.files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        super().__init__(self._route)

    def _route(self, path: str) -> bytes | None:
        route, _, query = path.partition("?")
        if route.startswith("/api/models/"):
            repo, _, revision = route.removeprefix("/api/models/").partition("/revision/")
            if revision not in ("main", COMMIT):
                return None
            return json.dumps(self.listing(repo, blobs="blobs=true" in query.split("&"))).encode()
        name = route.rsplit("/", 1)[-1]
        return self.files.get(name) if f"/resolve/{COMMIT}/" in route else None

    def listing(self, repo: str, blobs: bool = True) -> dict:
        siblings = []
        for name, data in self.files.items():
            if not blobs:
                siblings.append({"rfilename": name})
                continue
            entry = {"rfilename": name, "blobId": git_blob(data), "size": len(data)}
            if name.endswith(".safetensors"):  # kept in LFS: git holds a pointer, the hub gives its blob id
                sha256 = hashlib.sha256(data).hexdigest()
                pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {len(data)}\n"
                entry["blobId"] = git_blob(pointer.encode())
                entry["lfs"] = {"sha256": sha256, "size": len(data), "pointerSize": len(pointer)}
            siblings.append(entry)
        return {"_id": "0" * 24, "id": repo, "modelId": repo, "private": False, "sha": COMMIT,
                "lastModified": "2024-02-29T17:13:21.000Z", "tags": ["transformers", "safetensors", "clip"],
                "library_name": "transformers", "siblings": siblings}


def make_geotagged_csv(folder: Path, count: int = 10) -> Path:
    """Random-textured JPEGs and a path,lat,lon CSV: enough to build and search a database."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    rows = []
    for i in range(count):
        pixels = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        path = folder / f"p{i}.jpg"
        Image.fromarray(pixels).save(path)
        rows.append((str(path), 40.0 + i, -3.0 + 2 * i))
    listing = folder / "photos.csv"
    with open(listing, "w", newline="") as handle:
        csv.writer(handle).writerows([("path", "lat", "lon"), *rows])
    return listing
