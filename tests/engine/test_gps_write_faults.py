"""Write-back never loses or corrupts a photo: a process killed at each file step of `write_gps` or
`undo_gps`, an undo list that cannot be saved half-way, and photos swapped for other things between the
dry run and the write (bench/faults.py runs the same through the command line).

A kill is a forked child that sends itself SIGKILL just before its N-th file change (open for writing,
chmod, utime, fsync, rename, unlink), for every N until the run finishes, so that every point between
two file changes is one case.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import signal
import tempfile
import traceback
from pathlib import Path

import pytest

from geoloc_core import gps_write
from geoloc_core.errors import UserError
from geoloc_core.photos import read_gps

from .test_gps_write import MOVED, make_photo, results_file

NOBODY = 65534
KINDS = ("jpeg-exif", "png", "webp", "tiff", "heic")  # four written inside, one by a sidecar
FILE_CHANGES = ("replace", "rename", "unlink", "fsync", "chmod", "utime", "truncate")


def killed_at(step: int, work) -> bool:
    """Run `work()` in a child process that is killed (SIGKILL) just before its `step`-th file change;
    whether it was killed (False: it finished first)."""
    pid = os.fork()
    if pid == 0:  # the child: nothing of it returns into pytest
        try:
            count = [0]

            def counted(function, writes=lambda *args, **kwargs: True):
                def call(*args, **kwargs):
                    if writes(*args, **kwargs):
                        count[0] += 1
                        if count[0] == step:
                            os.kill(os.getpid(), signal.SIGKILL)
                    return function(*args, **kwargs)
                return call

            for name in FILE_CHANGES:
                setattr(os, name, counted(getattr(os, name)))
            opening = counted(io.open, lambda file, mode="r", *rest, **kwargs: any(c in mode for c in "wax+"))
            builtins.open = io.open = opening
            work()
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert not os.WIFEXITED(status) or os.WEXITSTATUS(status) == 0, "the child failed before it was killed"
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def batch(folder: Path) -> tuple[Path, dict[Path, tuple[bytes, int, int]]]:
    """Five photos of five formats, moved by the analyst, and each one's (bytes, mode, mtime_ns)."""
    photos = [make_photo(kind, folder / kind) for kind in KINDS]
    results = results_file(folder / "results.csv", [(p, "moved", *MOVED) for p in photos])
    return results, {p: (p.read_bytes(), p.stat().st_mode, p.stat().st_mtime_ns) for p in photos}


def problems_after_a_kill(results: Path, originals: dict) -> list[str]:
    """Each photo as it was, or written with the new place and a byte-identical backup; the undo list
    readable (or absent)."""
    found = []
    undo = gps_write.undo_list_path(results)
    if undo.exists():
        json.loads(undo.read_text(encoding="utf-8"))["writes"]
    for photo, (original, _, _) in originals.items():
        data = photo.read_bytes()
        sidecar = photo.with_name(photo.name + ".xmp")
        if photo.suffix.lower() == ".heic":
            if data != original:
                found.append(f"{photo.name}: a sidecar write changed the photo")
            if sidecar.exists() and b"GPSLatitude" not in sidecar.read_bytes():
                found.append(f"{sidecar.name}: a sidecar without GPS")
        elif data != original:
            fix = read_gps(photo)
            if fix is None or abs(fix.lat - MOVED[0]) > 1e-6 or abs(fix.lon - MOVED[1]) > 1e-6:
                found.append(f"{photo.name}: neither the original nor the new place")
            backup = photo.with_name(photo.name + "_original")
            if not backup.is_file() or backup.read_bytes() != original:
                found.append(f"{photo.name}: written without a byte-identical backup")
    return found


def problems_after_undo(folder: Path, originals: dict) -> list[str]:
    """Every photo back byte for byte, with its permissions and modification time; no backup, sidecar
    or temporary file left."""
    found = [f"{p.name}: not restored" for p, (data, mode, mtime) in originals.items()
             if p.read_bytes() != data or p.stat().st_mode != mode
             or (p.stat().st_mtime_ns != mtime and p.suffix.lower() != ".heic")]
    left = [p.name for p in folder.rglob("*") if p.name.endswith(("_original", ".xmp")) or ".tmp" in p.name]
    return found + ([f"left behind: {left}"] if left else [])


def undo_all(results: Path) -> None:
    """`undo_gps`, which says there is nothing to undo where no write was listed."""
    try:
        report = gps_write.undo_gps(results)
    except UserError as exc:
        assert "nothing to undo" in str(exc)
    else:
        assert report.count("skipped") == 0, [row.line() for row in report.rows]


@pytest.mark.slow
def test_write_gps_killed_at_any_step_loses_nothing_and_undoes(tmp_path):
    step = 0
    while True:
        step += 1
        folder = tmp_path / f"step{step}"
        results, originals = batch(folder)
        killed = killed_at(step, lambda results=results: gps_write.write_gps(results))
        assert not problems_after_a_kill(results, originals), (step, problems_after_a_kill(results, originals))
        undo_all(results)
        assert not problems_after_undo(folder, originals), (step, problems_after_undo(folder, originals))
        if not killed:
            break
    assert step > 4 * len(KINDS), "every photo takes several file steps; the kill hook missed them"


def test_a_write_resumed_after_a_kill_still_undoes_to_the_originals(tmp_path):
    for step in (3, 7, 12, 20):
        folder = tmp_path / f"step{step}"
        results, originals = batch(folder)
        assert killed_at(step, lambda results=results: gps_write.write_gps(results))
        report = gps_write.write_gps(results)
        assert report.count("written") == len(KINDS), [row.line() for row in report.rows]
        undo_all(results)
        assert not problems_after_undo(folder, originals), (step, problems_after_undo(folder, originals))


@pytest.mark.slow
def test_undo_killed_at_any_step_finishes_when_run_again(tmp_path):
    step = 0
    while True:
        step += 1
        folder = tmp_path / f"step{step}"
        results, originals = batch(folder)
        assert gps_write.write_gps(results).count("written") == len(KINDS)
        killed = killed_at(step, lambda results=results: gps_write.undo_gps(results))
        undo_all(results)
        assert not problems_after_undo(folder, originals), (step, problems_after_undo(folder, originals))
        assert not gps_write.undo_list_path(results).exists()
        if not killed:
            break


def test_an_undo_list_that_cannot_be_saved_stops_before_the_photo_it_would_list(tmp_path, monkeypatch):
    """The disk fills after the first photo: the second is not written unlisted (undo could not restore
    it); the first stays listed and undoes."""
    first, second = (make_photo("png", tmp_path / name) for name in ("a", "b"))
    originals = {p: (p.read_bytes(), p.stat().st_mode, p.stat().st_mtime_ns) for p in (first, second)}
    results = results_file(tmp_path / "results.csv", [(p, "moved", *MOVED) for p in (first, second)])
    real_save, saves = gps_write._save_undo, []

    def filling(path, writes):
        saves.append(len(writes))
        if len(saves) > 1:
            raise UserError(f"{path}: the undo list cannot be written (no space left on device)")
        real_save(path, writes)

    monkeypatch.setattr(gps_write, "_save_undo", filling)
    with pytest.raises(UserError, match="no space"):
        gps_write.write_gps(results)
    monkeypatch.undo()
    assert first.read_bytes() != originals[first][0] and second.read_bytes() == originals[second][0]
    assert not (tmp_path / "b" / "photo.png_original").exists()
    undo_all(results)
    assert not problems_after_undo(tmp_path, originals)


def test_an_undo_after_a_kill_before_the_write_drops_the_orphan_backup(tmp_path):
    """Killed between the backup and the photo's own write: undo finds the photo as it was, says so and
    removes the backup that no longer has a purpose."""
    for step in range(1, 40):
        folder = tmp_path / f"step{step}"
        photo = make_photo("jpeg-exif", folder)
        originals = {photo: (photo.read_bytes(), photo.stat().st_mode, photo.stat().st_mtime_ns)}
        results = results_file(folder / "results.csv", [(photo, "moved", *MOVED)])
        assert killed_at(step, lambda results=results: gps_write.write_gps(results))
        if photo.with_name(photo.name + "_original").exists() and photo.read_bytes() == originals[photo][0]:
            break
    else:
        pytest.fail("no step left a backup beside an unwritten photo")
    report = gps_write.undo_gps(results)
    (row,) = report.rows
    assert row.outcome == "unchanged" and "already as it was" in row.line() and "removed" in row.line(), row.line()
    assert "found as before the write" in report.summary()
    assert not problems_after_undo(folder, originals)


@pytest.mark.parametrize("swap", ["directory", "symlink loop"])
def test_a_photo_swapped_after_the_dry_run_is_one_line_and_the_others_are_written(swap, tmp_path):
    kept, swapped = (make_photo("png", tmp_path / name) for name in ("a", "b"))
    results = results_file(tmp_path / "results.csv", [(p, "moved", *MOVED) for p in (kept, swapped)])
    assert gps_write.write_gps(results, dry_run=True).count("would write") == 2
    swapped.unlink()
    if swap == "directory":
        swapped.mkdir()
    else:
        loop = swapped.with_name("loop.png")
        swapped.symlink_to(loop)
        loop.symlink_to(swapped)
    report = gps_write.write_gps(results)
    rows = {Path(row.photo).parent.name: row for row in report.rows}
    assert rows["a"].outcome == "written"
    assert rows["b"].outcome == "skipped" and "cannot be read" in rows["b"].line(), rows["b"].line()
    assert swapped.is_dir() if swap == "directory" else swapped.is_symlink()
    assert not list((tmp_path / "b").glob("*_original*"))
    entries = json.loads(gps_write.undo_list_path(results).read_text())["writes"]
    assert [Path(e["target"]).parent.name for e in entries] == ["a"]


def test_a_second_write_for_the_same_results_is_refused_while_one_runs(tmp_path):
    """Two writes (or a write and an undo) of one results file would each save their own undo list,
    and one's writes would be lost to undo: the second is refused before it touches anything."""
    import fcntl

    results, originals = batch(tmp_path)
    with open(results, "rb") as running:
        fcntl.flock(running, fcntl.LOCK_EX)
        for attempt in (gps_write.write_gps, gps_write.undo_gps):
            with pytest.raises(UserError, match="another process is writing GPS for these results"):
                attempt(results)
        assert gps_write.write_gps(results, dry_run=True).count("would write") == len(KINDS), "a dry run reads only"
    assert gps_write.write_gps(results).count("written") == len(KINDS)
    undo_all(results)
    assert not problems_after_undo(tmp_path, originals)


def test_a_read_only_folder_is_named_as_the_reason_and_nothing_is_left_in_it():
    """The photos are writable, their folders are not; run as the photos' owner (root would be let
    through), in a folder of /tmp that this owner can reach."""
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        root.chmod(0o777)
        results, originals = batch(root)
        folders = [photo.parent for photo in originals]
        if os.geteuid() == 0:
            for path in [root, *root.rglob("*")]:
                os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
        for folder in folders:
            folder.chmod(0o555)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: nothing of it returns into pytest
            try:
                if os.geteuid() == 0:
                    os.setgid(NOBODY)
                    os.setuid(NOBODY)
                answer = [row.line() for row in gps_write.write_gps(results).rows]
            except BaseException:
                answer = traceback.format_exc()
            os.write(write, json.dumps(answer).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            lines = json.loads(pipe.read())
        os.waitpid(pid, 0)
        for folder in folders:
            folder.chmod(0o755)
        assert isinstance(lines, list), lines
        assert len(lines) == len(KINDS) and all("is read-only" in line and "left as it is" in line
                                                for line in lines), lines
        assert all(f"its folder {folder} is read-only" in " ".join(lines) for folder in folders)
        assert not problems_after_undo(root, originals)
        assert not gps_write.undo_list_path(results).exists()
