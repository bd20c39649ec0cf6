"""The panel's "Reference packs" section: installed packs listed beside the user's own database, ticked
to be searched with it (or alone, when no database is open); install from a file or an http(s) URL in
a background task (progress, cancel, resume of an interrupted download); the starter pack shipped with
the plugin installs in one click (`make run` installs it already)."""

from __future__ import annotations

from pathlib import Path

from qgis.core import Qgis
from qgis.gui import QgsCollapsibleGroupBox
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from ..geoloc_core.service import PACK_SUFFIX, installed_packs, remove_pack
from ..profile_data import bundled_packs
from . import settings
from .i18n import tr
from .plain_text import plain_tooltip
from .tasks import failure_message

PATH_ROLE = Qt.ItemDataRole.UserRole


def starter_caveat() -> str:
    """Measured with `python -m geoloc_core evaluate` (docs/benchmarks.md, "The world starter pack"); keep the two in step.
    Worded when the panel is built, once the plugin's translator is installed."""
    return tr("The world starter pack is tiny (315 Creative Commons photos): left out one at a time, its own "
              "photos are placed within 200 km 17% of the time and within 2,500 km 48%; of 47 phone and "
              "camera photos from elsewhere, 2% within 200 km and 28% within 2,500 km (median error "
              "6,500 km). Read its answers as a rough hint; for real work, build a database of photos of "
              "your area and search it with the pack.")


class PacksPanel(QgsCollapsibleGroupBox):
    changed = pyqtSignal()  # the packs to search changed

    def __init__(self, context, parent=None):
        super().__init__(tr("Reference packs"), parent)
        self.context = context
        self.folder = context.packs_dir
        layout = QVBoxLayout(self)
        self.caveat = QLabel(f"<small>{starter_caveat()}</small>", self)  # shown while the starter pack is installed
        self.caveat.setObjectName("packCaveat")
        self.caveat.setWordWrap(True)
        layout.addWidget(self.caveat)
        self.pack_list = QListWidget(self)
        self.pack_list.setObjectName("packList")
        self.pack_list.setToolTip(tr("Ticked packs are searched together with the open database (or alone when "
                                     "none is open); their neighbours are merged by similarity"))
        self.pack_list.itemChanged.connect(self._remember_checks)
        self.pack_list.setMaximumHeight(5 * self.pack_list.fontMetrics().height() + 12)
        layout.addWidget(self.pack_list)
        self.starter_button = QPushButton(tr("Install the starter pack"), self)
        self.starter_button.setToolTip(tr("A small worldwide pack shipped with the plugin, to try it without photos "
                                          "of your own"))
        self.starter_button.clicked.connect(self.install_bundled)
        self.file_button = QPushButton(tr("Install from file…"), self)
        self.file_button.clicked.connect(self.choose_file)
        self.url_button = QPushButton(tr("Install from URL…"), self)
        self.url_button.clicked.connect(self.choose_url)
        self.remove_button = QPushButton(tr("Remove"), self)
        self.remove_button.setToolTip(tr("Uninstall the selected pack"))
        self.remove_button.clicked.connect(self.remove_selected)
        layout.addWidget(self.starter_button)
        for pair in ((self.file_button, self.url_button), (self.remove_button,)):
            row = QHBoxLayout()
            for widget in pair:
                row.addWidget(widget)
            layout.addLayout(row)
        self.refresh()

    # -- listing -----------------------------------------------------------------------------------

    @staticmethod
    def unchecked() -> set[str]:
        return set(settings.value(settings.UNCHECKED_PACKS))

    def refresh(self) -> None:
        self.pack_list.blockSignals(True)
        self.pack_list.clear()
        skip = self.unchecked()
        installed = installed_packs(self.folder)
        for info in installed:
            counted = tr("{} (1 photo)") if info.count == 1 else tr("{} ({} photos)")
            item = QListWidgetItem(counted.format(info.title or info.name, info.count), self.pack_list)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if info.name in skip else Qt.CheckState.Checked)
            item.setData(PATH_ROLE, str(info.path))
            licences = ", ".join(f"{k} {v}" for k, v in sorted(info.licences.items()))
            item.setToolTip(plain_tooltip(tr("{}\nLicences: {}\nCredits: {}\nEmbedder: {}\n{}").format(
                info.summary(), licences, Path(info.path) / "NOTICE.txt", info.embedder, info.path)))
        if not installed:
            QListWidgetItem(tr("No pack installed"), self.pack_list).setFlags(Qt.ItemFlag.NoItemFlags)
        names = {info.name for info in installed}
        bundled = {path.stem for path in bundled_packs()}
        self.starter_button.setVisible(bool(bundled - names))
        self.caveat.setVisible(bool(bundled & names))
        self.pack_list.blockSignals(False)
        self.changed.emit()

    def _items(self) -> list[QListWidgetItem]:
        return [self.pack_list.item(i) for i in range(self.pack_list.count()) if self.pack_list.item(i).data(PATH_ROLE)]

    def checked_paths(self) -> list[str]:
        return [item.data(PATH_ROLE) for item in self._items() if item.checkState() == Qt.CheckState.Checked]

    def _remember_checks(self, _item=None) -> None:
        names = {Path(item.data(PATH_ROLE)).name for item in self._items() if item.checkState() != Qt.CheckState.Checked}
        settings.set_value(settings.UNCHECKED_PACKS, sorted(names))
        self.changed.emit()

    def set_idle(self, idle: bool) -> None:
        for button in (self.starter_button, self.file_button, self.url_button, self.remove_button):
            button.setEnabled(idle)

    # -- installing --------------------------------------------------------------------------------

    def install_bundled(self) -> None:
        names = {info.name for info in installed_packs(self.folder)}
        missing = [path for path in bundled_packs() if path.stem not in names]
        if missing:
            self.install(str(missing[0]))

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Install a reference pack"), self.context.start_folder(),
                                              tr("Reference packs (*{})").format(PACK_SUFFIX))
        if path:
            self.context.remember_folder(Path(path).parent)
            self.install(path)

    def choose_url(self) -> None:
        url, ok = QInputDialog.getText(self, tr("Install a reference pack"),
                                       tr("Address of the pack (https://…); an interrupted download resumes"))
        url = url.strip()
        if ok and url:
            if not url.lower().startswith(("https://", "http://")):
                self.context.message(tr("{}: give an https:// address").format(url), Qgis.MessageLevel.Warning)
                return
            self.install(url)

    def install(self, source: str) -> None:
        """Install in the background through the panel's engine (the in-process one or the external Python)."""
        if self.context.busy():
            return
        engine, folder = self.context.engine, self.folder
        self.context.run_task(tr("Installing reference pack {}").format(Path(source.split("?")[0]).name),
                              lambda progress, should_stop: engine.install_pack(source, folder, progress, should_stop),
                              self._installed)

    def _installed(self, task) -> None:  # main thread
        self.context.task_done()
        if task.error:
            self.context.message(task.error, Qgis.MessageLevel.Critical, 0)
        elif task.cancelled or task.result is None:
            self.context.message(tr("Pack installation cancelled; nothing was installed (a download resumes next "
                                    "time)."))
        else:
            self.context.message(tr("Installed {} ({} photos)").format(task.result.name, task.result.count),
                                 Qgis.MessageLevel.Success)
        self.refresh()

    def remove_selected(self) -> None:
        item = self.pack_list.currentItem()
        if item is None or not item.data(PATH_ROLE):
            self.context.message(tr("Select a pack to remove first."), Qgis.MessageLevel.Warning)
            return
        name = Path(item.data(PATH_ROLE)).name
        answer = QMessageBox.question(self, tr("Remove reference pack"), tr("Uninstall the pack {}?").format(name))
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.context.engine.release_packs()  # the in-process engine may hold the pack open
        try:
            remove_pack(name, self.folder)
        except Exception as exc:
            self.context.message(failure_message(exc), Qgis.MessageLevel.Critical, 0)
        self.refresh()
