"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"
sys.path.insert(0, str(REPO_ROOT))


def shared(*parts: str) -> Path:
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        sys.exit(f"this benchmark needs {path} (../shared beside the checkout)")
    return path


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
