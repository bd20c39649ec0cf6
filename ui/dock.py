"""The Photo Geolocator dock panel. It composes one widget per section (set-up, reference database,
reference packs, feature model, photos, area and trip, parameters, results: ui/*_section.py, packs_panel.py,
models_panel.py, run_options.py), hands them the PanelContext they share (ui/context.py: the engine, the
open database, the one background task at a time, messages) and owns the Locate/Cancel footer (the
task's progress and status line) and the runs."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from qgis.core import Qgis, QgsProject
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

from ..geoloc_core.defaults import AUTO_DENSITY_RESOLUTION
from ..geoloc_core.errors import UserError
from ..geoloc_core.service import utc_now
from .context import PanelContext
from .context_section import ContextSection
from .database_section import DatabaseSection
from .i18n import tr
from .models_panel import ModelsPanel
from .packs_panel import PacksPanel
from .photos_section import HAS_GPS_ROLE, PATH_ROLE, PhotosSection
from .results import focus_photo
from .results_section import ResultsSection
from .review import ReviewSection
from .run_options import RunOptions
from .setup_section import SetupSection, make_engine
from .tasks import EngineTask

PANEL_WIDTH = 380
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


class WidthFollower(QObject):
    """The panel's width follows its content: whenever the body's layout changes (the evidence view's
    thumbnails arrive, a section opens) the panel is refit, so that it never scrolls sideways."""

    def __init__(self, dock):
        super().__init__(dock)
        self.dock = dock

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.LayoutRequest:
            QTimer.singleShot(0, self.refit)  # once the layout has its new size hint
        return False

    def refit(self) -> None:
        with contextlib.suppress(RuntimeError):  # the panel went in the meantime (the plugin unloaded)
            self.dock.fit_width()


class PhotoGeolocatorDock(QgsDockWidget):
    """Where the user picks a reference database and the photos to locate, runs, and reads results."""

    runFinished = pyqtSignal(object)  # the LocateRun, or None when cancelled or failed

    def __init__(self, iface, parent=None):
        super().__init__(tr("Photo Geolocator"), parent)
        self.iface = iface
        self.context = PanelContext(iface, make_engine(), self)
        self.runs = []  # the run the panel shows (cleared with the project or when another run starts)
        self.run_count = 0
        self._shown_once = False
        self._map_links = []  # (predictions layer, slot): map selections that select the table's row
        self._build_ui()
        self.context.stateChanged.connect(self.update_buttons)
        self.context.taskStarted.connect(self._on_task_started)
        self.context.taskProgressed.connect(self._on_progress)
        self.context.taskEnded.connect(self._on_task_ended)
        QgsProject.instance().cleared.connect(self.clear_results)  # New project / opening another
        self.setup_section.refresh()
        self.options.refresh_choices()

    # what the sections share, read through the dock by the plugin, scripts and tests
    @property
    def engine(self):
        return self.context.engine

    @property
    def database(self):
        return self.context.database

    @property
    def task(self):
        return self.context.task

    # -- layout ------------------------------------------------------------------------------------

    def _build_ui(self) -> None:
        self.scroll = QScrollArea(self)
        self.wheel_guard = WheelGuard(self.scroll)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        context = self.context
        self.setup_section = SetupSection(context, body)
        self.setup_section.changed.connect(self.fit_width)
        self.database_section = DatabaseSection(context, body)
        self.packs_panel = PacksPanel(context, body)
        self.packs_panel.changed.connect(self.update_buttons)
        self.models_panel = ModelsPanel(context, body)
        self.photos = PhotosSection(context, body)
        self.context_section = ContextSection(context, body)
        self.options = RunOptions(context, body)
        self.results_section = ResultsSection(context, body)
        self.review = ReviewSection(context, body)
        for section in (self.setup_section, self.database_section, self.packs_panel, self.models_panel, self.photos,
                        self.context_section, self.options, self.results_section, self.review):
            layout.addWidget(section)
        self._link_selection()
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
        self.width_follower = WidthFollower(self)
        body.installEventFilter(self.width_follower)
        container = QWidget(self)
        outer = QVBoxLayout(container)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll, 1)
        outer.addWidget(footer)
        self.setWidget(container)

    def _link_selection(self) -> None:
        """One photo selected everywhere: the results table, the photo list and the map's predictions layer
        follow each other; the selected one is focused on the map and shown for review."""
        self.results_section.resultSelected.connect(self._focus_result)
        self.review.stepRequested.connect(self.results_section.step)
        self.review.install_shortcuts(self)
        self.photos.photo_list.itemSelectionChanged.connect(self._photo_list_selected)

    def _focus_result(self, result) -> None:
        run = self.results_section.run
        focus_photo(run, result.photo, QgsProject.instance())
        self.review.show_result(run, result)
        listed = self.photos.photo_list
        for index in range(listed.count()):
            item = listed.item(index)
            if item.data(PATH_ROLE) == result.photo and not item.isSelected():
                listed.blockSignals(True)  # a selection that came from here must not come back
                listed.setCurrentItem(item)
                listed.blockSignals(False)
                listed.viewport().update()

    def _photo_list_selected(self) -> None:
        selected = self.photos.photo_list.selectedItems()
        if len(selected) == 1:
            self.results_section.select_photo(selected[0].data(PATH_ROLE))

    def _map_selected(self, layer) -> None:
        """One prediction selected on the map (with any of QGIS's selection tools) selects its row; none
        or several (kept selected: their circles are shown together) show every photo's neighbours and
        density again."""
        photos = [feature["photo"] for feature in layer.selectedFeatures()]
        if len(photos) == 1:
            self.results_section.select_photo(photos[0])
        elif self.results_section.run is not None:
            self.results_section.results_table.clearSelection()
            focus_photo(self.results_section.run, None, QgsProject.instance())

    def _link_map(self, layer) -> None:
        def selected(*_):
            self._map_selected(layer)

        layer.selectionChanged.connect(selected)
        self._map_links.append((layer, selected))

    def _unlink_map(self) -> None:
        for layer, selected in self._map_links:
            with contextlib.suppress(RuntimeError, TypeError):  # the layer went with its project
                layer.selectionChanged.disconnect(selected)
        self._map_links = []

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

    # -- the task's footer -------------------------------------------------------------------------

    def _on_task_started(self, status: str) -> None:
        self.progress_bar.setValue(0)
        self.status_label.setText(f"{status}…")

    def _on_progress(self, done: int, total: int, message: str) -> None:
        if total:
            self.progress_bar.setValue(int(100 * done / total))
        self.status_label.setText(f"{message} ({done} / {total})" if total else message)  # message: the stage named

    def cancel(self) -> None:
        if self.task is not None:
            self.status_label.setText(tr("Cancelling…"))
            self.context.cancel()

    def _on_task_ended(self) -> None:
        self.progress_bar.setValue(0)
        self.status_label.setText("")

    def update_buttons(self) -> None:
        idle = self.task is None and not self.setup_section.missing
        self.database_section.set_idle(idle, self.database is not None)
        ready = (self.options.worldwide_problem() is None if self.options.worldwide()
                 else bool(self.reference_paths()))
        self.run_button.setEnabled(idle and ready and not self.photos.reading())
        self.packs_panel.set_idle(idle)
        self.models_panel.set_idle(idle)
        self.cancel_button.setEnabled(self.task is not None)
        self.context_section.setEnabled(not self.options.worldwide())  # the gallery search takes no area or trip
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
        if self.context.busy():
            return
        worldwide = self.options.worldwide()
        problem = self.options.worldwide_problem() if worldwide else None
        if problem or not (worldwide or self.reference_paths()):
            self.context.message(tr("Worldwide: {}").format(problem) if problem else
                                 tr("Open or build a reference database, or tick a reference pack, first."),
                                 Qgis.MessageLevel.Warning)
            return
        if self.photos.reading():
            self.context.message(tr("The photos added last are still being read; locate them in a moment."),
                                 Qgis.MessageLevel.Warning)
            return
        photos = self.photos.items(skip_gps=self.photos.skip_gps_check.isChecked())
        paths = [item.data(PATH_ROLE) for item in photos]
        if not paths:
            self.context.message(tr("Add photos to locate first."), Qgis.MessageLevel.Warning)
            return
        from .results import has_base_map, results_folder

        folder, temporary = results_folder(self.options.output_widget.filePath(), QgsProject.instance())
        with_uncertainty = self.options.uncertainty_check.isChecked()
        try:  # the project's layers it names are written now, on the main thread
            trip = None if worldwide else self.context_section.context_request(folder)
        except UserError as exc:
            self.context.message(str(exc), Qgis.MessageLevel.Warning)
            return
        self.run_count += 1  # numbers stay unique in the session although the panel shows the last run only
        number = self.run_count
        engine = self.engine
        if worldwide:
            request = self.options.worldwide_request(paths)
            database = WORLDWIDE_SOURCE
            parameters = {"search": "worldwide (GeoCLIP GPS gallery, no database)", "top_k": request.top_k}

            def locate(scratch, progress, should_stop):
                return engine.locate_worldwide(request, progress, should_stop)
        else:
            request = self.options.locate_request(self.reference_paths(), paths, trip)
            database = " + ".join(Path(p).name.removesuffix(".geoloc") for p in self.reference_paths())
            parameters = {"database": request.database, "also": "; ".join(request.also), "k": request.k,
                          "estimator": request.estimator,
                          "bandwidth_km": request.bandwidth_km, "temperature": request.temperature,
                          "density_resolution_deg": "auto" if request.density_resolution == AUTO_DENSITY_RESOLUTION
                          else request.density_resolution,
                          "density_extent": "world" if request.density_world else "around",
                          **self.context_section.describe()}

            def locate(scratch, progress, should_stop):  # the density GeoTIFF goes into the run's GeoPackage
                return engine.locate(request, scratch, number, progress, should_stop)
        run_time = utc_now()
        known = {item.data(PATH_ROLE): tuple(item.data(HAS_GPS_ROLE)) for item in photos if item.data(HAS_GPS_ROLE)}
        needs_base_map = not has_base_map(QgsProject.instance())

        def work(progress, should_stop):
            from .results import LocateRun, tiles_reachable, write_run

            scratch = Path(tempfile.mkdtemp(prefix="photo-geolocator-density-"))
            try:
                outcome = locate(scratch, progress, should_stop)
                run = LocateRun(number, database, run_time, outcome.results, outcome.failed, outcome.density_path,
                                parameters=parameters, known=known, online=needs_base_map and tiles_reachable(),
                                density_paths=dict(getattr(outcome, "density_paths", {})))
                if run.results:
                    write_run(run, folder, temporary, with_uncertainty, progress, should_stop)
                return run
            finally:
                shutil.rmtree(scratch, ignore_errors=True)

        self.clear_results()  # a failed run must not leave the previous run's results looking current
        status = tr("Locating 1 photo") if len(paths) == 1 else tr("Locating {} photos").format(len(paths))
        self.context.run_task(status, work, self._run_finished)

    def _run_finished(self, task: EngineTask) -> None:
        self.context.task_done()
        self.context_section.release()
        if task.error:
            self.context.message(tr("Locating failed: {}").format(task.error), Qgis.MessageLevel.Critical, 0)
            self.runFinished.emit(None)
            return
        if task.result is None:
            self.context.message(tr("Cancelled; no layer was added."), Qgis.MessageLevel.Warning)
            self.runFinished.emit(None)
            return
        from .results import add_base_map, add_run_to_project, run_layers, store_project

        run = task.result
        for failure in run.failed:
            self.context.message(tr("Skipped {}: {}").format(failure.path, failure.reason), Qgis.MessageLevel.Warning,
                                 10)
        if run.results:
            add_base_map(QgsProject.instance(), run.online)  # where the project shows none yet
            built = run_layers(run)
            add_run_to_project(run, built, QgsProject.instance())
            self._link_map(built["predictions"])
            try:
                store_project(run, run.online)
            except Exception as exc:  # the layers are in the file; only its stored project is missing
                self.context.message(tr("The run's project could not be stored in {}: {}").format(run.gpkg, exc),
                                     Qgis.MessageLevel.Warning, 0)
            self.runs.append(run)
            self.results_section.fill(run)
            self.review.set_run(run)
            # after QGIS's own "Task complete" notice (3.22-3.24 have no silent tasks), which would cover it
            QTimer.singleShot(0, lambda: self.results_section.offer_to_keep(run))
        else:
            self.context.message(tr("No photo could be located."), Qgis.MessageLevel.Critical, 0)
        self.update_buttons()
        self.runFinished.emit(run if run.results else None)

    def clear_results(self) -> None:
        """Forget the runs shown (their layers are gone with the project, or the last run failed)."""
        self.runs = []
        self.results_section.clear()
        self.review.clear()
        self._unlink_map()
        self.update_buttons()

    def shutdown(self) -> None:
        """Stop whatever the panel started; called when the plugin unloads."""
        QgsProject.instance().cleared.disconnect(self.clear_results)
        context = self.context
        if context.task is not None:
            context.task.setOnFinished(lambda *finished: None)  # the dock is going away; nothing to show
            context.task.cancel()
            context.task.waitForFinished(60000)
            context.task = None
        self.context_section.release()
        self.review.stop_move()
        self._unlink_map()
        for reader in (self.photos.reader, self.results_section.reader, self.review.evidence.reader):
            reader.shutdown()
        context.engine.close()
        context.database = None
