"""The panel's "Feature model" section: which network new databases are built with — the bundled
EfficientNet-Lite0 (offline) or a CLIP-family model downloaded on request into the profile's
photo_geolocator/models (geoloc_core/clip_embedders.py). Download asks the hub for the file list first
(in a background task), shows the size and asks, then fetches in a task with progress and cancel; an
interrupted download resumes next time. Offline, a model not yet here says what it needs."""

from __future__ import annotations

from qgis.core import Qgis
from qgis.gui import QgsCollapsibleGroupBox
from qgis.PyQt.QtWidgets import QComboBox, QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout

from ..geoloc_core.defaults import DEFAULT_ARCHITECTURE
from ..geoloc_core.service import (
    DOWNLOADABLE,
    fetch_model,
    installed_model,
    list_embedders,
    list_model_files,
    model_availability,
)
from . import settings
from .i18n import tr
from .plain_text import escaped


class ModelsPanel(QgsCollapsibleGroupBox):
    def __init__(self, context, parent=None):
        super().__init__(tr("Feature model"), parent)
        self.context = context
        layout = QVBoxLayout(self)
        self.model_combo = QComboBox(self)
        self.model_combo.setObjectName("modelCombo")
        for entry in list_embedders():  # the bundled default and the models downloaded on request
            if entry.download is not None:
                self.model_combo.addItem(tr("{} (download ~{:.1f} GB)").format(entry.label,
                                                                               entry.download.approx_bytes / 1e9),
                                         entry.name)
            elif entry.name == DEFAULT_ARCHITECTURE:
                self.model_combo.addItem(tr(entry.label), entry.name)
        self.model_combo.setToolTip(tr("The network new reference databases are built with; a database is always "
                                       "searched with the one it was built with"))
        remembered = self.model_combo.findData(settings.value(settings.BUILD_MODEL))
        self.model_combo.setCurrentIndex(max(remembered, 0))
        self.model_combo.currentIndexChanged.connect(self.refresh)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(14)
        layout.addWidget(self.model_combo)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("modelStatus")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self.download_button = QPushButton(tr("Download…"), self)
        self.download_button.setToolTip(tr("Fetch the model's files (size shown first; an interrupted download "
                                           "resumes)"))
        self.download_button.clicked.connect(self.download)
        row = QHBoxLayout()
        row.addWidget(self.download_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.refresh()

    @property
    def folder(self):
        """Where models are downloaded: the context's, which the run options read too."""
        return self.context.models_dir

    @folder.setter
    def folder(self, folder) -> None:
        self.context.models_dir = folder

    def chosen(self) -> str:
        return self.model_combo.currentData()

    def problem(self) -> str | None:
        """Why the chosen model cannot build a database now (None: it can)."""
        name = self.chosen()
        return None if name == DEFAULT_ARCHITECTURE else model_availability(name, self.folder)

    def refresh(self, _index=None) -> None:
        name = self.chosen()
        settings.set_value(settings.BUILD_MODEL, name)
        record = installed_model(name, self.folder) if name in DOWNLOADABLE else None
        problem = self.problem()
        if name == DEFAULT_ARCHITECTURE:
            text = tr("Bundled with the plugin.")
        elif record is not None and problem is None:
            text = tr("Downloaded: {}@{} in {}").format(record["repo_id"], record["revision"][:12], self.folder)
        else:
            text = problem
        self.status_label.setText(f"<small>{escaped(text)}</small>")
        self.download_button.setVisible(name in DOWNLOADABLE and record is None)
        self.context.set_build_model(name, problem)

    def set_idle(self, idle: bool) -> None:
        self.model_combo.setEnabled(idle)
        self.download_button.setEnabled(idle)

    # -- downloading -------------------------------------------------------------------------------

    def download(self) -> None:
        """List the files (a few kB) in a task; `_listed` shows the size and asks before the transfer."""
        if self.context.busy():
            return
        name, folder = self.chosen(), self.folder
        self.context.run_task(tr("Asking the model hub about {}").format(name),
                              lambda progress, should_stop: list_model_files(name, folder, should_stop=should_stop),
                              lambda task: self._listed(task, name))

    def _listed(self, task, name: str) -> None:  # main thread
        self.context.task_done()
        if task.error or task.cancelled:
            self.context.message(task.error or tr("Cancelled."), Qgis.MessageLevel.Critical if task.error else
                                 Qgis.MessageLevel.Info, 0)
            return
        listing = task.result
        answer = QMessageBox.question(
            self, tr("Download a feature model"),
            tr("Download {} (revision {}): {} files, {:,.0f} MB, into {}?").format(
                listing.repo_id, listing.revision[:12], len(listing.files), listing.total_bytes / 1e6, self.folder))
        if answer != QMessageBox.StandardButton.Yes:
            return
        folder = self.folder
        self.context.run_task(tr("Downloading {}").format(listing.repo_id),
                              lambda progress, should_stop: fetch_model(name, folder, progress=progress,
                                                                        should_stop=should_stop, listing=listing),
                              self._downloaded)

    def _downloaded(self, task) -> None:  # main thread
        self.context.task_done()
        if task.error:
            self.context.message(task.error, Qgis.MessageLevel.Critical, 0)
        elif task.cancelled or task.result is None:
            self.context.message(tr("Download cancelled; what came is kept and the next download resumes."))
        else:
            self.context.message(tr("Downloaded {}").format(task.result["repo_id"]), Qgis.MessageLevel.Success)
        self.refresh()
