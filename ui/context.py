"""What the panel's sections share, handed to each of them instead of the dock: the engine session, the
open database, the one background task at a time, messages, where file dialogs open. Sections never
reach each other: one that changes something shared says so with a signal here, and the others (and the
dock's footer) listen."""

from __future__ import annotations

from pathlib import Path

from qgis.core import Qgis, QgsApplication, QgsProject
from qgis.PyQt.QtCore import QObject, pyqtSignal

from ..profile_data import models_dir, packs_dir
from . import settings
from .i18n import tr
from .tasks import EngineTask


class PanelContext(QObject):
    databaseChanged = pyqtSignal(object)  # the DatabaseInfo now open, or None
    engineChanged = pyqtSignal()  # another engine (QGIS's Python or another one) runs the steps now
    modelsChanged = pyqtSignal()  # a model was chosen or downloaded: what can run may have changed
    stateChanged = pyqtSignal()  # a task started or ended, or what a run would use changed: re-enable buttons
    taskStarted = pyqtSignal(str)  # the status line of the step that started
    taskProgressed = pyqtSignal(int, int, str)  # done, total, what is being worked on
    taskEnded = pyqtSignal()

    def __init__(self, iface, engine, parent=None):
        super().__init__(parent)
        self.iface = iface
        self.engine = engine  # InProcessEngine or ExternalEngine: the sections' only way to the engine
        self.database = None  # DatabaseInfo of the open database
        self.task = None  # the one step running: an EngineTask, or the installer's InstallTask
        self.models_dir = models_dir()  # where downloaded models are (the Feature model section fills it)
        self.packs_dir = packs_dir()  # where installed reference packs are (searched by name)
        self.build_model = settings.DEFAULTS[settings.BUILD_MODEL]  # the network new databases are built with
        self.build_model_problem: str | None = None  # why it cannot build now (None: it can)

    # -- messages and folders ----------------------------------------------------------------------

    def message(self, text: str, level=Qgis.MessageLevel.Info, duration: int = 6) -> None:
        self.iface.messageBar().pushMessage(tr("Photo Geolocator"), text, level, duration)

    @staticmethod
    def start_folder() -> str:
        """Where file dialogs open: the last folder used, else the project's folder, else home."""
        remembered = settings.value(settings.LAST_FOLDER)
        if remembered and Path(remembered).is_dir():
            return remembered
        return QgsProject.instance().homePath() or str(Path.home())

    @staticmethod
    def remember_folder(path) -> None:
        if path:
            folder = Path(path) if Path(path).is_dir() else Path(path).parent
            settings.set_value(settings.LAST_FOLDER, str(folder))

    # -- shared values -----------------------------------------------------------------------------

    def set_database(self, info) -> None:
        self.database = info
        self.databaseChanged.emit(info)

    def switch_engine(self, engine) -> None:
        self.engine.close()
        self.engine = engine
        self.set_database(None)
        self.engineChanged.emit()

    def set_build_model(self, name: str, problem: str | None) -> None:
        self.build_model, self.build_model_problem = name, problem
        self.modelsChanged.emit()

    # -- the one task ------------------------------------------------------------------------------

    def busy(self) -> bool:
        if self.task is not None:
            self.message(tr("Another step is still running; wait for it or cancel it first."),
                         Qgis.MessageLevel.Warning)
            return True
        return False

    def run_task(self, description: str, work, on_finished) -> EngineTask:
        """Run `work(progress, should_stop)` as the panel's task; `on_finished(task)` on the main thread."""
        task = EngineTask(description, work, on_finished)
        task.progressed.connect(self.taskProgressed)
        self.start_task(task, description)
        return task

    def start_task(self, task, status: str) -> None:
        self.task = task
        self.taskStarted.emit(status)
        self.stateChanged.emit()
        QgsApplication.taskManager().addTask(task)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def task_done(self) -> None:
        self.task = None
        self.taskEnded.emit()
        self.stateChanged.emit()
