"""The analyst's review of a run: accept, move, reject or annotate each prediction. The decision lives in
the predictions layer's own fields (review_status, reviewed_lat, reviewed_lon, review_note; pinned in
geoloc_core/schema.py), written through the layer's edit buffer and committed, so that it is kept in
whatever the layer is stored in (memory or GeoPackage) and saved with it.

The panel's "Review" section shows the selected photo's evidence (evidence_view.py), the review buttons,
a note and what keeps the review beyond the run (review_outputs.py: GPS into the photos, the database),
and walks the batch with keyboard shortcuts that act only while the panel has the focus (A accept,
M move, R reject, U reset to unreviewed, N or Right next, P or Left previous), so QGIS's own keys stay
QGIS's."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from qgis.core import (
    Qgis,
    QgsCoordinateTransform,
    QgsExpression,
    QgsFeatureRequest,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
)
from qgis.gui import QgsCollapsibleGroupBox, QgsVertexMarker
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QKeySequence
from qgis.PyQt.QtWidgets import (
    QApplication,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QShortcut,
    QVBoxLayout,
)

from ..geoloc_core.errors import ExportError
from .evidence_view import EvidenceView, place_text
from .i18n import tr
from .results import photos_filter
from .review_outputs import ReviewOutputs
from .review_tool import PIN_COLOUR, SNAP_PIXELS, WGS84, MovePinTool

UNREVIEWED, ACCEPTED, MOVED, REJECTED = "unreviewed", "accepted", "moved", "rejected"  # schema.REVIEW_STATUSES


@dataclass(frozen=True)
class Review:
    """What the analyst decided about one prediction."""

    status: str
    lat: float | None
    lon: float | None
    note: str


def _plain(value):
    """A field's value as Python: QGIS's NULL becomes None."""
    return None if value is None or getattr(value, "isNull", lambda: False)() else value


def photo_request(photo: str) -> QgsFeatureRequest:
    return QgsFeatureRequest(QgsExpression(photos_filter([photo])))


def review_of(layer, photo: str) -> Review | None:
    """The photo's review as the layer holds it (its edit buffer included), or None if it has no row."""
    feature = next(layer.getFeatures(photo_request(photo)), None)
    if feature is None:
        return None
    return Review(_plain(feature["review_status"]) or UNREVIEWED, _plain(feature["reviewed_lat"]),
                  _plain(feature["reviewed_lon"]), _plain(feature["review_note"]) or "")


def write_review(layer, photo: str, values: dict) -> None:
    """Change the photo's review fields through the layer's edit buffer and commit them. A layer the
    analyst is already editing keeps its edit session: the change joins it, saved with the rest."""
    feature = next(layer.getFeatures(photo_request(photo)), None)
    if feature is None:
        raise ExportError(f"{layer.source()}: no prediction for {photo} in layer {layer.name()}")
    was_editing = layer.isEditable()
    if not was_editing and not layer.startEditing():
        raise ExportError(f"{layer.source()}: layer {layer.name()} cannot be edited, so the review is not kept")
    fields = layer.fields()
    for name, value in values.items():
        layer.changeAttributeValue(feature.id(), fields.indexOf(name), value)
    if not was_editing and not layer.commitChanges():
        problems = "; ".join(layer.commitErrors())
        layer.rollBack()
        raise ExportError(f"{layer.source()}: the review of {photo} could not be saved: {problems}")
    layer.triggerRepaint()


def accept(layer, result) -> None:
    """The prediction is right: the reviewed location is the predicted one."""
    write_review(layer, result.photo, {"review_status": ACCEPTED, "reviewed_lat": result.lat,
                                       "reviewed_lon": result.lon})


def move(layer, photo: str, lat: float, lon: float) -> None:
    write_review(layer, photo, {"review_status": MOVED, "reviewed_lat": lat, "reviewed_lon": lon})


def reject(layer, photo: str) -> None:
    """The prediction is wrong and the analyst does not know better: no reviewed location."""
    write_review(layer, photo, {"review_status": REJECTED, "reviewed_lat": None, "reviewed_lon": None})


def set_note(layer, photo: str, note: str) -> None:
    write_review(layer, photo, {"review_note": note})


def reset(layer, photo: str) -> None:
    """Back to unreviewed: no decision and no reviewed location (the note stays: it is about the photo)."""
    write_review(layer, photo, {"review_status": UNREVIEWED, "reviewed_lat": None, "reviewed_lon": None})


def review_statuses(layer) -> dict[str, str]:
    """Each photo's review status as the layer holds it (its edit buffer included), by the photo's path
    as the layer holds it."""
    request = QgsFeatureRequest().setSubsetOfAttributes(["photo", "review_status"], layer.fields())
    return {f["photo"]: _plain(f["review_status"]) or UNREVIEWED for f in layer.getFeatures(request)}


def reviewed_count(layer) -> int:
    return sum(1 for status in review_statuses(layer).values() if status != UNREVIEWED)


def status_text(review: Review) -> str:
    if review.status == MOVED and review.lat is not None:
        return tr("Moved to {}").format(place_text(review.lat, review.lon))
    return {ACCEPTED: tr("Accepted"), REJECTED: tr("Rejected")}.get(review.status, tr("Not reviewed yet"))


class ReviewSection(QgsCollapsibleGroupBox):
    """The evidence for the selected result and the analyst's decision about it. `stepRequested(±1)` asks
    for the next or previous row of the results table; `reviewed(photo)` says a review was saved."""

    stepRequested = pyqtSignal(int)
    reviewed = pyqtSignal(str)

    def __init__(self, context, parent=None):
        super().__init__(tr("Review"), parent)
        self.context = context
        self.run = None
        self.result = None
        self.tool = None  # the move tool while it is on the canvas
        self.previous_tool = None
        self.previous_focus = None
        self.reviewed_pin = None  # where a moved photo now stands, on the map
        layout = QVBoxLayout(self)
        self.evidence = EvidenceView(self)
        self.evidence.neighbourClicked.connect(self.pan_to_neighbour)
        self.evidence.alternativeChosen.connect(self.choose_alternative)
        layout.addWidget(self.evidence)
        self.status_label = QLabel("", self)
        self.status_label.setObjectName("reviewStatus")
        self.status_label.setWordWrap(True)
        status_row = QHBoxLayout()  # the decision, and taking it back beside it (the panel stays narrow)
        status_row.addWidget(self.status_label, 1)
        layout.addLayout(status_row)
        decide = QHBoxLayout()
        self.accept_button = QPushButton(tr("Accept (A)"), self)
        self.accept_button.setToolTip(tr("The predicted location is right"))
        self.accept_button.clicked.connect(self.accept)
        self.move_button = QPushButton(tr("Move (M)"), self)
        self.move_button.setToolTip(tr("Drag the pin on the map to where the photo was taken; Escape cancels"))
        self.move_button.clicked.connect(self.start_move)
        self.reject_button = QPushButton(tr("Reject (R)"), self)
        self.reject_button.setToolTip(tr("The predicted location is wrong"))
        self.reject_button.clicked.connect(self.reject)
        self.reset_button = QPushButton(tr("Reset (U)"), self)
        self.reset_button.setToolTip(tr("Back to not reviewed: the decision and the reviewed location are "
                                        "cleared; the note stays"))
        self.reset_button.clicked.connect(self.reset)
        status_row.addWidget(self.reset_button)
        for button in (self.accept_button, self.move_button, self.reject_button):
            decide.addWidget(button)
        layout.addLayout(decide)
        walk = QHBoxLayout()
        self.previous_button = QPushButton(tr("◀ Previous (P)"), self)
        self.previous_button.clicked.connect(lambda: self.stepRequested.emit(-1))
        self.next_button = QPushButton(tr("Next (N) ▶"), self)
        self.next_button.clicked.connect(lambda: self.stepRequested.emit(1))
        walk.addWidget(self.previous_button)
        walk.addWidget(self.next_button)
        layout.addLayout(walk)
        self.snap_check = QCheckBox(tr("Snap to a nearby reference photo"), self)
        self.snap_check.setToolTip(tr("While moving the pin: snap it to a reference photo's place within {} pixels "
                                      "of where it is dropped").format(SNAP_PIXELS))
        self.snap_check.setChecked(True)
        layout.addWidget(self.snap_check)
        self.note_edit = QLineEdit(self)
        self.note_edit.setPlaceholderText(tr("Note about this photo (Enter saves it)"))
        self.note_edit.editingFinished.connect(self.save_note)
        layout.addWidget(self.note_edit)
        self.outputs = ReviewOutputs(context, lambda: (self.run, self.layer()), self)
        layout.addWidget(self.outputs)
        self.clear()

    # -- what is shown -----------------------------------------------------------------------------

    def layer(self):
        """The run's predictions layer, while it is in the project."""
        if self.run is None:
            return None
        return QgsProject.instance().mapLayer(self.run.layer_ids.get("predictions", ""))

    def clear(self) -> None:
        self.stop_move()
        self.run, self.result = None, None
        self.evidence.clear()
        self.note_edit.clear()
        self._show_reviewed_pin(None)
        self.status_label.setText("")
        self._enable(False)
        self.outputs.update_buttons()

    def set_run(self, run) -> None:
        """The run whose photos are reviewed (before any is selected): what the outputs write and add."""
        self.clear()
        self.run = run
        self.outputs.update_buttons()

    def show_result(self, run, result) -> None:
        """Show a result's evidence and review; called when a result is selected anywhere."""
        self.stop_move()
        self.run, self.result = run, result
        self.evidence.show_result(result)
        self._enable(self.layer() is not None)
        self.outputs.update_buttons()
        self._show_review()

    def _enable(self, on: bool) -> None:
        for widget in (self.accept_button, self.move_button, self.reject_button, self.reset_button, self.note_edit,
                       self.previous_button, self.next_button):
            widget.setEnabled(on)

    def current_review(self) -> Review | None:
        layer = self.layer()
        return review_of(layer, self.result.photo) if layer is not None and self.result is not None else None

    def _show_review(self) -> None:
        review = self.current_review()
        if review is None:
            self.status_label.setText("")
            self._show_reviewed_pin(None)
            return
        self.note_edit.setText(review.note)
        self.status_label.setText(tr("{}  ·  {} of {} photos reviewed").format(
            status_text(review), reviewed_count(self.layer()), len(self.run.results)))
        moved = review.status == MOVED and review.lat is not None
        self._show_reviewed_pin((review.lat, review.lon) if moved else None)

    def _show_reviewed_pin(self, place) -> None:
        canvas = self.context.iface.mapCanvas()
        if place is None:
            if self.reviewed_pin is not None:
                canvas.scene().removeItem(self.reviewed_pin)
                self.reviewed_pin = None
            return
        if self.reviewed_pin is None:
            self.reviewed_pin = QgsVertexMarker(canvas)
            self.reviewed_pin.setIconType(QgsVertexMarker.IconType.ICON_CIRCLE)
            self.reviewed_pin.setColor(PIN_COLOUR)
            self.reviewed_pin.setIconSize(14)
            self.reviewed_pin.setPenWidth(3)
        self.reviewed_pin.setCenter(self._to_canvas().transform(QgsPointXY(place[1], place[0])))

    def _to_canvas(self) -> QgsCoordinateTransform:
        crs = self.context.iface.mapCanvas().mapSettings().destinationCrs()
        return QgsCoordinateTransform(WGS84, crs, QgsProject.instance())

    # -- decisions ---------------------------------------------------------------------------------

    def _decide(self, change) -> bool:
        """Apply one change to the predictions layer; a failure is one line in the message bar."""
        layer = self.layer()
        if layer is None or self.result is None:
            return False
        try:
            change(layer)
        except ExportError as exc:
            self.context.message(str(exc), Qgis.MessageLevel.Critical, 0)
            return False
        self._show_review()
        self.reviewed.emit(self.result.photo)
        return True

    def accept(self) -> bool:
        return self._decide(lambda layer: accept(layer, self.result))

    def reject(self) -> bool:
        return self._decide(lambda layer: reject(layer, self.result.photo))

    def reset(self) -> bool:
        return self._decide(lambda layer: reset(layer, self.result.photo))

    def move_to(self, lat: float, lon: float) -> bool:
        return self._decide(lambda layer: move(layer, self.result.photo, lat, lon))

    def save_note(self) -> bool:
        review = self.current_review()
        if review is None or review.note == self.note_edit.text():
            return False
        return self._decide(lambda layer: set_note(layer, self.result.photo, self.note_edit.text()))

    def choose_alternative(self, alternative) -> bool:
        """One of the density's modes as the reviewed location; the first is the prediction itself."""
        if alternative.rank == 1:
            return self.accept()
        return self.move_to(alternative.lat, alternative.lon)

    # -- the move tool -----------------------------------------------------------------------------

    def start_move(self) -> MovePinTool | None:
        """Put the pin-moving tool on the map canvas; it gives the canvas back after one move."""
        review = self.current_review()
        if review is None:
            return None
        self.stop_move()
        canvas = self.context.iface.mapCanvas()
        start = (review.lat, review.lon) if review.lat is not None else (self.result.lat, self.result.lon)
        targets = [(n.lat, n.lon) for n in self.result.neighbours]
        self.tool = MovePinTool(canvas, start, targets, SNAP_PIXELS if self.snap_check.isChecked() else None)
        self.tool.moved.connect(self._moved)
        self.tool.cancelled.connect(self.stop_move)
        self.previous_tool = canvas.mapTool()
        self.previous_focus = QApplication.focusWidget()  # where the keys were: they go back there after
        canvas.setMapTool(self.tool)
        canvas.mapToolSet.connect(self._map_tool_set)
        canvas.setFocus()  # Escape reaches the tool
        self.status_label.setText(tr("Drag the pin to where the photo was taken (Escape cancels)."))
        return self.tool

    def _moved(self, lat: float, lon: float) -> None:
        self.stop_move()
        self.move_to(lat, lon)

    def stop_move(self) -> None:
        """End a move (done or cancelled): the map tool and the keyboard focus go back where they were."""
        if self.tool is None:
            return
        canvas = self.context.iface.mapCanvas()
        tool = self._forget_tool()
        if canvas.mapTool() is tool:
            if self.previous_tool is not None:
                canvas.setMapTool(self.previous_tool)
            else:
                canvas.unsetMapTool(tool)
        if self.previous_focus is not None:
            with contextlib.suppress(RuntimeError):  # the widget is gone
                self.previous_focus.setFocus()
        self.previous_tool, self.previous_focus = None, None

    def _map_tool_set(self, new_tool, _old_tool) -> None:
        """Another map tool chosen in the middle of a move ends it; the analyst's choice of tool stays."""
        if self.tool is not None and new_tool is not self.tool:
            self._forget_tool()
            self.previous_tool, self.previous_focus = None, None

    def _forget_tool(self) -> MovePinTool:
        tool, self.tool = self.tool, None
        self.context.iface.mapCanvas().mapToolSet.disconnect(self._map_tool_set)
        tool.deleteLater()
        if self.result is not None:
            self._show_review()
        return tool

    # -- the map -----------------------------------------------------------------------------------

    def pan_to_neighbour(self, neighbour) -> None:
        """Centre the map on a reference photo's place and flash it, without changing the scale."""
        canvas = self.context.iface.mapCanvas()
        point = self._to_canvas().transform(QgsPointXY(neighbour.lon, neighbour.lat))
        canvas.setCenter(point)
        canvas.refresh()
        canvas.flashGeometries([QgsGeometry.fromPointXY(point)], canvas.mapSettings().destinationCrs())

    # -- keys --------------------------------------------------------------------------------------

    def install_shortcuts(self, scope) -> list[QShortcut]:
        """Review keys that act while `scope` (the panel) or a widget in it has the focus; a text box
        keeps its letters and arrows."""
        keys = [("A", self.accept), ("M", self.start_move), ("R", self.reject), ("U", self.reset),
                ("N", lambda: self.stepRequested.emit(1)), ("Right", lambda: self.stepRequested.emit(1)),
                ("P", lambda: self.stepRequested.emit(-1)), ("Left", lambda: self.stepRequested.emit(-1))]
        shortcuts = []
        for key, action in keys:
            shortcut = QShortcut(QKeySequence(key), scope)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(action)
            shortcuts.append(shortcut)
        return shortcuts

