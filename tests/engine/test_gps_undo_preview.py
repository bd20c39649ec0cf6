"""An undo's dry run (`undo_gps(..., dry_run=True)`, `write-gps --undo --dry-run`): it lists what an undo
would put back, with the same checks, and changes no file, so that the panel can ask before undoing."""

from __future__ import annotations

import json

from geoloc_core import gps_write

from .test_gps_write import MOVED, _cli, make_photo, results_file


def files_of(folder) -> dict:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_an_undo_dry_run_lists_what_would_be_restored_and_changes_nothing(tmp_path):
    jpeg, heic = make_photo("jpeg-plain", tmp_path / "jpeg"), make_photo("heic", tmp_path / "heic")
    changed = make_photo("png", tmp_path / "png")
    results = results_file(tmp_path / "results.csv", [(p, "moved", *MOVED) for p in (jpeg, heic, changed)])
    gps_write.write_gps(results)
    changed.write_bytes(changed.read_bytes() + b"edited elsewhere")
    before = files_of(tmp_path)

    preview = gps_write.undo_gps(results, dry_run=True)
    outcomes = {row.photo: row for row in preview.rows}
    assert outcomes[str(jpeg)].outcome == "would restore"
    assert outcomes[str(jpeg)].line().startswith("would restore ") and "_original" in outcomes[str(jpeg)].line()
    assert outcomes[str(heic)].outcome == "would remove" and ".xmp" in outcomes[str(heic)].line()
    assert outcomes[str(changed)].outcome == "skipped" and "changed since GPS was written" in outcomes[str(changed)].problem
    assert preview.dry_run and preview.summary() == ("would restore 1 file, remove 1 sidecar, 1 left as they were "
                                                     "(dry run: nothing was changed)")
    assert files_of(tmp_path) == before, "a dry run touches no photo, backup, sidecar or undo list"

    done = gps_write.undo_gps(results)
    assert sorted(row.outcome for row in done.rows) == ["removed", "restored", "skipped"], "as the dry run listed"
    assert done.summary().startswith("restored 1 file, removed 1 sidecar, 1 left")


def test_the_cli_and_the_request_carry_the_undo_dry_run(tmp_path):
    from geoloc_core.service import Session, WriteGpsRequest, outcome_from_dict

    photo = make_photo("jpeg-plain", tmp_path)
    results = results_file(tmp_path / "results.csv", [(photo, "moved", *MOVED)])
    gps_write.write_gps(results)
    written = photo.read_bytes()
    listed = _cli("write-gps", results, "--undo", "--dry-run")
    assert listed.returncode == 0, listed.stderr
    assert "would restore" in listed.stdout and photo.read_bytes() == written
    request = WriteGpsRequest(str(results), undo=True, dry_run=True)
    with Session() as session:
        report = session.run(request)
    assert [row.outcome for row in report.rows] == ["would restore"] and photo.read_bytes() == written
    assert outcome_from_dict(request, json.loads(json.dumps(report.to_dict()))) == report
