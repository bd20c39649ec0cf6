"""The Photo Geolocator dock panel: reference database, photos to locate, parameters, run, results."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from qgis.core import Qgis, QgsApplication, QgsProject, QgsSettings
from qgis.gui import QgsCollapsibleGroupBox, QgsDockWidget, QgsFileWidget
from qgis.PyQt.QtCore import QCoreApplication, QEvent, QObject, QSize, Qt, pyqtSignal
from qgis.PyQt.QtGui import QGuiApplication, QIcon, QImage, QImageReader, QPixmap
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..geoloc_core import dependencies
from ..geoloc_core.defaults import (
    DEFAULT_BANDWIDTH_KM,
    DEFAULT_ESTIMATOR,
    DEFAULT_GALLERY_TOP_K,
    DEFAULT_K,
    DEFAULT_TEMPERATURE,
    training_size_warning,
)
from ..geoloc_core.files import PHOTO_EXTENSIONS
from ..geoloc_core.packs import credit_line
from .engine import ExternalEngine, InProcessEngine, LocateRequest, WorldwideRequest
from .i18n import tr
from .tasks import EngineTask

SETTINGS_RECENT = "photo_geolocator/recent_databases"
SETTINGS_EXTERNAL_PYTHON = "photo_geolocator/external_python"
RECENT_LIMIT = 8
PANEL_WIDTH = 380
THUMBNAIL = 64
PREVIEW = 150
RESULT_COLUMNS = ("Photo", "Lat", "Lon", "Confidence", "50% (km)", "90% (km)", "Best match similarity",
                  "Error vs EXIF GPS (km)")
RESULT_TIPS = {6: "Cosine similarity (0 to 1) between the photo and its most similar reference photo: an "
                  "embedding likeness, not a distance on the ground",
               7: "For photos that carry EXIF GPS: the distance from the prediction to it"}
SETTINGS_LAST_FOLDER = "photo_geolocator/last_folder"
RESULT_ROLE = Qt.ItemDataRole.UserRole + 2  # index of the row's result in the run
PATH_ROLE = Qt.ItemDataRole.UserRole
HAS_GPS_ROLE = Qt.ItemDataRole.UserRole + 1  # the photo's EXIF GPS as [lat, lon], or None
REFERENCES, WORLDWIDE = "references", "world"  # what a run searches (the Search choice)
WORLDWIDE_SOURCE = "GeoCLIP GPS gallery"  # the "database" a worldwide run's layers name


def thumbnail(path: str, size: int) -> QPixmap:
    """A small upright picture of a photo, decoded at reduced size where Qt can (JPEG); formats Qt
    cannot read (HEIC) are decoded by the engine's photo reader, which is safe inside QGIS."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    original = reader.size()
    if original.isValid() and original.width() > 0 and original.height() > 0:
        reader.setScaledSize(original.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        image = _engine_thumbnail(path, size)
    return QPixmap.fromImage(image) if not image.isNull() else QPixmap()


def _engine_thumbnail(path: str, size: int) -> QImage:
    try:
        from ..geoloc_core.files import PhotoError
        from ..geoloc_core.photos import load_photo
    except ImportError:  # the engine lives in another Python
        return QImage()
    try:
        photo = load_photo(path, size)
    except PhotoError:
        return QImage()
    photo.thumbnail((size, size))
    data = photo.tobytes()
    return QImage(data, photo.width, photo.height, 3 * photo.width, QImage.Format.Format_RGB888).copy()


def make_engine():
    """The external Python the user chose, else the engine inside QGIS's own Python."""
    python = QgsSettings().value(SETTINGS_EXTERNAL_PYTHON, "")
    return ExternalEngine(python) if python else InProcessEngine()


class PhotoList(QListWidget):
    """The photos to locate; accepts files and folders dropped from the file manager."""

    filesDropped = pyqtSignal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setMinimumHeight(120)

    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event):
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.filesDropped.emit(paths)
        else:
            super().dropEvent(event)


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


class NumberItem(QTableWidgetItem):
    """A table cell that shows a formatted number and sorts by its value."""

    def __init__(self, value: float, style: str):
        super().__init__(style.format(value))
        self.value = value

    def __lt__(self, other):
        return self.value < other.value if isinstance(other, NumberItem) else super().__lt__(other)


class PhotoGeolocatorDock(QgsDockWidget):
    """Where the user picks a reference database and the photos to locate, runs, and reads results."""

    runFinished = pyqtSignal(object)  # the LocateRun, or None when cancelled or failed

    def __init__(self, iface, parent=None):
        super().__init__("Photo Geolocator", parent)
        self.iface = iface
        self.database = None  # DatabaseInfo of the open database
        self.engine = make_engine()
        self.task: EngineTask | None = None
        self.runs = []  # the run the panel shows (cleared with the project or when another run starts)
        self.run_count = 0
        self._build_ui()
        QgsProject.instance().cleared.connect(self.clear_results)  # New project / opening another
        self.refresh_dependencies()
        self.refresh_choices()

    # -- layout ------------------------------------------------------------------------------------

    def _build_ui(self) -> None:
        self.scroll = QScrollArea(self)
        self.wheel_guard = WheelGuard(self.scroll)
        body = QWidget(self)
        layout = QVBoxLayout(body)

        self.setup_box = QgsCollapsibleGroupBox(tr("Set-up"), body)
        setup_layout = QVBoxLayout(self.setup_box)
        self.dependency_label = QLabel(self.setup_box)
        self.dependency_label.setObjectName("dependencyLabel")
        self.dependency_label.setWordWrap(True)
        setup_layout.addWidget(self.dependency_label)
        row = QHBoxLayout()
        self.install_button = QPushButton(tr("Install missing packages"), self.setup_box)
        self.install_button.setToolTip("Install them with pip into a private folder of your QGIS profile "
                                       "(CPU-only PyTorch); QGIS's own Python packages are not touched")
        self.install_button.clicked.connect(lambda: self.install_packages())
        self.external_button = QPushButton(tr("Use another Python…"), self.setup_box)
        self.external_button.setToolTip("Run the engine in a Python environment (venv, conda) that already has "
                                        "its packages; QGIS then also survives crashes in the engine")
        self.external_button.clicked.connect(self.choose_external_python)
        self.internal_button = QPushButton(tr("Use QGIS's Python"), self.setup_box)
        self.internal_button.clicked.connect(self.use_qgis_python)
        self.copy_details_button = QPushButton(tr("Copy details"), self.setup_box)
        self.copy_details_button.setToolTip("Copy the list of required packages and their versions, for bug reports")
        self.copy_details_button.clicked.connect(self.copy_dependency_details)
        for widget in (self.install_button, self.external_button):
            row.addWidget(widget)
        setup_layout.addLayout(row)
        row = QHBoxLayout()
        for widget in (self.internal_button, self.copy_details_button):
            row.addWidget(widget)
        setup_layout.addLayout(row)
        self.install_log = QPlainTextEdit(self.setup_box)
        self.install_log.setObjectName("installLog")
        self.install_log.setReadOnly(True)
        self.install_log.setMaximumBlockCount(2000)
        self.install_log.setVisible(False)
        setup_layout.addWidget(self.install_log)
        layout.addWidget(self.setup_box)

        database_box = QgsCollapsibleGroupBox(tr("Reference database"), body)
        database_layout = QVBoxLayout(database_box)
        self.database_label = QLabel("No reference database is open yet.", database_box)
        self.database_label.setObjectName("databaseLabel")
        self.database_label.setWordWrap(True)
        database_layout.addWidget(self.database_label)
        self.open_button = QPushButton(tr("Open…"), database_box)
        self.open_button.setToolTip("Open a reference database (a .geoloc folder)")
        self.open_button.clicked.connect(self.choose_database)
        self.recent_button = QToolButton(database_box)
        self.recent_button.setText(tr("Recent"))
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_menu = QMenu(self.recent_button)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.recent_button.setMenu(self.recent_menu)
        self.build_button = QToolButton(database_box)
        self.build_button.setText(tr("Build…"))
        self.build_button.setToolTip("Create a database from your geotagged photos (a folder with EXIF GPS, or a CSV)")
        self.build_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        build_menu = QMenu(self.build_button)
        build_menu.addAction(tr("From a folder of geotagged photos…"), lambda: self.choose_build_source(folder=True))
        build_menu.addAction(tr("From a CSV (path, lat, lon)…"), lambda: self.choose_build_source(folder=False))
        self.build_button.setMenu(build_menu)
        self.add_refs_button = QPushButton(tr("Add photos…"), database_box)
        self.add_refs_button.setToolTip("Add more geotagged photos to the open database (new photos only)")
        self.add_refs_button.clicked.connect(self.choose_reference_additions)
        self.train_button = QPushButton(tr("Train features"), database_box)
        self.train_button.setToolTip("Learn geolocation features on this database (a geocell classifier on the "
                                     "stored embeddings; minutes on a CPU for a few thousand photos). Enables the "
                                     "cells and hybrid estimators")
        self.train_button.clicked.connect(self.train_features)
        self.coverage_button = QPushButton(tr("Show coverage"), database_box)
        self.coverage_button.setToolTip("Add the reference photos as a point layer")
        self.coverage_button.clicked.connect(self.show_coverage)
        for pair in ((self.open_button, self.recent_button), (self.build_button, self.add_refs_button),
                     (self.train_button, self.coverage_button)):
            row = QHBoxLayout()
            for widget in pair:
                row.addWidget(widget)
            database_layout.addLayout(row)
        layout.addWidget(database_box)

        from .packs_panel import PacksPanel

        self.packs_panel = PacksPanel(self, body)
        self.packs_panel.changed.connect(self._update_buttons)
        layout.addWidget(self.packs_panel)

        from .models_panel import ModelsPanel

        self.models_panel = ModelsPanel(self, body)
        self.models_panel.changed.connect(self.refresh_choices)
        layout.addWidget(self.models_panel)

        photos_box = QgsCollapsibleGroupBox(tr("Photos to locate"), body)
        photos_layout = QVBoxLayout(photos_box)
        self.photo_list = PhotoList(photos_box)
        self.photo_list.setObjectName("photoList")
        self.photo_list.setToolTip("Drop photos or folders here. Photos that already carry EXIF GPS are marked.")
        self.photo_list.filesDropped.connect(self.add_photos)
        photos_layout.addWidget(self.photo_list)
        row = QHBoxLayout()
        add_files = QPushButton(tr("Add files…"), photos_box)
        add_files.clicked.connect(self.choose_photo_files)
        add_folder = QPushButton(tr("Add folder…"), photos_box)
        add_folder.clicked.connect(self.choose_photo_folder)
        remove = QPushButton(tr("Remove"), photos_box)
        remove.clicked.connect(self.remove_selected_photos)
        clear = QPushButton(tr("Clear"), photos_box)
        clear.clicked.connect(self.photo_list.clear)
        for widget in (add_files, add_folder):
            row.addWidget(widget)
        photos_layout.addLayout(row)
        row = QHBoxLayout()
        for widget in (remove, clear):
            row.addWidget(widget)
        photos_layout.addLayout(row)
        self.skip_gps_check = QCheckBox(tr("Skip photos that already have GPS"), photos_box)
        self.skip_gps_check.setToolTip("Leave them out; keep them to check the engine against their known location")
        photos_layout.addWidget(self.skip_gps_check)
        layout.addWidget(photos_box)

        parameters_box = QgsCollapsibleGroupBox(tr("Parameters"), body)
        form = QFormLayout(parameters_box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow panel: fields under labels
        self.mode_combo = QComboBox(parameters_box)
        self.mode_combo.setObjectName("modeCombo")
        self.mode_combo.addItem("The reference database and ticked packs", REFERENCES)
        self.mode_combo.addItem("Worldwide: GeoCLIP's GPS gallery (no database)", WORLDWIDE)
        self.mode_combo.setToolTip("Worldwide needs no reference database: GeoCLIP (downloaded under Feature model) "
                                   "scores each photo against 100,000 places of its GPS gallery")
        self.mode_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.mode_combo.setMinimumContentsLength(14)
        self.mode_combo.currentIndexChanged.connect(self._mode_changed)
        form.addRow(tr("Search"), self.mode_combo)
        self.worldwide_label = QLabel(parameters_box)
        self.worldwide_label.setObjectName("worldwideLabel")
        self.worldwide_label.setWordWrap(True)
        form.addRow(self.worldwide_label)
        self.top_k_label = QLabel(tr("Gallery points (top-k)"), parameters_box)
        self.top_k_spin = QSpinBox(parameters_box)
        self.top_k_spin.setRange(1, 100_000)
        self.top_k_spin.setValue(DEFAULT_GALLERY_TOP_K)
        self.top_k_spin.setToolTip("How many of the gallery's most probable places are kept per photo (shown as "
                                   "its neighbours and measured for its uncertainty)")
        form.addRow(self.top_k_label, self.top_k_spin)
        self.k_spin = QSpinBox(parameters_box)
        self.k_spin.setRange(1, 1000)
        self.k_spin.setValue(DEFAULT_K)
        self.k_spin.setToolTip("How many of the most similar reference photos vote on the location")
        form.addRow(tr("Neighbours (k)"), self.k_spin)
        self.estimator_combo = QComboBox(parameters_box)
        self.estimator_combo.addItem("cascade: continent, region, then the best-supported neighbour", "cascade")
        self.estimator_combo.addItem("sphere: kernel density on the sphere", "sphere")
        self.estimator_combo.addItem("paper: the IM2GPS authors' grid procedure", "paper")
        self.estimator_combo.addItem("cells: most probable geocell (trained features)", "cells")
        self.estimator_combo.addItem("hybrid: density × geocell probabilities (trained features)", "hybrid")
        self.estimator_combo.addItem("geoclip: density × GeoCLIP's GPS gallery (GeoCLIP database)", "geoclip")
        self.estimator_combo.setCurrentIndex(self.estimator_combo.findData(DEFAULT_ESTIMATOR))
        self.estimator_combo.setToolTip("cascade (ahead of paper from 25 km up on the benchmark) narrows the density "
                                        "from continent to region and snaps to the neighbour with the most support; "
                                        "sphere finds the density's peak exactly, also across the date line and near "
                                        "the poles; paper reproduces the original method")
        self.estimator_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.estimator_combo.setMinimumContentsLength(14)
        form.addRow(tr("Estimator"), self.estimator_combo)
        self.bandwidth_spin = QDoubleSpinBox(parameters_box)
        self.bandwidth_spin.setRange(0.01, 5000)
        self.bandwidth_spin.setDecimals(2)
        self.bandwidth_spin.setValue(DEFAULT_BANDWIDTH_KM)
        self.bandwidth_spin.setSuffix(" km")
        self.bandwidth_spin.setToolTip("Size of each neighbour's kernel on the ground: small for a dense local "
                                       "collection (one site), large for a sparse worldwide one")
        form.addRow(tr("Bandwidth"), self.bandwidth_spin)
        self.temperature = DEFAULT_TEMPERATURE
        self.uncertainty_check = QCheckBox(tr("Uncertainty circles (50% / 90%)"), parameters_box)
        self.uncertainty_check.setChecked(True)
        form.addRow(self.uncertainty_check)
        self.density_check = QCheckBox(tr("Density raster"), parameters_box)
        self.density_check.setChecked(True)
        self.density_check.setToolTip("Write the kernel density as a GeoTIFF per photo (probability per km²)")
        form.addRow(self.density_check)
        self.resolution_spin = QDoubleSpinBox(parameters_box)
        self.resolution_spin.setRange(0.001, 5)
        self.resolution_spin.setDecimals(3)
        self.resolution_spin.setValue(0.1)
        self.resolution_spin.setSuffix("°")
        self.resolution_spin.setToolTip("Cell size of the density raster in degrees (0.1° ≈ 11 km)")
        form.addRow(tr("Raster resolution"), self.resolution_spin)
        self.extent_combo = QComboBox(parameters_box)
        self.extent_combo.addItem("Around each prediction", "around")
        self.extent_combo.addItem("Whole world", "world")
        form.addRow(tr("Raster extent"), self.extent_combo)
        self.output_widget = QgsFileWidget(parameters_box)
        self.output_widget.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.output_widget.setToolTip("Where density rasters are kept (the project folder by default)")
        form.addRow(tr("Raster folder"), self.output_widget)
        layout.addWidget(parameters_box)

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
        self.status_label.setObjectName("statusLabel")
        self.status_label.setWordWrap(True)
        footer_layout.addWidget(self.progress_bar)
        footer_layout.addWidget(self.status_label)

        results_box = QgsCollapsibleGroupBox(tr("Results"), body)
        results_layout = QVBoxLayout(results_box)
        self.results_table = QTableWidget(0, len(RESULT_COLUMNS), results_box)
        self.results_table.setObjectName("resultsTable")
        self.results_table.setHorizontalHeaderLabels(RESULT_COLUMNS)
        for column, tip in RESULT_TIPS.items():
            self.results_table.horizontalHeaderItem(column).setToolTip(tip)
        self.results_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results_table.itemSelectionChanged.connect(self.show_selected_result)
        self.results_table.setMinimumHeight(260)  # about eight rows of thumbnails
        self.results_table.verticalHeader().setDefaultSectionSize(30)
        self.results_table.setIconSize(QSize(28, 28))
        results_layout.addWidget(self.results_table)
        self.preview = QWidget(results_box)
        self.preview_layout = QGridLayout(self.preview)  # the photo, beside its four best matches in 2 x 2
        self.preview_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.addWidget(self.preview)
        self.export_button = QPushButton(tr("Export run to GeoPackage…"), results_box)
        self.export_button.clicked.connect(self.choose_export)
        results_layout.addWidget(self.export_button)
        layout.addWidget(results_box)
        layout.addStretch(1)

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

    def fit_width(self) -> None:
        """Open wide enough for the content in this style and font: no horizontal scrolling, nothing cut."""
        body = self.scroll.widget()
        needed = (body.minimumSizeHint().width() + self.scroll.verticalScrollBar().sizeHint().width()
                  + 2 * self.scroll.frameWidth() + 4)
        self.setMinimumWidth(max(PANEL_WIDTH, needed))

    # -- what a run can search and estimate with -------------------------------------------------

    def worldwide_problem(self) -> str | None:
        """Why the worldwide search cannot run now (the GeoCLIP model or its packages); None when it can."""
        return self.engine.model_problem("geoclip", self.models_panel.folder)

    def geoclip_estimator_problem(self) -> str | None:
        if self.database is not None and self.database.architecture == "geoclip":
            return None
        return ("needs a reference database built with GeoCLIP (Feature model: GeoCLIP image encoder); "
                "without one, choose Search: Worldwide")

    def refresh_choices(self) -> None:
        """Enable the choices that can run now; the others are disabled and say what they need."""
        problems = {WORLDWIDE: self.worldwide_problem(), "geoclip": self.geoclip_estimator_problem()}
        for combo, data, fallback in ((self.mode_combo, WORLDWIDE, REFERENCES),
                                      (self.estimator_combo, "geoclip", DEFAULT_ESTIMATOR)):
            index = combo.findData(data)
            combo.model().item(index).setEnabled(problems[data] is None)
            combo.setItemData(index, problems[data] or None, Qt.ItemDataRole.ToolTipRole)
            if problems[data] and combo.currentData() == data:
                combo.setCurrentIndex(combo.findData(fallback))
        problem = problems[WORLDWIDE]
        self.worldwide_label.setText(f"<small>Worldwide: {problem}</small>" if problem else "")
        self.worldwide_label.setVisible(problem is not None)
        self._mode_changed()

    def worldwide(self) -> bool:
        return self.mode_combo.currentData() == WORLDWIDE

    def _mode_changed(self, _index=None) -> None:
        """A worldwide run has no k, estimator, bandwidth or density; a search of references no top-k."""
        worldwide = self.worldwide()
        for widget in (self.k_spin, self.estimator_combo, self.bandwidth_spin, self.density_check,
                       self.resolution_spin, self.extent_combo, self.output_widget):
            widget.setEnabled(not worldwide)
        self.top_k_label.setVisible(worldwide)
        self.top_k_spin.setVisible(worldwide)
        self._update_buttons()

    # -- dependencies ----------------------------------------------------------------------------

    def refresh_dependencies(self) -> None:
        external = isinstance(self.engine, ExternalEngine)
        missing = [] if external else dependencies.missing()
        self.missing_dependencies = missing
        if external:
            self.dependency_label.setText(f"The engine runs in {self.engine.python}.")
        elif missing:
            names = ", ".join(d.distribution for d in missing)
            self.dependency_label.setText(
                f"<b>The engine cannot run yet:</b> QGIS's Python lacks {names}. Install them here (a few "
                "hundred MB, into your QGIS profile), or point to a Python that has them.")
        self.setup_box.setVisible(external or bool(missing) or self.install_log.isVisible())
        self.install_button.setVisible(bool(missing))
        self.external_button.setVisible(not external)
        self.internal_button.setVisible(external)
        self.fit_width()

    def copy_dependency_details(self) -> None:
        from .diagnostics import report

        QGuiApplication.clipboard().setText(report(self.engine.label))

    # -- installing and choosing the engine's Python -------------------------------------------

    def install_packages(self, specs=None, target=None, python=None) -> None:
        """pip-install the missing packages (or `specs`) in the background, with a live log."""
        from .installer import InstallTask, missing_specs, packages_folder

        if self._busy():
            return
        specs = specs or missing_specs()
        target = Path(target) if target else packages_folder()
        self.install_log.clear()
        self.install_log.setVisible(True)
        self.setup_box.setVisible(True)
        self.task = InstallTask(specs, target, self._install_finished, python)
        self.task.logLine.connect(self.install_log.appendPlainText)
        self.status_label.setText(f"Installing {', '.join(specs)} into {target}…")
        self._update_buttons()
        QgsApplication.taskManager().addTask(self.task)

    def _install_finished(self, task, ok: bool) -> None:
        from .installer import activate_packages_folder

        self._task_done()
        if ok:
            activate_packages_folder(task.target)
            self.refresh_dependencies()
            self.message(f"Installed {', '.join(task.specs)}. If a package was already loaded, restart QGIS.",
                         Qgis.MessageLevel.Success)
        elif task.error:
            self.message(f"Installing failed: {task.error} (see the log in the panel)", Qgis.MessageLevel.Critical, 0)
        else:
            self.message("Installation cancelled.", Qgis.MessageLevel.Warning)
        self._update_buttons()

    def choose_external_python(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Python interpreter with the engine's packages")
        if path:
            self.use_external_python(path)

    def use_external_python(self, python: str) -> None:
        """Check the interpreter in the background; switch to it when it runs the engine."""
        if self._busy():
            return
        candidate = ExternalEngine(python)
        self._start_task("Checking the Python interpreter", lambda progress, should_stop: candidate.check(),
                         lambda task: self._external_checked(task, candidate))

    def _external_checked(self, task: EngineTask, candidate: ExternalEngine) -> None:
        self._task_done()
        if task.error:
            self.message(task.error, Qgis.MessageLevel.Critical, 0)
            return
        QgsSettings().setValue(SETTINGS_EXTERNAL_PYTHON, candidate.python)
        self._switch_engine(candidate)
        self.message(f"The engine now runs in {candidate.python}.", Qgis.MessageLevel.Success)

    def use_qgis_python(self) -> None:
        if self._busy():
            return
        QgsSettings().remove(SETTINGS_EXTERNAL_PYTHON)
        self._switch_engine(InProcessEngine())

    def _switch_engine(self, engine) -> None:
        self.engine.close()
        self.engine = engine
        self.database = None
        self.database_label.setText(tr("No reference database is open yet."))
        self.refresh_dependencies()
        self.refresh_choices()

    # -- messages --------------------------------------------------------------------------------

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

    def clear_results(self) -> None:
        """Forget the runs shown (their layers are gone with the project, or the last run failed)."""
        self.runs = []
        self.results_table.setRowCount(0)
        self._clear_preview()
        self._update_buttons()

    def message(self, text: str, level=Qgis.MessageLevel.Info, duration: int = 6) -> None:
        self.iface.messageBar().pushMessage("Photo Geolocator", text, level, duration)

    def _busy(self) -> bool:
        if self.task is not None:
            self.message("Another step is still running; wait for it or cancel it first.", Qgis.MessageLevel.Warning)
            return True
        return False

    def _update_buttons(self) -> None:
        idle = self.task is None and not self.missing_dependencies
        has_database = self.database is not None
        for button in (self.open_button, self.recent_button, self.build_button):
            button.setEnabled(idle)
        self.add_refs_button.setEnabled(idle and has_database)
        self.train_button.setEnabled(idle and has_database)
        self.coverage_button.setEnabled(has_database)
        self.run_button.setEnabled(idle and (self.worldwide_problem() is None if self.worldwide()
                                             else bool(self.reference_paths())))
        self.packs_panel.set_idle(idle)
        self.models_panel.set_idle(idle)
        self.cancel_button.setEnabled(self.task is not None)
        self.export_button.setEnabled(bool(self.runs) and self._run_layers_present(self.runs[-1]))

    @staticmethod
    def _run_layers_present(run) -> bool:
        project = QgsProject.instance()
        return bool(run.layer_ids) and all(project.mapLayer(i) is not None for i in run.layer_ids.values())

    # -- reference database ----------------------------------------------------------------------

    def choose_database(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a reference database (.geoloc folder)",
                                                self.start_folder())
        if path:
            self.remember_folder(Path(path).parent)
            self.open_database(path)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_databases()
        if not recent:
            self.recent_menu.addAction("No recent database").setEnabled(False)
        for path in recent:
            self.recent_menu.addAction(path, lambda p=path: self.open_database(p))

    @staticmethod
    def recent_databases() -> list[str]:
        value = QgsSettings().value(SETTINGS_RECENT, [])
        return [value] if isinstance(value, str) else list(value or [])

    def _remember(self, path: str) -> None:
        recent = [path] + [p for p in self.recent_databases() if p != path]
        QgsSettings().setValue(SETTINGS_RECENT, recent[:RECENT_LIMIT])

    def open_database(self, path) -> None:
        """Open a database in the background (the first open loads the engine's libraries)."""
        if self._busy():
            return
        engine = self.engine
        self._start_task("Opening the reference database", lambda progress, should_stop: engine.open(str(path)),
                         self._open_finished)

    def _open_finished(self, task: EngineTask) -> None:
        self._task_done()
        if task.error:
            self.message(task.error, Qgis.MessageLevel.Critical, 0)
            return
        if task.result is not None:
            self._set_database(task.result)

    def _set_database(self, info) -> None:
        self.database = info
        self._remember(info.path)
        self.database_label.setText(f"<b>{info.name}</b>: {info.count} photos<br><small>{info.description}</small>")
        self.database_label.setToolTip(f"{info.path}\nEngine: {self.engine.label}")
        for warning in info.warnings:
            self.message(warning, Qgis.MessageLevel.Warning)
        self.refresh_choices()

    def choose_build_source(self, folder: bool) -> None:
        if folder:
            source = QFileDialog.getExistingDirectory(self, "Folder of geotagged photos", self.start_folder())
        else:
            source, _ = QFileDialog.getOpenFileName(self, "CSV with path, lat, lon", self.start_folder(),
                                                    "CSV (*.csv)")
        if not source:
            return
        self.remember_folder(source)
        target, _ = QFileDialog.getSaveFileName(self, "New reference database", str(Path(source).with_suffix("")) +
                                                ".geoloc", "Reference database (*.geoloc)")
        if target:
            self.build_database(source, target if target.endswith(".geoloc") else target + ".geoloc")

    def choose_reference_additions(self) -> None:
        source = QFileDialog.getExistingDirectory(self, "Folder of geotagged photos to add", self.start_folder())
        if source:
            self.remember_folder(source)
            self.build_database(source, None)

    def build_database(self, source, target=None) -> None:
        """Build a new database at `target` from a folder or CSV, or (target None) add to the open one."""
        if self._busy():
            return
        model, models = self.models_panel.chosen(), self.models_panel.folder
        if target is not None and self.models_panel.problem():
            self.message(self.models_panel.problem(), Qgis.MessageLevel.Warning, 0)
            return
        engine = self.engine
        self._start_task("Building the reference database",
                         lambda progress, should_stop: engine.build(str(source), target and str(target), progress,
                                                                    should_stop, model, models),
                         self._build_finished)

    def _build_finished(self, task: EngineTask) -> None:
        self._task_done()
        if task.error:
            self.message(f"Building the database failed: {task.error}", Qgis.MessageLevel.Critical, 0)
            return
        if task.result is None:
            self.message("Cancelled; the photos embedded so far are kept.", Qgis.MessageLevel.Warning)
            return
        info, report = task.result
        if info.count == 0:  # e.g. through another Python, whose build command accepts an empty folder
            self.message(f"{info.name}: {report.summary()}. The database is empty: no photo with a usable EXIF GPS "
                         "location was found.", Qgis.MessageLevel.Critical, 0)
            return
        self._set_database(info)
        level = Qgis.MessageLevel.Warning if report.failed or report.cancelled else Qgis.MessageLevel.Success
        problems = "; ".join(f"{p.path}: {p.reason}" for p in report.failed[:5])
        self.message(f"{info.name}: {report.summary()}" + (f". Unreadable: {problems}" if problems else ""),
                     level, 10)

    def train_features(self) -> None:
        if self._busy() or self.database is None:
            return
        engine = self.engine
        warning = training_size_warning(self.database.count)
        if warning:
            self.message(f"{self.database.name}: {warning}", Qgis.MessageLevel.Warning, 15)
        self._start_task("Training geolocation features", lambda progress, should_stop: engine.train(progress,
                                                                                                     should_stop),
                         self._train_finished)

    def _train_finished(self, task: EngineTask) -> None:
        self._task_done()
        if task.error:
            self.message(f"Training failed: {task.error}", Qgis.MessageLevel.Critical, 0)
        elif task.result is None:
            self.message("Training cancelled; the database is unchanged.", Qgis.MessageLevel.Warning)
        else:
            info, summary = task.result
            self._set_database(info)
            self.message(f"{info.name}: {summary}. Locating now uses them.", Qgis.MessageLevel.Success)

    def show_coverage(self) -> None:
        from .. import layers
        from .results import memory_layer

        if self.database is None:
            return
        layer = memory_layer("Point", f"References of {self.database.name}", layers.REFERENCES,
                             layers.reference_features(self.engine.references()))
        layer.loadNamedStyle(str(Path(__file__).resolve().parent.parent / "resources" / "styles" / "neighbours.qml"))
        QgsProject.instance().addMapLayer(layer)

    # -- photos ------------------------------------------------------------------------------------

    def choose_photo_files(self) -> None:
        patterns = " ".join(f"*{ext} *{ext.upper()}" for ext in sorted(PHOTO_EXTENSIONS))
        paths, _ = QFileDialog.getOpenFileNames(self, "Photos to locate", self.start_folder(), f"Photos ({patterns})")
        if paths:
            self.remember_folder(paths[0])
        self.add_photos(paths)

    def choose_photo_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of photos to locate", self.start_folder())
        if folder:
            self.remember_folder(folder)
            self.add_photos([folder])

    def photo_paths(self) -> list[str]:
        return [self.photo_list.item(i).data(PATH_ROLE) for i in range(self.photo_list.count())]

    def add_photos(self, paths) -> None:
        """Add files (and the photos inside folders), marking those that carry EXIF GPS."""
        from ..geoloc_core.files import PhotoError, find_photos

        try:
            from ..geoloc_core.photos import read_gps
        except ImportError:  # the engine lives in another Python: no GPS marks, everything else works
            read_gps = None
        present = set(self.photo_paths())
        expanded, problems = [], []
        for path in map(Path, paths):
            if path.is_dir():
                expanded.extend(find_photos(path, problems=problems))
            elif path.suffix.lower() in PHOTO_EXTENSIONS:
                expanded.append(path)
            else:
                problems.append(PhotoError(path, "not a photo format this plugin reads"))
        if problems:
            shown = "; ".join(str(p) for p in problems[:3]) + (f" (and {len(problems) - 3} more)"
                                                                if len(problems) > 3 else "")
            self.message(f"skipped {shown}", Qgis.MessageLevel.Warning, 10)
        for path in expanded:
            if str(path) in present:
                continue
            present.add(str(path))
            item = QListWidgetItem(path.name)
            item.setData(PATH_ROLE, str(path))
            try:
                fix = read_gps(path) if read_gps is not None else None
            except PhotoError as exc:
                fix = None
                item.setToolTip(str(exc))
            else:
                item.setToolTip(str(path))
            item.setData(HAS_GPS_ROLE, [fix.lat, fix.lon] if fix is not None else None)
            if fix is not None:
                item.setText(f"{path.name}  [GPS {fix.lat:.4f}, {fix.lon:.4f}]")
                item.setToolTip(f"{path}\nAlready carries EXIF GPS: {fix.lat:.6f}, {fix.lon:.6f}")
            pixmap = thumbnail(str(path), THUMBNAIL)
            if not pixmap.isNull():
                item.setIcon(QIcon(pixmap))
            self.photo_list.addItem(item)

    def remove_selected_photos(self) -> None:
        for item in self.photo_list.selectedItems():
            self.photo_list.takeItem(self.photo_list.row(item))

    # -- running -----------------------------------------------------------------------------------

    def reference_paths(self) -> list[str]:
        """What a run searches: the open database, then the ticked packs (the first pack when none is open)."""
        return ([self.database.path] if self.database is not None else []) + self.packs_panel.checked_paths()

    def locate_request(self, paths: list[str]) -> LocateRequest:
        first, *also = self.reference_paths()
        return LocateRequest(
            database=first, also=also, photos=paths, k=self.k_spin.value(),
            estimator=self.estimator_combo.currentData(), bandwidth_km=self.bandwidth_spin.value(),
            temperature=self.temperature,
            density_resolution=self.resolution_spin.value() if self.density_check.isChecked() else None,
            density_world=self.extent_combo.currentData() == "world")

    def density_folder(self) -> Path:
        chosen = self.output_widget.filePath()
        if chosen:
            return Path(chosen)
        home = QgsProject.instance().homePath()
        return Path(home) if home else Path.home() / "Photo Geolocator"

    def start_run(self) -> None:
        if self._busy():
            return
        worldwide = self.worldwide()
        problem = self.worldwide_problem() if worldwide else None
        if problem or not (worldwide or self.reference_paths()):
            self.message(f"Worldwide: {problem}" if problem else
                         "Open or build a reference database, or tick a reference pack, first.",
                         Qgis.MessageLevel.Warning)
            return
        photos = [self.photo_list.item(i) for i in range(self.photo_list.count())]
        if self.skip_gps_check.isChecked():
            photos = [item for item in photos if not item.data(HAS_GPS_ROLE)]
        paths = [item.data(PATH_ROLE) for item in photos]
        if not paths:
            self.message("Add photos to locate first.", Qgis.MessageLevel.Warning)
            return
        self.run_count += 1  # numbers stay unique in the session although the panel shows the last run only
        number = self.run_count
        folder = self.density_folder()
        engine = self.engine
        if worldwide:
            request = WorldwideRequest(paths, self.top_k_spin.value(), str(self.models_panel.folder))
            database = WORLDWIDE_SOURCE
            parameters = {"search": "worldwide (GeoCLIP GPS gallery, no database)", "top_k": request.top_k}

            def locate(progress, should_stop):
                return engine.locate_worldwide(request, progress, should_stop)
        else:
            request = self.locate_request(paths)
            database = " + ".join(Path(p).name.removesuffix(".geoloc") for p in self.reference_paths())
            parameters = {"database": request.database, "also": "; ".join(request.also), "k": request.k,
                          "estimator": request.estimator,
                          "bandwidth_km": request.bandwidth_km, "temperature": request.temperature,
                          "density_resolution_deg": request.density_resolution,
                          "density_extent": "world" if request.density_world else "around"}

            def locate(progress, should_stop):
                return engine.locate(request, folder, number, progress, should_stop)
        run_time = datetime.now(timezone.utc).isoformat(timespec="seconds")
        known = {item.data(PATH_ROLE): tuple(item.data(HAS_GPS_ROLE)) for item in photos if item.data(HAS_GPS_ROLE)}
        needs_base_map = not QgsProject.instance().mapLayers()

        def work(progress, should_stop):
            from .results import LocateRun, tiles_reachable

            outcome = locate(progress, should_stop)
            return LocateRun(number, database, run_time, outcome.results, outcome.failed, outcome.density_path,
                             parameters=parameters, known=known, online=needs_base_map and tiles_reachable())

        self.clear_results()  # a failed run must not leave the previous run's results looking current
        self._start_task(f"Locating {len(paths)} photos", work, self._run_finished)

    def _start_task(self, description, work, on_finished) -> None:
        self.task = EngineTask(description, work, on_finished)
        self.task.progressed.connect(self._on_progress)
        self.progress_bar.setValue(0)
        self.status_label.setText(f"{description}…")
        self._update_buttons()
        QgsApplication.taskManager().addTask(self.task)

    def _on_progress(self, done: int, total: int, message: str) -> None:
        if total:
            self.progress_bar.setValue(int(100 * done / total))
        self.status_label.setText(f"{done} / {total}: {Path(message).name}" if message else f"{done} / {total}")

    def cancel(self) -> None:
        if self.task is not None:
            self.status_label.setText(tr("Cancelling…"))
            self.task.cancel()

    def _task_done(self) -> None:
        self.task = None
        self.progress_bar.setValue(0)
        self.status_label.setText(tr(""))
        self._update_buttons()

    def _run_finished(self, task: EngineTask) -> None:
        self._task_done()
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
            built = build_layers(run, self.uncertainty_check.isChecked())
            if not QgsProject.instance().mapLayers():
                add_base_map(QgsProject.instance(), run.online)
            add_run_to_project(run, built, QgsProject.instance())
            self.runs.append(run)
            self._fill_results(run)
            self.offer_to_keep(run)
        else:
            self.message("No photo could be located.", Qgis.MessageLevel.Critical, 0)
        self._update_buttons()
        self.runFinished.emit(run if run.results else None)

    # -- results -----------------------------------------------------------------------------------

    def _fill_results(self, run) -> None:
        self.results_table.setSortingEnabled(False)  # rows are filled by index; sorting would move them
        self.results_table.setRowCount(len(run.results))
        for row, result in enumerate(run.results):
            name = QTableWidgetItem(Path(result.photo).name)
            name.setToolTip(result.photo)
            name.setData(RESULT_ROLE, row)
            pixmap = thumbnail(result.photo, 48)
            if not pixmap.isNull():
                name.setIcon(QIcon(pixmap))
            self.results_table.setItem(row, 0, name)
            numbers = [(result.lat, "{:.5f}"), (result.lon, "{:.5f}"), (result.confidence, "{:.2f}"),
                       (result.radius50_km, "{:.0f}"), (result.radius90_km, "{:.0f}")]
            numbers.append((result.neighbours[0].similarity if result.neighbours else None, "{:.3f}"))
            numbers.append((run.gps_error_km(result), "{:.1f}"))
            for column, (value, style) in enumerate(numbers, start=1):
                if value is not None:
                    self.results_table.setItem(row, column, NumberItem(value, style))
        self.results_table.resizeColumnsToContents()
        self.results_table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # photo order first
        self.results_table.setSortingEnabled(True)

    def selected_result(self):
        rows = {index.row() for index in self.results_table.selectedIndexes()}
        if not rows or not self.runs:
            return None
        return self.runs[-1].results[self.results_table.item(min(rows), 0).data(RESULT_ROLE)]

    def show_selected_result(self) -> None:
        """Zoom to the selected prediction and its neighbours, select it on the map (highlighted), and
        show the photo beside its top matches."""
        result = self.selected_result()
        if result is None:
            return
        from .results import select_prediction, zoom_extent

        canvas = self.iface.mapCanvas()
        canvas.setExtent(zoom_extent(result, canvas.mapSettings().destinationCrs(), QgsProject.instance()))
        select_prediction(self.runs[-1], result, QgsProject.instance())
        canvas.refresh()
        self._clear_preview()
        photo = QLabel(self.preview)
        photo.setPixmap(thumbnail(result.photo, PREVIEW))
        photo.setToolTip(f"this photo: {result.photo}")
        self.preview_layout.addWidget(photo, 0, 0, 2, 1)
        for index, neighbour in enumerate(result.neighbours[:4]):
            label = QLabel(self.preview)
            label.setPixmap(thumbnail(neighbour.path, PREVIEW // 2))
            credit = credit_line(neighbour.path)  # a pack's thumbnail is shown with its photographer's credit
            label.setToolTip(f"#{neighbour.rank} ({neighbour.similarity:.2f}): {credit or neighbour.path}")
            self.preview_layout.addWidget(label, index // 2, 1 + index % 2)
        self.preview_layout.setColumnStretch(3, 1)

    def offer_to_keep(self, run) -> None:
        """Say what the run made and offer to keep its layers, which live in memory until exported."""
        where = f" Density raster: {run.density_path}." if run.density_path else ""
        bar = self.iface.messageBar()
        item = bar.createMessage("Photo Geolocator", f"Located {len(run.results)} photos ({len(run.failed)} "
                                 f"skipped).{where} The layers are temporary:")
        keep = QPushButton(tr("Keep them in a GeoPackage…"), item)
        keep.clicked.connect(self.choose_export)
        item.layout().addWidget(keep)
        bar.pushWidget(item, Qgis.MessageLevel.Success, 30)

    def _clear_preview(self) -> None:
        while self.preview_layout.count():
            widget = self.preview_layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()

    def choose_export(self) -> None:
        if not self.runs:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export run to GeoPackage", self.start_folder(),
                                              "GeoPackage (*.gpkg)")
        if path:  # the save dialog has already asked before replacing a file
            self.remember_folder(path)
            self.export_run(self.runs[-1], path if path.endswith(".gpkg") else path + ".gpkg", lambda: True)

    def export_run(self, run, path: str, confirm_overwrite=None) -> bool:
        """Write the run to one GeoPackage; an existing file is replaced only after asking."""
        from .results import export_run

        if Path(path).exists():
            ask = confirm_overwrite or (lambda: QMessageBox.question(
                self, "Replace file?", f"{path} exists. Replace it?") == QMessageBox.StandardButton.Yes)
            if not ask():
                return False
        try:
            tables = export_run(run, QgsProject.instance(), path)
        except Exception as exc:
            self.message(f"Export failed: {exc}", Qgis.MessageLevel.Critical, 0)
            return False
        self.message(f"Exported {len(tables)} layers to {path}", Qgis.MessageLevel.Success)
        return True

    def shutdown(self) -> None:
        """Stop whatever the panel started; called when the plugin unloads."""
        QgsProject.instance().cleared.disconnect(self.clear_results)
        if self.task is not None:
            self.task.setOnFinished(lambda task: None)  # the dock is going away; nothing to show
            self.task.cancel()
            self.task.waitForFinished(60000)
            self.task = None
        self.engine.close()
        self.database = None

