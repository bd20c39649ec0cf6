"""Reading photos off the GUI thread: the panel's file listing, EXIF GPS reads and thumbnails run in a
thread pool and come back by signal, so that adding a folder of photos or selecting a result never
freezes QGIS (a HEIC thumbnail takes a good part of a second to decode).

Only QImage is made in the workers (QPixmap belongs to the GUI thread); the signals are emitted by a
QObject living in the GUI thread, so Qt queues them to it.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qgis.core import Qgis, QgsMessageLog
from qgis.PyQt.QtCore import QObject, QRunnable, Qt, QThreadPool, pyqtSignal
from qgis.PyQt.QtGui import QImage, QImageReader

from ..geoloc_core.service import PHOTO_EXTENSIONS, PhotoError, find_photos, load_photo, read_gps
from .tasks import LOG_TAG


def thumbnail_image(path: str, size: int) -> QImage:
    """A small upright picture of a photo, decoded at reduced size where Qt can (JPEG); formats Qt
    cannot read (HEIC) are decoded by the engine's photo reader, which is safe inside QGIS. Safe in a
    worker thread."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    original = reader.size()
    if original.isValid() and original.width() > 0 and original.height() > 0:
        reader.setScaledSize(original.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    return image if not image.isNull() else _engine_thumbnail(path, size)


def _engine_thumbnail(path: str, size: int) -> QImage:
    try:
        photo = load_photo(path, size)
    except (ImportError, PhotoError):  # the engine lives in another Python, or the photo is unreadable
        return QImage()
    photo.thumbnail((size, size))
    data = photo.tobytes()
    return QImage(data, photo.width, photo.height, 3 * photo.width, QImage.Format.Format_RGB888).copy()


@dataclass
class PhotoEntry:
    """One photo to locate, as read in the worker: its EXIF GPS (or why it could not be read) and thumbnail."""

    path: str
    gps: tuple[float, float] | None
    problem: str | None  # the EXIF read's error, shown as the item's tooltip
    image: QImage


def expand_photos(paths, problems: list) -> list[Path]:
    """Files as they are and the photos inside folders; what is not a photo goes to `problems`."""
    expanded = []
    for path in map(Path, paths):
        if path.is_dir():
            expanded.extend(find_photos(path, problems=problems))
        elif path.suffix.lower() in PHOTO_EXTENSIONS:
            expanded.append(path)
        else:
            problems.append(PhotoError(path, "not a photo format this plugin reads"))
    return expanded


def read_entry(path: Path, thumbnail_size: int) -> PhotoEntry:
    try:
        fix, problem = read_gps(path), None
    except ImportError:  # the engine lives in another Python: no GPS marks, everything else works
        fix, problem = None, None
    except PhotoError as exc:
        fix, problem = None, str(exc)
    return PhotoEntry(str(path), (fix.lat, fix.lon) if fix is not None else None, problem,
                      thumbnail_image(str(path), thumbnail_size))


class _Job(QRunnable):
    def __init__(self, work: Callable[[], None]):
        super().__init__()
        self.work = work

    def run(self) -> None:
        try:
            self.work()
        except Exception:  # an exception escaping a Qt thread would abort QGIS: it goes to the log instead
            QgsMessageLog.logMessage(traceback.format_exc(), LOG_TAG, Qgis.MessageLevel.Critical)


class PhotoReader(QObject):
    """Runs photo reads in its own threads; results arrive on the GUI thread through the signals.
    `pending` counts the jobs not yet delivered (the panel waits for them before a run)."""

    photoRead = pyqtSignal(object)  # PhotoEntry, in the order the files were listed
    problemsFound = pyqtSignal(list)  # what could not be listed or is not a photo
    thumbnailRead = pyqtSignal(object, QImage)  # the caller's token, the image (null when unreadable)
    finished = pyqtSignal()  # a job was delivered (pending went down)
    _done = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.listing = QThreadPool(self)
        self.listing.setMaxThreadCount(1)  # photos come back in the order they were added
        self.thumbnails = QThreadPool(self)
        self.thumbnails.setMaxThreadCount(2)
        self.pending = 0
        self._stop = threading.Event()
        self._done.connect(self._delivered, Qt.ConnectionType.QueuedConnection)

    def read_photos(self, paths, thumbnail_size: int) -> None:
        """List `paths` (folders expanded), then read each photo's GPS and thumbnail."""
        paths = [str(p) for p in paths]

        def work():
            problems = []
            try:
                for path in expand_photos(paths, problems):
                    if self._stop.is_set():
                        return
                    try:
                        entry = read_entry(path, thumbnail_size)
                    except Exception as exc:  # one unreadable photo (of any kind) does not stop the others
                        problems.append(f"{path}: {exc}")
                        continue
                    self.photoRead.emit(entry)
                if problems:
                    self.problemsFound.emit(problems)
            finally:
                self._done.emit()

        self._start(self.listing, work)

    def read_thumbnail(self, token, path: str, size: int) -> None:
        def work():
            try:
                if not self._stop.is_set():
                    self.thumbnailRead.emit(token, thumbnail_image(path, size))
            finally:
                self._done.emit()

        self._start(self.thumbnails, work)

    def _start(self, pool: QThreadPool, work) -> None:
        self.pending += 1
        pool.start(_Job(work))

    def _delivered(self) -> None:
        self.pending -= 1
        self.finished.emit()

    def shutdown(self) -> None:
        """Stop reading and wait for the threads (the panel is going away)."""
        self._stop.set()
        self.listing.clear()
        self.thumbnails.clear()
        self.listing.waitForDone()
        self.thumbnails.waitForDone()
