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
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from . import limits
from .errors import UserError
from .files import redact, short_text
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


def shown(url: str) -> str:
    """A URL as a message shows it: without its credentials, and cut to one readable line."""
    return short_text(redact(url))


def check_url(url: str) -> None:
    try:
        scheme = urllib.parse.urlsplit(url).scheme.lower()
    except ValueError as exc:
        raise DownloadError(f"{shown(url)}: not a valid address ({exc})") from None
    if scheme not in ("http", "https"):
        raise DownloadError(f"{shown(url)}: only http:// and https:// addresses can be downloaded")


def check_sha256_argument(expected: str | None) -> None:
    """A published checksum given by the user must be one (64 hexadecimal digits): an empty or cut one
    would otherwise skip or fail the check."""
    if expected is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", expected):
        raise DownloadError(f"--sha256 {short_text(repr(expected))}: a SHA-256 is 64 hexadecimal digits")


def ascii_url(url: str) -> str:
    """The URL as HTTP sends it: a non-ASCII host in IDNA, other non-ASCII characters percent-encoded."""
    if url.isascii():
        return url
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise DownloadError(f"{shown(url)}: the host name {host!r} is not valid ({exc})") from None
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    if "@" in parts.netloc:
        netloc = urllib.parse.quote(parts.netloc.rpartition("@")[0], safe=":%") + "@" + netloc
    keep = "/%:@!$&'()*+,;=-._~?"
    return urllib.parse.urlunsplit((parts.scheme, netloc, urllib.parse.quote(parts.path, safe=keep),
                                    urllib.parse.quote(parts.query, safe=keep + "="), parts.fragment))


def download(url: str, destination: str | os.PathLike, expected_sha256: str | None = None,
             progress: ProgressCallback | None = None, should_stop: StopCheck | None = None,
             retries: int = 3, timeout_s: float = 30.0) -> Path:
    """Fetch `url` into `destination` (resuming a `.part` file left by an earlier attempt) and return it.
    Raises DownloadError (unreachable, HTTP error, size or checksum mismatch) or Cancelled (the
    `.part` file is kept so that the next call resumes)."""
    check_url(url)
    check_sha256_argument(expected_sha256)
    destination = Path(destination)
    partial = part_path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    failures = 0
    pace = _Pace(url)
    while True:
        try:
            total = _transfer(url, partial, progress, should_stop, timeout_s, pace)
            break
        except INTERRUPTIONS as exc:
            failures += 1
            if failures > retries:
                reason = redact(str(exc)) or type(exc).__name__
                raise DownloadError(f"{shown(url)}: the transfer was interrupted {failures} times ({reason}); "
                                    f"run it again to resume from {partial.stat().st_size if partial.exists() else 0} "
                                    "bytes") from None
    size = partial.stat().st_size
    if total is not None and size != total:
        partial.unlink()
        raise DownloadError(f"{shown(url)}: got {size} bytes where the server announced {total}; download it again")
    if expected_sha256:
        actual = file_sha256(partial, should_stop)
        if actual != expected_sha256.lower():
            partial.unlink()
            raise DownloadError(f"{shown(url)}: checksum mismatch (SHA-256 {actual}, expected {expected_sha256.lower()}): "
                                "the file is corrupted or not the one published; it was deleted")
    os.replace(partial, destination)
    fsync_dir(destination.parent)
    return destination


class _Pace:
    """The whole download's deadline and minimum rate (limits.DOWNLOAD_*), over every retry: a server that
    trickles a byte now and then never trips the per-read timeout, so it is held to these."""

    def __init__(self, url: str):
        self.url = url
        self.started = time.monotonic()
        self.deadline = limits.DOWNLOAD_SECONDS.value()
        self.rate = limits.DOWNLOAD_MIN_RATE.value()
        self.window = limits.DOWNLOAD_RATE_WINDOW.value()
        self.window_start, self.window_bytes = self.started, 0

    def received(self, count: int) -> None:
        now = time.monotonic()
        self.window_bytes += count
        try:
            limits.DOWNLOAD_SECONDS.check(now - self.started)
            if now - self.window_start >= self.window:
                rate = self.window_bytes / (now - self.window_start)
                if rate < self.rate:
                    raise limits.LimitExceeded(f"the server sent {rate:.0f} bytes per second over "
                                               f"{now - self.window_start:.0f} s, under the minimum of "
                                               f"{self.rate:.0f} (set {limits.DOWNLOAD_MIN_RATE.variable} "
                                               "to lower it)")
                self.window_start, self.window_bytes = now, 0
        except limits.LimitExceeded as exc:
            raise DownloadError(f"{shown(self.url)}: stopped: {exc}; run it again to resume") from None


def _transfer(url: str, partial: Path, progress, should_stop, timeout_s: float, pace: _Pace) -> int | None:
    """One request: append the rest of the file to `partial`; return the full size (None if unknown)."""
    offset = partial.stat().st_size if partial.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        request = urllib.request.Request(ascii_url(url), headers=headers)
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # nothing left past the end: start again, the part is not trusted
            partial.unlink()
            return _transfer(url, partial, progress, should_stop, timeout_s, pace)
        raise DownloadError(f"{shown(url)}: the server answered HTTP {exc.code} ({exc.reason})") from None
    except urllib.error.URLError as exc:
        reason = getattr(exc.reason, "strerror", None) or exc.reason
        raise DownloadError(f"{shown(url)}: cannot be reached ({redact(str(reason))})") from None
    except (ValueError, http.client.InvalidURL, UnicodeError) as exc:
        raise DownloadError(f"{shown(url)}: not a valid address ({redact(str(exc))})") from None
    with response:
        total = _announced_size(response, offset)
        if response.status != 206:
            offset = 0  # the server ignored the range: the whole file comes again
        with open(partial, "ab" if offset else "wb") as handle:
            done = offset
            report(progress, done, total or 0, "download", url)
            while True:
                check_stop(should_stop)
                chunk = response.read1(CHUNK_BYTES)  # what has arrived, not a wait for a whole chunk
                pace.received(len(chunk))
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
            raise DownloadError(f"{shown(response.url)}: the server resumed at another place than asked "
                                f"(Content-Range {response.headers.get('Content-Range')!r}, asked from byte {offset})")
        return None if match.group(3) == "*" else int(match.group(3))
    length = response.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None
