"""Fault campaign: runs the command line on bad inputs, bad options, full disks, read-only files,
killed and concurrent processes, and checks the rule every entry point keeps: a failure is exit
status 2 with exactly one `error:` line naming the file and the problem, never a traceback, and
nothing already written is lost. Prints the table of cases tried and passed; exits 1 if any failed.

    .venv/bin/python bench/faults.py            # every case (a few minutes)
    .venv/bin/python bench/faults.py --fast     # what `make test` runs (under a minute)
    .venv/bin/python bench/faults.py -k gpkg    # the cases whose name contains "gpkg"

Cases run in this process (cli.main with captured output) unless they need a process of their own
(killed, concurrent, unprivileged, or `--subprocess` for all): an exception escaping main() is a
traceback, i.e. a failed case.

Adding a case: append a `Case` to CASES (or to a list you add to CASES).
- `argv`: the command line as one string; `{...}` placeholders are filled from World (`{db}`: the
  shared reference database, read-only for the case, or a private copy when `writes=True`;
  `{refs}` the folder and `{refs_csv}` the CSV it was built from; `{photo}`: a readable query photo;
  `{dir}`: the case's own empty folder; `{full}`: a nearly full small disk, see `needs_full_disk`)
  and from what `setup` returns. Values are quoted for you; placeholders are formatted with
  `str.format`, so `{{` is a literal brace.
- `setup(world, case_dir) -> dict`: makes the bad input (damage `world.db` for database cases:
  with `writes=True` it is already a private copy), returns extra placeholders (e.g. {"photos": path}).
- `expect`: ERROR (exit 2, one `error:` line containing `says`), OK (exit 0; `says`, if given, must
  appear in the output), or KILLED (the process dies at `abort_after` progress events, or by SIGKILL
  just before its `kill_at_step`-th file change).
- `after(world, case_dir) -> str | None`: checks that nothing was lost or left half-written (the
  database still opens with all its photos, no partial output file...); returns a problem or None.
- `fast=False` keeps a slow case out of `--fast`; `unprivileged=True` runs it as user nobody where
  this runs as root (so that file permissions apply); `together=N` runs N copies at once.
- `env`: environment variables for the run (a lowered limit, say); `lacks`: text no output line may hold
  (a password); `max_line`: the longest output line allowed; `max_mib`: run in a process of its own and
  fail where its peak memory passes this (the bomb cases; the table prints each one's peak).
The shared database is hashed before and after the campaign: a case that changes it fails the run.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import io
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from common import REPO_ROOT

ERROR, OK, KILLED = "error", "ok", "killed"
NOBODY = 65534
FULL_DISK_FREE = 4096  # bytes left on the small disk: a short file fits, a longer one does not


@dataclass
class World:
    """What the cases run against, made once per campaign."""

    root: Path
    refs: Path
    refs_csv: Path
    db: Path
    photo: Path
    full: Path | None = None  # a small tmpfs, nearly full; None where mounting is not allowed
    full_disk_problem: str = ""

    def placeholders(self, case_dir: Path, db: Path) -> dict:
        return {"db": db, "refs": self.refs, "refs_csv": self.refs_csv, "photo": self.photo, "dir": case_dir,
                "full": self.full}


@dataclass
class Case:
    name: str
    argv: str
    expect: str = ERROR
    says: str = ""
    setup: Callable[[World, Path], dict] | None = None
    after: Callable[[World, Path], str | None] | None = None
    writes: bool = False
    fast: bool = True
    unprivileged: bool = False
    together: int = 1
    abort_after: int = 0
    kill_at_step: int = 0  # SIGKILL just before this file change (-1: count them; see KILL_HOOK)
    needs_full_disk: bool = False
    skip_if: Callable[[], str] | None = None  # returns a reason to skip, or ""
    env: dict = field(default_factory=dict)
    lacks: str = ""
    max_line: int = 0
    max_mib: float = 0.0


@dataclass
class Outcome:
    case: Case
    passed: bool
    detail: str = ""
    seconds: float = 0.0
    skipped: str = ""
    peak_mib: float = 0.0


@dataclass
class Run:
    code: int
    out: str
    err: str = ""
    extra: list = field(default_factory=list)
    peak_mib: float = 0.0


# -- making bad inputs ------------------------------------------------------------------------------

def _jpeg(path: Path, seed: int, size: int = 96) -> Path:
    import numpy as np
    from PIL import Image

    pixels = (np.random.default_rng(seed).random((size, size, 3)) * 255).astype("uint8")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def _non_utf8_photos(world: World, case_dir: Path) -> dict:
    folder = case_dir / "photos"
    _jpeg(folder / "plain.jpg", 1)
    _jpeg(Path(os.fsdecode(os.fsencode(folder) + b"/caf\xe9-latin1.jpg")), 2)
    _jpeg(Path(os.fsdecode(os.fsencode(folder) + b"/\xff\xfe.jpg")), 3)
    return {"photos": folder}


def _deep_tree(world: World, case_dir: Path) -> dict:
    """A photo at the top and one under folders nested deeper than PATH_MAX allows to open."""
    tree = case_dir / "tree"
    _jpeg(tree / "top.jpg", 4)
    fd = os.open(tree, os.O_RDONLY)
    try:
        for _ in range(20):  # 20 x 250 characters: over 4096 bytes, made relative to stay within limits
            name = "d" * 250
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        source = (world.refs / "r0.jpg").read_bytes()
        photo = os.open("deep.jpg", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(photo, source)
        os.close(photo)
    finally:
        os.close(fd)
    return {"tree": tree}


def _locked_subfolder(world: World, case_dir: Path) -> dict:
    tree = case_dir / "tree"
    _jpeg(tree / "open.jpg", 5)
    _jpeg(tree / "locked" / "hidden.jpg", 6)
    (tree / "locked").chmod(0)
    return {"tree": tree}


def _gif(world: World, case_dir: Path) -> dict:
    from PIL import Image

    (case_dir / "gifs").mkdir()
    Image.open(_jpeg(case_dir / "a.jpg", 7)).convert("P").save(case_dir / "gifs" / "a.gif")
    return {"gifs": case_dir / "gifs"}


def _nan_tiff(world: World, case_dir: Path) -> dict:
    import numpy as np
    from PIL import Image

    Image.fromarray(np.full((64, 64), np.nan, dtype=np.float32), "F").save(case_dir / "nan.tif")
    return {}


def _truncated_heic(world: World, case_dir: Path) -> dict:
    from PIL import Image
    from pillow_heif import register_heif_opener

    register_heif_opener()
    Image.open(_jpeg(case_dir / "a.jpg", 8, 512)).save(case_dir / "whole.heic", quality=90)
    data = (case_dir / "whole.heic").read_bytes()
    (case_dir / "third.heic").write_bytes(data[: len(data) // 3])
    return {}


def _formula_name(world: World, case_dir: Path) -> dict:
    shutil.copy(world.photo, case_dir / "=HYPERLINK(1).jpg")
    return {"formula": case_dir / "=HYPERLINK(1).jpg"}


def _a_file(world: World, case_dir: Path) -> dict:
    (case_dir / "afile").write_text("not a folder\n")
    return {}


def _huge_csv_field(world: World, case_dir: Path) -> dict:
    (case_dir / "big.csv").write_text(f"path,lat,lon,note\n{world.photo},1,2,{'x' * 200_000}\n")
    return {}


def _more_refs(world: World, case_dir: Path) -> dict:
    rows = ["path,lat,lon"] + [f"{_jpeg(case_dir / f'm{i}.jpg', 100 + i)},{10 + i},{20 + i}" for i in range(6)]
    (case_dir / "more.csv").write_text("\n".join(rows) + "\n")
    return {}


def _read_only(world: World, case_dir: Path) -> dict:
    for path in [world_db(world, case_dir), *world_db(world, case_dir).rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    return {}


def _empty_folder(world: World, case_dir: Path) -> dict:
    (case_dir / "empty").mkdir()
    (case_dir / "empty" / "notes.txt").write_text("no photos here\n")
    return {}


# -- checks that nothing was lost --------------------------------------------------------------------

def world_db(world: World, case_dir: Path) -> Path:
    """The database a case runs against: its private copy where it writes, else the shared one."""
    private = case_dir / "db.geoloc"
    return private if private.exists() else world.db


def _count(db: Path) -> int:
    sys.path.insert(0, str(REPO_ROOT))
    from geoloc_core.database import ReferenceDatabase

    with ReferenceDatabase.open(db) as database:
        return database.count


def _database_intact(world: World, case_dir: Path) -> str | None:
    try:
        count = _count(world_db(world, case_dir))
    except Exception as exc:
        return f"the database no longer opens: {exc}"
    return None if count == REFERENCE_COUNT else f"the database holds {count} photos, not {REFERENCE_COUNT}"


def _no_files(*names: str) -> Callable[[World, Path], str | None]:
    def check(world: World, case_dir: Path) -> str | None:
        where = world.full if any("{full}" in n for n in names) else case_dir
        left = [n for n in names if (where / n.replace("{full}/", "")).exists()]
        stray = [p.name for p in where.glob(".*tmp*")]
        return f"left behind: {left + stray}" if left or stray else None
    return check


def _csv_rows(name: str, rows: int, starts: str = "") -> Callable[[World, Path], str | None]:
    def check(world: World, case_dir: Path) -> str | None:
        import csv

        path = case_dir / name
        if not path.is_file() or not (case_dir / name.replace(".csv", "-neighbours.csv")).is_file():
            return f"{name} or its -neighbours file is missing"
        with open(path, newline="", encoding="utf-8") as handle:
            found = list(csv.DictReader(handle))
        if len(found) != rows:
            return f"{name} has {len(found)} rows, not {rows}"
        if starts and not all(row["file_name"].startswith(starts) for row in found):
            return f"a file_name cell in {name} does not start with {starts!r}"
        return None
    return check


def _count_is(expected_extra: int) -> Callable[[World, Path], str | None]:
    def check(world: World, case_dir: Path) -> str | None:
        count = _count(world_db(world, case_dir))
        wanted = REFERENCE_COUNT + expected_extra
        return None if count == wanted else f"the database holds {count} photos, not {wanted}"
    return check


def _no_gpu() -> str:
    import torch

    return "this machine has a CUDA GPU" if torch.cuda.is_available() else ""


REFERENCE_COUNT = 12
LOCATE = "locate {db} {photo} -k 5"

CASES: list[Case] = [
    # 1. file names that are not UTF-8, paths too long to open
    Case("non-utf8 names, csv", "locate {db} {photos} -k 3 -o {dir}/out.csv", OK, setup=_non_utf8_photos,
         after=_csv_rows("out.csv", 3)),
    Case("non-utf8 names, gpkg", "locate {db} {photos} -k 3 -o {dir}/out.gpkg --density-dir {dir}/d", OK,
         setup=_non_utf8_photos),
    Case("non-utf8 names, json progress", "--progress json locate {db} {photos} -k 3", OK, setup=_non_utf8_photos,
         fast=False),
    Case("path over 4096 bytes in a folder", "locate {db} {tree} -k 3", OK, "too long", setup=_deep_tree),
    # 5. errors that were tracebacks
    Case("build into a file", "build {dir}/afile {refs_csv}", says="is a file", setup=_a_file),
    Case("k of 2^40", LOCATE.replace("-k 5", "-k 1099511627776"), says="k (neighbours)"),
    Case("density dir is a file", LOCATE + " --density-dir {dir}/afile", says="is a file", setup=_a_file),
    Case("density resolution 0", LOCATE + " --density-dir {dir}/d --density-resolution 0", says="resolution"),
    Case("200k-character CSV field", "build {dir}/new.geoloc {dir}/big.csv", says="big.csv",
         setup=_huge_csv_field, after=_no_files("new.geoloc")),
    Case("evaluate json into a missing folder", "evaluate {db} {refs_csv} --json {dir}/nodir/e.json",
         says="folder not found"),
    Case("train geo-dim -5", "train {db} --geo-dim -5", says="geo_dim", after=_database_intact),
    Case("device cuda without a GPU", "train {db} --finetune --device cuda", says="no CUDA GPU", skip_if=_no_gpu),
    Case("device bogus", "train {db} --finetune --device bogus", says="unknown device"),
    Case("locate a path over 4096 bytes", "locate {db} {dir}/" + "x" * 4100 + ".jpg {photo} -k 3", OK, "too long"),
    # 6. silent garbage with exit 0
    Case("batch size -1", "add {db} {refs_csv} --batch-size -1", says="--batch-size"),
    Case("batch size 0", "add {db} {refs_csv} --batch-size 0", says="--batch-size"),
    Case("bandwidth 1e-9", LOCATE + " --bandwidth 1e-9", says="bandwidth"),
    Case("bandwidth inf", LOCATE + " --bandwidth inf", says="bandwidth"),
    Case("bandwidth nan", LOCATE + " --bandwidth nan", says="bandwidth"),
    Case("temperature 0", LOCATE + " --temperature 0", says="temperature"),
    Case("train smoothing nan", "train {db} --smoothing nan", says="smoothing", after=_database_intact),
    Case("train geo-dim 0", "train {db} --geo-dim 0", says="geo_dim", after=_database_intact),
    Case("train epochs 0", "train {db} --epochs 0", says="epochs", after=_database_intact),
    Case("density resolution -1", LOCATE + " --density-dir {dir}/d --density-resolution -1", says="resolution",
         after=_no_files("d")),
    # 7. smaller ones
    Case("truncated HEIC", "locate {db} {dir}/third.heic", says="could be located", setup=_truncated_heic),
    Case("truncated HEIC is named", "locate {db} {dir}/third.heic {photo}", OK, "truncated",
         setup=_truncated_heic, fast=False),
    Case("formula in a file name", "locate {db} {formula} -k 2 -o {dir}/out.csv", OK, setup=_formula_name,
         after=_csv_rows("out.csv", 1, starts="'=")),
    Case("usage error is one line", "locate", says="required"),
    Case("bad int is one line", LOCATE.replace("-k 5", "-k many"), says="invalid"),
    Case("folder without photos", "locate {db} {dir}/empty", says="no photos found", setup=_empty_folder),
    Case("overwrite inside the database", LOCATE + " -o {db}/manifest.json --overwrite", says="inside the reference",
         writes=True, after=_database_intact),
    Case("gif in a folder is located", "locate {db} {gifs} -k 3", OK, "a.gif", setup=_gif),
    Case("NaN-filled TIFF", "locate {db} {dir}/nan.tif", says="could be located", setup=_nan_tiff),
    Case("unreadable subfolder is reported", "locate {db} {tree} -k 3", OK, "permission denied",
         setup=_locked_subfolder, unprivileged=True),
    # full disk (a small tmpfs): two-file exports must leave neither file
    Case("disk full, csv", LOCATE.replace("-k 5", "-k 12") + " -o {full}/out.csv", says="no space",
         needs_full_disk=True, after=_no_files("{full}/out.csv", "{full}/out-neighbours.csv")),
    Case("disk full, geojson", LOCATE.replace("-k 5", "-k 12") + " -o {full}/out.geojson", says="no space",
         needs_full_disk=True, fast=False, after=_no_files("{full}/out.geojson", "{full}/out-neighbours.geojson")),
    Case("disk full, gpkg", LOCATE + " -o {full}/out.gpkg", says="out.gpkg", needs_full_disk=True,
         after=_no_files("{full}/out.gpkg")),
    Case("disk full, density", LOCATE + " --density-dir {full}/d", says="density.tif", needs_full_disk=True),
    # read-only databases (as a user other than its owner where this runs as root)
    Case("locate on a read-only database", LOCATE, OK, writes=True, setup=_read_only, unprivileged=True,
         after=_database_intact, fast=False),
    Case("add to a read-only database", "add {db} {dir}/more.csv", writes=True, unprivileged=True,
         setup=lambda w, d: {**_more_refs(w, d), **_read_only(w, d)}, after=_database_intact),
    # killed and concurrent processes
    Case("killed during locate leaves no output", LOCATE + " -o {dir}/out.csv", KILLED, abort_after=1,
         after=_no_files("out.csv", "out-neighbours.csv")),
    Case("two adds at once", "add {db} {dir}/more.csv", OK, writes=True, setup=_more_refs, together=2,
         says="", after=_count_is(6), fast=False),
]


# -- damaged, mixed and old databases (format 2) ---------------------------------------------------------

def _manifest_with(text: str) -> Callable[[World, Path], dict]:
    def setup(world: World, case_dir: Path) -> dict:
        (world_db(world, case_dir) / "manifest.json").write_text(text)
        return {}
    return setup


def _manifest_value(key: str, value: str) -> Callable[[World, Path], dict]:
    def setup(world: World, case_dir: Path) -> dict:
        import json

        manifest = world_db(world, case_dir) / "manifest.json"
        data = json.loads(manifest.read_text())
        data[key] = "PLACEHOLDER"
        manifest.write_text(json.dumps(data).replace('"PLACEHOLDER"', value))
        return {}
    return setup


def _sql(statement: str) -> Callable[[World, Path], dict]:
    def setup(world: World, case_dir: Path) -> dict:
        import sqlite3

        with sqlite3.connect(world_db(world, case_dir) / "metadata.sqlite") as connection:
            connection.execute(statement)
        return {}
    return setup


def _foreign_vectors(world: World, case_dir: Path) -> dict:
    with open(world_db(world, case_dir) / "vectors.f16", "r+b") as handle:
        handle.seek(16)  # the database id in the header
        handle.write(os.urandom(16))
    return {}


def _zeroed_vector(world: World, case_dir: Path) -> dict:
    with open(world_db(world, case_dir) / "vectors.f16", "r+b") as handle:
        handle.seek(64 + 3 * 1280 * 2)
        handle.write(b"\0" * 1280 * 2)
    return {}


def _lock_folder(world: World, case_dir: Path) -> dict:
    lock = world_db(world, case_dir) / ".lock"
    lock.unlink(missing_ok=True)
    lock.mkdir()
    return _more_refs(world, case_dir)


def _version_1(world: World, case_dir: Path) -> dict:
    shutil.copytree(REPO_ROOT / "tests" / "data" / "v1-database", case_dir / "old")
    return {}


DATABASE_CASES: list[Case] = [
    Case("manifest is []", LOCATE, says="manifest.json is unreadable", writes=True, setup=_manifest_with("[]")),
    Case("manifest is null", LOCATE, says="manifest.json is unreadable", writes=True, setup=_manifest_with("null")),
    Case("manifest is a string", LOCATE, says="manifest.json is unreadable", writes=True,
         setup=_manifest_with('"text"')),
    Case("manifest of 100k nested brackets", LOCATE, says="manifest.json is unreadable", writes=True,
         setup=_manifest_with("[" * 100_000 + "]" * 100_000)),
    Case("manifest dimension 1e999", LOCATE, says="manifest.json is unreadable", writes=True,
         setup=_manifest_value("dimension", "1e999")),
    Case("manifest active_view 123", LOCATE, says="manifest.json is unreadable", writes=True,
         setup=_manifest_value("active_view", "123")),
    Case("metadata of another database", LOCATE, says="belongs to another database", writes=True,
         setup=_sql("UPDATE meta SET value = 'ffff' WHERE key = 'database_id'")),
    Case("vectors of another database", LOCATE, says="vectors.f16 belongs to another database", writes=True,
         setup=_foreign_vectors),
    Case("edited latitude found by verify", "verify {db}", says="were changed after they were added", writes=True,
         setup=_sql("UPDATE records SET lat = lat + 1 WHERE id = 2")),
    Case("zeroed vector found by verify", "verify {db}", says="not unit length", writes=True, setup=_zeroed_vector),
    Case("lock is a folder", "add {db} {dir}/more.csv", says="cannot write to this database", writes=True,
         setup=_lock_folder, after=_database_intact),
    Case("reindex with a factory without IVF", "reindex {db} --factory HNSW32", says="IVF", writes=True,
         after=_database_intact),
    Case("version-1 database is migrated", "info {dir}/old", OK, "60", setup=_version_1),
]
CASES += DATABASE_CASES


# 4. reference packs: bad pack files, unreachable addresses, missing packs (geoloc_core/packs.py)
def _pack_file(damage: Callable[[bytes], bytes]) -> Callable[[World, Path], dict]:
    """A pack of the campaign's database (one licence for all its photos), damaged by `damage`."""
    def setup(world: World, case_dir: Path) -> dict:
        sys.path.insert(0, str(REPO_ROOT))
        from geoloc_core.packs import PackCredits, pack

        target = case_dir / "refs.geolocpack"
        pack(world.db, target, credits=PackCredits(default_licence="CC0 1.0", default_author="the campaign"))
        target.write_bytes(damage(target.read_bytes()))
        return {"pack": target}
    return setup


def _not_a_zip(world: World, case_dir: Path) -> dict:
    (case_dir / "bad.geolocpack").write_bytes(b"not a zip")
    return {"pack": case_dir / "bad.geolocpack"}


def _nothing_installed(world: World, case_dir: Path) -> str | None:
    packs = case_dir / "packs"
    visible = [p.name for p in packs.iterdir() if not p.name.startswith(".")] if packs.is_dir() else []
    hidden = [p.name for p in packs.glob(".installing-*")] if packs.is_dir() else []
    return f"left in the packs folder: {visible + hidden}" if visible or hidden else None


INSTALL = "install {pack} --packs-dir {dir}/packs"
PACK_CASES: list[Case] = [
    Case("pack of photos without a licence", "pack {db} {dir}/refs.geolocpack", says="has no licence",
         after=_no_files("refs.geolocpack")),
    Case("pack into a missing folder", "pack {db} {dir}/nodir/refs.geolocpack --licence CC0 --author me",
         says="folder not found"),
    Case("pack file that is not a zip", INSTALL, says="not a reference pack",
         setup=_not_a_zip, after=_nothing_installed),
    Case("pack file cut in half", INSTALL, says="refs.geolocpack", setup=_pack_file(lambda data: data[: len(data) // 2]),
         after=_nothing_installed),
    Case("pack file with a flipped byte", INSTALL, says="refs.geolocpack",
         setup=_pack_file(lambda data: data[:600] + bytes([data[600] ^ 0xFF]) + data[601:]), after=_nothing_installed),
    Case("pack file of another checksum", INSTALL + " --sha256 " + "0" * 64, says="checksum mismatch",
         setup=_pack_file(lambda data: data), after=_nothing_installed),
    Case("install from an unreachable address", "install http://127.0.0.1:9/refs.geolocpack --packs-dir {dir}/packs",
         says="cannot be reached", after=_nothing_installed),
    Case("install from a file address", "install file:///etc/hostname --packs-dir {dir}/packs", says="only http",
         after=_nothing_installed),
    Case("locate with a missing pack", LOCATE + " --also nothing-here --packs-dir {dir}/packs",
         says="nothing-here: no reference database, pack file or installed pack"),
]
CASES += PACK_CASES

# 5. issue 28: what a stranger's pack, shard, URL or file name can do, and damage verify must find
def _base_pack(world: World) -> Path:
    """The campaign's database packed once (one licence for all its photos); cases copy and alter it."""
    target = world.root / "base.geolocpack"
    if not target.exists():
        sys.path.insert(0, str(REPO_ROOT))
        from geoloc_core.packs import PackCredits, pack

        pack(world.db, target, credits=PackCredits(default_licence="CC0 1.0", default_author="the campaign"))
    return target


def _repack(members_edit: Callable[[dict], None] | None = None, manifest_edit: Callable[[dict], None] | None = None,
            raw: Callable[[bytes], bytes] | None = None, listed: bool = True) -> Callable[[World, Path], dict]:
    """A pack rebuilt from the base one: `members_edit` changes its members (name -> bytes), whose sizes and
    checksums pack.json then lists (unless `listed` is False), `manifest_edit` changes pack.json, `raw` its
    bytes; every member is deflated."""
    def setup(world: World, case_dir: Path) -> dict:
        import json
        import zipfile

        with zipfile.ZipFile(_base_pack(world)) as archive:
            manifest = json.loads(archive.read("pack.json"))
            members = {name: archive.read(name) for name in archive.namelist() if name != "pack.json"}
        if members_edit:
            members_edit(members)
        if listed:
            manifest["files"] = {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                                 for name, data in members.items()}
        if manifest_edit:
            manifest_edit(manifest)
        text = json.dumps(manifest).encode()
        target = case_dir / "refs.geolocpack"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("pack.json", raw(text) if raw else text)
            for name, data in members.items():
                archive.writestr(name, data)
        return {"pack": target}
    return setup


def _sql_in_pack(statement: str) -> Callable[[dict], None]:
    def edit(members: dict) -> None:
        import sqlite3

        with tempfile.TemporaryDirectory() as work:
            file = Path(work) / "metadata.sqlite"
            file.write_bytes(members["metadata.sqlite"])
            with sqlite3.connect(file) as connection:
                connection.execute(statement)
            connection.close()
            members["metadata.sqlite"] = file.read_bytes()
    return edit


def _set(path: str, value) -> Callable[[dict], None]:
    """A pack.json edit: set a (dotted) key; a key of '*' sets it in every file entry."""
    def edit(manifest: dict) -> None:
        keys = path.split(".")
        targets = [manifest]
        for key in keys[:-1]:
            targets = [t for parent in targets for t in (parent.values() if key == "*" else [parent[key]])]
        for target in targets:
            target[keys[-1]] = value
    return edit


def _zeros_member(name: str, size: int) -> Callable[[dict], None]:
    def edit(members: dict) -> None:
        members[name] = bytes(size)
    return edit


def _title_placeholder(manifest: dict) -> None:
    manifest["title"] = "PLACEHOLDER"  # replaced in pack.json's bytes


def _nested_title(depth: int) -> Callable[[bytes], bytes]:
    return lambda text: text.replace(b'"PLACEHOLDER"', b"[" * depth + b"]" * depth)


def _installed(world: World, case_dir: Path) -> str | None:
    return None if (case_dir / "packs" / "world" / "pack.json").is_file() else "the pack was not installed"


LIMIT_CASES: list[Case] = [
    Case("pack installs (peak memory baseline)", INSTALL, OK, max_mib=1000, setup=_repack(), after=_installed,
         fast=False),
    Case("pack member inflating 1000x is refused", INSTALL, says="inflation ratio", max_mib=650, fast=False,
         setup=_repack(_zeros_member("thumbnails/" + "a" * 64 + ".jpg", 64 << 20)), after=_nothing_installed),
    Case("pack member inflating 1000x with the ratio raised", INSTALL, OK, env={"GEOLOC_LIMIT_PACK_RATIO": "5000"},
         setup=_repack(_zeros_member("thumbnails/" + "a" * 64 + ".jpg", 8 << 20)), after=_installed, fast=False),
    Case("pack member over the member limit", INSTALL, says="member's inflated size",
         env={"GEOLOC_LIMIT_PACK_MEMBER_BYTES": "20K"}, setup=_repack(), after=_nothing_installed),
    Case("pack over the total limit", INSTALL, says="in total", env={"GEOLOC_LIMIT_PACK_TOTAL_BYTES": "50K"},
         setup=_repack(), after=_nothing_installed),
    Case("pack.json of 80 MiB of spaces", INSTALL, says="JSON file's size", max_mib=650, fast=False,
         setup=_repack(raw=lambda text: text + b" " * (80 << 20)), after=_nothing_installed),
    Case("pack.json nested 100,000 deep", INSTALL, says="nesting depth",
         setup=_repack(manifest_edit=_title_placeholder, raw=_nested_title(100_000)),
         after=_nothing_installed),
    Case("pack.json nested 65 deep", INSTALL, says="nesting depth",
         setup=_repack(manifest_edit=_title_placeholder, raw=_nested_title(65)),
         after=_nothing_installed),
    Case("pack.json nested 65 deep with the depth raised", INSTALL, OK, env={"GEOLOC_LIMIT_JSON_DEPTH": "100"},
         setup=_repack(manifest_edit=_title_placeholder, raw=_nested_title(65)),
         after=_installed),
    Case("pack.json over a lowered JSON limit", INSTALL, says="JSON file's size", env={"GEOLOC_LIMIT_JSON_BYTES": "2K"},
         setup=_repack(), after=_nothing_installed),
    *[Case(f"limit {name}={value!r} is refused", INSTALL, says="not a positive number", env={name: value},
           setup=_repack(), after=_nothing_installed)
      for name in ("GEOLOC_LIMIT_PACK_RATIO", "GEOLOC_LIMIT_PACK_MEMBER_BYTES", "GEOLOC_LIMIT_JSON_BYTES",
                   "GEOLOC_LIMIT_JSON_DEPTH")
      for value in ("abc", "-5", "0")],
]
CASES += LIMIT_CASES

BAD_ARCHITECTURES = ("__class__", "__init__", "get_model", "list_models", "../x", "", "os", "efficientnet_lite9")
REACH_CASES: list[Case] = [
    *[Case(f"pack record path {path!r}", INSTALL, says="not a thumbnail inside the pack",
           setup=_repack(_sql_in_pack(f"UPDATE records SET path = '{path}' WHERE id = 2")), after=_nothing_installed)
      for path in ("thumbnails/../../../etc/hostname", "/etc/hostname", "../outside.jpg", "thumbnails/../x.jpg",
                   "thumbnails/sub/../../x.jpg", "manifest.json", "thumbnails/" + "a" * 64 + ".jpg/../../x")],
    *[Case(f"pack embedder architecture {name!r}", INSTALL, says="cannot", after=_nothing_installed,
           setup=_repack(manifest_edit=_set("embedder.architecture", name)))
      for name in BAD_ARCHITECTURES],
    Case("pack embedder pooling '__dict__'", INSTALL, says="pooling", after=_nothing_installed,
         setup=_repack(manifest_edit=lambda m: m["embedder"].update(architecture="resnet18", pooling="__dict__"))),
    *[Case(f"install --sha256 {value!r}", INSTALL + f" --sha256 '{value}'", says="64 hexadecimal digits",
           setup=_pack_file(lambda data: data), after=_nothing_installed)
      for value in ("", "abc", "0" * 63, "0" * 65, "g" * 64, " " + "0" * 63, "0x" + "0" * 62)],
    Case("install --sha256 in capitals", INSTALL + " --sha256 {sha}", OK, setup=lambda w, d: {
        "pack": _base_pack(w), "sha": hashlib.sha256(_base_pack(w).read_bytes()).hexdigest().upper()},
        after=_installed),
    Case("password in a URL is not repeated", "install http://user:s3cret-pw@127.0.0.1:9/refs.geolocpack "
         "--packs-dir {dir}/packs", says="***@", lacks="s3cret-pw", after=_nothing_installed),
    Case("password in an ftp URL is not repeated", "install ftp://user:s3cret-pw@example.org/refs.geolocpack "
         "--packs-dir {dir}/packs", says="only http", lacks="s3cret-pw", after=_nothing_installed),
    Case("password in a missing pack's name is not repeated", LOCATE + " --also http://u:s3cret-pw@x/y "
         "--packs-dir {dir}/packs", lacks="s3cret-pw"),
    Case("non-ASCII URL is not called invalid UTF-8", "install http://127.0.0.1:9/päck-日本.geolocpack "
         "--packs-dir {dir}/packs", says="cannot be reached", after=_nothing_installed),
    Case("non-ASCII query is not called invalid UTF-8", "install 'http://127.0.0.1:9/p.geolocpack?name=ü' "
         "--packs-dir {dir}/packs", says="cannot be reached", after=_nothing_installed),
    *[Case(f"install from a {scheme} address", f"install {scheme}://x/refs.geolocpack --packs-dir {{dir}}/packs",
           says="only http", after=_nothing_installed) for scheme in ("ftp", "data", "gopher", "jar", "HTTPX")],
]
CASES += REACH_CASES


# CSV cells: a file name's control characters never split a row, and no cell starts a formula
def _named_photo(name: str) -> Callable[[World, Path], dict]:
    def setup(world: World, case_dir: Path) -> dict:
        target = Path(os.fsdecode(os.fsencode(case_dir) + b"/" + os.fsencode(name)))
        shutil.copy(world.photo, target)
        return {"named": target}
    return setup


def _one_safe_row(world: World, case_dir: Path) -> str | None:
    import csv

    with open(case_dir / "out.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if len(rows) != 2:
        return f"out.csv has {len(rows) - 1} rows, not 1 (a file name split a row)"
    cells = [cell for row in rows for cell in row]
    formulas = [cell for cell in cells if cell.startswith(("=", "@", "+")) or cell.startswith("-") and
                not cell[1:2].isdigit()]
    return f"out.csv has formula cells {formulas}" if formulas else None


CONTROL_NAMES = ["a\r=HYPERLINK(1).jpg", "a\n=HYPERLINK(1).jpg", "a\x0b=1.jpg", "a\x0c=1.jpg", "a\x1c=1.jpg",
                 "a\x1e=1.jpg", "a\x1b[31m.jpg", "a\x7f.jpg", "a\u2028=1.jpg", "a\u0085=1.jpg", "a\r\n=1.jpg",
                 "+SUM(1).jpg", "-2+3.jpg", "@SUM(1).jpg", "\t=1.jpg", "\r=1.jpg", "a,\"=1\".jpg"]
CSV_CASES: list[Case] = [
    Case(f"file name {name!r} in a CSV", "locate {db} {named} -k 2 -o {dir}/out.csv", OK, setup=_named_photo(name),
         after=_one_safe_row, fast=i == 0) for i, name in enumerate(CONTROL_NAMES)
]
CASES += CSV_CASES


def _non_utf8_database(world: World, case_dir: Path) -> dict:
    target = Path(os.fsdecode(os.fsencode(case_dir) + b"/caf\xe9-\xff.geoloc"))
    shutil.copytree(world.db, target)
    return {"odd": target}


NON_UTF8_DB_CASES: list[Case] = [
    Case(f"database folder not UTF-8, {kind}", "locate {odd} {photo} -k 3 -o {dir}/out." + kind, OK,
         setup=_non_utf8_database, fast=kind == "csv") for kind in ("csv", "geojson", "gpkg")
]
CASES += NON_UTF8_DB_CASES


# damage verify must find: index files, rolled-back metadata, foreign views, duplicate databases
def _ivf_index(world: World, case_dir: Path) -> Path:
    """The case's database given a trained (IVF) index, forced, as a large database has; returns its file."""
    sys.path.insert(0, str(REPO_ROOT))
    from geoloc_core.database import ReferenceDatabase
    from geoloc_core.search_index import IndexPlan

    with ReferenceDatabase.open(world_db(world, case_dir), writable=True) as database:
        database.reindex(IndexPlan("IVF2,SQ8", 2), forced=True)
        return database._index_file(database._index.generation)


def _damaged_index(where: float, mask: int = 0x10) -> Callable[[World, Path], dict]:
    def setup(world: World, case_dir: Path) -> dict:
        import struct

        index = _ivf_index(world, case_dir)
        data = bytearray(index.read_bytes())
        start = struct.calcsize("<8sI") + struct.unpack("<8sI", bytes(data[:12]))[1]
        position = start + int((len(data) - start - 1) * where)
        data[position] ^= mask
        index.write_bytes(bytes(data))
        return {}
    return setup


def _rolled_back(world: World, case_dir: Path) -> dict:
    """metadata.sqlite as it was before its last records (an older copy put back): manifest counts 12."""
    import sqlite3

    with sqlite3.connect(world_db(world, case_dir) / "metadata.sqlite") as connection:
        last = connection.execute("SELECT max(first_id) FROM batches").fetchone()[0]
        connection.execute("DELETE FROM records WHERE id >= ?", (max(last, 9),))
        connection.execute("DELETE FROM batches WHERE last_id >= ?", (max(last, 9),))
    connection.close()
    return _more_refs(world, case_dir)


def _duplicate_neighbours(world: World, case_dir: Path) -> str | None:
    import csv

    with open(case_dir / "out-neighbours.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    seen = [row["reference_path"] for row in rows]
    if len(seen) != len(set(seen)):
        return f"a neighbour comes back twice ({len(seen)} rows, {len(set(seen))} distinct)"
    return None if len(seen) == REFERENCE_COUNT else f"{len(seen)} neighbours, not the {REFERENCE_COUNT} references"


def _copy_of_db(world: World, case_dir: Path) -> dict:
    shutil.copytree(world.db, case_dir / "copy.geoloc")
    return {"copy": case_dir / "copy.geoloc"}


def _malformed_sqlite(offset: int, length: int) -> Callable[[World, Path], dict]:
    def setup(world: World, case_dir: Path) -> dict:
        file = world_db(world, case_dir) / "metadata.sqlite"
        data = bytearray(file.read_bytes())
        data[offset:offset + length] = os.urandom(length) if length > 0 else b""
        file.write_bytes(bytes(data[:len(data) + length] if length < 0 else data))
        return {}
    return setup


INTEGRITY_CASES: list[Case] = [
    *[Case(f"flipped bit at {where:.0%} of the index, verify", "verify {db}", says="index-", writes=True,
           setup=_damaged_index(where), fast=where == 0.5) for where in (0.02, 0.3, 0.5, 0.8, 0.99)],
    *[Case(f"flipped bit at {where:.0%} of the index, locate", LOCATE, says="index-", writes=True,
           setup=_damaged_index(where), fast=False) for where in (0.3, 0.8)],
    Case("damaged index rebuilt by a writer", "add {db} {dir}/more.csv", OK, writes=True,
         setup=lambda w, d: {**_damaged_index(0.5)(w, d), **_more_refs(w, d)}, after=_count_is(6), fast=False),
    Case("trained index intact, verify", "verify {db}", OK, "all intact", writes=True,
         setup=lambda w, d: _ivf_index(w, d) and {}, fast=False),
    Case("rolled-back metadata, verify", "verify {db}", says="manifest counts 12", writes=True, setup=_rolled_back),
    Case("rolled-back metadata, info", "info {db}", says="manifest counts 12", writes=True, setup=_rolled_back,
         fast=False),
    Case("rolled-back metadata, locate", LOCATE, says="manifest counts 12", writes=True, setup=_rolled_back,
         fast=False),
    Case("rolled-back metadata, add keeps the evidence", "add {db} {dir}/more.csv", says="manifest counts 12",
         writes=True, setup=_rolled_back),
    Case("records deleted, verify", "verify {db}", says="manifest counts 12", writes=True,
         setup=_sql("DELETE FROM records WHERE id = 12"), fast=False),
    Case("--also the same database", LOCATE.replace("-k 5", "-k 20") + " --also {db} -o {dir}/out.csv", OK,
         after=_duplicate_neighbours),
    Case("--also a copy of the database", LOCATE.replace("-k 5", "-k 20") + " --also {copy} -o {dir}/out.csv", OK,
         setup=_copy_of_db, after=_duplicate_neighbours, fast=False),
    Case("--also the same database twice", LOCATE.replace("-k 5", "-k 30") + " --also {db} --also {copy} "
         "-o {dir}/out.csv", OK, setup=_copy_of_db, after=_duplicate_neighbours, fast=False),
    *[Case(f"malformed metadata.sqlite ({what}), verify", "verify {db}", says="metadata.sqlite", writes=True,
           setup=_malformed_sqlite(offset, length), fast=what == "batches page garbled")
      for what, offset, length in (("batches page garbled", 12288, 4096), ("batches page header garbled", 12288, 12),
                                   ("page 2 garbled", 4096, 4096), ("sha256 index garbled", 8192, 2048),
                                   ("last page cut", 0, -1000), ("b-tree header garbled", 4096, 16))],
]
CASES += INTEGRITY_CASES


# bad shard metadata and files: each sample with a reason, never a traceback
def _shard(samples: list[tuple[str, bytes | None, bytes | None]], gzip: bool = False) -> Callable[[World, Path], dict]:
    """A shard folder holding one good located photo and `samples` (key, image bytes, json bytes)."""
    def setup(world: World, case_dir: Path) -> dict:
        import tarfile

        folder = case_dir / "shards"
        folder.mkdir()
        good = [("good", (world.refs / "r5.jpg").read_bytes(), b'{"lat": 10.5, "lon": 20.5}')]
        with tarfile.open(folder / "00000.tar", "w:gz" if gzip else "w") as archive:
            for key, image, metadata in good + [(k, i or (world.refs / "r6.jpg").read_bytes(), m) for k, i, m in samples]:
                for name, data in ((f"{key}.jpg", image), (f"{key}.json", metadata)):
                    if data is not None:
                        member = tarfile.TarInfo(name)
                        member.size = len(data)
                        archive.addfile(member, io.BytesIO(data))
        return {"shards": folder}
    return setup


class _Zeros(io.RawIOBase):
    """`size` zero bytes, read as a stream (a large member without holding it)."""

    def __init__(self, size: int):
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        return count


def _huge_gzip_member(world: World, case_dir: Path) -> dict:
    import tarfile

    values = _shard([])(world, case_dir)
    shard = values["shards"] / "00000.tar"
    with tarfile.open(shard, "r") as archive:
        kept = [(m, archive.extractfile(m).read()) for m in archive.getmembers()]
    with tarfile.open(shard, "w:gz", compresslevel=1) as archive:
        for member, data in kept:
            archive.addfile(member, io.BytesIO(data))
        member = tarfile.TarInfo("huge.jpg")
        member.size = 300 << 20
        archive.addfile(member, io.BufferedReader(_Zeros(member.size)))
        member = tarfile.TarInfo("huge.json")
        member.size = 24
        archive.addfile(member, io.BytesIO(b'{"lat": 1.0, "lon": 2.0}'))
    return values


def _not_a_tar(world: World, case_dir: Path) -> dict:
    (case_dir / "shards").mkdir()
    (case_dir / "shards" / "0.tar").write_bytes(b"x" * 2048)
    return {}


SHARD_METADATA = [
    ("lat true, lon false", b'{"lat": true, "lon": false}', "not a number"),
    ("lat null", b'{"lat": null, "lon": 2}', "not a number"),
    ("lat a list", b'{"lat": [1], "lon": 2}', "not a number"),
    ("lat an object", b'{"lat": {"v": 1}, "lon": 2}', "not a number"),
    ("lat text", b'{"lat": "north", "lon": 2}', "no usable location"),
    ("lat 91", b'{"lat": 91, "lon": 2}', "out of range"),
    ("lon 181", b'{"lat": 1, "lon": 181}', "out of range"),
    ("lat NaN", b'{"lat": NaN, "lon": 2}', "out of range"),
    ("lat 1e999", b'{"lat": 1e999, "lon": 2}', "out of range"),
    ("no lat", b'{"lon": 2}', "latitude"),
    ("metadata a list", b'[1, 2]', "not an object"),
    ("metadata a string", b'"text"', "not an object"),
    ("metadata a number", b'12', "not an object"),
    ("metadata null", b'null', "not an object"),
    ("metadata nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, "nesting depth"),
    ("metadata nested 65 deep", b'{"lat": 1, "lon": 2, "x": ' + b"[" * 65 + b"]" * 65 + b"}", "nesting depth"),
    ("metadata not UTF-8", b'{"lat": 1, "lon": 2, "x": "\xff"}', "not valid JSON"),
    ("metadata cut", b'{"lat": 1, "lo', "not valid JSON"),
    ("metadata empty", b'', "not valid JSON"),
]
SHARD_CASES: list[Case] = [
    Case(f"shard metadata: {name}", "build {dir}/new.geoloc {shards}", OK, says,
         setup=_shard([("bad", None, data)]), fast=name.startswith("lat true"))
    for name, data, says in SHARD_METADATA
]
SHARD_CASES += [
    Case("shard: a gzip member of 300 MiB is passed over unread", "build {dir}/new.geoloc {shards}", OK,
         "shard member's size", setup=_huge_gzip_member, max_mib=700, fast=False),
    Case("shard: metadata over a lowered JSON limit", "build {dir}/new.geoloc {shards}", OK, "JSON file's size",
         env={"GEOLOC_LIMIT_JSON_BYTES": "40"},
         setup=_shard([("bad", None, b'{"lat": 1, "lon": 2, "note": "' + b"x" * 40 + b'"}')]), fast=False),
    Case("shard: not a tar", "build {dir}/new.geoloc {dir}/shards", says="not a readable tar shard",
         setup=_not_a_tar, fast=False),
]
CASES += SHARD_CASES


# a build that adds nothing, and per-photo failures that must not abort a run
def _csv_of(*rows: str) -> Callable[[World, Path], dict]:
    def setup(world: World, case_dir: Path) -> dict:
        text = "\n".join(row.format(photo=world.photo, dir=case_dir, ref=world.refs / "r2.jpg") for row in rows)
        (case_dir / "in.csv").write_text(text + "\n")
        return {}
    return setup


def _no_database(world: World, case_dir: Path) -> str | None:
    return "an empty database was made" if (case_dir / "new.geoloc" / "manifest.json").exists() else None


NOTHING_CASES: list[Case] = [
    *[Case(f"CSV with no usable row: {name}", "build {dir}/new.geoloc {dir}/in.csv", says="no usable photo",
           setup=_csv_of(*rows), after=_no_database)
      for name, rows in (("bad latitudes", ("path,lat,lon", "{photo},north,2", "{photo},1,east")),
                         ("missing files", ("path,lat,lon", "{dir}/a.jpg,1,2", "{dir}/b.jpg,3,4")),
                         ("header only", ("path,lat,lon",)),
                         ("out of range", ("path,lat,lon", "{photo},91,2", "{photo},1,200")),
                         ("empty paths", ("path,lat,lon", ",1,2")))],
    Case("add with no usable row", "add {db} {dir}/in.csv", says="no usable photo", writes=True,
         setup=_csv_of("path,lat,lon", "{dir}/a.jpg,1,2"), after=_database_intact),
    Case("5,000-byte path in a CSV is skipped, shortened", "build {dir}/new.geoloc {dir}/in.csv", OK, "too long",
         setup=_csv_of("path,lat,lon", "{ref},1,2", "/" + "p" * 5000 + ".jpg,3,4"), max_line=1000, fast=False),
    Case("5,000-byte relative path in a CSV", "build {dir}/new.geoloc {dir}/in.csv", OK, "too long",
         setup=_csv_of("path,lat,lon", "{ref},1,2", "p/" * 2500 + "x.jpg,3,4"), max_line=1000, fast=False),
]
CASES += NOTHING_CASES


def _bomb_folder(kind: str) -> Callable[[World, Path], dict]:
    def setup(world: World, case_dir: Path) -> dict:
        _png_bomb(kind)(world, case_dir)
        (case_dir / "folder").mkdir()
        shutil.move(case_dir / f"bomb-{kind}.png", case_dir / "folder")
        return {}
    return setup


def _database_of_a_bomb(kind: str) -> Callable[[World, Path], dict]:
    """A private database of two photos, one of which was since replaced by a PNG bomb (a pack reads it)."""
    def setup(world: World, case_dir: Path) -> dict:
        from PIL import Image

        bomb = _png_bomb(kind)(world, case_dir)["bomb"]
        photo = case_dir / "photo.png"
        Image.open(world.refs / "r8.jpg").save(photo)
        (case_dir / "in.csv").write_text(f"path,lat,lon,licence,author\n{photo},1,2,CC0,me\n"
                                         f"{world.refs / 'r3.jpg'},3,4,CC0,me\n")
        _in_process(["--progress", "none", "build", str(case_dir / "own.geoloc"), str(case_dir / "in.csv")])
        shutil.copy(bomb, photo)
        return {}
    return setup


def _png_bomb(kind: str) -> Callable[[World, Path], dict]:
    """A PNG whose compressed text (or ICC profile) chunk inflates past Pillow's limit, beside a good photo."""
    def setup(world: World, case_dir: Path) -> dict:
        import struct
        import zlib

        from PIL import Image

        buffer = io.BytesIO()
        Image.open(world.photo).save(buffer, "PNG")
        data = buffer.getvalue()
        body = zlib.compress(bytes(64 << 20), 9)
        chunk_type, payload = (b"zTXt", b"Comment\0\0" + body) if kind == "text" else (b"iCCP", b"icc\0\0" + body)
        chunk = struct.pack(">I", len(payload)) + chunk_type + payload
        chunk += struct.pack(">I", zlib.crc32(chunk_type + payload) & 0xFFFFFFFF)
        bomb = case_dir / f"bomb-{kind}.png"
        bomb.write_bytes(data[:33] + chunk + data[33:])
        (case_dir / "in.csv").write_text(f"path,lat,lon\n{bomb},1,2\n{world.refs / 'r3.jpg'},3,4\n")
        return {"bomb": bomb}
    return setup


BOMB_CASES: list[Case] = [
    *[Case(f"PNG {kind} bomb is skipped in a build", "build {dir}/new.geoloc {dir}/in.csv", OK, f"bomb-{kind}.png",
           setup=_png_bomb(kind), max_mib=900, fast=False) for kind in ("text", "icc")],
    *[Case(f"PNG {kind} bomb is skipped in a locate", "locate {db} {bomb} {photo} -k 3", OK, f"bomb-{kind}.png",
           setup=_png_bomb(kind), max_mib=900, fast=False) for kind in ("text", "icc")],
    *[Case(f"PNG {kind} bomb is named in a folder build", "build {dir}/new.geoloc {dir}/folder",
           says="no usable photo", setup=_bomb_folder(kind), fast=kind == "text") for kind in ("text", "icc")],
    *[Case(f"PNG {kind} bomb is passed over by a pack", "pack {dir}/own.geoloc {dir}/own.geolocpack", OK,
           setup=_database_of_a_bomb(kind), fast=False) for kind in ("text", "icc")],
]
CASES += BOMB_CASES


TRAIN_SMALL = "--t-min 1 --t-max 3 --epochs 1"  # what 12 photos spread over the world can be trained with


def _trained(world: World, name: str) -> Path:
    """A trained copy of the campaign's database ('a'), or of another database built from the same photos
    ('b': another database id), made once per campaign."""
    target = world.root / f"trained-{name}.geoloc"
    if not target.exists():
        if name == "a":
            shutil.copytree(world.db, target)
        else:
            _in_process(["--progress", "none", "build", str(target), str(world.refs_csv)])
        _in_process(["--progress", "none", "train", str(target), *TRAIN_SMALL.split()])
    return target


def _foreign_view(world: World, case_dir: Path) -> dict:
    """Database a, trained, with the view folder of database b (same photos, same embedder) copied over its own."""
    target = case_dir / "a.geoloc"
    shutil.copytree(_trained(world, "a"), target)
    shutil.rmtree(target / "views")
    shutil.copytree(_trained(world, "b") / "views", target / "views")
    return {"a": target}


def _cut_heic_box(world: World, case_dir: Path) -> dict:
    _truncated_heic(world, case_dir)
    whole = (case_dir / "whole.heic").read_bytes()
    (case_dir / "cut.heic").write_bytes(whole + b"\0\0\0\x01free\0\0\0")  # a 64-bit box size cut after 3 bytes
    return {}


def _full_disk_db(world: World, case_dir: Path) -> dict:
    (world.full / "filler").unlink()
    shutil.copytree(world.db, world.full / "db.geoloc")
    _fill(world.full, keep=("db.geoloc",))
    return {}


INTERNAL_CASES: list[Case] = [
    Case("HEIC whose last box has a cut 64-bit size", "locate {db} {dir}/cut.heic {photo}", OK, "truncated",
         setup=_cut_heic_box, fast=False),
    Case("HEIC cut 64-bit size alone", "locate {db} {dir}/cut.heic", says="could be located", setup=_cut_heic_box,
         fast=False),
    Case("disk full during train", "train {full}/db.geoloc " + TRAIN_SMALL, says="no space", needs_full_disk=True,
         setup=_full_disk_db, fast=False),
    Case("trained view of another database, locate", "locate {a} {photo} -k 3", says="belongs to another database",
         setup=_foreign_view, fast=False),
    Case("trained view of another database, verify", "verify {a}", says="belongs to another database",
         setup=_foreign_view, fast=False),
    Case("disk full during install", "install {pack} --packs-dir {full}/packs", says="no space left on the disk",
         lacks="damaged",
         needs_full_disk=True, setup=lambda w, d: {"pack": _base_pack(w)}),
]
CASES += INTERNAL_CASES


# messages that must name the pack, the file or the URL
def _notice(world: World, case_dir: Path) -> dict:
    (case_dir / "notice.txt").write_bytes(b"Photos \xa9 2024 Caf\xe9\n")
    return {}


NAMING_CASES: list[Case] = [
    *[Case(f"pack.json {key} {value!r}", INSTALL, says="refs.geolocpack", after=_nothing_installed,
           setup=_repack(manifest_edit=_set(key, value)))
      for key, value in (("count", "abc"), ("count", True), ("count", -1), ("count", 1.5), ("count", None),
                         ("files.*.size", "abc"), ("files.*.size", True), ("files.*.size", -1),
                         ("files.*.sha256", "abc"), ("files.*.sha256", 5), ("embedder.dimension", "abc"),
                         ("embedder", None), ("embedder", []), ("name", "../x"), ("name", ""), ("name", 5),
                         ("files", []), ("format_version", "1"), ("format_version", 0), ("format", "zip"),
                         ("files.*.size", 10 ** 30))],
    Case("pack.json a newer format", INSTALL, says="newer version", after=_nothing_installed,
         setup=_repack(manifest_edit=_set("format_version", 99))),
    *[Case(f"pack member name {name!r}", INSTALL, says="refs.geolocpack", after=_nothing_installed,
           setup=_repack(manifest_edit=lambda m, n=name: m["files"].update({n: {"sha256": "0" * 64, "size": 1}})))
      for name in ("../x", "/etc/x", "a\\b", "a//b", "pack.json", "a\nb", "thumbnails/")],
    Case("pack member missing though listed", INSTALL, says="missing though listed", after=_nothing_installed,
         setup=_repack(lambda members: members.pop("credits.csv"), listed=False,
                       manifest_edit=lambda m: None)),
    Case("notice file not UTF-8", "pack {db} {dir}/p.geolocpack --licence CC0 --author me --notice {dir}/notice.txt",
         says="notice.txt", setup=_notice, after=_no_files("p.geolocpack")),
]
CASES += NAMING_CASES


# geometry at the world's edges
def _raster_within_world(world: World, case_dir: Path) -> str | None:
    from osgeo import gdal

    for tif in (case_dir / "d").glob("*.tif"):
        dataset = gdal.Open(str(tif))
        west, dx, _, north, _, dy = dataset.GetGeoTransform()
        east, south = west + dx * dataset.RasterXSize, north + dy * dataset.RasterYSize
        if west < -180 or east > 180 + 1e-9 or south < -90 - 1e-9 or north > 90:
            return f"{tif.name} spans {west:.3f}..{east:.3f}, {south:.3f}..{north:.3f}"
    return None


def _pole_photo(world: World, case_dir: Path) -> dict:
    return {"pole": world.refs / "r0.jpg"}  # at -40: its kernel reaches the south pole


GEOMETRY_CASES: list[Case] = [
    Case(f"density raster at {resolution} degrees within the world",
         "locate {db} {pole} -k 12 --bandwidth 3000 --density-dir {dir}/d --density-resolution " + str(resolution),
         OK, setup=_pole_photo, after=_raster_within_world, fast=False)
    for resolution in (0.7, 0.33, 1.3, 2.9, 7)
]
CASES += GEOMETRY_CASES


# leftovers of killed runs, cleaned by the next run of the same kind (only where their process is gone)
def _leftovers(*names: str) -> Callable[[World, Path], dict]:
    def setup(world: World, case_dir: Path) -> dict:
        for name in names:
            target = case_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if name.startswith(".packing-"):
                (target / "refs").mkdir(parents=True)
                (target / "refs" / "vectors.f16").write_bytes(b"x" * 100)
            else:
                target.write_bytes(b"half-written")
        return {}
    return setup


def _left(*names: str, kept: tuple[str, ...] = ()) -> Callable[[World, Path], str | None]:
    def check(world: World, case_dir: Path) -> str | None:
        remaining = [n for n in names if (case_dir / n).exists()]
        gone = [n for n in kept if not (case_dir / n).exists()]
        return (f"left behind: {remaining}" if remaining else "") + (f"removed a live writer's {gone}" if gone else "") \
            or None
    return check


DEAD = 4_000_000  # beyond Linux's largest process id
LEFTOVER_CASES: list[Case] = [
    Case("pack removes a killed pack's work folder", "pack {db} {dir}/p.geolocpack --licence CC0 --author me", OK,
         setup=_leftovers(f".packing-{DEAD}-abc"), after=_left(f".packing-{DEAD}-abc")),
    Case("pack keeps a live pack's work folder", "pack {db} {dir}/p.geolocpack --licence CC0 --author me", OK,
         setup=_leftovers(".packing-1-abc"), after=_left(kept=(".packing-1-abc",)), fast=False),
    Case("density removes a killed run's temporary", LOCATE + " --density-dir {dir}", OK,
         setup=_leftovers(f".query-density.{DEAD}.tmp.tif"), after=_left(f".query-density.{DEAD}.tmp.tif")),
    Case("density keeps a live writer's temporary", LOCATE + " --density-dir {dir}", OK,
         setup=_leftovers(".query-density.1.tmp.tif"), after=_left(kept=(".query-density.1.tmp.tif",)), fast=False),
    Case("csv removes a killed run's temporaries", LOCATE + " -o {dir}/out.csv", OK, fast=False,
         setup=_leftovers(f".out.{DEAD}.tmp.csv", f".out-neighbours.{DEAD}.tmp.csv"),
         after=_left(f".out.{DEAD}.tmp.csv", f".out-neighbours.{DEAD}.tmp.csv")),
    Case("gpkg removes a killed run's temporary", LOCATE + " -o {dir}/out.gpkg", OK,
         setup=_leftovers(f".out.{DEAD}.tmp.gpkg"), after=_left(f".out.{DEAD}.tmp.gpkg"), fast=False),
]
CASES += LEFTOVER_CASES


# a server that trickles: a byte now and then never trips the per-read timeout
def _trickle_server(delay_s: float, bytes_sent: int) -> str:
    import threading

    from tests.range_server import trickling_server

    server = trickling_server(delay_s, bytes_sent)
    stop = threading.Timer(60, server.shutdown)
    stop.daemon = True  # the campaign's end does not wait for it
    stop.start()
    return f"http://127.0.0.1:{server.server_address[1]}/slow.geolocpack"


DOWNLOAD_CASES: list[Case] = [
    Case("server sending a byte every 0.5 s is stopped (rate)", "install {url} --packs-dir {dir}/packs",
         says="minimum", env={"GEOLOC_LIMIT_DOWNLOAD_RATE_WINDOW": "2"},
         setup=lambda w, d: {"url": _trickle_server(0.5, 20)}, after=_nothing_installed),
    Case("server sending a byte every 0.2 s is stopped (deadline)", "install {url} --packs-dir {dir}/packs",
         says="duration", env={"GEOLOC_LIMIT_DOWNLOAD_SECONDS": "1"},
         setup=lambda w, d: {"url": _trickle_server(0.2, 40)}, after=_nothing_installed, fast=False),
    Case("download limit DOWNLOAD_MIN_RATE='x' is refused", "install {url} --packs-dir {dir}/packs",
         says="not a positive number", env={"GEOLOC_LIMIT_DOWNLOAD_MIN_RATE": "x"},
         setup=lambda w, d: {"url": _trickle_server(0.1, 3)}, after=_nothing_installed),
]
CASES += DOWNLOAD_CASES

MANIFEST_VALUES = [("dimension", v) for v in ('"abc"', "-1", "0", "1.5", "[]", "true", "null")] + \
    [("format_version", v) for v in ('"2"', "0", "null", "[]", "2.5")] + \
    [("database_id", v) for v in ("5", "null", "[]")] + \
    [("index", v) for v in ("null", "[]", '"x"', "5")] + \
    [("embedder", v) for v in ("null", "[]", "{}", '{"architecture": "x"}', '"resnet"')] + \
    [("format", v) for v in ('"zip"', "null", "5")] + \
    [("active_view", v) for v in ("[]", "5.5", "true")]
MANIFEST_CASES: list[Case] = [
    Case(f"manifest {key} {value}", LOCATE, says="damaged database", writes=True, setup=_manifest_value(key, value),
         fast=i % 3 == 0)
    for i, (key, value) in enumerate(MANIFEST_VALUES)
] + [
    Case("manifest of a newer format", LOCATE, says="newer version", writes=True,
         setup=_manifest_value("format_version", "99")),
    Case("manifest missing", LOCATE, says="manifest.json is missing", writes=True,
         setup=lambda w, d: (world_db(w, d) / "manifest.json").unlink() or {}),
    Case("manifest empty", LOCATE, says="manifest.json is unreadable", writes=True, setup=_manifest_with("")),
    Case("manifest not UTF-8", LOCATE, says="manifest.json is unreadable", writes=True,
         setup=lambda w, d: (world_db(w, d) / "manifest.json").write_bytes(b"\xff\xfe{") and {}),
]
CASES += MANIFEST_CASES


def _damage_file(name: str, damage: Callable[[bytes], bytes]) -> Callable[[World, Path], dict]:
    def setup(world: World, case_dir: Path) -> dict:
        file = world_db(world, case_dir) / name
        file.write_bytes(damage(file.read_bytes()))
        return {}
    return setup


def _remove_file(name: str) -> Callable[[World, Path], dict]:
    def setup(world: World, case_dir: Path) -> dict:
        (world_db(world, case_dir) / name).unlink()
        return {}
    return setup


def _index_of_another_generation(world: World, case_dir: Path) -> dict:
    index = _ivf_index(world, case_dir)
    index.rename(index.with_name("index-7.faiss"))
    shutil.copy(index.with_name("index-7.faiss"), index)
    import json
    import struct

    data = bytearray(index.read_bytes())
    length = struct.unpack("<8sI", bytes(data[:12]))[1]
    header = json.loads(bytes(data[12:12 + length]))
    header["generation"] = 7
    text = json.dumps(header, sort_keys=True).encode()
    index.write_bytes(struct.pack("<8sI", b"GEOLOCIX", len(text)) + text + bytes(data[12 + length:]))
    return {}


def _cut_index(world: World, case_dir: Path) -> dict:
    index = _ivf_index(world, case_dir)
    index.write_bytes(index.read_bytes()[:300])
    return {}


FILE_CASES: list[Case] = [
    Case("vectors.f16 cut to its header", LOCATE, says="vectors.f16", writes=True,
         setup=_damage_file("vectors.f16", lambda data: data[:64])),
    Case("vectors.f16 cut mid-row", LOCATE, says="vectors.f16", writes=True,
         setup=_damage_file("vectors.f16", lambda data: data[:64 + 2560 * 11 + 100])),
    Case("vectors.f16 empty", LOCATE, says="vectors.f16", writes=True, setup=_damage_file("vectors.f16", lambda d: b"")),
    Case("vectors.f16 magic zeroed", LOCATE, says="vectors.f16", writes=True,
         setup=_damage_file("vectors.f16", lambda data: bytes(8) + data[8:])),
    Case("vectors.f16 dimension changed", LOCATE, says="vectors.f16", writes=True,
         setup=_damage_file("vectors.f16", lambda data: data[:12] + (1024).to_bytes(4, "little") + data[16:])),
    Case("vectors.f16 missing", LOCATE, says="vectors.f16", writes=True, setup=_remove_file("vectors.f16")),
    Case("metadata.sqlite missing", LOCATE, says="metadata.sqlite", writes=True, setup=_remove_file("metadata.sqlite")),
    Case("metadata.sqlite empty", LOCATE, says="metadata.sqlite", writes=True,
         setup=_damage_file("metadata.sqlite", lambda d: b"")),
    Case("metadata.sqlite a text file", LOCATE, says="metadata.sqlite", writes=True,
         setup=_damage_file("metadata.sqlite", lambda d: b"not a database\n" * 100)),
    Case("metadata.sqlite header zeroed", "verify {db}", says="metadata.sqlite", writes=True,
         setup=_damage_file("metadata.sqlite", lambda data: bytes(100) + data[100:])),
    Case("meta table dropped", LOCATE, says="metadata.sqlite", writes=True, setup=_sql("DROP TABLE meta")),
    Case("records table dropped", LOCATE, says="metadata.sqlite", writes=True, setup=_sql("DROP TABLE records")),
    Case("malformed metadata.sqlite (no batches table), verify", "verify {db}", says="metadata.sqlite", writes=True,
         setup=_sql("DROP TABLE batches")),
    Case("batch checksums deleted, verify", "verify {db}", says="no batch checksum", writes=True,
         setup=_sql("DELETE FROM batches")),
    Case("a record's path edited, verify", "verify {db}", says="were changed", writes=True,
         setup=_sql("UPDATE records SET path = '/etc/hostname' WHERE id = 5")),
    Case("a record's attributes edited, verify", "verify {db}", says="were changed", writes=True,
         setup=_sql("UPDATE records SET attributes = '{\"x\": 1}' WHERE id = 7")),
    Case("a vector's bytes flipped, verify", "verify {db}", says="vectors of records", writes=True,
         setup=_damage_file("vectors.f16", lambda data: data[:64 + 2560 * 4 + 10] + bytes([data[64 + 2560 * 4 + 10] ^ 1])
                            + data[64 + 2560 * 4 + 11:])),
    Case("index file missing, locate", LOCATE, says="index-", writes=True,
         setup=lambda w, d: _ivf_index(w, d).unlink() or {}),
    Case("index file missing, a writer rebuilds it", "add {db} {dir}/more.csv", OK, writes=True,
         setup=lambda w, d: _ivf_index(w, d).unlink() or _more_refs(w, d), after=_count_is(6), fast=False),
    Case("index file of another generation, locate", LOCATE, says="generation", writes=True,
         setup=_index_of_another_generation),
    Case("index file cut in half, locate", LOCATE, says="index-", writes=True, setup=_cut_index),
]
CASES += FILE_CASES

OPTION_CASES: list[Case] = [
    Case(f"option {option}", command + " " + option, says="", fast=i % 2 == 0)
    for i, (command, option) in enumerate(
        [(LOCATE.replace(" -k 5", ""), f"-k {v}") for v in ("0", "-3", "1.5", "abc", "''")]
        + [(LOCATE, f"--bandwidth {v}") for v in ("-5", "0", "abc", "-inf")]
        + [(LOCATE, f"--temperature {v}") for v in ("-1", "inf", "abc", "-nan")]
        + [(LOCATE, f"--density-dir {{dir}}/d --density-resolution {v}") for v in ("nan", "inf", "abc", "-0.5")]
        + [("add {db} {refs_csv}", f"--batch-size {v}") for v in ("abc", "1.5", "-100")]
        + [("train {db}", f"--epochs {v}") for v in ("-1", "abc", "nan")]
        + [("train {db}", f"--geo-dim {v}") for v in ("abc", "1e3")]
        + [("install {dir}/x.geolocpack", f"--sha256 {v}") for v in ("zz", "12")])
]
CASES += OPTION_CASES


# -- writing reviewed places back into photos (write-gps, add-reviewed) --------------------------------------
# A kill case runs the command under KILL_HOOK, which sends the process SIGKILL just before its N-th file
# change (open for writing, chmod, utime, fsync, rename, unlink): every point between two file changes of
# the batch is one case (a random sample of them with --fast). After each, every photo must be byte-
# identical to its original or a valid photo with the new place and a byte-identical backup, the undo
# list readable, and `--undo` must bring back every photo byte for byte.

GPS_PLACE = (64.1466321, -21.9426543)
GPS_PHOTOS = ("a.jpg", "b.png", "c.webp", "d.tif", "e.heic")  # the HEIC gets a sidecar
WRITE_GPS_STEPS = 82  # the file changes of writing GPS_PHOTOS; the "file steps" case checks it
KILL_SAMPLE = 8  # steps tried with --fast
KILL_HOOK = (
    "import builtins, io, os, signal, sys\n"
    "from geoloc_core.cli import main\n"
    "at, count = int(os.environ['GEOLOC_FAULTS_KILL_AT_STEP']), [0]\n"
    "def counted(function, changes=lambda *args, **kwargs: True):\n"
    "    def call(*args, **kwargs):\n"
    "        if changes(*args, **kwargs):\n"
    "            count[0] += 1\n"
    "            if count[0] == at:\n"
    "                os.kill(os.getpid(), signal.SIGKILL)\n"
    "        return function(*args, **kwargs)\n"
    "    return call\n"
    "for name in ('replace', 'rename', 'unlink', 'fsync', 'chmod', 'utime', 'truncate'):\n"
    "    setattr(os, name, counted(getattr(os, name)))\n"
    "builtins.open = io.open = counted(io.open, lambda file, mode='r', *rest, **kwargs: any(c in mode for c in 'wax+'))\n"
    "code = main(sys.argv[1:])\n"
    "print(f'file steps: {count[0]} in all')\n"
    "sys.exit(code)\n")


def _gps_batch(world: World, case_dir: Path) -> dict:
    """A photo of each format (the JPEG with an Exif block of its own) and a results CSV in which an
    analyst moved each one to GPS_PLACE; the originals' digests and modes are kept in originals.txt."""
    from PIL import Image

    folder = case_dir / "photos"
    source = Image.open(_jpeg(folder / "a.jpg", 40))
    exif = Image.Exif()
    exif[0x010F] = "Campaign camera"
    source.save(folder / "a.jpg", exif=exif)
    for name in GPS_PHOTOS[1:4]:
        source.save(folder / name)
    from pillow_heif import register_heif_opener

    register_heif_opener()
    source.save(folder / "e.heic", quality=50)
    with open(case_dir / "results.csv", "w", newline="", encoding="utf-8") as handle:
        handle.write("photo,lat,lon,review_status,reviewed_lat,reviewed_lon,review_note,run_time\n")
        for name in GPS_PHOTOS:
            handle.write(f"{folder / name},1.5,2.5,moved,{GPS_PLACE[0]},{GPS_PLACE[1]},checked,\n")
    (case_dir / "originals.txt").write_text("".join(
        f"{name} {hashlib.sha256((folder / name).read_bytes()).hexdigest()} {(folder / name).stat().st_mode}\n"
        for name in GPS_PHOTOS))
    return {"photos": folder, "results": case_dir / "results.csv"}


def _originals(case_dir: Path) -> dict[str, tuple[str, int]]:
    lines = (case_dir / "originals.txt").read_text().split("\n")
    return {name: (digest, int(mode)) for name, digest, mode in (line.split() for line in lines if line)}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _gps_kept(case_dir: Path) -> str | None:
    """Each photo is its original, or a valid photo holding GPS_PLACE beside a byte-identical backup
    (the HEIC: unchanged, with a sidecar holding the place or none); the undo list reads as JSON."""
    import json

    from geoloc_core.photos import read_gps

    undo = case_dir / "results.csv.gps-undo.json"
    try:
        if undo.exists():
            json.loads(undo.read_text(encoding="utf-8"))["writes"]
    except (ValueError, KeyError) as exc:
        return f"the undo list cannot be read ({exc})"
    folder = case_dir / "photos"
    for name, (digest, _) in _originals(case_dir).items():
        photo, backup = folder / name, folder / f"{name}_original"
        if name.endswith(".heic"):
            sidecar = folder / f"{name}.xmp"
            if _sha(photo) != digest:
                return f"{name} changed, though it gets a sidecar"
            if sidecar.exists() and b"GPSLatitude" not in sidecar.read_bytes():
                return f"{sidecar.name} holds no GPS"
            continue
        if _sha(photo) == digest:
            continue
        fix = read_gps(photo)  # also decodes the photo: PhotoError where it is damaged
        if fix is None or abs(fix.lat - GPS_PLACE[0]) > 1e-6 or abs(fix.lon - GPS_PLACE[1]) > 1e-6:
            return f"{name} is neither its original nor written with the new place"
        if not backup.is_file() or _sha(backup) != digest:
            return f"{name} was written without a byte-identical backup"
    return None


def _undone(case_dir: Path, edited: str = "") -> str | None:
    """`write-gps --undo` (where anything was listed; the case's own where a photo was `edited`) brought
    every photo back byte for byte with its mode, and left no backup, sidecar or temporary (but the
    edited photo's backup, kept for it)."""
    if not edited and ((case_dir / "results.csv.gps-undo.json").exists() or list(case_dir.glob(".*tmp*"))):
        run = _in_process(["--progress", "none", "write-gps", str(case_dir / "results.csv"), "--undo"])
        if run.code != 0 and "nothing to undo" not in run.err:
            return f"undo: exit {run.code}: {run.err.strip()[-200:]}"
    folder = case_dir / "photos"
    for name, (digest, mode) in _originals(case_dir).items():
        if name != edited and (_sha(folder / name) != digest or (folder / name).stat().st_mode != mode):
            return f"undo did not bring back {name} byte for byte"
    kept = {f"{edited}_original"} if edited else set()
    left = [p.name for p in [*folder.iterdir(), *case_dir.iterdir()]
            if (".tmp" in p.name or p.name.endswith(("_original", ".xmp"))) and p.name not in kept]
    return f"left behind: {left}" if left else None


def _lines_starting(text: str, start: str) -> int:
    return sum(line.startswith(start) for line in text.splitlines())


def _kept_and_undone(world: World, case_dir: Path) -> str | None:
    return _gps_kept(case_dir) or _undone(case_dir)


def _killed_write_resumed(world: World, case_dir: Path) -> str | None:
    """Run again after the kill, every photo is written; undo still reaches the originals."""
    problem = _gps_kept(case_dir)
    if problem:
        return problem
    run = _in_process(["--progress", "none", "write-gps", str(case_dir / "results.csv")])
    written = _lines_starting(run.out, "written ")
    if run.code != 0 or written != len(GPS_PHOTOS):
        return f"the second run: exit {run.code}, {written} written: {run.err.strip()[-200:]}"
    return _gps_kept(case_dir) or _undone(case_dir)


def _full_disk_batch(free_pages: int) -> Callable[[World, Path], dict]:
    """The batch on the small disk, filled up to `free_pages` pages of 4 KiB."""
    def setup(world: World, case_dir: Path) -> dict:
        (world.full / "filler").unlink()
        where = world.full / "gps"
        where.mkdir()
        values = _gps_batch(world, where)
        _fill(world.full, keep=("gps",))
        filler = world.full / "filler"
        with open(filler, "rb+") as handle:
            handle.truncate(max(filler.stat().st_size - free_pages * 4096 + FULL_DISK_FREE, 0))
        return values
    return setup


def _written_then_disk_filled(world: World, case_dir: Path) -> dict:
    """The batch written on the small disk, which then fills up to one page."""
    values = _full_disk_batch(64)(world, case_dir)
    run = _in_process(["--progress", "none", "write-gps", str(values["results"])])
    if run.code != 0:
        raise RuntimeError(f"the write before the disk filled: {run.err}")
    _fill(world.full, keep=("gps",))
    return values


def _full_disk_kept(world: World, case_dir: Path) -> str | None:
    """Nothing lost on the full disk; once room is made, undo brings every photo back."""
    problem = _gps_kept(world.full / "gps")
    (world.full / "filler").unlink()
    return problem or _undone(world.full / "gps")


def _read_only_folder(world: World, case_dir: Path) -> dict:
    """The photos are the user's own and writable, their folder is not (run as that user)."""
    values = _gps_batch(world, case_dir)
    folder = values["photos"]
    if os.geteuid() == 0:
        for path in [folder, *folder.iterdir()]:
            os.chown(path, NOBODY, NOBODY)
    folder.chmod(0o555)
    return values


def _nothing_written(world: World, case_dir: Path) -> str | None:
    folder = case_dir / "photos"
    changed = [n for n, (digest, _) in _originals(case_dir).items() if _sha(folder / n) != digest]
    left = [p.name for p in [*folder.iterdir(), *case_dir.iterdir()]
            if ".tmp" in p.name or p.name.endswith(("_original", ".xmp", ".gps-undo.json"))]
    return (f"changed: {changed}" if changed else "") + (f" left behind: {left}" if left else "") or None


def _swapped_after_dry_run(swap: str) -> Callable[[World, Path], dict]:
    """The dry run lists the PNG; then it becomes a folder, or a link in a loop of links."""
    def setup(world: World, case_dir: Path) -> dict:
        values = _gps_batch(world, case_dir)
        dry = _in_process(["--progress", "none", "write-gps", str(values["results"]), "--dry-run"])
        if dry.code != 0 or _lines_starting(dry.out, "would write ") != len(GPS_PHOTOS):
            raise RuntimeError(f"the dry run before the swap: {dry.out}{dry.err}")
        photo = values["photos"] / "b.png"
        photo.unlink()
        if swap == "folder":
            photo.mkdir()
        else:
            photo.symlink_to(photo.with_name("loop.png"))
            photo.with_name("loop.png").symlink_to(photo)
        return values
    return setup


def _swapped_kept(world: World, case_dir: Path) -> str | None:
    """The other photos are written and undone; the swapped one is left as the user made it."""
    photo = case_dir / "photos" / "b.png"
    if not (photo.is_dir() or photo.is_symlink()) or list(case_dir.glob("photos/b.png_original*")):
        return "the swapped photo was touched"
    (case_dir / "originals.txt").write_text("".join(
        line + "\n" for line in (case_dir / "originals.txt").read_text().splitlines() if not line.startswith("b.png")))
    return _gps_kept(case_dir) or _undone(case_dir)


def _written_then_edited(world: World, case_dir: Path) -> dict:
    """Written, then the user edits the JPEG in another program (it is saved anew, GPS lost)."""
    from PIL import Image

    values = _gps_batch(world, case_dir)
    run = _in_process(["--progress", "none", "write-gps", str(values["results"])])
    if run.code != 0:
        raise RuntimeError(f"the write before the edit: {run.err}")
    photo = values["photos"] / "a.jpg"
    with Image.open(photo) as image:
        image.rotate(90).save(photo, quality=80)
    (case_dir / "edited.sha").write_text(_sha(photo))
    return values


def _edit_kept(world: World, case_dir: Path) -> str | None:
    """The edit stays, and so does the backup of the original and the undo list's entry for it."""
    import json

    folder = case_dir / "photos"
    if _sha(folder / "a.jpg") != (case_dir / "edited.sha").read_text():
        return "undo replaced the user's edit"
    if _sha(folder / "a.jpg_original") != _originals(case_dir)["a.jpg"][0]:
        return "the original's backup is gone"
    writes = json.loads((case_dir / "results.csv.gps-undo.json").read_text())["writes"]
    if [Path(w["target"]).name for w in writes] != ["a.jpg"]:
        return f"the undo list keeps {[Path(w['target']).name for w in writes]}, not the edited photo alone"
    return _undone(case_dir, edited="a.jpg")


def _reviewed_for_database(world: World, case_dir: Path) -> dict:
    """Six photos an analyst accepted or moved, to add to (a private copy of) the database."""
    rows = ["photo,lat,lon,review_status,reviewed_lat,reviewed_lon,review_note,run_time"]
    for i in range(6):
        photo = _jpeg(case_dir / "reviewed" / f"v{i}.jpg", 200 + i)
        status, place = ("moved", f"{5 + i},{10 + i}") if i % 2 else ("accepted", ",")
        rows.append(f"{photo},{-5 - i},{-10 - i},{status},{place},checked,")
    (case_dir / "reviewed.csv").write_text("\n".join(rows) + "\n")
    return {"reviewed": case_dir / "reviewed.csv"}


def _add_resumes(world: World, case_dir: Path) -> str | None:
    """The database opens after the kill with none or some of the photos; running it again adds the
    rest once, and a third run adds none."""
    db = world_db(world, case_dir)
    try:
        count = _count(db)
    except Exception as exc:
        return f"the database no longer opens: {' '.join(str(exc).split())[:200]}"
    if not REFERENCE_COUNT <= count <= REFERENCE_COUNT + 6:
        return f"the killed add left {count} photos"
    for attempt in ("resumed", "repeated"):
        run = _in_process(["--progress", "none", "add-reviewed", str(case_dir / "reviewed.csv"), str(db)])
        if run.code != 0:
            return f"the {attempt} add: exit {run.code}: {run.err.strip()[-200:]}"
        if _count(db) != REFERENCE_COUNT + 6:
            return f"after the {attempt} add the database holds {_count(db)} photos, not {REFERENCE_COUNT + 6}"
    return None


def _kill_steps(total: int) -> list[tuple[int, bool]]:
    """Every step, each marked whether --fast tries it (a random sample; the seed is printed)."""
    import random

    chosen = set(random.Random(KILL_SEED).sample(range(1, total + 1), min(KILL_SAMPLE, total)))
    return [(step, step in chosen) for step in range(1, total + 1)]


WRITE_GPS = "write-gps {results}"
ADD_REVIEWED = "add-reviewed {reviewed} {db}"
KILL_SEED = int(os.environ.get("GEOLOC_FAULTS_SEED") or time.time_ns() % 10**6)
ADD_REVIEWED_STEPS = 8  # the file changes of adding six photos (their SQLite writes not counted)
GPS_CASES: list[Case] = [
    Case(f"write-gps batch takes {WRITE_GPS_STEPS} file steps", WRITE_GPS, OK, f"file steps: {WRITE_GPS_STEPS} in all",
         setup=_gps_batch, kill_at_step=-1, after=_kept_and_undone),
    *(Case(f"write-gps killed at file step {step} (seed {KILL_SEED})", WRITE_GPS, KILLED, setup=_gps_batch,
           kill_at_step=step, fast=fast, after=_kept_and_undone)
      for step, fast in _kill_steps(WRITE_GPS_STEPS)),
    Case("write-gps killed half-way, then run again", WRITE_GPS, KILLED, setup=_gps_batch,
         kill_at_step=WRITE_GPS_STEPS // 2, after=_killed_write_resumed),
    Case("two write-gps at once", WRITE_GPS, OK, setup=_gps_batch, together=2, after=_kept_and_undone),
    Case("write-gps on a full disk", "write-gps {full}/gps/results.csv", says="no photo was written",
         needs_full_disk=True, setup=_full_disk_batch(1), after=_full_disk_kept),
    Case("write-gps fills the disk half-way", "write-gps {full}/gps/results.csv", OK, "no space left",
         needs_full_disk=True, setup=_full_disk_batch(6), after=_full_disk_kept),
    Case("write-gps --undo on a full disk", "write-gps {full}/gps/results.csv --undo", OK, "no space left",
         needs_full_disk=True, setup=_written_then_disk_filled, after=_full_disk_kept),
    Case("write-gps into a read-only photo folder", WRITE_GPS, says="no photo was written", setup=_read_only_folder,
         unprivileged=True, after=_nothing_written),
    Case("write-gps: a photo became a folder after the dry run", WRITE_GPS, OK, "is a directory",
         setup=_swapped_after_dry_run("folder"), after=_swapped_kept),
    Case("write-gps: a photo became a symlink loop after the dry run", WRITE_GPS, OK, "symbolic links",
         setup=_swapped_after_dry_run("loop"), after=_swapped_kept),
    Case("write-gps --undo after the user edited a photo", WRITE_GPS + " --undo", OK,
         "changed since GPS was written", setup=_written_then_edited, after=_edit_kept),
    Case(f"add-reviewed takes {ADD_REVIEWED_STEPS} file steps", ADD_REVIEWED, OK,
         f"file steps: {ADD_REVIEWED_STEPS} in all", writes=True, setup=_reviewed_for_database, kill_at_step=-1,
         fast=False, after=_add_resumes),
    *(Case(f"add-reviewed killed at file step {step}", ADD_REVIEWED, KILLED, writes=True, setup=_reviewed_for_database,
           kill_at_step=step, fast=step in (2, 6), after=_add_resumes)
      for step in range(1, ADD_REVIEWED_STEPS + 1)),
    *(Case(f"add-reviewed aborted at progress event {event}", ADD_REVIEWED, KILLED, writes=True,
           setup=_reviewed_for_database, abort_after=event, fast=event == 1, after=_add_resumes)
      for event in (1, 2)),
]
CASES += GPS_CASES


# -- running -------------------------------------------------------------------------------------------

def make_world(root: Path) -> World:
    refs = root / "refs"
    rows = ["path,lat,lon"]
    for i in range(REFERENCE_COUNT):
        rows.append(f"{_jpeg(refs / f'r{i}.jpg', i)},{-40 + 7 * i},{-100 + 15 * i}")
    (root / "refs.csv").write_text("\n".join(rows) + "\n")
    world = World(root, refs, root / "refs.csv", root / "world.geoloc", root / "query.jpg")
    shutil.copy(refs / "r1.jpg", world.photo)
    built = _in_process(["--progress", "none", "build", str(world.db), str(world.refs_csv)])
    if built.code != 0:
        sys.exit(f"could not build the campaign's database: {built.err}")
    for path in [root, *root.rglob("*")]:  # readable by the unprivileged cases
        path.chmod(path.stat().st_mode | 0o755 if path.is_dir() else path.stat().st_mode | 0o644)
    return world


@contextlib.contextmanager
def full_disk(world: World):
    """A 256 KiB tmpfs filled to FULL_DISK_FREE bytes; world.full stays None where mounting fails."""
    mount = world.root / "full"
    mount.mkdir()
    try:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=1777", "tmpfs", str(mount)],
                                capture_output=True, text=True)
        problem = (result.stderr.strip() or "not root") if result.returncode != 0 else None
    except OSError as exc:  # no mount command (a minimal chroot)
        problem = f"{exc.filename}: {exc.strerror}"
    if problem is not None:
        world.full_disk_problem = f"cannot mount a small tmpfs here ({problem})"
        yield
        return
    try:
        world.full = mount
        _fill(mount)
        yield
    finally:
        world.full = None
        subprocess.run(["umount", str(mount)], check=False)


def _fill(mount: Path, keep: tuple[str, ...] = ()) -> None:
    filler = mount / "filler"
    for stray in mount.iterdir():
        if stray != filler and stray.name not in keep:
            shutil.rmtree(stray) if stray.is_dir() else stray.unlink()
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    with open(filler, "rb+") as handle:  # give back a little room
        handle.truncate(max(filler.stat().st_size - FULL_DISK_FREE, 0))


def _in_process(argv: list[str]) -> Run:
    from geoloc_core.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
    return Run(code, out.getvalue(), err.getvalue())


# the child's own peak (VmHWM: ru_maxrss would count the campaign's memory it was forked from)
PEAK_REPORTER = ("import atexit, re, sys; atexit.register(lambda: sys.stderr.write('peak_rss_kib ' + re.search("
                 "r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1) + '\\n')); "
                 "from geoloc_core.cli import main; sys.exit(main(sys.argv[1:]))")


def _subprocess(argv: list[str], case: Case, together: int) -> Run:
    env = {**os.environ, **case.env, "PYTHONPATH": str(REPO_ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    if case.abort_after:  # tests/crash_hook/sitecustomize.py makes the CLI abort at that progress event
        env["PYTHONPATH"] += os.pathsep + str(REPO_ROOT / "tests" / "crash_hook")
        env["GEOLOC_CORE_TEST_ABORT_AFTER"] = str(case.abort_after)
    if case.kill_at_step:
        env["GEOLOC_FAULTS_KILL_AT_STEP"] = str(case.kill_at_step)
    drop = os.geteuid() == 0 and case.unprivileged
    entry = ["-c", PEAK_REPORTER] if case.max_mib else ["-c", KILL_HOOK] if case.kill_at_step else ["-m", "geoloc_core"]
    command = [sys.executable, *entry, *argv]
    children = [subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 user=NOBODY if drop else None, group=NOBODY if drop else None,
                                 extra_groups=[] if drop else None)
                for _ in range(together)]
    runs = []
    for child in children:
        out, err = child.communicate(timeout=600)
        text = err.decode("utf-8", "backslashreplace")
        peak = [line for line in text.splitlines() if line.startswith("peak_rss_kib ")]
        runs.append(Run(child.returncode, out.decode("utf-8", "backslashreplace"),
                        "\n".join(line for line in text.splitlines() if line not in peak),
                        peak_mib=int(peak[-1].split()[1]) / 1024 if peak else 0.0))
    return Run(runs[0].code, runs[0].out, runs[0].err, runs[1:], runs[0].peak_mib)


def _judge(case: Case, run: Run) -> str:
    """The problem with one run's outcome, or ''."""
    text = run.out + run.err
    if "Traceback" in text or "Exception ignored" in text:
        return "traceback: " + text.strip().splitlines()[-1][:160]
    if case.lacks and case.lacks in text:
        return f"the output repeats {case.lacks!r}"
    if case.max_line and max(map(len, text.splitlines()), default=0) > case.max_line:
        return f"an output line is {max(map(len, text.splitlines()))} characters long (at most {case.max_line})"
    if case.max_mib and run.peak_mib > case.max_mib:
        return f"peak memory {run.peak_mib:.0f} MiB, over {case.max_mib:.0f} MiB"
    errors = [line for line in run.err.splitlines() if line.startswith("error:")]
    if case.expect == KILLED:
        signalled = -signal.SIGKILL if case.kill_at_step else -signal.SIGABRT
        return "" if run.code == signalled else f"exit {run.code}, expected to be killed"
    if case.expect == OK:
        if run.code != 0:
            return f"exit {run.code}: {run.err.strip()[-200:]}"
        return "" if case.says.lower() in text.lower() else f"output lacks {case.says!r}"
    if run.code != 2:
        return f"exit {run.code}, expected 2: {run.err.strip()[-200:]}"
    if len(errors) != 1:
        return f"{len(errors)} error: lines"
    return "" if case.says.lower() in errors[0].lower() else f"error line lacks {case.says!r}: {errors[0][:200]}"


def run_case(world: World, case: Case, scratch: Path, use_subprocess: bool) -> Outcome:
    started = time.perf_counter()
    reason = case.skip_if() if case.skip_if else ""
    if case.needs_full_disk and world.full is None:
        reason = world.full_disk_problem
    if reason:
        return Outcome(case, True, skipped=reason)
    case_dir = Path(tempfile.mkdtemp(dir=scratch))
    case_dir.chmod(0o777)
    db = world.db
    if case.writes:
        db = case_dir / "db.geoloc"
        shutil.copytree(world.db, db)
    values = world.placeholders(case_dir, db)
    if case.setup:
        values.update(case.setup(world, case_dir))
    argv = ["--progress", "none"] + [part.format(**values) if "{" in part else part
                                     for part in shlex.split(case.argv)]
    if argv[2] == "--progress":  # the case chose its own progress mode
        argv = argv[2:]
    own_process = (use_subprocess or case.unprivileged or case.together > 1 or case.abort_after or case.max_mib
                   or case.kill_at_step)
    with _environment(case.env):
        run = _subprocess(argv, case, case.together) if own_process else _in_process(argv)
    problems = [p for p in (_judge(case, r) for r in [run, *run.extra]) if p]
    if case.together > 1:  # a concurrent writer may be refused, clearly, while the other one works
        problems = [p for p in problems if "another process" not in p]
    if case.after and not problems:
        problems.append(case.after(world, case_dir) or "")
    problems = [p for p in problems if p]
    for folder, _, _ in os.walk(case_dir):  # let cleanup remove what a case locked (folders over
        with contextlib.suppress(OSError):   # PATH_MAX are skipped: rmtree works by descriptor there)
            os.chmod(folder, 0o777)
    return Outcome(case, not problems, "; ".join(problems), time.perf_counter() - started, peak_mib=run.peak_mib)


@contextlib.contextmanager
def _environment(values: dict):
    """os.environ with these values for the length of a case (limits are read at each use)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def campaign(fast: bool, use_subprocess: bool, pattern: str = "") -> list[Outcome]:
    cases = [c for c in CASES if (c.fast or not fast) and pattern.lower() in c.name.lower()]
    with tempfile.TemporaryDirectory(prefix="geoloc-faults-") as temporary:
        root = Path(temporary)
        world = make_world(root)
        before = _digest(world.db)
        scratch = root / "cases"
        scratch.mkdir()
        scratch.chmod(0o777)
        with full_disk(world):
            outcomes = []
            for case in cases:
                if case.needs_full_disk and world.full is not None:
                    _fill(world.full)
                outcomes.append(run_case(world, case, scratch, use_subprocess))
        if _digest(world.db) != before:
            outcomes.append(Outcome(Case("shared database unchanged", ""), False, "a case changed the shared database"))
    return outcomes


def print_table(outcomes: list[Outcome]) -> None:
    width = max(len(o.case.name) for o in outcomes)
    for outcome in outcomes:
        status = "skip" if outcome.skipped else ("pass" if outcome.passed else "FAIL")
        detail = outcome.skipped or outcome.detail
        peak = f"  peak {outcome.peak_mib:.0f} MiB" if outcome.peak_mib else ""
        print(f"{outcome.case.name:<{width}}  {status}  {outcome.seconds:5.1f} s{peak}  {detail}")
    tried = [o for o in outcomes if not o.skipped]
    print(f"\ncases tried: {len(tried)}, passed: {sum(o.passed for o in tried)}, "
          f"skipped: {len(outcomes) - len(tried)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="leave out the slow cases")
    parser.add_argument("--subprocess", action="store_true", help="run every case in its own process")
    parser.add_argument("-k", default="", help="only cases whose name contains this")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT))
    outcomes = campaign(args.fast, args.subprocess, args.k)
    print_table(outcomes)
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
