"""The panel's "Results" section: the last run's table (sortable; selecting a row zooms to the prediction,
highlights it and says so with `resultSelected`, for the evidence and review; a Review column and the
batch summary say how far the review has come, as soon as a review is saved) and its export to one
GeoPackage. Thumbnails are decoded off the GUI thread (photo_reader.py) and set when they arrive."""

from __future__ import annotations

import contextlib
from pathlib import Path

from qgis.core import Qgis, QgsProject
from qgis.gui import QgsCollapsibleGroupBox
from qgis.PyQt.QtCore import QSize, Qt, pyqtSignal
from qgis.PyQt.QtGui import QBrush, QColor, QIcon, QImage, QPixmap
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ..geoloc_core.service import display_path
from .i18n import tr
from .photo_reader import PhotoReader
from .plain_text import plain_tooltip
from .review import UNREVIEWED, review_statuses

TABLE_THUMBNAIL = 48
RESULT_ROLE = Qt.ItemDataRole.UserRole + 2  # index of the row's result in the run
REVIEW_COLUMN = 11  # the last in the model, shown second (beside the photo)
REVIEW_ORDER = ("unreviewed", "accepted", "moved", "rejected")  # sorted ascending: what is left comes first
REVIEW_COLOURS = {"accepted": "#1a9641", "moved": "#2c7bb6", "rejected": "#808080"}  # as the map draws them


class NumberItem(QTableWidgetItem):
    """A table cell that shows a formatted number and sorts by its value."""

    def __init__(self, value: float, style: str):
        super().__init__(style.format(value))
        self.value = value

    def __lt__(self, other):
        return self.value < other.value if isinstance(other, NumberItem) else super().__lt__(other)


class ReviewItem(QTableWidgetItem):
    """A photo's review status, in words and in the map's colour; it sorts unreviewed first."""

    def __init__(self, status: str):
        super().__init__()
        self.status = ""
        self.set_status(status)

    def set_status(self, status: str) -> None:
        if status == self.status:
            return
        self.status = status
        self.setText(review_labels().get(status, status))
        colour = REVIEW_COLOURS.get(status)
        self.setForeground(QBrush(QColor(colour)) if colour else QBrush())

    def __lt__(self, other):
        if isinstance(other, ReviewItem):
            return _review_rank(self.status) < _review_rank(other.status)
        return super().__lt__(other)


def _review_rank(status: str) -> int:
    return REVIEW_ORDER.index(status) if status in REVIEW_ORDER else len(REVIEW_ORDER)


def review_labels() -> dict[str, str]:
    return {"unreviewed": tr("Not reviewed"), "accepted": tr("Accepted"), "moved": tr("Moved"),
            "rejected": tr("Rejected")}


def result_columns() -> list[str]:
    return [tr("Photo"), tr("Lat (°)"), tr("Lon (°)"), tr("Confidence"), tr("50% (km)"), tr("90% (km)"),
            tr("Best match similarity"), tr("Error vs EXIF GPS (km)"), tr("Evidence"), tr("Capture time (UTC)"),
            tr("Stream"), tr("Review")]


def evidence_label(evidence: str) -> str:
    """What decided a photo's place (the engine's word, as its layers keep it), in the panel's language."""
    return {"track": tr("track"), "anchor": tr("anchor"), "stream": tr("stream"), "pixels": tr("pixels"),
            "area": tr("area")}.get(evidence, evidence)


def result_tips() -> dict[int, str]:
    """Header tooltips, by column."""
    return {3: tr("Calibrated probability (0 to 1) that the photo lies within 750 km of the prediction"),
            4: tr("Radius in km of the circle around the prediction that holds half of the density"),
            5: tr("Radius in km of the circle around the prediction that holds 90% of the density"),
            6: tr("Cosine similarity (0 to 1) between the photo and its most similar reference photo: an "
                  "embedding likeness, not a distance on the ground"),
            7: tr("For photos that carry EXIF GPS: the distance from the prediction to it"),
            8: tr("What decided the place: the track, an anchor (the photo's own GPS or the stream's), the stream "
                  "of photos taken together, the pixels alone, or the pixels searched inside the area"),
            10: tr("The photo's stream: photos taken close together in time, numbered in time order (empty: none)"),
            REVIEW_COLUMN: tr("Your review of the photo: not reviewed, accepted, moved or rejected (sorted: the "
                              "photos not reviewed first)")}


class ResultsSection(QgsCollapsibleGroupBox):
    resultSelected = pyqtSignal(object)  # the result of the row selected (for its evidence and review)

    def __init__(self, context, parent=None):
        super().__init__(tr("Results"), parent)
        self.context = context
        self.run = None  # the run the table shows
        self.reader = PhotoReader(self)
        self.reader.thumbnailRead.connect(self._thumbnail_read)
        self.shown = 0  # what the table and preview show now: thumbnails for older ones are dropped
        self.table_items: dict[int, QTableWidgetItem] = {}  # result index -> its photo cell
        self.review_items: dict[int, ReviewItem] = {}  # result index -> its review cell
        self.watched = None  # the predictions layer whose review changes the table follows
        layout = QVBoxLayout(self)
        columns = result_columns()
        self.results_table = QTableWidget(0, len(columns), self)
        self.results_table.setObjectName("resultsTable")
        self.results_table.setHorizontalHeaderLabels(columns)
        for column, tip in result_tips().items():
            self.results_table.horizontalHeaderItem(column).setToolTip(tip)
        self.results_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results_table.itemSelectionChanged.connect(self.show_selected_result)
        self.results_table.setMinimumHeight(260)  # about eight rows of thumbnails
        self.results_table.verticalHeader().setDefaultSectionSize(30)
        self.results_table.setIconSize(QSize(28, 28))
        self.results_table.horizontalHeader().moveSection(REVIEW_COLUMN, 1)  # in view at the panel's width
        layout.addWidget(self.results_table)
        self.summary_label = QLabel("", self)  # the batch summary over the photos with EXIF GPS
        self.summary_label.setObjectName("summaryLabel")
        self.summary_label.setWordWrap(True)
        layout.addWidget(self.summary_label)
        self.file_label = QLabel("", self)  # where the run's GeoPackage is; stays in view (no notice hides it)
        self.file_label.setObjectName("runFileLabel")
        self.file_label.setWordWrap(True)
        self.file_label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.file_label)
        self.export_button = QPushButton(tr("Save a copy of the run…"), self)
        self.export_button.clicked.connect(self.choose_export)
        layout.addWidget(self.export_button)

    def fill(self, run) -> None:
        self.run = run
        self.shown += 1
        self.table_items, self.review_items = {}, {}
        self.results_table.setSortingEnabled(False)  # rows are filled by index; sorting would move them
        self.results_table.setRowCount(len(run.results))
        for row, result in enumerate(run.results):
            name = QTableWidgetItem(Path(result.photo).name)
            name.setToolTip(plain_tooltip(result.photo))
            name.setData(RESULT_ROLE, row)
            self.table_items[row] = name
            self.reader.read_thumbnail((self.shown, "table", row), result.photo, TABLE_THUMBNAIL)
            self.results_table.setItem(row, 0, name)
            numbers = [(result.lat, "{:.5f}"), (result.lon, "{:.5f}"), (result.confidence, "{:.2f}"),
                       (result.radius50_km, "{:.0f}"), (result.radius90_km, "{:.0f}")]
            numbers.append((result.neighbours[0].similarity if result.neighbours else None, "{:.3f}"))
            numbers.append((run.gps_error_km(result), "{:.1f}"))
            for column, (value, style) in enumerate(numbers, start=1):
                if value is not None:
                    self.results_table.setItem(row, column, NumberItem(value, style))
            evidence = QTableWidgetItem(evidence_label(result.evidence))
            if result.note:
                evidence.setToolTip(plain_tooltip(result.note))
            self.results_table.setItem(row, 8, evidence)
            self.results_table.setItem(row, 9, QTableWidgetItem(result.capture_time.replace("T", " ")[:19]))
            if result.stream:
                self.results_table.setItem(row, 10, NumberItem(result.stream, "{:d}"))
            self.review_items[row] = ReviewItem(UNREVIEWED)
            self.results_table.setItem(row, REVIEW_COLUMN, self.review_items[row])
        self._watch(self._predictions())
        self._show_reviews()
        self.results_table.resizeColumnsToContents()
        self.results_table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # photo order first
        self.results_table.setSortingEnabled(True)
        self.show_run_file(run)

    # -- the review's progress ---------------------------------------------------------------------

    def _predictions(self):
        """The run's predictions layer (which holds the review), while it is in the project."""
        if self.run is None:
            return None
        return QgsProject.instance().mapLayer(self.run.layer_ids.get("predictions", ""))

    def _watch(self, layer) -> None:
        """Follow the review as the layer changes: from the Review section, or edited in QGIS's own
        attribute table (a rolled-back edit included)."""
        if self.watched is not None:
            with contextlib.suppress(TypeError, RuntimeError):  # disconnected already, or the layer is gone
                self.watched.attributeValueChanged.disconnect(self._attribute_changed)
                self.watched.afterRollBack.disconnect(self.refresh_review)
        self.watched = layer
        if layer is not None:
            layer.attributeValueChanged.connect(self._attribute_changed)
            layer.afterRollBack.connect(self.refresh_review)

    def _attribute_changed(self, _fid, index: int, _value) -> None:
        layer = self._predictions()
        if layer is not None and layer is self.watched and index == layer.fields().indexOf("review_status"):
            self.refresh_review()

    def _show_reviews(self) -> list[str]:
        """Each row's review status from the layer (all unreviewed without one); returns them in run order."""
        layer = self._predictions()
        held = review_statuses(layer) if layer is not None else {}
        statuses = [held.get(display_path(result.photo), UNREVIEWED) for result in self.run.results]
        for index, status in enumerate(statuses):
            self.review_items[index].set_status(status)
        return statuses

    def refresh_review(self) -> None:
        """The Review column and the batch summary as the layer holds the review now. Rows stay where
        they are (a table sorted by review shows the order it had until sorted again), so that Next
        after a decision goes to the row below, not to where the decided photo moved."""
        if self.run is None or not self.review_items:
            return
        header = self.results_table.horizontalHeader()
        self.results_table.setSortingEnabled(False)
        if header.sortIndicatorSection() == REVIEW_COLUMN:
            header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self._show_reviews()
        self.results_table.setSortingEnabled(True)
        self.show_run_file(self.run)

    def show_run_file(self, run) -> None:
        """The batch summary, and where the run's GeoPackage is (and whether it is kept)."""
        from .results import review_summary_text, summary_text

        statuses = [item.status for item in self.review_items.values()] if run is self.run else []
        self.summary_label.setText("\n".join(filter(None, [summary_text(run.summary()),
                                                            review_summary_text(statuses) if statuses else ""])))
        self.summary_label.setVisible(bool(self.summary_label.text()))
        where = (tr("Results in a temporary GeoPackage, removed after QGIS closes: keep it with the button below.")
                 if run.temporary else tr("Results in {}").format(run.gpkg)) if run.gpkg else ""
        self.file_label.setText(where)
        self.export_button.setText(tr("Keep the run in a GeoPackage…") if run.temporary else
                                   tr("Save a copy of the run…"))

    def clear(self) -> None:
        self._watch(None)
        self.run = None
        self.shown += 1
        self.table_items, self.review_items = {}, {}
        self.results_table.setRowCount(0)
        self.summary_label.setText("")
        self.file_label.setText("")

    def _thumbnail_read(self, token, image: QImage) -> None:  # GUI thread
        shown, where, index = token
        if shown != self.shown or image.isNull():
            return
        self.table_items[index].setIcon(QIcon(QPixmap.fromImage(image)))

    def selected_result(self):
        rows = {index.row() for index in self.results_table.selectedIndexes()}
        if not rows or self.run is None:
            return None
        return self.run.results[self.results_table.item(min(rows), 0).data(RESULT_ROLE)]

    def show_selected_result(self) -> None:
        """Zoom to the selected prediction and its neighbours, select it on the map (highlighted), and say
        which result it is."""
        result = self.selected_result()
        if result is None:
            return
        from .results import select_prediction, zoom_extent

        canvas = self.context.iface.mapCanvas()
        canvas.setExtent(zoom_extent(result, canvas.mapSettings().destinationCrs(), QgsProject.instance()))
        select_prediction(self.run, result, QgsProject.instance())
        canvas.refresh()
        self.resultSelected.emit(result)

    def select_photo(self, photo: str) -> bool:
        """Select the row of a photo (from the map or the photo list); False if the run has none."""
        if self.run is None:
            return False
        photo = display_path(photo)  # as the layers hold it
        selected = self.selected_result()
        if selected is not None and display_path(selected.photo) == photo:
            return True
        for row in range(self.results_table.rowCount()):
            if display_path(self.run.results[self.results_table.item(row, 0).data(RESULT_ROLE)].photo) == photo:
                self.results_table.selectRow(row)
                return True
        return False

    def step(self, delta: int) -> None:
        """Select the next (+1) or previous (-1) row in the order the table shows, stopping at either end."""
        rows = self.results_table.rowCount()
        if not rows:
            return
        current = min((index.row() for index in self.results_table.selectedIndexes()), default=None)
        target = 0 if current is None else max(0, min(rows - 1, current + delta))
        if target != current:
            self.results_table.selectRow(target)

    def offer_to_keep(self, run) -> None:
        """Say what the run made and where; a run in the temporary folder comes with an offer to keep it
        (the same offer stays in the panel, where no notice of QGIS's can cover it)."""
        located = (tr("Located {} photo ({} skipped).") if len(run.results) == 1 else
                   tr("Located {} photos ({} skipped).")).format(len(run.results), len(run.failed))
        bar = self.context.iface.messageBar()
        if not run.temporary:
            bar.pushMessage(tr("Photo Geolocator"), located + " " + tr("Results in {}").format(run.gpkg),
                            Qgis.MessageLevel.Success, 10)
            return
        item = bar.createMessage(tr("Photo Geolocator"), located + " " + tr("The results are in a temporary "
                                                                            "GeoPackage:"))
        keep = QPushButton(tr("Keep them in a GeoPackage…"), item)
        keep.clicked.connect(self.choose_export)
        item.layout().addWidget(keep)
        bar.pushWidget(item, Qgis.MessageLevel.Success, 30)

    def choose_export(self) -> None:
        if self.run is None:
            return
        from .results import suggested_export_name

        suggested = str(Path(self.context.start_folder()) / suggested_export_name(self.run))
        path, _ = QFileDialog.getSaveFileName(self, tr("Save the run as a GeoPackage"), suggested,
                                              tr("GeoPackage (*.gpkg)"))
        if path:  # the save dialog has already asked before replacing a file
            self.context.remember_folder(path)
            self.export_run(self.run, path if path.endswith(".gpkg") else path + ".gpkg", lambda: True)

    def export_run(self, run, path: str, confirm_overwrite=None) -> bool:
        """Write the run to one GeoPackage; an existing file is replaced only after asking."""
        from .results import export_run
        from .tasks import failure_message

        if Path(path).exists():
            ask = confirm_overwrite or (lambda: QMessageBox.question(
                self, tr("Replace file?"), tr("{} exists. Replace it?").format(path)) == QMessageBox.StandardButton.Yes)
            if not ask():
                return False
        try:
            tables = export_run(run, QgsProject.instance(), path)
        except Exception as exc:
            self.context.message(tr("Export failed: {}").format(failure_message(exc)), Qgis.MessageLevel.Critical, 0)
            return False
        self.context.message(tr("Saved {} tables to {}").format(len(tables), path), Qgis.MessageLevel.Success)
        self.show_run_file(run)
        return True
