"""The panel's "Reference database" section: open (or reopen a recent one), build from a folder or CSV,
add photos, train features, show coverage. Every step that reads or writes the database runs as the
panel's one task, so the GUI thread never touches a database a task is using."""

from __future__ import annotations

from pathlib import Path

from qgis.core import Qgis, QgsProject
from qgis.gui import QgsCollapsibleGroupBox
from qgis.PyQt.QtCore import QFileSystemWatcher, QTimer
from qgis.PyQt.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QMenu, QPushButton, QToolButton, QVBoxLayout

from ..geoloc_core.defaults import training_size_warning
from . import settings
from .i18n import tr
from .plain_text import escaped, plain_tooltip
from .tasks import EngineTask

RECENT_LIMIT = 8


class DatabaseSection(QgsCollapsibleGroupBox):
    def __init__(self, context, parent=None):
        super().__init__(tr("Reference database"), parent)
        self.context = context
        # the open database's folder and the folder holding it: deleting or moving it is seen at once
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self.check_database_present)
        # after the ended step's own handler (which may open another database)
        context.taskEnded.connect(lambda: QTimer.singleShot(0, self.check_database_present))
        context.databaseChanged.connect(self.show_database)
        layout = QVBoxLayout(self)
        self.label = QLabel(self)
        self.label.setObjectName("databaseLabel")
        self.label.setWordWrap(True)
        self.show_database(None)
        layout.addWidget(self.label)
        self.open_button = QPushButton(tr("Open…"), self)
        self.open_button.setToolTip(tr("Open a reference database (a .geoloc folder)"))
        self.open_button.clicked.connect(self.choose_database)
        self.recent_button = QToolButton(self)
        self.recent_button.setText(tr("Recent"))
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_menu = QMenu(self.recent_button)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.recent_button.setMenu(self.recent_menu)
        self.build_button = QToolButton(self)
        self.build_button.setText(tr("Build…"))
        self.build_button.setToolTip(tr("Create a database from your geotagged photos (a folder with EXIF GPS, or a "
                                        "CSV)"))
        self.build_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        build_menu = QMenu(self.build_button)
        build_menu.addAction(tr("From a folder of geotagged photos…"), lambda: self.choose_build_source(folder=True))
        build_menu.addAction(tr("From a CSV (path, lat, lon)…"), lambda: self.choose_build_source(folder=False))
        self.build_button.setMenu(build_menu)
        self.add_refs_button = QPushButton(tr("Add photos…"), self)
        self.add_refs_button.setToolTip(tr("Add more geotagged photos to the open database (new photos only)"))
        self.add_refs_button.clicked.connect(self.choose_reference_additions)
        self.train_button = QPushButton(tr("Train features"), self)
        self.train_button.setToolTip(tr("Learn geolocation features on this database (a geocell classifier on the "
                                        "stored embeddings; minutes on a CPU for a few thousand photos). Enables "
                                        "the cells and hybrid estimators"))
        self.train_button.clicked.connect(self.train_features)
        self.coverage_button = QPushButton(tr("Show coverage"), self)
        self.coverage_button.setToolTip(tr("Add the reference photos as a point layer"))
        self.coverage_button.clicked.connect(self.show_coverage)
        for pair in ((self.open_button, self.recent_button), (self.build_button, self.add_refs_button),
                     (self.train_button, self.coverage_button)):
            row = QHBoxLayout()
            for widget in pair:
                row.addWidget(widget)
            layout.addLayout(row)

    def set_idle(self, idle: bool, has_database: bool) -> None:
        for button in (self.open_button, self.recent_button, self.build_button):
            button.setEnabled(idle)
        for button in (self.add_refs_button, self.train_button, self.coverage_button):
            button.setEnabled(idle and has_database)

    def show_database(self, info) -> None:
        """Say which database is open (None: none)."""
        if self.watcher.directories():
            self.watcher.removePaths(self.watcher.directories())
        if info is None:
            self.label.setText(tr("No reference database is open yet."))
            self.label.setToolTip("")
            return
        self.watcher.addPaths([str(Path(info.path)), str(Path(info.path).parent)])
        count = tr("1 photo") if info.count == 1 else tr("{} photos").format(info.count)
        self.label.setText(tr("<b>{}</b>: {}<br><small>{}</small>").format(escaped(info.name), count,
                                                                          escaped(info.description)))
        self.label.setToolTip(plain_tooltip(tr("{}\nEngine: {}").format(info.path, self.context.engine.label)))

    def check_database_present(self, _changed: str = "") -> None:
        """When the open database's folder has disappeared (deleted, moved, its drive gone): say so in
        plain words, close it (Locate is no longer offered for it) and drop it from Recent. A running
        step finds out by itself; this is checked again when it ends."""
        database = self.context.database
        if database is None or Path(database.path).is_dir() or self.context.task is not None:
            return
        self._forget(database.path)
        self.context.engine.close()
        self.context.set_database(None)
        self.label.setText(tr("The reference database <b>{}</b> is gone: its folder was deleted or moved. Open "
                              "or build another.").format(escaped(database.name)))
        self.label.setToolTip(plain_tooltip(database.path))
        self.context.message(tr("The reference database {} is gone: {} was deleted or moved.").format(
            database.name, database.path), Qgis.MessageLevel.Warning)

    # -- opening -----------------------------------------------------------------------------------

    def choose_database(self) -> None:
        path = QFileDialog.getExistingDirectory(self, tr("Open a reference database (.geoloc folder)"),
                                                self.context.start_folder())
        if path:
            self.context.remember_folder(Path(path).parent)
            self.open_database(path)

    @staticmethod
    def recent_databases() -> list[str]:
        """The databases opened last, most recent first (the first is reopened when the panel opens)."""
        return settings.value(settings.RECENT_DATABASES)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_databases()
        if not recent:
            self.recent_menu.addAction(tr("No recent database")).setEnabled(False)
        missing = [path for path in recent if not Path(path).is_dir()]
        for path in recent:
            if path in missing:  # an unplugged drive may come back: shown, not offered, until removed
                self.recent_menu.addAction(tr("{} (missing)").format(path)).setEnabled(False)
            else:
                self.recent_menu.addAction(path, lambda p=path: self.open_database(p))
        if missing:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction(tr("Remove the missing databases from this list"),
                                       lambda: [self._forget(path) for path in missing])

    @staticmethod
    def _remember(path: str) -> None:
        recent = [path] + [p for p in DatabaseSection.recent_databases() if p != path]
        settings.set_value(settings.RECENT_DATABASES, recent[:RECENT_LIMIT])

    @staticmethod
    def _forget(path: str) -> None:
        settings.set_value(settings.RECENT_DATABASES, [p for p in DatabaseSection.recent_databases() if p != path])

    def reopen_last(self) -> bool:
        """Reopen the database open last time, when nothing else is open or running (the panel opens)."""
        recent = self.recent_databases()
        if self.context.task is not None or self.context.database is not None or not recent or not Path(recent[0]).is_dir():
            return False
        self.open_database(recent[0])
        return True

    def open_database(self, path) -> None:
        """Open a database in the background (the first open loads the engine's libraries)."""
        if self.context.busy():
            return
        engine = self.context.engine
        self.context.run_task(tr("Opening the reference database"),
                              lambda progress, should_stop: engine.open(str(path)), self._open_finished)

    def _open_finished(self, task: EngineTask) -> None:
        self.context.task_done()
        if task.error:
            self.context.message(task.error, Qgis.MessageLevel.Critical, 0)
            return
        if task.result is not None:
            self.set_database(task.result)

    def set_database(self, info) -> None:
        self._remember(info.path)
        self.context.set_database(info)
        for warning in info.warnings:
            self.context.message(warning, Qgis.MessageLevel.Warning)

    # -- building ----------------------------------------------------------------------------------

    def _build_model_missing(self) -> bool:
        """Say why the chosen feature model cannot build now (before any dialog asks for files)."""
        problem = self.context.build_model_problem
        if problem:
            self.context.message(problem, Qgis.MessageLevel.Warning, 0)
        return bool(problem)

    def choose_build_source(self, folder: bool) -> None:
        if self._build_model_missing():
            return
        start = self.context.start_folder()
        if folder:
            source = QFileDialog.getExistingDirectory(self, tr("Folder of geotagged photos"), start)
        else:
            source, _ = QFileDialog.getOpenFileName(self, tr("CSV with path, lat, lon"), start, tr("CSV (*.csv)"))
        if not source:
            return
        self.context.remember_folder(source)
        target, _ = QFileDialog.getSaveFileName(self, tr("New reference database"),
                                                str(Path(source).with_suffix("")) + ".geoloc",
                                                tr("Reference database (*.geoloc)"))
        if target:
            self.build_database(source, target if target.endswith(".geoloc") else target + ".geoloc")

    def choose_reference_additions(self) -> None:
        source = QFileDialog.getExistingDirectory(self, tr("Folder of geotagged photos to add"),
                                                  self.context.start_folder())
        if source:
            self.context.remember_folder(source)
            self.build_database(source, None)

    def build_database(self, source, target=None) -> None:
        """Build a new database at `target` from a folder or CSV, or (target None) add to the open one."""
        context = self.context
        if context.busy():
            return
        model, models = context.build_model, context.models_dir
        if target is not None and self._build_model_missing():
            return
        engine = context.engine
        context.run_task(tr("Building the reference database"),
                         lambda progress, should_stop: engine.build(str(source), target and str(target), progress,
                                                                    should_stop, model, models),
                         self._build_finished)

    def _build_finished(self, task: EngineTask) -> None:
        self.context.task_done()
        if task.error:
            self.context.message(tr("Building the database failed: {}").format(task.error),
                                 Qgis.MessageLevel.Critical, 0)
            return
        if task.result is None:
            self.context.message(tr("Cancelled; the photos embedded so far are kept."), Qgis.MessageLevel.Warning)
            return
        info, report = task.result
        if info.count == 0:  # e.g. through another Python, whose build command accepts an empty folder
            self.context.message(tr("{}: {}. The database is empty: no photo with a usable EXIF GPS location was "
                                    "found.").format(info.name, report.summary()), Qgis.MessageLevel.Critical, 0)
            return
        self.set_database(info)
        level = Qgis.MessageLevel.Warning if report.failed or report.cancelled else Qgis.MessageLevel.Success
        problems = "; ".join(f"{p.path}: {p.reason}" for p in report.failed[:5])
        self.context.message(f"{info.name}: {report.summary()}"
                             + (tr(". Unreadable: {}").format(problems) if problems else ""), level, 10)

    def train_features(self) -> None:
        database = self.context.database
        if self.context.busy() or database is None:
            return
        engine = self.context.engine
        warning = training_size_warning(database.count)
        if warning:
            self.context.message(f"{database.name}: {warning}", Qgis.MessageLevel.Warning, 15)
        self.context.run_task(tr("Training geolocation features"),
                              lambda progress, should_stop: engine.train(progress, should_stop), self._train_finished)

    def _train_finished(self, task: EngineTask) -> None:
        self.context.task_done()
        if task.error:
            self.context.message(tr("Training failed: {}").format(task.error), Qgis.MessageLevel.Critical, 0)
        elif task.result is None:
            self.context.message(tr("Training cancelled; the database is unchanged."), Qgis.MessageLevel.Warning)
        else:
            info, summary = task.result
            self.set_database(info)
            self.context.message(tr("{}: {}. Locating now uses them.").format(info.name, summary),
                                 Qgis.MessageLevel.Success)

    # -- coverage ----------------------------------------------------------------------------------

    def show_coverage(self) -> None:
        """Add the reference photos as a point layer. Their records are read in a task (never on the GUI
        thread, never beside another task using the database); the layer is made when they are in."""
        database = self.context.database
        if database is None or self.context.busy():
            return
        engine = self.context.engine

        def work(progress, should_stop):
            from .. import layers

            return layers.reference_features(engine.references())

        self.context.run_task(tr("Reading the locations of {}'s photos").format(database.name), work,
                              lambda task: self._coverage_read(task, database.name))

    def _coverage_read(self, task: EngineTask, name: str) -> None:
        from .. import layers
        from .results import STYLES, memory_layer

        self.context.task_done()
        if task.error:
            self.context.message(tr("Showing the coverage failed: {}").format(task.error),
                                 Qgis.MessageLevel.Critical, 0)
            return
        if task.result is None:
            return
        layer = memory_layer("Point", tr("References of {}").format(name), layers.REFERENCES, task.result)
        layer.loadNamedStyle(str(STYLES / "references.qml"))  # its own fields: `path`, not a neighbour's
        QgsProject.instance().addMapLayer(layer)
