"""Limits on what a stranger's file or server controls: how far a pack's members may inflate, how large and
deep a JSON file may be, how large a shard member may be, how long a download may take and how slowly it
may trickle. Each is a documented default (docs/reliability.md) that a user with a genuine larger input
raises with an environment variable (GEOLOC_LIMIT_<NAME>, e.g. GEOLOC_LIMIT_PACK_MEMBER_BYTES=64G), read
at each use so that a running QGIS or a test can change it. Light: no third-party import."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .errors import UserError

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
UNITS = {"": 1, "K": KIB, "M": MIB, "G": GIB, "T": 1 << 40}


@dataclass(frozen=True)
class Limit:
    name: str
    default: float
    what: str  # in words, for the refusal: "a pack member's inflated size"
    unit: str = "bytes"

    @property
    def variable(self) -> str:
        return f"GEOLOC_LIMIT_{self.name}"

    def value(self) -> float:
        """The limit in force: the environment's override, else the default (a bad override is an error)."""
        text = os.environ.get(self.variable, "").strip()
        if not text:
            return self.default
        match = re.fullmatch(r"([0-9]+(?:\.[0-9]*)?)\s*([KMGT]?)i?B?", text, re.IGNORECASE)
        if match is None or float(match.group(1)) <= 0:
            raise LimitExceeded(f"{self.variable}={text!r} is not a positive number (e.g. 512M, 4G, 30)")
        return float(match.group(1)) * (UNITS[match.group(2).upper()] if self.unit == "bytes" else 1)

    def refusal(self, found: float) -> str:
        """'<what> is <found>, over the limit of <limit> (raise it with GEOLOC_LIMIT_...)'."""
        return (f"{self.what} is {_shown(found, self.unit)}, over the limit of {_shown(self.value(), self.unit)} "
                f"(set {self.variable} to raise it if the file is trusted)")

    def check(self, found: float) -> None:
        """LimitExceeded where `found` is over the limit."""
        if found > self.value():
            raise LimitExceeded(self.refusal(found))


class LimitExceeded(UserError, ValueError):
    """A file or a server asked for more than a limit allows; the message says which limit and how to raise it."""


def _shown(value: float, unit: str) -> str:
    if unit != "bytes":
        return f"{value:g} {unit}"
    for suffix, size in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if value >= size:
            return f"{value / size:.3g} {suffix}"
    return f"{int(value)} bytes"


# A pack: each member is checked against its declared size, its size in the zip and its compressed size
# before a byte is written, and again while it is written.
PACK_MEMBER_BYTES = Limit("PACK_MEMBER_BYTES", 16 * GIB, "a pack member's inflated size")
PACK_TOTAL_BYTES = Limit("PACK_TOTAL_BYTES", 64 * GIB, "a pack's inflated size in total")
PACK_RATIO = Limit("PACK_RATIO", 200, "a pack member's inflation ratio", "times its compressed size")
RATIO_FREE_BYTES = MIB  # members this small may inflate any amount (a JSON of repeated keys...)
# JSON from a pack, a shard or a server
JSON_BYTES = Limit("JSON_BYTES", 64 * MIB, "a JSON file's size")
JSON_DEPTH = Limit("JSON_DEPTH", 64, "a JSON file's nesting depth", "levels")
# a member of a WebDataset shard (an image or its metadata), read in a streaming way, also from .tar.gz
SHARD_MEMBER_BYTES = Limit("SHARD_MEMBER_BYTES", 256 * MIB, "a shard member's size")
# downloads: the whole transfer's deadline, and the slowest average rate accepted over a window
DOWNLOAD_SECONDS = Limit("DOWNLOAD_SECONDS", 6 * 3600, "the download's duration", "seconds")
DOWNLOAD_MIN_RATE = Limit("DOWNLOAD_MIN_RATE", 1 * KIB, "the download's minimum rate", "bytes per second")
DOWNLOAD_RATE_WINDOW = Limit("DOWNLOAD_RATE_WINDOW", 60, "the window the download rate is averaged over", "seconds")

ALL = (PACK_MEMBER_BYTES, PACK_TOTAL_BYTES, PACK_RATIO, JSON_BYTES, JSON_DEPTH, SHARD_MEMBER_BYTES,
       DOWNLOAD_SECONDS, DOWNLOAD_MIN_RATE, DOWNLOAD_RATE_WINDOW)

def _deeper_than(value, limit: int) -> bool:
    """Whether a parsed JSON value nests deeper than `limit` (walked level by level, without recursion)."""
    level, depth = [value], 1
    while level:
        containers = [item for item in level if isinstance(item, (dict, list))]
        if containers and depth > limit:
            return True
        level = [child for item in containers for child in (item.values() if isinstance(item, dict) else item)]
        depth += 1
    return False


def load_json(data: bytes | str, **options):
    """json.loads within JSON_BYTES and JSON_DEPTH (LimitExceeded beyond them); ValueError for bad JSON."""
    import json

    JSON_BYTES.check(len(data))
    limit = JSON_DEPTH.value()
    try:
        value = json.loads(data, **options)
    except RecursionError:
        raise LimitExceeded(JSON_DEPTH.refusal(1000)) from None
    if _deeper_than(value, int(limit)):
        raise LimitExceeded(f"{JSON_DEPTH.what} is over the limit of {limit:g} levels (set {JSON_DEPTH.variable} "
                            "to raise it if the file is trusted)")
    return value
