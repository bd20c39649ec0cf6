"""The engine's error hierarchy, and the one place that turns a failure into the line a user reads: the
CLI, the Processing algorithms and the dock's tasks and panels all call `user_message`, so that every
entry point names the file and the problem the same way and none shows a traceback for a problem the
user can fix. Light (no numpy or torch), so that QGIS's Python uses it even where the engine runs in
another Python."""

from __future__ import annotations

import csv
import errno
from typing import TYPE_CHECKING

from .files import PhotoError, display_path, redact

if TYPE_CHECKING:
    from .identity import EmbedderIdentity

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class UserError(Exception):
    """A request that cannot be done as asked (a bad option, a missing folder); the message says why."""


class EngineError(UserError):
    """The engine in another Python could not run or crashed; the message (lines at times) is for the user."""


class EmbedderError(Exception):
    """An embedder that cannot be built: unknown architecture, unreadable or mismatched weights."""


class ExportError(Exception):
    """An output that cannot be written as asked (exists, unknown format, no space)."""


class DatabaseError(Exception):
    """A database that cannot be used as asked; the message says which and why."""


class DamagedDatabaseError(DatabaseError):
    """Files of the database are missing, truncated, edited or from another database."""


class EmbedderMismatchError(DatabaseError):
    """The database was built with another embedder than the one offered."""

    @classmethod
    def for_search(cls, path, stored: EmbedderIdentity, offered: EmbedderIdentity) -> EmbedderMismatchError:
        return cls(f"{path}: this database was built with {stored.describe()}; "
                   f"it cannot be searched with {offered.describe()}")


def user_errors() -> tuple[type[BaseException], ...]:
    """The exception types whose message is for the user: bad input, bad options, full or read-only
    disks. Anything else is a bug and is reported as one (see `internal_message`). Light: QGIS's Python
    checks with it even where the engine's packages are another Python's."""
    return (UserError, PhotoError, DatabaseError, EmbedderError, ExportError, ValueError, OSError, csv.Error,
            MemoryError, UnicodeError)


def user_message(exc: BaseException) -> str:
    """One line naming the file (where known) and the problem."""
    if isinstance(exc, OSError) and exc.errno in NO_SPACE:
        where = f"{display_path(exc.filename)}: " if exc.filename else ""
        return f"{where}no space left on the disk; free some space and run the command again"
    if isinstance(exc, OSError) and exc.filename is not None:
        problem = exc.strerror or str(exc)
        if exc.errno == errno.ENOTDIR:
            problem = "is not a folder (a file is in the way)"
        elif exc.errno == errno.EISDIR:
            problem = "is a folder, not a file"
        elif exc.errno == errno.ENAMETOOLONG:
            problem = "path is too long"
        elif isinstance(exc, PermissionError):
            problem = "permission denied (the file or its folder is read-only or another user's)"
        other = f" -> {display_path(exc.filename2)}" if exc.filename2 else ""
        return f"{display_path(exc.filename)}{other}: {problem}"
    if isinstance(exc, MemoryError):
        return f"not enough memory for this request{f' ({exc})' if str(exc) else ''}; ask for less (fewer " \
               "neighbours, a coarser density raster, a smaller batch)"
    if isinstance(exc, UnicodeEncodeError) and isinstance(exc.object, str) and len(exc.object) <= 4096:
        return f"{display_path(exc.object)}: a name that is not valid UTF-8 cannot be written here ({exc.reason})"
    if isinstance(exc, UnicodeError):
        return f"a file name or text that is not valid UTF-8 ({getattr(exc, 'reason', exc)})"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return redact(display_path(text))


def internal_message(exc: BaseException) -> str:
    """A bug's one line: what failed, and how to get the details for a report."""
    return (f"internal error ({type(exc).__name__}: {redact(display_path(' '.join(str(exc).split())))}); this is a bug: "
            "run again with GEOLOC_CORE_DEBUG=1 for the traceback and report it")
