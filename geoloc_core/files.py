"""Finding photo files, and the error every per-photo problem is reported with (no imaging library
needed, so that QGIS can list photos before the engine's packages are installed)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .errors import UserError

PHOTO_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif", ".gif"})
PATH_MAX = 4096  # Linux's limit on a path's length in bytes; longer paths cannot be opened


class PhotoError(UserError):
    """A photo that cannot be used; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path) if not isinstance(path, bytes) else os.fsdecode(path)
        self.reason = reason
        super().__init__(f"{display_path(self.path)}: {reason}")


def is_photo_file(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in PHOTO_EXTENSIONS


def find_photos(folder: str | os.PathLike, recursive: bool = True, problems: list[PhotoError] | None = None,
                ) -> list[Path]:
    """Photo files under a folder, sorted, hidden files and folders skipped. A subfolder that cannot
    be read, or a photo whose path is too long to open, is appended to `problems` (raised where
    `problems` is None), never skipped in silence."""
    folder = Path(folder)
    if not os.path.isdir(folder):
        raise PhotoError(folder, "is not a folder")

    def report(problem: PhotoError) -> None:
        if problems is None:
            raise problem
        problems.append(problem)

    def unreadable(exc: OSError) -> None:
        report(PhotoError(exc.filename or folder, f"folder cannot be read ({os_reason(exc)})"))

    photos = []
    for root, subfolders, files in os.walk(folder, onerror=unreadable):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".")) if recursive else []
        for name in files:
            path = os.path.join(root, name)
            if name.startswith(".") or not is_photo_file(name):
                continue
            if len(os.fsencode(path)) >= PATH_MAX:
                report(PhotoError(path, f"path is too long to open (over {PATH_MAX} bytes)"))
            elif os.path.isfile(path):
                photos.append(Path(path))
            elif os.path.islink(path):
                report(PhotoError(path, "broken link (its target is missing)"))
    return sorted(photos)


def os_reason(exc: OSError) -> str:
    """An OSError's problem in words, without the path it names."""
    if exc.errno == errno.ENAMETOOLONG:
        return f"path is too long (over {PATH_MAX} bytes)"
    if exc.errno == errno.EACCES:
        return "permission denied"
    return exc.strerror or str(exc)

def display_path(path: str | os.PathLike) -> str:
    """A path (or text holding one) that any UTF-8 writer accepts: bytes of a file name that are not
    valid UTF-8 (kept by Python as surrogate escapes) are shown as \\xNN. Stable, so it can also serve
    as a stored identity where a writer (CSV, GeoPackage, SQLite) needs valid text."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:  # undecodable bytes of a file name: show them as the bytes they are
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # other lone surrogates (from JSON, say)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def storable_path(path: str | os.PathLike) -> str | bytes:
    """A path as SQLite (or JSON via os.fsdecode) can keep it and give back exactly: text where it is
    valid UTF-8, else the file name's raw bytes (stored as a BLOB). Read back with `path_from_stored`;
    show it with `display_path`."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        return text
    return text if display_path(text) == text else os.fsencode(text)


def path_from_stored(value: str | bytes) -> str:
    """The path `storable_path` stored, ready to open again."""
    return os.fsdecode(value) if isinstance(value, bytes) else value
