"""Finding photo files, and the error every per-photo problem is reported with (no imaging library
needed, so that QGIS can list photos before the engine's packages are installed)."""

from __future__ import annotations

import os
from pathlib import Path

PHOTO_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif"})


class PhotoError(Exception):
    """A photo that cannot be used; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def is_photo_file(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in PHOTO_EXTENSIONS


def find_photos(folder: str | os.PathLike, recursive: bool = True) -> list[Path]:
    """Photo files under a folder, sorted, hidden files and folders skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PhotoError(folder, "is not a folder")
    pattern = folder.rglob("*") if recursive else folder.glob("*")
    return sorted(
        p for p in pattern
        if p.is_file() and is_photo_file(p) and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
