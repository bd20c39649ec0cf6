"""Why a photo was placed where it was: the photo beside its most similar reference photos (the database's
own photos, or a pack's thumbnails with their credit), each with its place, its distance to the prediction
and its similarity, and the density's separate modes (the alternatives) with their probability mass.
Clicking a reference photo asks to pan the map to it; clicking an alternative asks to take it as the
reviewed location. Thumbnails are decoded off the GUI thread (photo_reader.py)."""

from __future__ import annotations

from pathlib import Path

from qgis.PyQt.QtCore import QSize, Qt, pyqtSignal
from qgis.PyQt.QtGui import QIcon, QImage, QPixmap
from qgis.PyQt.QtWidgets import (
    QGridLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..geoloc_core.service import credit_line, distance_km
from .i18n import tr
from .photo_reader import PhotoReader
from .plain_text import plain_tooltip

PHOTO_SIZE = 150
TILE_SIZE = 72
TILES = 6  # top neighbours shown
TILE_COLUMNS = 3


def place_text(lat: float, lon: float, decimals: int = 4) -> str:
    return f"{lat:.{decimals}f}°, {lon:.{decimals}f}°"


def neighbour_caption(neighbour, result) -> str:
    """Rank and similarity, distance to the prediction, place (to ~1 km, so three tiles fit the panel's
    width; the tooltip has it in full): what a reference photo's tile says."""
    km = distance_km(result.lat, result.lon, neighbour.lat, neighbour.lon)
    return tr("#{}  sim {:.2f}\n{:.0f} km away\n{}").format(neighbour.rank, neighbour.similarity, km,
                                                           place_text(neighbour.lat, neighbour.lon, 2))


def alternative_caption(alternative) -> str:
    if alternative.rank == 1:
        return tr("#1  {:.0%}  the prediction  ({})").format(alternative.mass,
                                                            place_text(alternative.lat, alternative.lon))
    return tr("#{}  {:.0%}  {:.0f} km away  ({})").format(alternative.rank, alternative.mass, alternative.distance_km,
                                                         place_text(alternative.lat, alternative.lon))



KNOWN_PLACE = ("anchor", "track")


def how_placed(evidence: str) -> str:
    """How the answer was reached, in the words of the evidence that decided it (context/ sets it)."""
    return {"anchor": tr("Placed at a GPS photo's place"), "track": tr("Placed by the GPS track at"),
            "stream": tr("Placed by its stream at"), "area": tr("Predicted inside the area at")
            }.get(evidence, tr("Predicted"))


def distance_text(km: float) -> str:
    """A radius as one reads it: metres under 1 km, one decimal under 10 km."""
    if km < 1.0:
        return tr("{:.0f} m").format(1000.0 * km)
    return tr("{:.1f} km").format(km) if km < 10.0 else tr("{:.0f} km").format(km)

class EvidenceView(QWidget):
    """The evidence for one result; `neighbourClicked(Neighbour)`, `alternativeChosen(Alternative)`."""

    neighbourClicked = pyqtSignal(object)
    alternativeChosen = pyqtSignal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.reader = PhotoReader(self)
        self.reader.thumbnailRead.connect(self._thumbnail_read)
        self.result = None
        self.shown = 0  # thumbnails of an earlier result arriving late are dropped
        self.tiles: list[QToolButton] = []
        self.alternative_buttons: list[QPushButton] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.photo_label = QLabel(self)
        self.photo_label.setFixedSize(PHOTO_SIZE, PHOTO_SIZE)
        self.photo_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.photo_label)
        self.summary = QLabel(self)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)  # it shows a file name
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.matches_title = QLabel(tr("Best matches (click one to pan the map to it):"), self)
        self.matches_title.setWordWrap(True)
        layout.addWidget(self.matches_title)
        self.tile_grid = QGridLayout()
        self.tile_grid.setSpacing(4)
        layout.addLayout(self.tile_grid)
        self.alternatives_title = QLabel(tr("Other likely places (click one to take it as the location):"), self)
        self.alternatives_title.setWordWrap(True)
        layout.addWidget(self.alternatives_title)
        self.alternatives_box = QVBoxLayout()
        self.alternatives_box.setSpacing(2)
        layout.addLayout(self.alternatives_box)
        self.clear()

    def clear(self) -> None:
        self.result = None
        self.shown += 1
        self.photo_label.clear()
        self.summary.setText(tr("Select a result to see why it was placed there."))
        for widget in self.tiles + self.alternative_buttons:
            widget.deleteLater()
        self.tiles, self.alternative_buttons = [], []
        self.matches_title.hide()
        self.alternatives_title.hide()

    def show_result(self, result) -> None:
        self.clear()
        self.result = result
        self.photo_label.setToolTip(plain_tooltip(result.photo))
        self.reader.read_thumbnail((self.shown, -1), result.photo, PHOTO_SIZE)
        self.summary.setText(tr("{}\n{} {}; confidence {:.2f}; 50% within {}, 90% within {}")
                             .format(Path(result.photo).name, how_placed(result.evidence),
                                     place_text(result.lat, result.lon), result.confidence,
                                     distance_text(result.radius50_km), distance_text(result.radius90_km)))
        self.matches_title.setVisible(bool(result.neighbours))
        for index, neighbour in enumerate(result.neighbours[:TILES]):
            tile = QToolButton(self)
            tile.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            tile.setIconSize(QSize(TILE_SIZE, TILE_SIZE))
            tile.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # shares the panel's width
            tile.setMinimumWidth(TILE_SIZE + 12)
            tile.setText(neighbour_caption(neighbour, result))
            source = credit_line(neighbour.path) or neighbour.path  # a pack's thumbnail: its photographer's credit
            tile.setToolTip(plain_tooltip(f"{place_text(neighbour.lat, neighbour.lon)}\n{source}"))
            tile.clicked.connect(lambda _checked=False, n=neighbour: self.neighbourClicked.emit(n))
            if neighbour.path:  # a worldwide run's matches are places of a GPS gallery, without a photo
                self.reader.read_thumbnail((self.shown, index), neighbour.path, TILE_SIZE)
            self.tile_grid.addWidget(tile, index // TILE_COLUMNS, index % TILE_COLUMNS)
            self.tiles.append(tile)
        # a place known from the photo's GPS, a GPS photo of its stream or the track has no other likely place
        known = result.evidence in KNOWN_PLACE
        alternatives = [] if known else list(getattr(result, "alternatives", []))
        self.alternatives_title.setVisible(len(alternatives) > 1)
        for alternative in alternatives if len(alternatives) > 1 else []:
            button = QPushButton(alternative_caption(alternative), self)
            button.setStyleSheet("text-align: left; padding: 2px 6px;")
            button.clicked.connect(lambda _checked=False, a=alternative: self.alternativeChosen.emit(a))
            self.alternatives_box.addWidget(button)
            self.alternative_buttons.append(button)

    def _thumbnail_read(self, token, image: QImage) -> None:  # GUI thread
        shown, index = token
        if shown != self.shown or image.isNull():
            return
        pixmap = QPixmap.fromImage(image)
        if index < 0:
            self.photo_label.setPixmap(pixmap)
        elif index < len(self.tiles):
            self.tiles[index].setIcon(QIcon(pixmap))
