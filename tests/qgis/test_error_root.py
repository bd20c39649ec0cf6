"""One error root: every exception the engine raises on purpose is a GeolocError; only UserErrors and the
operating-system errors a user can fix are shown as the user's one line, and anything else is a bug,
shown with its traceback and a request to report it (CLI exit 3, the panel's log)."""

from __future__ import annotations

import ast
import errno
import importlib
import json

import pytest

from geoloc_core import cli
from geoloc_core.errors import GeolocError, OptionError, UserError, internal_message, is_user_error, user_message

from ..conftest import REPO_ROOT


def engine_exception_classes():
    """(module, class name) of every exception class defined in geoloc_core."""
    for path in sorted((REPO_ROOT / "geoloc_core").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and any(
                    getattr(base, "id", getattr(base, "attr", "")).endswith(("Error", "Exception", "Cancelled",
                                                                             "Pixels", "Bug"))
                    for base in node.bases):
                yield f"geoloc_core.{path.stem}", node.name


@pytest.mark.parametrize("module, name", sorted(engine_exception_classes()))
def test_every_engine_exception_has_the_one_root(module, name):
    assert issubclass(getattr(importlib.import_module(module), name), GeolocError), f"{module}.{name}"


@pytest.mark.parametrize("failure", [
    UserError("a bad folder"), OptionError("k must be..."), MemoryError(),
    FileNotFoundError(errno.ENOENT, "No such file or directory", "/photos/a.jpg"),
    PermissionError(errno.EACCES, "Permission denied", "/db/.lock"),
    OSError(errno.ENOSPC, "No space left on device"),
])
def test_the_users_failures(failure):
    assert is_user_error(failure)


@pytest.mark.parametrize("failure", [
    ValueError("3 records for 4 vectors"), KeyError("boom"), RuntimeError("invariant"), TypeError("x"),
    OSError(errno.EIO, "Input/output error"), FileNotFoundError(errno.ENOENT, "no file named"),
    GeolocError("an internal state"),
])
def test_anything_else_is_a_bug(failure):
    assert not is_user_error(failure)
    assert "this is a bug, please report it" in internal_message(failure)


def test_an_internal_invariant_of_the_estimators_is_a_bug():
    import numpy as np

    from geoloc_core.estimator_registry import predicted_point

    with pytest.raises(Exception) as raised:
        predicted_point("sphere", np.zeros(0), np.zeros(0), np.zeros(0), 100.0, 0.1)
    assert not is_user_error(raised.value)


def test_a_user_error_in_the_cli_is_one_line_a_bug_its_traceback(capsys, monkeypatch, tmp_path):
    assert cli.main(["--progress", "json", "info", str(tmp_path / "none.geoloc")]) == cli.EXIT_USER_ERROR
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and len(captured.err.strip().splitlines()) == 1
    assert '"stage": "error", "user": true' in captured.out.strip().splitlines()[-1]

    def broken(args, printer):
        raise ValueError("3 records for 4 vectors")

    monkeypatch.setitem(cli.COMMANDS, "info", broken)
    assert cli.main(["--progress", "json", "info", "db"]) == cli.EXIT_INTERNAL_ERROR
    captured = capsys.readouterr()
    assert captured.err.startswith("Traceback") and "ValueError: 3 records for 4 vectors" in captured.err
    assert captured.err.strip().splitlines()[-1] == (
        "error: internal error (ValueError: 3 records for 4 vectors); this is a bug, please report it with the "
        "traceback above")
    event = json.loads(captured.out.strip().splitlines()[-1])
    assert (event["stage"], event["user"], event["message"]) == ("error", False, "ValueError: 3 records for 4 vectors")
    assert event["details"].startswith("Traceback")


def test_the_panel_shows_a_user_error_and_logs_a_bug(qgis_app, plugin_module):
    from qgis.core import QgsApplication

    tasks = plugin_module("ui.tasks")
    errors = plugin_module("geoloc_core.errors")
    logged = []
    log = QgsApplication.messageLog()
    log.messageReceived[str, str, type(tasks.Qgis.MessageLevel.Critical)].connect(
        lambda message, tag, level: logged.append((tag, message)))

    def run(failure):
        def work(progress, should_stop):
            raise failure
        task = tasks.EngineTask("test", work, lambda task: None)
        assert task.run() is False
        return task.error

    assert run(errors.OptionError("k (neighbours) must be a whole number")) == "k (neighbours) must be a whole number"
    assert run(FileNotFoundError(errno.ENOENT, "No such file or directory", "/p/a.jpg")) == \
        "/p/a.jpg: No such file or directory"
    assert not logged
    message = run(KeyError("an internal invariant"))
    assert "this is a bug, please report it" in message and "in the log" in message
    assert any(tag == tasks.LOG_TAG and "KeyError: 'an internal invariant'" in text for tag, text in logged)
    message = run(errors.EngineBug("KeyError: 'x', in the engine run by /py",
                                   "Traceback (most recent call last): ... KeyError"))
    assert message == ("internal error (KeyError: 'x', in the engine run by /py); this is a bug, please report it with "
                       "the traceback in the log (View > Panels > Log Messages, Photo Geolocator)")
    assert any(text.startswith("Traceback (most recent call last): ... KeyError") for _, text in logged)


def test_user_messages_name_the_file():
    assert user_message(FileNotFoundError(errno.ENOENT, "No such file or directory", "/p/a.jpg")) == \
        "/p/a.jpg: No such file or directory"
