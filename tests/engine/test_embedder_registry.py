"""The embedder registry: what it lists, that listing needs no torch, and that load_embedder goes through it."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from geoloc_core import embedder_registry
from geoloc_core.embedder_registry import EmbedderEntry, LoadRequest, downloadable, embedder_entry, list_embedders

from ..conftest import REPO_ROOT


def test_the_built_in_embedders_are_registered_with_the_default_first():
    names = [entry.name for entry in list_embedders()]
    assert names[0] == "efficientnet_lite0"
    assert {"efficientnet_lite1", "efficientnet_lite2", "clip_vit_b32", "clip_vit_l14", "geoclip"} <= set(names)
    assert downloadable() == ("clip_vit_b32", "clip_vit_l14", "geoclip")
    assert embedder_entry("geoclip").download.geoclip_head and "geoclip" in embedder_entry("geoclip").requirements
    assert embedder_entry("resnet50") is None, "torchvision classifiers are not listed one by one"


def test_a_name_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="already registered"):
        embedder_registry.register_embedder(replace(embedder_entry("clip_vit_b32"), label="another"))


def test_load_embedder_calls_the_registered_loader(monkeypatch):
    from geoloc_core.embedders import load_embedder

    monkeypatch.setitem(embedder_registry._REGISTRY, "echo", EmbedderEntry(
        "echo", "Echo", "gives its request back", f"{__name__}:echo_loader"))
    assert load_embedder("echo", "w.pt", "max", fold=False) == LoadRequest("echo", "w.pt", "max", False)


def echo_loader(request: LoadRequest) -> LoadRequest:
    return request


def test_listing_the_embedders_imports_no_network():
    code = ("import sys; from geoloc_core import cli; from geoloc_core.embedder_registry import list_embedders; "
            "list_embedders(); print(sorted({'torch', 'numpy', 'faiss'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_cli_help_names_every_registered_embedder():
    from geoloc_core.cli import build_parser

    text = build_parser()._subparsers._group_actions[0].choices["build"].format_help()
    for entry in list_embedders():
        assert entry.name in " ".join(text.split())
