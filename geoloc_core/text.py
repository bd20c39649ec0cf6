"""How paths and texts from outside are shown in a one-line message: any bytes a file name holds, cut to a
readable length, without the credentials a URL may carry. Imports nothing of the engine, so errors.py
and files.py both build on it."""

from __future__ import annotations

import os
import re

SHORT_TEXT = 240  # characters of a path or value kept in a one-line message
CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*:/{1,2})[^/?#@\s]*@")  # also as a path shows it


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


def short_text(text: str, limit: int = SHORT_TEXT) -> str:
    """Text cut in the middle to about `limit` characters, so that one line stays one readable line."""
    return text if len(text) <= limit else f"{text[:limit // 2]}...({len(text) - limit} characters)...{text[-limit // 2:]}"


def redact(text: str) -> str:
    """Text with the user:password@ of every URL in it replaced by ***@ (messages repeat URLs)."""
    return CREDENTIALS.sub(r"\1***@", text)
