"""Reference packs: a database shipped as one portable file, without its photos.

    world-starter.geolocpack (a zip)
        pack.json          pack format and version, name, title, embedder identity, count, coverage
                           summary, licences, licence notice, SHA-256 and size of every other member
        manifest.json, metadata.sqlite, vectors.f16, [index-<gen>.faiss]
                           a version-2 database (geoloc_core.database) whose records hold no photo path:
                           each record's path names its thumbnail, and its attributes carry the photo's
                           licence, author and source link
        thumbnails/<sha256>.jpg   optional, 96 px, for map tips
        credits.csv, NOTICE.txt   who made each photo, under which licence, where it is

`install` checks everything before anything is visible: the pack format (a newer one is refused), the
embedder (one the engine cannot load is refused), every member's checksum, then opens the database;
it unpacks into a temporary folder renamed into place, so a failure or a cancel leaves nothing
half-installed. An installed pack is a normal database folder, opened read-only like any other.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from . import limits
from .defaults import default_profile_data_dir
from .download import check_sha256_argument, download, file_sha256, shown
from .embedder_registry import embedder_entry
from .errors import UserError
from .files import PhotoError, display_path, path_from_stored, short_text, write_csv
from .progress import Cancelled, ProgressCallback, StopCheck, check_stop, report
from .storage import atomic_write, atomic_write_json, fsync_dir, utc_now

# The database, embedder and photo modules (numpy, faiss, torch) are imported where they are used, so
# that listing, removing and resolving installed packs works in a QGIS whose Python lacks them (the
# engine then runs in another Python).
MANIFEST = "manifest.json"  # geoloc_core.database.MANIFEST

PACK_FORMAT = "photo-geolocator-pack"
PACK_FORMAT_VERSION = 1
PACK_SUFFIX = ".geolocpack"
PACK_MANIFEST = "pack.json"
INSTALLED = "installed.json"
CREDITS, NOTICE = "credits.csv", "NOTICE.txt"
THUMBNAILS = "thumbnails"
THUMBNAIL_PIXELS = 96
COVERAGE_CELL_DEG = 30
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DOWNLOADS = ".downloads"
WORK_PREFIXES = (".installing-", ".removing-")
STALE_WORK_SECONDS = 24 * 3600  # an install or removal folder this old belongs to a process that died
PACKING_PREFIX = ".packing-"  # + the packing process's id + "-": removed by a later pack once that process is gone
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
THUMBNAIL_MEMBER = re.compile(r"thumbnails/[0-9a-f]{64}\.jpg")


class PackError(UserError):
    """A pack that cannot be made or installed; the message names the file and the problem."""


@dataclass(frozen=True)
class PackCredits:
    """Which record attributes hold each photo's licence, author and source link, and the values to use
    where a record has none (e.g. a team packing its own photos under one licence)."""

    licence: str = "licence"
    author: str = "author"
    source: str = "source_url"
    default_licence: str | None = None
    default_author: str | None = None


@dataclass(frozen=True)
class PackInfo:
    """An installed pack (path: its database folder) or a packed file (path: the file)."""

    path: Path
    name: str
    title: str
    count: int
    embedder: str
    coverage: dict
    licences: dict
    created: str
    sha256: str | None = None

    def summary(self) -> str:
        regions = ", ".join(f"{k} {v}" for k, v in sorted(self.coverage.get("continents", {}).items(),
                                                          key=lambda kv: -kv[1]))
        return f"{self.name}: {self.title or 'reference pack'}, {self.count} photos ({regions})"

    def to_dict(self) -> dict:
        return {"path": str(self.path), "name": self.name, "title": self.title, "count": self.count,
                "embedder": self.embedder, "coverage": self.coverage, "licences": self.licences,
                "created": self.created, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, data: dict) -> PackInfo:
        return cls(Path(data["path"]), str(data["name"]), str(data["title"]), int(data["count"]),
                   str(data["embedder"]), dict(data["coverage"]), dict(data["licences"]), str(data["created"]),
                   data.get("sha256"))


def _describe_embedder(data: dict) -> str:
    return (f"{data['architecture']} ({data['pooling']} pooling, {int(data['dimension'])}-d, "
            f"weights {str(data['weights_sha256'])[:12]}, {data['preprocessing']})")


def read_notice(path: str | os.PathLike) -> str:
    """A licence notice file's text; PackError naming it where it is not UTF-8."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PackError(f"{display_path(path)}: the notice is not UTF-8 text (byte {exc.start}); save it as UTF-8") \
            from None


def _info(path: Path, manifest: dict, sha256: str | None) -> PackInfo:
    return PackInfo(path, manifest["name"], manifest.get("title", ""), int(manifest["count"]),
                    _describe_embedder(manifest["embedder"]),
                    manifest.get("coverage", {}), manifest.get("licences", {}), manifest.get("created", ""), sha256)


# -- packing ---------------------------------------------------------------------------------------

def _continent(lat: float, lon: float) -> str:
    """A coarse region by latitude/longitude boxes: enough to tell a user where a pack has photos."""
    if lat < -60:
        return "Antarctica"
    if -30 <= lon < 60 and lat >= 35:
        return "Europe"
    if lon >= 60 and lat >= 35 or 25 <= lon < 150 and -12 <= lat < 35 and not (lon < 60 and lat < 12):
        return "Asia"
    if -20 <= lon < 52 and lat < 38:
        return "Africa"
    if lon >= 110 or lon < -150:
        return "Oceania"
    if lon < -25 and lat >= 13:
        return "North America"
    if lon < -25:
        return "South America"
    return "Other"


def coverage_summary(lats, lons) -> dict:
    """Bounding box, photos per coarse region and per 30-degree cell ("south,west")."""
    cells = Counter(f"{int((lat + 90) // COVERAGE_CELL_DEG) * COVERAGE_CELL_DEG - 90},"
                    f"{int((lon + 180) // COVERAGE_CELL_DEG) * COVERAGE_CELL_DEG - 180}" for lat, lon in zip(lats, lons))
    bbox = [min(lons), min(lats), max(lons), max(lats)] if len(lats) else None
    return {"bbox_west_south_east_north": bbox, "continents": dict(Counter(_continent(a, o) for a, o in zip(lats, lons))),
            "cells_30deg": dict(sorted(cells.items()))}


def _thumbnail(path: str) -> bytes | None:
    """A small JPEG of the photo, or None where the photo is not at hand (the pack goes without it)."""
    from .photos import load_photo

    try:
        image = load_photo(path, min_side=THUMBNAIL_PIXELS)
    except (PhotoError, OSError):
        return None
    image.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70, optimize=True)
    return buffer.getvalue()


def _credit(record, credits: PackCredits, database: Path) -> dict:
    licence = record.attributes.get(credits.licence) or credits.default_licence
    author = record.attributes.get(credits.author) or credits.default_author
    if not licence or not author:
        missing, attribute = ("licence", credits.licence) if not licence else ("author", credits.author)
        raise PackError(f"{database}: photo {path_from_stored(record.path)} has no {missing} (attribute "
                        f"'{attribute}'); a pack must credit every photo: add the column or give a default {missing}")
    return {"licence": str(licence), "author": str(author), "source_url": str(record.attributes.get(credits.source) or "")}


def pack(database: str | os.PathLike, output: str | os.PathLike, name: str | None = None, title: str = "",
         licence_notice: str = "", credits: PackCredits | None = None, thumbnails: bool = True,
         overwrite: bool = False, progress: ProgressCallback | None = None,
         should_stop: StopCheck | None = None) -> PackInfo:
    """Write the database at `database` as one pack file at `output` (photo paths left out; base
    features only: trained views are not packed). Every photo needs a licence and an author."""
    from .database import ReferenceDatabase

    credits = credits or PackCredits()
    output = Path(output)
    name = name or Path(database).name.removesuffix(".geoloc")
    if not NAME_PATTERN.fullmatch(name):
        raise PackError(f"{name!r}: a pack name is 1-64 letters, digits, '.', '_' or '-', starting with a letter "
                        "or digit")
    if output.exists() and not overwrite:
        raise PackError(f"{output}: already exists; choose another name or overwrite it")
    if not output.parent.is_dir():
        raise PackError(f"{output.parent}: folder not found")
    _remove_dead_packing(output.parent)
    with ReferenceDatabase.open(database) as source, tempfile.TemporaryDirectory(
            dir=output.parent, prefix=f"{PACKING_PREFIX}{os.getpid()}-") as work:
        folder = Path(work) / name
        identity = replace(source.identity, weights_path=None)  # where the builder's weights were: not shared
        target = ReferenceDatabase.create(folder, identity)
        (folder / THUMBNAILS).mkdir()
        credit_rows, lats, lons = [], [], []
        try:
            target.add_embedded_batches(
                _packed_batches(source, folder, credits, thumbnails, credit_rows, lats, lons, progress, should_stop),
                should_stop=should_stop)
        finally:
            target.close()
        (folder / ".lock").unlink(missing_ok=True)
        _write_credits(folder / CREDITS, credit_rows)
        licences = dict(Counter(row["licence"] for row in credit_rows))
        (folder / NOTICE).write_text(_notice_text(name, title, licence_notice, licences, credit_rows), encoding="utf-8")
        manifest = {
            "format": PACK_FORMAT, "format_version": PACK_FORMAT_VERSION, "name": name, "title": title,
            "created": utc_now(), "embedder": identity.to_dict(),
            "count": len(credit_rows), "coverage": coverage_summary(lats, lons), "licences": licences,
            "licence_notice": licence_notice, "files": _member_checksums(folder),
        }
        atomic_write(output, lambda temporary: _zip_folder(folder, manifest, temporary))
    return _info(output, manifest, file_sha256(output))


def _remove_dead_packing(folder: Path) -> None:
    """Work folders of packs whose process was killed (its id is in the name, and no such process runs)."""
    from .storage import process_alive

    for leftover in folder.glob(f"{PACKING_PREFIX}*"):
        owner = leftover.name[len(PACKING_PREFIX):].split("-")[0]
        if leftover.is_dir() and owner.isdigit() and not process_alive(int(owner)):
            shutil.rmtree(leftover, ignore_errors=True)


def _packed_batches(source, folder: Path, credits: PackCredits, thumbnails: bool, credit_rows: list, lats: list,
                    lons: list, progress, should_stop):
    """(records, vectors) per chunk of the source, with thumbnails written and credits collected."""
    from .database import EmbeddedRecord

    total = source.count
    for first, block in source.embedding_chunks():
        ids = list(range(first, first + len(block)))
        records = source.records(ids)
        batch = []
        for record_id in ids:
            check_stop(should_stop)
            record = records[record_id]
            credit = _credit(record, credits, source.path)
            member = f"{THUMBNAILS}/{record.sha256}.jpg"
            image = _thumbnail(path_from_stored(record.path)) if thumbnails else None
            if image is not None:
                (folder / member).write_bytes(image)
            batch.append(EmbeddedRecord(member if image is not None else f"{record.sha256}.jpg", record.sha256,
                                        record.lat, record.lon, record.altitude_m, record.time, record.width,
                                        record.height, record.attributes))
            credit_rows.append({"record": len(credit_rows) + 1, "thumbnail": member if image is not None else "",
                                "lat": record.lat, "lon": record.lon, **credit})
            lats.append(record.lat)
            lons.append(record.lon)
            report(progress, len(credit_rows), total, "pack", credit["source_url"])
        yield batch, block


def _write_credits(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        write_csv(handle, ["record", "licence", "author", "source_url", "lat", "lon", "thumbnail"], rows)


def _notice_text(name: str, title: str, notice: str, licences: dict, rows: list[dict]) -> str:
    lines = [f"{title or name}", "", notice.strip(), "", "Licences: " + ", ".join(f"{k} ({v} photos)"
                                                                                   for k, v in sorted(licences.items())),
             "", "Credits (record, author, licence, source):"]
    lines += [f"{row['record']}\t{row['author']}\t{row['licence']}\t{row['source_url']}" for row in rows]
    return "\n".join(lines) + "\n"


def _member_checksums(folder: Path) -> dict:
    from .embedders import sha256_of

    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            member = path.relative_to(folder).as_posix()
            files[member] = {"sha256": sha256_of(path), "size": path.stat().st_size}
    return files


def _zip_folder(folder: Path, manifest: dict, target: Path) -> None:
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(PACK_MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                         compress_type=zipfile.ZIP_DEFLATED)
        for member in manifest["files"]:
            stored = member.startswith(THUMBNAILS + "/")  # JPEGs do not deflate
            archive.write(folder / member, member, compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)


# -- installing ------------------------------------------------------------------------------------

def embedder_problem(identity) -> str | None:
    """Why this engine cannot embed photos as the pack's database was built, or None if it can:
    the bundled EfficientNet-Lite weights must be the very bytes the pack names; a CLIP-family model
    is downloaded on request (what it needs is said when it is loaded); another torchvision
    architecture must at least be known (its weights file is asked for when locating)."""
    from .embedders import EmbedderError, bundled_weights_path, sha256_of

    entry = embedder_entry(identity.architecture)
    if entry is not None and entry.download is not None:
        return None
    if entry is not None and entry.bundled:
        try:
            weights = bundled_weights_path(identity.architecture)
        except EmbedderError as exc:
            return str(exc)
        if sha256_of(weights) != identity.weights_sha256:
            return (f"it was built with other {identity.architecture} weights (SHA-256 {identity.weights_sha256[:12]}) "
                    "than the ones installed with the plugin")
        return None
    import torchvision.models

    if identity.architecture not in torchvision.models.list_models():
        return f"it was built with the embedder {short_text(repr(identity.architecture))}, which this version cannot load"
    from .defaults import POOLINGS

    if identity.pooling not in POOLINGS:
        return f"it names the pooling {short_text(repr(identity.pooling))}, which this version does not know"
    return None


def _read_pack_manifest(archive: zipfile.ZipFile, source: str) -> dict:
    from .embedders import EmbedderIdentity

    try:
        manifest = limits.load_json(_read_limited(archive, PACK_MANIFEST, limits.JSON_BYTES))
        if not isinstance(manifest, dict) or manifest.get("format") != PACK_FORMAT:
            raise ValueError(f"{PACK_MANIFEST} is not a Photo Geolocator pack manifest")
        version = manifest.get("format_version")
        if not isinstance(version, int) or version < 1:
            raise ValueError(f"format_version {version!r} is not a version number")
    except KeyError:
        raise PackError(f"{source}: not a reference pack ({PACK_MANIFEST} is missing)") from None
    except limits.LimitExceeded as exc:
        raise PackError(f"{source}: refused: {PACK_MANIFEST}: {exc}") from None
    except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise PackError(f"{source}: damaged pack ({short_text(str(exc))})") from None
    if version > PACK_FORMAT_VERSION:
        raise PackError(f"{source}: made by a newer version of Photo Geolocator (pack format {version}, this version "
                        f"reads up to {PACK_FORMAT_VERSION}); update the plugin to install it")
    try:
        if not isinstance(manifest.get("embedder"), dict):
            raise ValueError("embedder is not an embedder description")
        EmbedderIdentity.from_dict(manifest["embedder"])
        if not isinstance(manifest["name"], str) or not NAME_PATTERN.fullmatch(manifest["name"]) \
                or not isinstance(manifest["files"], dict):
            raise ValueError(f"name {short_text(repr(manifest['name']))} or file list is not valid")
        if not _whole_number(manifest["count"]):
            raise ValueError(f"count {short_text(repr(manifest['count']))} is not a number of photos")
        total = 0
        for member, entry in manifest["files"].items():
            parts = member.split("/")
            if member.startswith("/") or ".." in parts or "\\" in member or not all(parts) or member == PACK_MANIFEST \
                    or any(ord(c) < 32 for c in member):
                raise ValueError(f"member name {short_text(repr(member))} is not allowed")
            if not isinstance(entry, dict) or not _whole_number(entry["size"]) \
                    or not SHA256_PATTERN.fullmatch(str(entry["sha256"])):
                raise ValueError(f"the size or SHA-256 of {short_text(member)} is not valid")
            total += entry["size"]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PackError(f"{source}: damaged pack: {PACK_MANIFEST} is not valid ({exc})") from None
    for member, entry in manifest["files"].items():
        try:
            limits.PACK_MEMBER_BYTES.check(entry["size"])
        except limits.LimitExceeded as exc:
            raise PackError(f"{source}: refused: {short_text(member)}: {exc}") from None
    try:
        limits.PACK_TOTAL_BYTES.check(total)
    except limits.LimitExceeded as exc:
        raise PackError(f"{source}: refused: {exc}") from None
    return manifest


def _whole_number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _read_limited(archive: zipfile.ZipFile, member: str, limit: limits.Limit) -> bytes:
    """A member's bytes, refused past the limit whatever size the zip declares."""
    limit.check(archive.getinfo(member).file_size)
    with archive.open(member) as stream:
        data = stream.read(int(limit.value()) + 1)
    limit.check(len(data))
    return data


def install(source: str | os.PathLike, packs_dir: str | os.PathLike, expected_sha256: str | None = None,
            progress: ProgressCallback | None = None, should_stop: StopCheck | None = None) -> PackInfo:
    """Install a pack file or an http(s) URL into `packs_dir/<name>` (replacing an older copy of that
    pack) and return it. Nothing is visible until every check has passed."""
    check_sha256_argument(expected_sha256)
    packs_dir = Path(packs_dir)
    packs_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_work(packs_dir)
    text = os.fspath(source)
    if isinstance(text, str) and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
        name = Path(text.split("?")[0].rstrip("/")).name or "pack"
        source = download(text, packs_dir / DOWNLOADS / name, expected_sha256, progress, should_stop)
        try:
            return _install_file(Path(source), text, packs_dir, None, progress, should_stop, downloaded=True)
        finally:
            Path(source).unlink(missing_ok=True)
    return _install_file(Path(source), text, packs_dir, expected_sha256, progress, should_stop)


def _install_file(pack_file: Path, origin: str, packs_dir: Path, expected_sha256: str | None, progress,
                  should_stop, downloaded: bool = False) -> PackInfo:
    """Install one pack file. Messages name a downloaded pack by its URL (`origin`): its scratch copy
    in the packs folder means nothing to the user."""
    from .embedders import EmbedderIdentity

    label = shown(origin) if downloaded else str(pack_file)
    if not pack_file.is_file():
        raise PackError(f"{label}: pack file not found")
    digest = file_sha256(pack_file, should_stop)
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise PackError(f"{label}: checksum mismatch (SHA-256 {digest}, expected {expected_sha256.lower()}); "
                        "the file is corrupted or not the one published")
    try:
        archive = zipfile.ZipFile(pack_file)
    except (zipfile.BadZipFile, OSError) as exc:
        again = "; if the download was cut short, install it again" if downloaded else ""
        raise PackError(f"{label}: not a reference pack or damaged ({exc}){again}") from None
    with archive:
        manifest = _read_pack_manifest(archive, label)
        identity = EmbedderIdentity.from_dict(manifest["embedder"])
        problem = embedder_problem(identity)
        if problem:
            raise PackError(f"{label}: cannot be used by this version of the plugin: {problem}")
        target = packs_dir / manifest["name"]
        previous = _installed_sha256(target)
        if previous == digest:
            return _info(target, manifest, digest)
        with tempfile.TemporaryDirectory(dir=packs_dir, prefix=WORK_PREFIXES[0]) as work:
            folder = Path(work) / manifest["name"]
            _extract_checked(archive, manifest, folder, label, progress, should_stop)
            (folder / PACK_MANIFEST).write_bytes(archive.read(PACK_MANIFEST))
            _check_database(folder, identity, manifest, label)
            atomic_write_json(folder / INSTALLED, {"sha256": digest, "source": origin,
                                                   "installed": utc_now()})
            check_stop(should_stop)
            _swap_into_place(folder, target, Path(work))
    return _info(target, manifest, digest)


def _extract_checked(archive: zipfile.ZipFile, manifest: dict, folder: Path, source: str, progress, should_stop) -> None:
    """Every listed member, hashed while written; anything unlisted, missing, resized or altered is refused."""
    listed = manifest["files"]
    names = {info.filename for info in archive.infolist() if not info.is_dir()} - {PACK_MANIFEST}
    if names != set(listed):
        extra, missing = sorted(names - set(listed)), sorted(set(listed) - names)
        raise PackError(f"{source}: damaged pack: members {extra or missing} are "
                        f"{'not listed in' if extra else 'missing though listed in'} {PACK_MANIFEST}")
    _check_inflation(archive, listed, source)
    total = sum(int(entry["size"]) for entry in listed.values())
    done = 0
    for member, entry in listed.items():
        check_stop(should_stop)
        target = folder / member
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with open(target, "wb") as handle:
            try:
                stream = archive.open(member)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error, NotImplementedError) as exc:
                raise PackError(f"{source}: damaged pack: {member} cannot be read ({exc})") from None
            with stream:
                while size <= int(entry["size"]):
                    try:
                        chunk = stream.read(1 << 20)
                    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
                        raise PackError(f"{source}: damaged pack: {member} cannot be read ({exc})") from None
                    if not chunk:
                        break
                    size += len(chunk)
                    digest.update(chunk)
                    _write_to(handle, chunk, target)
        if size != int(entry["size"]) or digest.hexdigest() != entry["sha256"]:
            raise PackError(f"{source}: damaged pack: {member} does not match its checksum in {PACK_MANIFEST}")
        done += size
        report(progress, done, total, "install", member)


def _write_to(handle, chunk: bytes, target: Path) -> None:
    """A write whose failure (a full disk) names the file written, not the pack."""
    try:
        handle.write(chunk)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(target)) from None


def _check_inflation(archive: zipfile.ZipFile, listed: dict, source: str) -> None:
    """Every member within the limits by what the zip declares, before a byte is inflated (the bytes
    written are bounded by the manifest's size, itself within the limits)."""
    ratio = limits.PACK_RATIO.value()
    for member, entry in listed.items():
        info = archive.getinfo(member)
        if info.file_size != int(entry["size"]):
            raise PackError(f"{source}: damaged pack: {member} does not match its size in {PACK_MANIFEST}")
        try:
            limits.PACK_MEMBER_BYTES.check(info.file_size)
            if info.file_size > limits.RATIO_FREE_BYTES and info.file_size > ratio * max(info.compress_size, 1):
                limits.PACK_RATIO.check(info.file_size / max(info.compress_size, 1))
        except limits.LimitExceeded as exc:
            raise PackError(f"{source}: refused: {short_text(member)}: {exc}") from None


def _check_record_paths(folder: Path, database, source: str) -> None:
    """A pack's records name their thumbnails inside the pack (or a bare '<sha256>.jpg' where it has none):
    nothing that climbs out of it, an absolute path or a link."""
    for record_id, stored in database._connection.execute("SELECT id, path FROM records"):  # a cursor: no list
        path = path_from_stored(stored)
        inside = THUMBNAIL_MEMBER.fullmatch(path) and not (folder / path).is_symlink()
        if not inside and not re.fullmatch(r"[0-9a-f]{64}\.jpg", path):
            raise PackError(f"{source}: refused: record {record_id} names the file {short_text(repr(path))}, "
                            f"not a thumbnail inside the pack")


def _check_database(folder: Path, identity, manifest: dict, source: str) -> None:
    from .database import DatabaseError, ReferenceDatabase

    if not (folder / MANIFEST).is_file():
        raise PackError(f"{source}: damaged pack: it holds no database ({MANIFEST} is missing)")
    try:
        with ReferenceDatabase.open(folder) as database:
            if database.identity != identity or database.count != int(manifest["count"]):
                raise PackError(f"{source}: damaged pack: its database does not match {PACK_MANIFEST} "
                                f"({database.count} photos, {database.identity.describe()})")
            _check_record_paths(folder, database, source)
    except PackError:
        raise
    except DatabaseError as exc:
        raise PackError(f"{source}: damaged pack: {exc}") from None
    (folder / ".lock").unlink(missing_ok=True)


def _swap_into_place(folder: Path, target: Path, work: Path) -> None:
    """Rename the checked folder into place; an older copy is moved aside first and removed after."""
    aside = None
    if target.exists():
        aside = work / "previous"
        os.replace(target, aside)
    try:
        os.replace(folder, target)
    except BaseException:
        if aside is not None:
            os.replace(aside, target)
        raise
    fsync_dir(target.parent)


def _remove_stale_work(packs_dir: Path) -> None:
    """Folders left by an install or removal that was killed (never one a running process may still use)."""
    now = time.time()
    for folder in packs_dir.iterdir():
        with contextlib.suppress(OSError):
            if folder.name.startswith(WORK_PREFIXES) and now - folder.stat().st_mtime > STALE_WORK_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)


def _installed_sha256(folder: Path) -> str | None:
    try:
        return json.loads((folder / INSTALLED).read_text(encoding="utf-8"))["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def installed_packs(packs_dir: str | os.PathLike) -> list[PackInfo]:
    """Packs installed in `packs_dir`, by name; folders that are not installed packs are ignored."""
    packs_dir = Path(packs_dir)
    found = []
    if not packs_dir.is_dir():
        return found
    for folder in sorted(packs_dir.iterdir()):
        if folder.name.startswith(".") or not (folder / PACK_MANIFEST).is_file():
            continue
        try:
            manifest = json.loads((folder / PACK_MANIFEST).read_text(encoding="utf-8"))
            found.append(_info(folder, manifest, _installed_sha256(folder)))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def default_packs_dir() -> Path:
    """Where QGIS's default profile keeps the plugin's packs (the plugin passes its own profile's folder;
    GEOLOC_PACKS_DIR overrides it for the command line)."""
    if os.environ.get("GEOLOC_PACKS_DIR"):
        return Path(os.environ["GEOLOC_PACKS_DIR"])
    return default_profile_data_dir() / "packs"


def thumbnail_path(database_path: str | os.PathLike, record_path: str) -> Path | None:
    """The thumbnail file of a pack's record (its stored path is relative to the pack), if present."""
    candidate = Path(database_path) / record_path
    inside = THUMBNAIL_MEMBER.fullmatch(record_path) and not candidate.is_symlink()
    return candidate if inside and candidate.is_file() else None


@functools.lru_cache(maxsize=8)
def _credits_by_thumbnail(folder: Path, modified: float) -> dict:
    with open(folder / CREDITS, newline="", encoding="utf-8") as handle:
        return {row["thumbnail"]: row for row in csv.DictReader(handle) if row.get("thumbnail")}


def credit_line(thumbnail: str | os.PathLike) -> str | None:
    """"author, licence, link" of a pack's thumbnail (shown wherever the thumbnail is), or None for a
    photo that is not a pack's."""
    path = Path(thumbnail)
    folder = path.parent.parent
    if path.parent.name != THUMBNAILS or not (folder / CREDITS).is_file():
        return None
    try:
        row = _credits_by_thumbnail(folder, (folder / CREDITS).stat().st_mtime).get(f"{THUMBNAILS}/{path.name}")
    except (OSError, csv.Error, UnicodeDecodeError, KeyError):
        return None
    return f"{row['author']}, {row['licence']}, {row['source_url']}" if row else None


def resolve_reference(path: str | os.PathLike, packs_dir: str | os.PathLike | None = None) -> Path:
    """A database folder for `path`: a database or installed pack folder as it is, a pack file installed
    first (once: an identical pack already installed is reused), or the name of an installed pack."""
    path = Path(path)
    if path.is_dir():
        return path
    packs_dir = Path(packs_dir) if packs_dir is not None else default_packs_dir()
    if path.is_file() and path.suffix == PACK_SUFFIX:
        return install(path, packs_dir).path
    if not path.exists() and NAME_PATTERN.fullmatch(str(path)) and (packs_dir / str(path) / PACK_MANIFEST).is_file():
        return packs_dir / str(path)
    if not path.exists():
        raise PackError(f"{path}: no reference database, pack file or installed pack of that name "
                        f"(installed packs are in {packs_dir})")
    raise PackError(f"{path}: not a reference database folder or a {PACK_SUFFIX} pack file")


def is_pack(folder: str | os.PathLike) -> bool:
    """Whether a database folder is an installed pack (its records' paths name thumbnails inside it)."""
    return (Path(folder) / PACK_MANIFEST).is_file()


def remove(name: str, packs_dir: str | os.PathLike) -> None:
    """Uninstall a pack (renamed aside first, so a reader never sees half of it)."""
    folder = Path(packs_dir) / name
    if not NAME_PATTERN.fullmatch(name) or not (folder / PACK_MANIFEST).is_file():
        raise PackError(f"{folder}: no installed pack of that name")
    aside = Path(packs_dir) / f"{WORK_PREFIXES[1]}{name}"
    os.replace(folder, aside)
    shutil.rmtree(aside)


__all__ = ["Cancelled", "PackCredits", "PackError", "PackInfo", "coverage_summary", "credit_line", "default_packs_dir",
           "embedder_problem", "install", "installed_packs", "is_pack", "pack", "read_notice", "remove",
           "resolve_reference", "thumbnail_path"]
