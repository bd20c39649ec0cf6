"""Reference photos packed as web-scale image datasets are: WebDataset tar shards (what img2dataset
writes), and URL lists (CSV/parquet of url, latitude, longitude, licence, author) downloaded into
such shards through img2dataset.

A shard holds, per sample, an image member `<key>.jpg` (or .png, .webp...) and a `<key>.json` with its
metadata; a `<shard>.parquet` sidecar beside the tar (img2dataset writes one) may hold the metadata
instead, one row per key, and lists the URLs that could not be downloaded. Each sample becomes a
record whose path is `<shard.tar>#<member>`, whose content hash is the SHA-256 of the image bytes (so
a photo packed twice, or also added as a file, is stored once), and whose other metadata (url,
licence, author...) are kept as attributes, so that a map tip can credit the photo.

The single-process build here and the distributed one (geoloc_core.distributed) share `decode_shard`
and `shard_batches`, and both add shards in name order, so they give the same database.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import sys
import tarfile
import time
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import limits
from .errors import OptionError
from .files import PhotoError, display_path, redact, short_text
from .progress import ProgressCallback, StopCheck, check_stop, report
from .sources import LAT_NAMES, LON_NAMES, Skipped, valid_location

IMAGE_SUFFIXES = ("jpg", "jpeg", "png", "webp", "tif", "tiff", "bmp", "heic", "heif")
# img2dataset's bookkeeping fields: not photo attributes
TECHNICAL_FIELDS = frozenset({"key", "status", "error_message", "exif", "sha256", "width", "height",
                              "original_width", "original_height", "md5", "__key__", "__url__"})
URL_LIST_SUFFIXES = (".csv", ".parquet")
DEFAULT_SAMPLES_PER_SHARD = 1000


@dataclass(frozen=True)
class LocationColumns:
    """Which metadata fields hold the location; None: the first present of the usual names."""

    lat: str | None = None
    lon: str | None = None

    def pick(self, metadata: dict) -> tuple[str, str]:
        return (self.lat or _first_present(metadata, LAT_NAMES, "latitude"),
                self.lon or _first_present(metadata, LON_NAMES, "longitude"))


USUAL_LOCATION_NAMES = LocationColumns()


def _first_present(metadata: dict, names: tuple[str, ...], what: str) -> str:
    for name in names:
        if name in metadata:
            return name
    raise OptionError(f"no {what} in the metadata (looked for {', '.join(names)}; "
                      f"fields are {', '.join(sorted(metadata)) or 'none'})")


@dataclass
class DecodedShard:
    """A shard's photos ready for the network: one crop per record, in the shard's member order."""

    shard: str
    records: list  # EmbeddedRecord
    crops: np.ndarray  # (n, size, size, 3) uint8
    skipped: list[Skipped] = field(default_factory=list)
    failed: list[Skipped] = field(default_factory=list)


def shard_files(folder: str | os.PathLike) -> list[Path]:
    """The .tar shards of a dataset folder, in name order (the order the database receives them)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PhotoError(folder, "shard folder not found")
    shards = sorted(p for p in folder.iterdir() if p.suffix == ".tar" and p.is_file())
    if not shards:
        raise PhotoError(folder, "no .tar shards in this folder (expected WebDataset shards, e.g. from img2dataset)")
    return shards


def is_shard_folder(path: str | os.PathLike) -> bool:
    path = Path(path)
    return path.is_dir() and any(p.suffix == ".tar" for p in path.iterdir())


def is_url_list(path: str | os.PathLike) -> bool:
    """A CSV or parquet file with a `url` column (a CSV of local paths has none)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return True
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    columns, _ = _url_list_table(path, count_rows=False)
    names = {name.lower() for name in columns}
    return "url" in names and not {"path", "file", "filename", "photo"} & names


def _sidecar_metadata(shard: Path) -> dict[str, dict]:
    """The parquet sidecar's rows by key (successful downloads only), or nothing where there is none."""
    sidecar = shard.with_suffix(".parquet")
    if not sidecar.is_file():
        return {}
    table = _read_parquet(sidecar)
    rows = {}
    for row in table.to_pylist():
        if row.get("status", "success") == "success" and row.get("key") is not None:
            rows[str(row["key"])] = row
    return rows


def _read_parquet(path: Path):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise PhotoError(path, "reading parquet needs the pyarrow package (pip install -r "
                               "requirements-distributed.txt)") from None
    try:
        return pq.read_table(path)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid and OSErrors
        raise PhotoError(path, f"not a readable parquet file ({exc})") from None


def _members(shard: Path) -> Iterator[tuple[str, str, bytes | None, dict | str | None]]:
    """(key, member name, image bytes or None, json metadata, or why it is unusable, or None) per sample, in
    key order (not the order a download finished in). WebDataset's key is the member name up to the first
    dot of its file name. The archive is read as a stream (a .tar.gz is inflated as it goes); a member over
    limits.SHARD_MEMBER_BYTES is passed over unread and its sample reported."""
    samples: dict[str, dict] = {}
    try:
        with tarfile.open(shard, "r:*") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                folder, _, base = member.name.rpartition("/")
                stem, dot, suffix = base.partition(".")
                if not dot:
                    continue
                key = f"{folder}/{stem}" if folder else stem
                sample = samples.setdefault(key, {})
                suffix = suffix.lower()
                wanted = suffix == "json" or suffix in IMAGE_SUFFIXES and "image" not in sample
                if wanted and member.size > limits.SHARD_MEMBER_BYTES.value():
                    sample["refused"] = f"{member.name}: {limits.SHARD_MEMBER_BYTES.refusal(member.size)}"
                elif suffix in IMAGE_SUFFIXES and "image" not in sample:
                    sample["image"] = (member.name, archive.extractfile(member).read())
                elif suffix == "json":
                    sample["json"] = archive.extractfile(member).read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        if isinstance(exc, OSError) and exc.filename:
            raise
        raise PhotoError(shard, f"not a readable tar shard ({short_text(str(exc))})") from None
    for key, sample in sorted(samples.items()):
        name, data = sample.get("image", (None, None))
        metadata = None
        if "refused" in sample:
            metadata = sample["refused"]
        elif "json" in sample:
            metadata = _metadata(key, sample["json"])
        yield key, name, data, metadata


def _metadata(key: str, data: bytes) -> dict | str:
    """A sample's JSON metadata as a dict of fields, or why it cannot be used."""
    try:
        metadata = limits.load_json(data)
    except limits.LimitExceeded as exc:
        return f"{key}.json: {exc}"
    except (UnicodeDecodeError, ValueError) as exc:
        return f"{key}.json is not valid JSON ({short_text(str(exc))})"
    if not isinstance(metadata, dict):
        return f"{key}.json holds a {type(metadata).__name__}, not an object of fields"
    return metadata


def _coordinate(value) -> float:
    """A latitude or longitude from metadata: a number or numeric text (true/false are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{short_text(json.dumps(value, default=str))} is not a number")
    return float(value)


def decode_shard(shard: str | os.PathLike, input_size: int, columns: LocationColumns = USUAL_LOCATION_NAMES,
                 should_stop: StopCheck | None = None) -> DecodedShard:
    """Read a shard and decode its located photos into network crops. Samples with no usable location
    are `skipped`, images that cannot be decoded `failed`, each with the reason."""
    from .database import EmbeddedRecord
    from .embedders import prepare_photo_bytes

    shard = Path(shard).resolve()
    sidecar = _sidecar_metadata(shard)
    records, crops, skipped, failed = [], [], [], []
    for key, name, data, metadata in _members(shard):
        check_stop(should_stop)
        label = f"{shard}#{name or key}"
        if isinstance(metadata, str):  # a metadata file or an image that could not be used, and why
            failed.append(Skipped(label, metadata))
            continue
        metadata = {**sidecar.get(key, {}), **(metadata or {})}
        if data is None:
            failed.append(Skipped(label, "no image in this sample"))
            continue
        try:
            lat_name, lon_name = columns.pick(metadata)
            lat, lon = _coordinate(metadata[lat_name]), _coordinate(metadata[lon_name])
        except KeyError as exc:
            skipped.append(Skipped(label, f"no {exc.args[0]} field in the metadata"))
            continue
        except (TypeError, ValueError) as exc:
            skipped.append(Skipped(label, f"no usable location ({exc})"))
            continue
        if not valid_location(lat, lon):
            skipped.append(Skipped(label, f"location ({lat}, {lon}) is out of range"))
            continue
        try:
            crop, (width, height) = prepare_photo_bytes(data, label, input_size)
        except PhotoError as exc:
            source = f" (downloaded from {metadata['url']})" if metadata.get("url") else ""
            failed.append(Skipped(label, exc.reason + source))
            continue
        attributes = {k: v for k, v in metadata.items() if k not in TECHNICAL_FIELDS and k not in (lat_name, lon_name)
                      and isinstance(v, (str, int, float, bool)) and v is not None}
        records.append(EmbeddedRecord(label, hashlib.sha256(data).hexdigest(), lat, lon, None, None, width, height,
                                      attributes))
        crops.append(crop)
    stacked = np.stack(crops) if crops else np.zeros((0, input_size, input_size, 3), np.uint8)
    return DecodedShard(str(shard), records, stacked, skipped, failed)


def embed_decoded(decoded: DecodedShard, embedder, should_stop: StopCheck | None = None,
                  batch_size: int | None = None) -> np.ndarray:
    """The features of a decoded shard's crops, in batches sized for the embedder's device."""
    from .embedders import batch_size_for

    size = batch_size or batch_size_for(embedder.device)
    parts = [embedder.embed_crops(decoded.crops[start:start + size], should_stop)
             for start in range(0, len(decoded.crops), size)]
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), np.float32)


def build_from_shards(database_path: str | os.PathLike, shards: Sequence[Path], embedder,
                      columns: LocationColumns = USUAL_LOCATION_NAMES, progress: ProgressCallback | None = None,
                      should_stop: StopCheck | None = None, batch_size: int | None = None):
    """The single-process build: each shard decoded and embedded here, then added, in name order.
    Returns (database, BuildReport)."""
    from .results import BuildReport

    started = time.perf_counter()
    result = BuildReport()
    shards = sorted(Path(s).resolve() for s in shards)

    def batches():
        # the next shard is decoded on a thread while the network embeds this one
        with ThreadPoolExecutor(max_workers=1) as pool:
            upcoming = pool.submit(decode_shard, shards[0], embedder.input_size, columns, should_stop) if shards else None
            for done, shard in enumerate(shards):
                decoded = upcoming.result()
                if done + 1 < len(shards):
                    upcoming = pool.submit(decode_shard, shards[done + 1], embedder.input_size, columns, should_stop)
                result.skipped.extend(decoded.skipped)
                result.failed.extend(decoded.failed)
                vectors = embed_decoded(decoded, embedder, should_stop, batch_size)
                report(progress, done + 1, len(shards), "embed", f"{display_path(shard.name)}: {len(vectors)} photos")
                yield decoded.records, vectors

    return merge_into_database(database_path, embedder.identity, batches(), result, started, progress, should_stop)


def merge_into_database(database_path, identity, batches, result, started: float, progress=None, should_stop=None):
    """Create (or open) the database and add the shards' (records, vectors) in the order given; the
    database trains its index at the end. Counts what was added and what was already there."""
    from .database import MANIFEST, ReferenceDatabase
    from .ingest import add_batches
    from .progress import Cancelled

    path = Path(database_path)
    database = (ReferenceDatabase.open(path, identity, writable=True) if (path / MANIFEST).exists()
                else ReferenceDatabase.create(path, identity))
    before, offered = database.count, 0

    def counted():
        nonlocal offered
        for records, vectors in batches:
            offered += len(records)
            yield records, vectors

    try:
        add_batches(database, counted(), progress, should_stop)
    except Cancelled:
        result.cancelled = True
    result.added = database.count - before
    result.already_present = max(0, offered - result.added)
    result.seconds = time.perf_counter() - started
    return database, result


def pack_shards(photos: Sequence[tuple[Path, dict]], folder: str | os.PathLike,
                samples_per_shard: int = DEFAULT_SAMPLES_PER_SHARD) -> list[Path]:
    """Photo files and their metadata (lat, lon, licence, author...) packed into WebDataset shards as
    img2dataset writes them (<key>.<ext> + <key>.json, keys of 5 shard digits + 4 sample digits), so
    that local photos can be built on Ray too."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shards = []
    for number, start in enumerate(range(0, len(photos), samples_per_shard)):
        shard = folder / f"{number:05d}.tar"
        with tarfile.open(shard, "w") as archive:
            for index, (path, metadata) in enumerate(photos[start:start + samples_per_shard]):
                key = f"{number:05d}{index:04d}"
                suffix = Path(path).suffix.lower().lstrip(".") or "jpg"
                for name, data in ((f"{key}.{suffix}", Path(path).read_bytes()),
                                   (f"{key}.json", json.dumps({"key": key, **metadata}).encode("utf-8"))):
                    member = tarfile.TarInfo(name)
                    member.size = len(data)
                    archive.addfile(member, io.BytesIO(data))
        shards.append(shard)
    return shards


@dataclass
class DownloadReport:
    """What a URL-list download left in its folder: the shards, and each URL that could not be fetched."""

    folder: Path
    shards: list[Path]
    downloaded: int
    failures: list[Skipped]


def _url_list_table(url_list: Path, count_rows: bool = True) -> tuple[list[str], int]:
    """(columns, rows) of a URL list (rows: 0 unless counted)."""
    if url_list.suffix.lower() == ".parquet":
        table = _read_parquet(url_list)
        return list(table.schema.names), table.num_rows
    import csv

    try:
        with open(url_list, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            columns = [name.strip() for name in next(reader, [])]
            return columns, sum(1 for row in reader if row) if count_rows else 0
    except (csv.Error, UnicodeDecodeError) as exc:
        raise PhotoError(url_list, f"not a readable UTF-8 CSV ({exc})") from None


def _download_finished(folder: Path, rows: int, samples_per_shard: int) -> bool:
    """img2dataset writes <shard>_stats.json when a shard is complete."""
    shards = -(-rows // samples_per_shard)
    return all((folder / f"{number:05d}_stats.json").is_file() for number in range(shards))


def download_url_list(url_list: str | os.PathLike, folder: str | os.PathLike,
                      samples_per_shard: int = DEFAULT_SAMPLES_PER_SHARD, processes: int = 1, threads: int = 16,
                      timeout_s: int = 10, retries: int = 1, progress: ProgressCallback | None = None) -> DownloadReport:
    """Download the photos of a URL list (CSV or parquet with a `url` column; the other columns, such as
    lat, lon, licence and author, go into each sample's metadata) into WebDataset shards with img2dataset,
    keeping the original bytes. Resumable: a rerun fetches only the shards not finished. Failed URLs are
    read back from the shards' parquet sidecars."""
    url_list, folder = Path(url_list), Path(folder)
    if not url_list.is_file():
        raise PhotoError(url_list, "URL list not found")
    columns, rows = _url_list_table(url_list)
    if "url" not in columns:
        raise PhotoError(url_list, f"no url column in this URL list; columns are {columns}")
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # img2dataset's albumentations would ask PyPI
    try:
        from img2dataset import download
    except ImportError as exc:
        raise PhotoError(url_list, f"downloading a URL list needs img2dataset, which is not installed ({exc}); "
                                   "pip install -r requirements-distributed.txt") from None
    folder.mkdir(parents=True, exist_ok=True)
    report(progress, 0, rows, "download", f"downloading {display_path(url_list)} into {display_path(folder)}")
    fetched, refused = web_rows_only(url_list, folder)
    if not _download_finished(folder, rows - len(refused), samples_per_shard):
        _download(download, fetched, folder, columns, samples_per_shard, processes, threads, timeout_s, retries)
    shards = sorted(p for p in folder.iterdir() if p.suffix == ".tar" and p.is_file())
    failures, downloaded = list(refused), 0
    for shard in shards:
        sidecar = shard.with_suffix(".parquet")
        if not sidecar.is_file():
            continue
        for row in _read_parquet(sidecar).to_pylist():
            if row.get("status") == "success":
                downloaded += 1
            else:
                failures.append(Skipped(str(row.get("url")), f"download failed ({row.get('error_message')})"))
    report(progress, downloaded, downloaded + len(failures), "download",
           f"{downloaded} photos downloaded, {len(failures)} URLs failed")
    return DownloadReport(folder, shards, downloaded, failures)


WEB_URL = re.compile(r"(?i)https?://[^\s]+")
CHECKED_LIST = ".web-rows-only"  # the URL list without its rows img2dataset must not fetch


def web_rows_only(url_list: Path, folder: Path) -> tuple[Path, list[Skipped]]:
    """The URL list as img2dataset may fetch it: rows whose url is not http(s) (file://, ftp://, a local
    path: img2dataset would read a local file into the shards, and a pack would ship it) are left out and
    reported; the list itself where every row is a web address, else a filtered copy in `folder`."""
    if url_list.suffix.lower() == ".parquet":
        import pyarrow.compute as pc

        table = _read_parquet(url_list)
        urls = [str(u) for u in table.column("url").to_pylist()]
        keep = [bool(WEB_URL.fullmatch(u.strip())) for u in urls]
        refused = [Skipped(short_text(redact(u)), "only http:// and https:// addresses are downloaded")
                   for u, ok in zip(urls, keep) if not ok]
        if not refused:
            return url_list, []
        import pyarrow.parquet as pq

        checked = folder / f"{CHECKED_LIST}.parquet"
        pq.write_table(pc.filter(table, keep), checked)
        return checked, refused
    import csv

    with open(url_list, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames or [], list(reader)
    url_field = next(name for name in fields if name.strip() == "url")
    refused = [Skipped(short_text(redact(str(row[url_field]))), "only http:// and https:// addresses are downloaded")
               for row in rows if not WEB_URL.fullmatch(str(row[url_field] or "").strip())]
    if not refused:
        return url_list, []
    checked = folder / f"{CHECKED_LIST}.csv"
    with open(checked, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows(row for row in rows if WEB_URL.fullmatch(str(row[url_field] or "").strip()))
    return checked, refused


def _download(download, url_list: Path, folder: Path, columns: list[str], samples_per_shard: int, processes: int,
              threads: int, timeout_s: int, retries: int) -> None:
    with _stdout_to_stderr():  # img2dataset and its worker processes print; stdout carries the progress protocol
        download(url_list=str(url_list), output_folder=str(folder), output_format="webdataset",
                 input_format=url_list.suffix.lower().lstrip("."), url_col="url",
                 save_additional_columns=[c for c in columns if c != "url"], resize_mode="no",
                 disable_all_reencoding=True, extract_exif=False, compute_hash="sha256",
                 number_sample_per_shard=samples_per_shard, processes_count=processes, thread_count=threads,
                 timeout=timeout_s, retries=retries, incremental_mode="incremental", enable_wandb=False,
                 distributor="multiprocessing")


@contextlib.contextmanager
def _stdout_to_stderr():
    """File descriptor 1 sent to stderr for a while, for this process and the ones it starts."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # where sys.stdout is not file descriptor 1
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
