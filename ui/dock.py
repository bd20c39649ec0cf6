"""The Photo Geolocator dock panel. It composes one widget per section (set-up, reference database,
reference packs, feature model, photos, parameters, results: ui/*_section.py, packs_panel.py,
models_panel.py, run_options.py) and owns what they share: the engine, the open database, the one
background task at a time (with the Locate/Cancel footer, its progress and status line) and the runs."""

from __future__ import annotations

from pathlib import Path

from qgis.core import Qgis, QgsApplication, QgsProject, QgsSettings
from qgis.gui import QgsDockWidget
from qgis.PyQt.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..geoloc_core.storage import utc_now
from .database_section import DatabaseSection
from .i18n import tr
from .models_panel import ModelsPanel
from .packs_panel import PacksPanel
from .photos_section import HAS_GPS_ROLE, PATH_ROLE, PhotosSection
from .results_section import ResultsSection
from .run_options import RunOptions
from .setup_section import SetupSection, make_engine
from .tasks import EngineTask

PANEL_WIDTH = 380
SETTINGS_LAST_FOLDER = "photo_geolocator/last_folder"
WORLDWIDE_SOURCE = "GeoCLIP GPS gallery"  # the "database" a worldwide run's layers name


class WheelGuard(QObject):
    """The mouse wheel scrolls the panel; it changes a number or choice only in the box being edited
    (one with keyboard focus), so that scrolling past a box never changes k by accident."""

    def __init__(self, scroll_area: QScrollArea):
        super().__init__(scroll_area)
        self.scroll_area = scroll_area

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Wheel and not watched.hasFocus():
            QCoreApplication.sendEvent(self.scroll_area.viewport(), event)
            return True
        return False


class PhotoGeolocatorDock(QgsDockWidget):
    """Where the user picks a reference database and the photos to locate, runs, and reads results."""

    runFinished = pyqtSignal(object)  # the LocateRun, or None when cancelled or failed

    def __init__(self, iface, parent=None):
        super().__init__("Photo Geolocator", parent)
        self.iface = iface
        self.database = None  # DatabaseInfo of the open database
        self.engine = make_engine()
        self.task = None  # the one step running: an EngineTask, or the installer's InstallTask
        self.runs = []  # the run the panel shows (cleared with the project or when another run starts)
        self.run_count = 0
        self._shown_once = False
        self._build_ui()
        QgsProject.instance().cleared.connect(self.clear_results)  # New project / opening another
        self.setup_section.refresh()
        self.options.refresh_choices()

    # -- layout ------------------------------------------------------------------------------------

    def _build_ui(self) -> None:
        self.scroll = QScrollArea(self)
        self.wheel_guard = WheelGuard(self.scroll)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        self.setup_section = SetupSection(self, body)
        self.database_section = DatabaseSection(self, body)
        self.packs_panel = PacksPanel(self, body)
        self.packs_panel.changed.connect(self.update_buttons)
        self.models_panel = ModelsPanel(self, body)
        self.photos = PhotosSection(self, body)
        self.options = RunOptions(self, body)
        self.models_panel.changed.connect(self.options.refresh_choices)
        self.results_section = ResultsSection(self, body)
        for section in (self.setup_section, self.database_section, self.packs_panel, self.models_panel, self.photos,
                        self.options, self.results_section):
            layout.addWidget(section)
        layout.addStretch(1)

        footer = QWidget(self)  # outside the scrolled area: the run button and status are always in view
        footer_layout = QVBoxLayout(footer)
        footer_layout.setContentsMargins(6, 0, 6, 6)
        row = QHBoxLayout()
        self.run_button = QPushButton(tr("Locate photos"), footer)
        self.run_button.setObjectName("runButton")
        self.run_button.clicked.connect(self.start_run)
        self.cancel_button = QPushButton(tr("Cancel"), footer)
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        footer_layout.addLayout(row)
        self.progress_bar = QProgressBar(footer)
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setValue(0)
        self.status_label = QLabel("", footer)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)  # it shows photo names
        self.status_label.setObjectName("statusLabel")
        self.status_label.setWordWrap(True)
        footer_layout.addWidget(self.progress_bar)
        footer_layout.addWidget(self.status_label)

        for spin in body.findChildren((QSpinBox, QDoubleSpinBox, QComboBox)):
            spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            spin.installEventFilter(self.wheel_guard)
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(body)
        container = QWidget(self)
        outer = QVBoxLayout(container)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll, 1)
        outer.addWidget(footer)
        self.setWidget(container)

    def showEvent(self, event):
        super().showEvent(event)
        self.fit_width()  # measured again in the main window's own style and font
        if not self._shown_once:  # the database open last time, unless the user starts something first
            self._shown_once = True
            QTimer.singleShot(0, self.database_section.reopen_last)

    def fit_width(self) -> None:
        """Open wide enough for the content in this style and font: no horizontal scrolling, nothing cut."""
        body = self.scroll.widget()
        needed = (body.minimumSizeHint().width() + self.scroll.verticalScrollBar().sizeHint().width()
                  + 2 * self.scroll.frameWidth() + 4)
        self.setMinimumWidth(max(PANEL_WIDTH, needed))

    # -- the engine ------------------------------------------------------------------------------

    def switch_engine(self, engine) -> None:
        self.engine.close()
        self.engine = engine
        self.database = None
        self.database_section.show_database(None)
        self.setup_section.refresh()
        self.options.refresh_choices()

    # -- folders and messages --------------------------------------------------------------------

    def start_folder(self) -> str:
        """Where file dialogs open: the last folder used, else the project's folder, else home."""
        remembered = QgsSettings().value(SETTINGS_LAST_FOLDER, "")
        if remembered and Path(remembered).is_dir():
            return remembered
        return QgsProject.instance().homePath() or str(Path.home())

    def remember_folder(self, path) -> None:
        if path:
            folder = Path(path) if Path(path).is_dir() else Path(path).parent
            QgsSettings().setValue(SETTINGS_LAST_FOLDER, str(folder))

    def message(self, text: str, level=Qgis.MessageLevel.Info, duration: int = 6) -> None:
        self.iface.messageBar().pushMessage("Photo Geolocator", text, level, duration)

    # -- the one task ----------------------------------------------------------------------------

    def busy(self) -> bool:
        if self.task is not None:
            self.message("Another step is still running; wait for it or cancel it first.", Qgis.MessageLevel.Warning)
            return True
        return False

    def run_task(self, description: str, work, on_finished) -> EngineTask:
        """Run `work(progress, should_stop)` as the panel's task; `on_finished(task)` on the main thread."""
        task = EngineTask(description, work, on_finished)
        task.progressed.connect(self._on_progress)
        self.progress_bar.setValue(0)
        self.start_task(task, description)
        return task

    def start_task(self, task, status: str) -> None:
        self.task = task
        self.status_label.setText(f"{status}…")
        self.update_buttons()
        QgsApplication.taskManager().addTask(task)

    def _on_progress(self, done: int, total: int, message: str) -> None:
        if total:
            self.progress_bar.setValue(int(100 * done / total))
        self.status_label.setText(f"{done} / {total}: {Path(message).name}" if message else f"{done} / {total}")

    def cancel(self) -> None:
        if self.task is not None:
            self.status_label.setText(tr("Cancelling…"))
            self.task.cancel()

    def task_done(self) -> None:
        self.task = None
        self.progress_bar.setValue(0)
        self.status_label.setText(tr(""))
        self.update_buttons()

    def update_buttons(self) -> None:
        idle = self.task is None and not self.setup_section.missing
        self.database_section.set_idle(idle, self.database is not None)
        ready = (self.options.worldwide_problem() is None if self.options.worldwide()
                 else bool(self.reference_paths()))
        self.run_button.setEnabled(idle and ready and not self.photos.reading())
        self.packs_panel.set_idle(idle)
        self.models_panel.set_idle(idle)
        self.cancel_button.setEnabled(self.task is not None)
        self.results_section.export_button.setEnabled(bool(self.runs) and self._run_layers_present(self.runs[-1]))

    @staticmethod
    def _run_layers_present(run) -> bool:
        project = QgsProject.instance()
        return bool(run.layer_ids) and all(project.mapLayer(i) is not None for i in run.layer_ids.values())

    # -- running -----------------------------------------------------------------------------------

    def reference_paths(self) -> list[str]:
        """What a run searches: the open database, then the ticked packs (the first pack when none is open)."""
        return ([self.database.path] if self.database is not None else []) + self.packs_panel.checked_paths()

    def start_run(self) -> None:
        if self.busy():
            return
        worldwide = self.options.worldwide()
        problem = self.options.worldwide_problem() if worldwide else None
        if problem or not (worldwide or self.reference_paths()):
            self.message(f"Worldwide: {problem}" if problem else
                         "Open or build a reference database, or tick a reference pack, first.",
                         Qgis.MessageLevel.Warning)
            return
        if self.photos.reading():
            self.message("The photos added last are still being read; locate them in a moment.",
                         Qgis.MessageLevel.Warning)
            return
        photos = self.photos.items(skip_gps=self.photos.skip_gps_check.isChecked())
        paths = [item.data(PATH_ROLE) for item in photos]
        if not paths:
            self.message("Add photos to locate first.", Qgis.MessageLevel.Warning)
            return
        self.run_count += 1  # numbers stay unique in the session although the panel shows the last run only
        number = self.run_count
        folder = self.options.density_folder()
        engine = self.engine
        if worldwide:
            request = self.options.worldwide_request(paths)
            database = WORLDWIDE_SOURCE
            parameters = {"search": "worldwide (GeoCLIP GPS gallery, no database)", "top_k": request.top_k}

            def locate(progress, should_stop):
                return engine.locate_worldwide(request, progress, should_stop)
        else:
            request = self.options.locate_request(self.reference_paths(), paths)
            database = " + ".join(Path(p).name.removesuffix(".geoloc") for p in self.reference_paths())
            parameters = {"database": request.database, "also": "; ".join(request.also), "k": request.k,
                          "estimator": request.estimator,
                          "bandwidth_km": request.bandwidth_km, "temperature": request.temperature,
                          "density_resolution_deg": request.density_resolution,
                          "density_extent": "world" if request.density_world else "around"}

            def locate(progress, should_stop):
                return engine.locate(request, folder, number, progress, should_stop)
        run_time = utc_now()
        known = {item.data(PATH_ROLE): tuple(item.data(HAS_GPS_ROLE)) for item in photos if item.data(HAS_GPS_ROLE)}
        needs_base_map = not QgsProject.instance().mapLayers()

        def work(progress, should_stop):
            from .results import LocateRun, tiles_reachable

            outcome = locate(progress, should_stop)
            return LocateRun(number, database, run_time, outcome.results, outcome.failed, outcome.density_path,
                             parameters=parameters, known=known, online=needs_base_map and tiles_reachable())

        self.clear_results()  # a failed run must not leave the previous run's results looking current
        self.run_task(f"Locating {len(paths)} photos", work, self._run_finished)

    def _run_finished(self, task: EngineTask) -> None:
        self.task_done()
        if task.error:
            self.message(f"Locating failed: {task.error}", Qgis.MessageLevel.Critical, 0)
            self.runFinished.emit(None)
            return
        if task.result is None:
            self.message("Cancelled; no layer was added.", Qgis.MessageLevel.Warning)
            self.runFinished.emit(None)
            return
        from .results import add_base_map, add_run_to_project, build_layers

        run = task.result
        for failure in run.failed:
            self.message(f"Skipped {failure.path}: {failure.reason}", Qgis.MessageLevel.Warning, 10)
        if run.results:
            built = build_layers(run, self.options.uncertainty_check.isChecked())
            if not QgsProject.instance().mapLayers():
                add_base_map(QgsProject.instance(), run.online)
            add_run_to_project(run, built, QgsProject.instance())
            self.runs.append(run)
            self.results_section.fill(run)
            self.results_section.offer_to_keep(run)
        else:
            self.message("No photo could be located.", Qgis.MessageLevel.Critical, 0)
        self.update_buttons()
        self.runFinished.emit(run if run.results else None)

    def clear_results(self) -> None:
        """Forget the runs shown (their layers are gone with the project, or the last run failed)."""
        self.runs = []
        self.results_section.clear()
        self.update_buttons()

    def shutdown(self) -> None:
        """Stop whatever the panel started; called when the plugin unloads."""
        QgsProject.instance().cleared.disconnect(self.clear_results)
        if self.task is not None:
            self.task.setOnFinished(lambda *finished: None)  # the dock is going away; nothing to show
            self.task.cancel()
            self.task.waitForFinished(60000)
            self.task = None
        for reader in (self.photos.reader, self.results_section.reader):
            reader.shutdown()
        self.engine.close()
        self.database = None
