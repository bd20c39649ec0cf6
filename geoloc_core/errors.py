"""The engine's error hierarchy, and the one place that decides what a failure is: a `UserError` (or an
operating-system error the user can fix: a missing file, a permission, a full disk) is the user's, shown
as one line naming the file and the problem; anything else is a bug, shown with its traceback and a
"please report it" line. The CLI, the Processing algorithms and the dock's tasks and panels all ask
`is_user_error` and word the line with `user_message` or `internal_message`. Light (no numpy or torch),
so that QGIS's Python uses it even where the engine runs in another Python."""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from .text import display_path, redact

if TYPE_CHECKING:
    from .identity import EmbedderIdentity

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
# operating-system errors on a file the user named or chose: theirs to fix, not a bug
USER_ERRNOS = frozenset({errno.ENOENT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR,
                         errno.ENAMETOOLONG, errno.EEXIST, errno.ENOTEMPTY, errno.ELOOP, *NO_SPACE})
REPORT_LINE = "this is a bug, please report it"


class GeolocError(Exception):
    """The root of every error the engine raises on purpose."""


class UserError(GeolocError):
    """A request that cannot be done as asked (a bad option, a missing folder); the message says why."""


class OptionError(UserError, ValueError):
    """An option value out of its bounds (geoloc_core.options) or not one of its choices."""


class EngineError(UserError):
    """The engine in another Python could not run or crashed; the message (lines at times) is for the user."""


class EngineBug(GeolocError):
    """The engine in another Python failed with a bug; `details` holds its traceback for the log."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


class EmbedderError(UserError):
    """An embedder that cannot be built: unknown architecture, unreadable or mismatched weights."""


class ExportError(UserError):
    """An output that cannot be written as asked (exists, unknown format, no space)."""


class DatabaseError(UserError):
    """A database that cannot be used as asked; the message says which and why."""


class DamagedDatabaseError(DatabaseError):
    """Files of the database are missing, truncated, edited or from another database."""


class EmbedderMismatchError(DatabaseError):
    """The database was built with another embedder than the one offered."""

    @classmethod
    def for_search(cls, path, stored: EmbedderIdentity, offered: EmbedderIdentity) -> EmbedderMismatchError:
        return cls(f"{path}: this database was built with {stored.describe()}; "
                   f"it cannot be searched with {offered.describe()}")


def is_user_error(exc: BaseException) -> bool:
    """Whether the failure is the user's to fix (its message is for them) rather than a bug: a UserError,
    an operating-system error on a named file (missing, not allowed, disk full), or memory run out by a
    request too large (fewer neighbours or a coarser raster fix it)."""
    if isinstance(exc, UserError | MemoryError):
        return True
    if isinstance(exc, UnicodeEncodeError):  # a file name that cannot be written where it is asked
        return isinstance(exc.object, str)
    return isinstance(exc, OSError) and (exc.errno in NO_SPACE or (exc.errno in USER_ERRNOS and exc.filename is not None))


def user_message(exc: BaseException) -> str:
    """One line naming the file (where known) and the problem, credentials in URLs left out."""
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


def internal_message(exc: BaseException, traceback_at: str = "above") -> str:
    """A bug's one line: what failed, that it is a bug, and where its traceback is for the report."""
    return (f"internal error ({type(exc).__name__}: {redact(display_path(' '.join(str(exc).split())))}); {REPORT_LINE} "
            f"with the traceback {traceback_at}")
