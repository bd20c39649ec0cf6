"""Finding photo files, and the error every per-photo problem is reported with (no imaging library
needed, so that QGIS can list photos before the engine's packages are installed)."""

from __future__ import annotations

import csv
import errno
import os
import re
from pathlib import Path

from .errors import UserError
from .text import display_path, redact, short_text  # noqa: F401 (where the engine's modules look for them)

PHOTO_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif", ".gif"})
PATH_MAX = 4096  # Linux's limit on a path's length in bytes; longer paths cannot be opened


class PhotoError(UserError):
    """A photo that cannot be used; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path) if not isinstance(path, bytes) else os.fsdecode(path)
        self.reason = reason
        super().__init__(f"{display_path(self.path)}: {reason}")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")  # what spreadsheets read as the start of a formula
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # characters a reader may take for a line break


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


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet shows as the text it is: text that would run as a formula gets a leading
    apostrophe (OWASP's advice); a file name that is not valid UTF-8 is shown as its bytes."""
    if not isinstance(value, str):
        return value
    value = display_path(value)
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def write_csv(handle, fields, rows, lineterminator: str = "\r\n") -> None:
    """Rows as CSV with every text cell spreadsheet-safe; a row holding any control character is quoted
    whole, so that no reader splits it (the csv module quotes only its own line terminator's characters)."""
    plain = csv.DictWriter(handle, fieldnames=list(fields), lineterminator=lineterminator)
    quoted = csv.DictWriter(handle, fieldnames=list(fields), lineterminator=lineterminator, quoting=csv.QUOTE_ALL)
    plain.writeheader()
    for row in rows:
        safe = {name: spreadsheet_safe(value) for name, value in row.items()}
        risky = any(isinstance(value, str) and CONTROL.search(value) for value in safe.values())
        (quoted if risky else plain).writerow(safe)
