"""The panel's "Photos to locate" section: files and folders added with the buttons or dropped from the
file manager. Folders are listed, EXIF GPS read and thumbnails decoded off the GUI thread
(photo_reader.py); each photo appears when it has been read, marked with its GPS where it has one."""

from __future__ import annotations

from pathlib import Path

from qgis.core import Qgis
from qgis.gui import QgsCollapsibleGroupBox
from qgis.PyQt.QtCore import QSize, Qt, pyqtSignal
from qgis.PyQt.QtGui import QIcon, QPixmap
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from ..geoloc_core.service import PHOTO_EXTENSIONS
from .i18n import tr
from .photo_reader import PhotoEntry, PhotoReader
from .plain_text import plain_tooltip

THUMBNAIL = 64
PATH_ROLE = Qt.ItemDataRole.UserRole
HAS_GPS_ROLE = Qt.ItemDataRole.UserRole + 1  # the photo's EXIF GPS as [lat, lon], or None


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


class PhotosSection(QgsCollapsibleGroupBox):
    def __init__(self, context, parent=None):
        super().__init__(tr("Photos to locate"), parent)
        self.context = context
        self.listed: set[str] = set()  # the paths in the list (a photo is listed once), see _photo_read
        self.reader = PhotoReader(self)
        self.reader.photoRead.connect(self._photo_read)
        self.reader.problemsFound.connect(self._problems_found)
        self.reader.finished.connect(context.stateChanged)
        layout = QVBoxLayout(self)
        self.photo_list = PhotoList(self)
        self.photo_list.setObjectName("photoList")
        self.photo_list.setToolTip(tr("Drop photos or folders here. Photos that already carry EXIF GPS are "
                                      "marked."))
        self.photo_list.filesDropped.connect(self.add_photos)
        layout.addWidget(self.photo_list)
        row = QHBoxLayout()
        add_files = QPushButton(tr("Add files…"), self)
        add_files.clicked.connect(self.choose_photo_files)
        add_folder = QPushButton(tr("Add folder…"), self)
        add_folder.clicked.connect(self.choose_photo_folder)
        remove = QPushButton(tr("Remove"), self)
        remove.clicked.connect(self.remove_selected_photos)
        clear = QPushButton(tr("Clear"), self)
        clear.clicked.connect(self.photo_list.clear)
        for widget in (add_files, add_folder):
            row.addWidget(widget)
        layout.addLayout(row)
        row = QHBoxLayout()
        for widget in (remove, clear):
            row.addWidget(widget)
        layout.addLayout(row)
        self.skip_gps_check = QCheckBox(tr("Skip photos that already have GPS"), self)
        self.skip_gps_check.setToolTip(tr("Leave them out; keep them to check the engine against their known "
                                          "location"))
        layout.addWidget(self.skip_gps_check)

    def choose_photo_files(self) -> None:
        patterns = " ".join(f"*{ext} *{ext.upper()}" for ext in sorted(PHOTO_EXTENSIONS))
        paths, _ = QFileDialog.getOpenFileNames(self, tr("Photos to locate"), self.context.start_folder(),
                                                tr("Photos ({})").format(patterns))
        if paths:
            self.context.remember_folder(paths[0])
        self.add_photos(paths)

    def choose_photo_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Folder of photos to locate"), self.context.start_folder())
        if folder:
            self.context.remember_folder(folder)
            self.add_photos([folder])

    def reading(self) -> bool:
        """Whether photos asked for are still being listed or read."""
        return self.reader.pending > 0

    def add_photos(self, paths) -> None:
        """Add files (and the photos inside folders) once read in the background, marking those that
        carry EXIF GPS."""
        if paths:
            self.reader.read_photos(paths, THUMBNAIL)
            self.context.stateChanged.emit()

    def _photo_read(self, entry: PhotoEntry) -> None:  # GUI thread
        if len(self.listed) != self.photo_list.count():  # photos were removed or cleared since
            self.listed = {self.photo_list.item(i).data(PATH_ROLE) for i in range(self.photo_list.count())}
        if entry.path in self.listed:
            return
        self.listed.add(entry.path)
        name = Path(entry.path).name
        item = QListWidgetItem(name)
        item.setData(PATH_ROLE, entry.path)
        item.setToolTip(plain_tooltip(entry.problem or entry.path))
        item.setData(HAS_GPS_ROLE, list(entry.gps) if entry.gps is not None else None)
        if entry.gps is not None:
            lat, lon = entry.gps
            item.setText(tr("{}  [GPS {:.4f}, {:.4f}]").format(name, lat, lon))
            item.setToolTip(plain_tooltip(tr("{}\nAlready carries EXIF GPS: {:.6f}, {:.6f}").format(entry.path, lat, lon)))
        if not entry.image.isNull():
            item.setIcon(QIcon(QPixmap.fromImage(entry.image)))
        self.photo_list.addItem(item)

    def _problems_found(self, problems: list) -> None:
        shown = "; ".join(str(p) for p in problems[:3]) + (tr(" (and {} more)").format(len(problems) - 3)
                                                            if len(problems) > 3 else "")
        self.context.message(tr("skipped {}").format(shown), Qgis.MessageLevel.Warning, 10)

    def items(self, skip_gps: bool = False) -> list[QListWidgetItem]:
        items = [self.photo_list.item(i) for i in range(self.photo_list.count())]
        return [item for item in items if not (skip_gps and item.data(HAS_GPS_ROLE))]

    def remove_selected_photos(self) -> None:
        for item in self.photo_list.selectedItems():
            self.photo_list.takeItem(self.photo_list.row(item))
