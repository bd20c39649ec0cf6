"""Atomic file writes: write beside, fsync, rename, so a reader never sees a half-written file."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open directories; rename is still atomic there
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def process_alive(pid: int) -> bool:
    """Whether a process of this id runs on this machine (a leftover's owner that may still write it)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process, or a platform that cannot tell: leave its files alone
    return True


def _temporary_name(path: Path, pid: int) -> str:
    return f".{path.stem}.{pid}.tmp{path.suffix}"  # the suffix last keeps GDAL's drivers happy


def remove_dead_temporaries(path: Path) -> None:
    """Temporary files of earlier writes of `path` whose process died (kill -9, power loss)."""
    pattern = re.compile(re.escape(f".{path.stem}.") + r"(\d+)" + re.escape(f".tmp{path.suffix}"))
    with contextlib.suppress(OSError):
        for stray in path.parent.glob(f".{glob_escape(path.stem)}.*.tmp{glob_escape(path.suffix)}"):
            match = pattern.fullmatch(stray.name)
            if match and not process_alive(int(match.group(1))):
                stray.unlink(missing_ok=True)


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """Call `write(temporary_path)`, then make it durable and move it over `path` in one step. Temporary
    files that earlier writes of `path` left when killed are removed first."""
    path = Path(path)
    remove_dead_temporaries(path)
    temporary = path.with_name(_temporary_name(path, os.getpid()))
    try:
        write(temporary)
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        fsync_dir(path.parent)
    except BaseException as exc:
        _release_writers(exc)
        raise
    finally:
        if temporary.exists():
            temporary.unlink()


def _release_writers(exc: BaseException) -> None:
    """Let go of the objects a failed writer left open (numpy's savez leaves its ZipFile open when the disk
    is full), now and quietly: closed later by the garbage collector, each would print a traceback of its
    own failed flush after the error line."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        traceback.clear_frames(exc.__traceback__)
    finally:
        sys.unraisablehook = hook


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_json(path: str | os.PathLike, data) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def utc_now() -> str:
    """The time stamp the manifests and views record (UTC, to the second)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
