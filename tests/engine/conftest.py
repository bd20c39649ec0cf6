"""Fixtures of the engine's tests. These tests never import qgis (tests/engine/test_layout.py checks it):
they exercise geoloc_core as a plain Python library, the way the CLI and the external engine use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import shared_path


@pytest.fixture
def flickr_dir() -> Path:
    return shared_path("flickr-cc")
