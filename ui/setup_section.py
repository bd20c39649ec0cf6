"""The panel's "Set-up" section: which of the engine's packages QGIS's Python lacks, installing them into
the profile (in a task, with a live log), or running the engine in another Python instead. Shown only
when there is something to say or choose."""

from __future__ import annotations

from pathlib import Path

from qgis.core import Qgis
from qgis.gui import QgsCollapsibleGroupBox
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtGui import QGuiApplication
from qgis.PyQt.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout

from ..geoloc_core.service import missing_dependencies
from . import settings
from .engine import ExternalEngine, InProcessEngine
from .i18n import tr
from .tasks import EngineTask


def make_engine():
    """The external Python the user chose, else the engine inside QGIS's own Python."""
    python = settings.value(settings.EXTERNAL_PYTHON)
    return ExternalEngine(python) if python else InProcessEngine()


class SetupSection(QgsCollapsibleGroupBox):
    changed = pyqtSignal()  # shown, hidden or reworded: the panel may need to be wider

    def __init__(self, context, parent=None):
        super().__init__(tr("Set-up"), parent)
        self.context = context
        context.engineChanged.connect(self.refresh)
        self.missing: list = []  # the engine's packages QGIS's Python lacks (none with another Python)
        layout = QVBoxLayout(self)
        self.dependency_label = QLabel(self)
        self.dependency_label.setObjectName("dependencyLabel")
        self.dependency_label.setWordWrap(True)
        layout.addWidget(self.dependency_label)
        row = QHBoxLayout()
        self.install_button = QPushButton(tr("Install missing packages"), self)
        self.install_button.setToolTip(tr("Install them with pip into a private folder of your QGIS profile "
                                          "(CPU-only PyTorch); QGIS's own Python packages are not touched"))
        self.install_button.clicked.connect(lambda: self.install_packages())
        self.external_button = QPushButton(tr("Use another Python…"), self)
        self.external_button.setToolTip(tr("Run the engine in a Python environment (venv, conda) that already has "
                                           "its packages; QGIS then also survives crashes in the engine"))
        self.external_button.clicked.connect(self.choose_external_python)
        self.internal_button = QPushButton(tr("Use QGIS's Python"), self)
        self.internal_button.clicked.connect(self.use_qgis_python)
        self.copy_details_button = QPushButton(tr("Copy details"), self)
        self.copy_details_button.setToolTip(tr("Copy the list of required packages and their versions, for bug "
                                               "reports"))
        self.copy_details_button.clicked.connect(self.copy_dependency_details)
        for widget in (self.install_button, self.external_button):
            row.addWidget(widget)
        layout.addLayout(row)
        row = QHBoxLayout()
        for widget in (self.internal_button, self.copy_details_button):
            row.addWidget(widget)
        layout.addLayout(row)
        self.install_log = QPlainTextEdit(self)
        self.install_log.setObjectName("installLog")
        self.install_log.setReadOnly(True)
        self.install_log.setMaximumBlockCount(2000)
        self.install_log.setVisible(False)
        layout.addWidget(self.install_log)

    def refresh(self) -> None:
        engine = self.context.engine
        external = isinstance(engine, ExternalEngine)
        self.missing = [] if external else missing_dependencies()
        if external:
            self.dependency_label.setText(tr("The engine runs in {}.").format(engine.python))
        elif self.missing:
            names = ", ".join(d.distribution for d in self.missing)
            self.dependency_label.setText(tr(
                "<b>The engine cannot run yet:</b> QGIS's Python lacks {}. Install them here (a few "
                "hundred MB, into your QGIS profile), or point to a Python that has them.").format(names))
        self.setVisible(external or bool(self.missing) or self.install_log.isVisible())
        self.install_button.setVisible(bool(self.missing))
        self.external_button.setVisible(not external)
        self.internal_button.setVisible(external)
        self.changed.emit()

    def copy_dependency_details(self) -> None:
        from .diagnostics import report

        QGuiApplication.clipboard().setText(report(self.context.engine.label))

    # -- installing and choosing the engine's Python -------------------------------------------

    def install_packages(self, specs=None, target=None, python=None) -> None:
        """pip-install the missing packages (or `specs`) in the background, with a live log."""
        from .installer import InstallTask, missing_specs, packages_folder

        if self.context.busy():
            return
        specs = specs or missing_specs()
        target = Path(target) if target else packages_folder()
        self.install_log.clear()
        self.install_log.setVisible(True)
        self.setVisible(True)
        task = InstallTask(specs, target, self._install_finished, python)
        task.logLine.connect(self.install_log.appendPlainText)
        self.context.start_task(task, tr("Installing {} into {}").format(", ".join(specs), target))

    def _install_finished(self, task, ok: bool) -> None:
        from .installer import activate_packages_folder

        self.context.task_done()
        if ok:
            activate_packages_folder(task.target)
            self.refresh()
            self.context.message(tr("Installed {}. If a package was already loaded, restart QGIS.").format(
                ", ".join(task.specs)), Qgis.MessageLevel.Success)
            self.context.stateChanged.emit()  # the engine can run now
        elif task.error:
            self.context.message(tr("Installing failed: {} (see the log in the panel)").format(task.error),
                                 Qgis.MessageLevel.Critical, 0)
        else:
            self.context.message(tr("Installation cancelled."), Qgis.MessageLevel.Warning)

    def choose_external_python(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Python interpreter with the engine's packages"))
        if path:
            self.use_external_python(path)

    def use_external_python(self, python: str) -> None:
        """Check the interpreter in the background; switch to it when it runs the engine."""
        if self.context.busy():
            return
        candidate = ExternalEngine(python)
        self.context.run_task(tr("Checking the Python interpreter"), lambda progress, should_stop: candidate.check(),
                              lambda task: self._external_checked(task, candidate))

    def _external_checked(self, task: EngineTask, candidate: ExternalEngine) -> None:
        self.context.task_done()
        if task.error:
            self.context.message(task.error, Qgis.MessageLevel.Critical, 0)
            return
        settings.set_value(settings.EXTERNAL_PYTHON, candidate.python)
        self.context.switch_engine(candidate)
        self.context.message(tr("The engine now runs in {}.").format(candidate.python), Qgis.MessageLevel.Success)

    def use_qgis_python(self) -> None:
        if self.context.busy():
            return
        settings.remove(settings.EXTERNAL_PYTHON)
        self.context.switch_engine(InProcessEngine())

