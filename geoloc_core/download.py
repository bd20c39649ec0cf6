"""Downloading a file over HTTP(S) with resume, progress, cancel and a SHA-256 check (urllib only).

The bytes go to `<destination>.part`; an interrupted transfer (dropped connection, cancel, crash) keeps
them, and the next attempt (within the same call, up to `retries` times, or a later call) asks the
server for the rest with an HTTP Range request. The file appears at `destination` only once it is
complete and, when a checksum is given, verified: a reader never sees a partial or corrupted download.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .errors import UserError
from .progress import ProgressCallback, StopCheck, check_stop, report
from .storage import fsync_dir

CHUNK_BYTES = 1 << 16
USER_AGENT = "photo-geolocator"
CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
INTERRUPTIONS = (http.client.IncompleteRead, ConnectionError, socket.timeout, TimeoutError,
                 http.client.RemoteDisconnected)


class DownloadError(UserError):
    """A download that failed or gave other bytes than expected; the message names the URL and why."""


def part_path(destination: str | os.PathLike) -> Path:
    destination = Path(destination)
    return destination.with_name(destination.name + ".part")


def file_sha256(path: str | os.PathLike, should_stop: StopCheck | None = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            check_stop(should_stop)
            digest.update(chunk)
    return digest.hexdigest()


def check_url(url: str) -> None:
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise DownloadError(f"{url}: only http:// and https:// addresses can be downloaded")


def download(url: str, destination: str | os.PathLike, expected_sha256: str | None = None,
             progress: ProgressCallback | None = None, should_stop: StopCheck | None = None,
             retries: int = 3, timeout_s: float = 30.0) -> Path:
    """Fetch `url` into `destination` (resuming a `.part` file left by an earlier attempt) and return it.
    Raises DownloadError (unreachable, HTTP error, size or checksum mismatch) or Cancelled (the
    `.part` file is kept so that the next call resumes)."""
    check_url(url)
    destination = Path(destination)
    partial = part_path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    failures = 0
    while True:
        try:
            total = _transfer(url, partial, progress, should_stop, timeout_s)
            break
        except INTERRUPTIONS as exc:
            failures += 1
            if failures > retries:
                raise DownloadError(f"{url}: the transfer was interrupted {failures} times ({exc or type(exc).__name__}); "
                                    f"run it again to resume from {partial.stat().st_size if partial.exists() else 0} "
                                    "bytes") from None
    size = partial.stat().st_size
    if total is not None and size != total:
        partial.unlink()
        raise DownloadError(f"{url}: got {size} bytes where the server announced {total}; download it again")
    if expected_sha256:
        actual = file_sha256(partial, should_stop)
        if actual != expected_sha256.lower():
            partial.unlink()
            raise DownloadError(f"{url}: checksum mismatch (SHA-256 {actual}, expected {expected_sha256.lower()}): "
                                "the file is corrupted or not the one published; it was deleted")
    os.replace(partial, destination)
    fsync_dir(destination.parent)
    return destination


def _transfer(url: str, partial: Path, progress, should_stop, timeout_s: float) -> int | None:
    """One request: append the rest of the file to `partial`; return the full size (None if unknown)."""
    offset = partial.stat().st_size if partial.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # nothing left past the end: start again, the part is not trusted
            partial.unlink()
            return _transfer(url, partial, progress, should_stop, timeout_s)
        raise DownloadError(f"{url}: the server answered HTTP {exc.code} ({exc.reason})") from None
    except urllib.error.URLError as exc:
        raise DownloadError(f"{url}: cannot be reached ({getattr(exc.reason, 'strerror', None) or exc.reason})") from None
    with response:
        total = _announced_size(response, offset)
        if response.status != 206:
            offset = 0  # the server ignored the range: the whole file comes again
        with open(partial, "ab" if offset else "wb") as handle:
            done = offset
            report(progress, done, total or 0, "download", url)
            while True:
                check_stop(should_stop)
                chunk = response.read(CHUNK_BYTES)
                if not chunk:
                    break
                handle.write(chunk)
                done += len(chunk)
                report(progress, done, total or 0, "download", url)
            handle.flush()
            os.fsync(handle.fileno())
        if total is not None and done < total:
            raise http.client.IncompleteRead(b"", total - done)
    return total


def _announced_size(response, offset: int) -> int | None:
    """The full file's size from Content-Range (a resumed transfer) or Content-Length."""
    if response.status == 206:
        match = CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if not match or int(match.group(1)) != offset:
            raise DownloadError(f"{response.url}: the server resumed at another place than asked "
                                f"(Content-Range {response.headers.get('Content-Range')!r}, asked from byte {offset})")
        return None if match.group(3) == "*" else int(match.group(3))
    length = response.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None
