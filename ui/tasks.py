"""A QgsTask that runs one engine step in the background and hands its result to the main thread.

`run()` only calls the engine (no layer, project or widget is touched there); `finished()` runs on the
main thread and calls `on_finished(task)`, where layers are built. Progress reaches widgets through
the `progressed` signal (queued to the main thread by Qt).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

from qgis.core import Qgis, QgsMessageLog, QgsTask
from qgis.PyQt.QtCore import pyqtSignal

LOG_TAG = "Photo Geolocator"


def failure_message(exc: BaseException) -> str:
    """What the panel shows of a failure: a problem the user can fix is its one line; a bug (here or in
    the external engine's process) says to report it, its traceback written to the QGIS log."""
    from ..geoloc_core.errors import REPORT_LINE, EngineBug, EngineError, internal_message, is_user_error, user_message

    if isinstance(exc, EngineError):  # from the other engine's process, worded for the user, its lines kept
        return str(exc)
    if is_user_error(exc):
        return user_message(exc)
    where = "in the log (View > Panels > Log Messages, Photo Geolocator)"
    if isinstance(exc, EngineBug):
        QgsMessageLog.logMessage(exc.details, LOG_TAG, Qgis.MessageLevel.Critical)
        return f"internal error ({exc}); {REPORT_LINE} with the traceback {where}"
    QgsMessageLog.logMessage(traceback.format_exc(), LOG_TAG, Qgis.MessageLevel.Critical)
    return internal_message(exc, where)


class EngineTask(QgsTask):
    """`work(progress, should_stop)` runs in the worker thread; its return value becomes `result`."""

    progressed = pyqtSignal(int, int, str)  # done, total, message

    def __init__(self, description: str, work: Callable, on_finished: Callable[[EngineTask], None]):
        # Silent (QGIS 3.26 and newer): no "Task complete" notice over the panel's own message and offer
        flags = getattr(QgsTask, "Flags", QgsTask.Flag)(QgsTask.Flag.CanCancel)
        if hasattr(QgsTask.Flag, "Silent"):
            flags |= QgsTask.Flag.Silent
        super().__init__(description, flags)
        self._work = work
        self._on_finished = on_finished
        self.result = None
        self.error: str | None = None
        self.cancelled = False

    def setOnFinished(self, on_finished: Callable[[EngineTask], None]) -> None:
        self._on_finished = on_finished

    def _report(self, progress) -> None:
        from ..geoloc_core.progress import describe

        if progress.total:
            self.setProgress(100.0 * progress.done / progress.total)
        self.progressed.emit(progress.done, progress.total, describe(progress))  # the stage named

    def run(self) -> bool:
        from ..geoloc_core.progress import Cancelled

        try:
            self.result = self._work(self._report, self.isCanceled)
        except Cancelled:  # the user's Cancel is no failure: QGIS must not report "Task failed"
            self.cancelled = True
            return True
        except Exception as exc:
            self.error = failure_message(exc)
            return False
        if self.isCanceled():
            self.cancelled = True
            self.result = None
        return True

    def finished(self, ok: bool) -> None:  # main thread
        if not ok and self.error is None:  # terminated before run() started
            self.cancelled = True
        self._on_finished(self)
