"""The panel's "Area and trip" section: what the analyst already knows about the photos. An area (a polygon
layer of the project, its selected features, the map extent or a country of the bundled countries layer)
restricts the search or weighs it; the trip's capture times group the photos into streams that are
located jointly, with a time offset for the camera's clock and a GPS track (a point layer with a time
field, a line layer whose M values are times, or a GPX/GPKG/CSV file).

The engine takes files, a bbox or a country name (ContextRequest), and may run in another Python: the
project's layers are written to a scratch folder in the run's folder on the main thread before the run
starts (an area as a GeoPackage in WGS84, a track as a CSV of UTC times), and removed when it ends.
Every choice is remembered in the profile's settings."""

from __future__ import annotations

import csv
import math
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFieldProxyModel,
    QgsMapLayerProxyModel,
    QgsProject,
    QgsVectorFileWriter,
    QgsWkbTypes,
)
from qgis.gui import QgsCollapsibleGroupBox, QgsFieldComboBox, QgsFileWidget, QgsMapLayerComboBox
from qgis.PyQt.QtCore import QDate, QDateTime, Qt
from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QLineEdit

from ..geoloc_core import service
from ..geoloc_core.errors import UserError
from . import settings
from .i18n import tr

NO_AREA, AREA_LAYER, AREA_SELECTION, AREA_EXTENT, AREA_COUNTRY = "none", "layer", "selected", "extent", "country"
NO_TRACK, TRACK_LAYER, TRACK_FILE = "none", "layer", "file"
WGS84 = "EPSG:4326"
# enums that moved to Qgis in later QGIS releases (3.30, 3.34): the newest spelling this QGIS has
LAYER_FILTER = getattr(Qgis, "LayerFilter", None) or QgsMapLayerProxyModel.Filter


def layer_filters(*names: str):
    """A layer combo's filters as the flags type this QGIS's non-deprecated setFilters takes (an OR of two
    enum values is a plain int, which 3.34+ routes to the deprecated overload)."""
    flags = Qgis.LayerFilters() if hasattr(Qgis, "LayerFilters") else QgsMapLayerProxyModel.Filters()
    for name in names:
        flags |= getattr(LAYER_FILTER, name)
    return flags


POINT_GEOMETRY = Qgis.GeometryType.Point if hasattr(Qgis, "GeometryType") else QgsWkbTypes.GeometryType.PointGeometry
TRACK_FILES = "GPS tracks (*.gpx *.gpkg *.csv *.geojson);;All files (*)"


class ContextSection(QgsCollapsibleGroupBox):
    def __init__(self, context, parent=None):
        super().__init__(tr("Area and trip"), parent)
        self.context = context
        self.scratch: tempfile.TemporaryDirectory | None = None  # the project's layers written for a run
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)

        self.area_combo = self._combo("areaCombo", [
            (tr("None: search everywhere"), NO_AREA), (tr("A polygon layer"), AREA_LAYER),
            (tr("The layer's selected features"), AREA_SELECTION), (tr("The map extent"), AREA_EXTENT),
            (tr("A country"), AREA_COUNTRY)])
        self.area_combo.setToolTip(tr("Where the photos are known to come from"))
        form.addRow(tr("Area"), self.area_combo)
        self.area_layer_label = QLabel(tr("Area layer"), self)
        self.area_layer_combo = QgsMapLayerComboBox(self)
        self.area_layer_combo.setObjectName("areaLayerCombo")
        self.area_layer_combo.setFilters(layer_filters("PolygonLayer"))
        self.area_layer_combo.setAllowEmptyLayer(True)  # never some other polygon layer (the world map) unasked
        self.area_layer_combo.setLayer(None)
        form.addRow(self.area_layer_label, self.area_layer_combo)
        self.country_label = QLabel(tr("Country"), self)
        self.country_combo = QComboBox(self)
        self.country_combo.setObjectName("countryCombo")
        self.country_combo.addItems(service.country_names())
        narrow(self.country_combo)
        form.addRow(self.country_label, self.country_combo)
        self.area_mode_label = QLabel(tr("Use the area"), self)
        self.area_mode_combo = self._combo("areaModeCombo", [
            (tr("Restrict: only references inside"), "restrict"), (tr("Prior: prefer references inside"), "prior")])
        self.area_mode_combo.setToolTip(tr("Restrict searches only the references inside the area and keeps the "
                                           "answers inside; prior prefers them but lets strong evidence outside win"))
        form.addRow(self.area_mode_label, self.area_mode_combo)

        self.streams_check = QCheckBox(tr("Use capture times (streams)"), self)
        self.streams_check.setObjectName("streamsCheck")
        self.streams_check.setToolTip(tr("Photos taken close together in time form a stream, located jointly: "
                                         "photos of the batch with GPS (and the track) place the others of their "
                                         "stream"))
        form.addRow(self.streams_check)
        self.offset_edit = QLineEdit(self)
        self.offset_edit.setObjectName("offsetEdit")
        self.offset_edit.setPlaceholderText(tr("+00:00:00"))
        self.offset_edit.setToolTip(tr("How far the camera's clock ran ahead of the true time (UTC): seconds (330) "
                                       "or hours:minutes[:seconds] (-02:00 for a camera set to UTC+2)"))
        form.addRow(tr("Camera clock offset"), self.offset_edit)
        self.offset_problem = QLabel(self)
        self.offset_problem.setObjectName("offsetProblem")
        self.offset_problem.setWordWrap(True)
        self.offset_problem.setStyleSheet("color: #c0392b")
        self.offset_problem.setVisible(False)
        form.addRow(self.offset_problem)
        self.track_combo = self._combo("trackCombo", [
            (tr("None"), NO_TRACK), (tr("A layer of the project"), TRACK_LAYER), (tr("A file"), TRACK_FILE)])
        self.track_combo.setToolTip(tr("A GPS track recorded during the trip: where it speaks, it places the photo"))
        form.addRow(tr("Track"), self.track_combo)
        self.track_layer_label = QLabel(tr("Track layer"), self)
        self.track_layer_combo = QgsMapLayerComboBox(self)
        self.track_layer_combo.setObjectName("trackLayerCombo")
        self.track_layer_combo.setFilters(layer_filters("PointLayer", "LineLayer"))
        self.track_layer_combo.setAllowEmptyLayer(True)
        self.track_layer_combo.setLayer(None)
        self.track_layer_combo.setToolTip(tr("Points with a time field, or a line whose M values are UTC seconds "
                                             "since 1970"))
        form.addRow(self.track_layer_label, self.track_layer_combo)
        self.time_field_label = QLabel(tr("Time field"), self)
        self.time_field_combo = QgsFieldComboBox(self)
        self.time_field_combo.setObjectName("timeFieldCombo")
        self.time_field_combo.setFilters(QgsFieldProxyModel.Filter.DateTime | QgsFieldProxyModel.Filter.Date
                                         | QgsFieldProxyModel.Filter.String)
        self.time_field_combo.setToolTip(tr("Date and time of each point (UTC where it carries no zone)"))
        form.addRow(self.time_field_label, self.time_field_combo)
        self.track_file_label = QLabel(tr("Track file"), self)
        self.track_file_widget = QgsFileWidget(self)
        self.track_file_widget.setObjectName("trackFileWidget")
        self.track_file_widget.setFilter(tr(TRACK_FILES))
        form.addRow(self.track_file_label, self.track_file_widget)

        self._restoring = False
        self.restore()
        self.track_layer_combo.layerChanged.connect(self._track_layer_changed)
        for combo in (self.area_combo, self.area_mode_combo, self.country_combo, self.track_combo):
            combo.currentIndexChanged.connect(self.remember)
        for combo in (self.area_layer_combo, self.track_layer_combo):
            combo.layerChanged.connect(self.remember)
        self.time_field_combo.fieldChanged.connect(self.remember)
        self.streams_check.toggled.connect(self.remember)
        self.offset_edit.textChanged.connect(self.remember)
        self.offset_edit.textChanged.connect(self._check_offset)
        self.track_file_widget.fileChanged.connect(self.remember)
        self.area_combo.currentIndexChanged.connect(self._show_rows)
        self.track_combo.currentIndexChanged.connect(self._show_rows)
        self._show_rows()  # a remembered offset is checked when edited or used: the panel opens without numpy

    def _combo(self, name: str, items) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        narrow(combo)
        for text, data in items:
            combo.addItem(text, data)
        return combo

    # -- what is shown -----------------------------------------------------------------------------

    def _show_rows(self, _index=None) -> None:
        area, track = self.area_combo.currentData(), self.track_combo.currentData()
        rows = ((self.area_layer_label, self.area_layer_combo, area in (AREA_LAYER, AREA_SELECTION)),
                (self.country_label, self.country_combo, area == AREA_COUNTRY),
                (self.area_mode_label, self.area_mode_combo, area != NO_AREA),
                (self.track_layer_label, self.track_layer_combo, track == TRACK_LAYER),
                (self.time_field_label, self.time_field_combo, track == TRACK_LAYER and self._track_has_points()),
                (self.track_file_label, self.track_file_widget, track == TRACK_FILE))
        for label, widget, shown in rows:
            label.setVisible(shown)
            widget.setVisible(shown)

    def _track_has_points(self) -> bool:
        layer = self.track_layer_combo.currentLayer()
        return layer is None or layer.geometryType() == POINT_GEOMETRY

    def _track_layer_changed(self, layer) -> None:
        """The point layer's time field: the one remembered, else its first date-time field, else one
        named like a time."""
        remembered = settings.value(settings.context_choice("time_field"), "")  # before setLayer changes it
        self.time_field_combo.setLayer(layer)
        if layer is not None and not self._restoring:
            fields = layer.fields()
            dated = [f.name() for f in fields if f.isDateOrTime()]
            timely = [f.name() for f in fields if "time" in f.name().lower() or "date" in f.name().lower()]
            for name in [remembered, *dated, *timely]:
                if name and fields.indexOf(name) >= 0:
                    self.time_field_combo.setField(name)
                    break
        self._show_rows()

    def offset_problem_text(self) -> str | None:
        """Why the offset cannot be read (the engine's own parser says), or None."""
        text = self.offset_edit.text().strip()
        if not text:
            return None
        try:
            service.ContextRequest(time_offset=text)
        except UserError as exc:
            return str(exc)
        return None

    def _check_offset(self, _text=None) -> None:
        problem = self.offset_problem_text()
        self.offset_problem.setText(problem or "")
        self.offset_problem.setVisible(problem is not None)

    # -- remembered values -------------------------------------------------------------------------

    def _values(self) -> dict:
        area_layer, track_layer = self.area_layer_combo.currentLayer(), self.track_layer_combo.currentLayer()
        return {"area": self.area_combo.currentData(), "area_layer": area_layer.id() if area_layer else "",
                "area_mode": self.area_mode_combo.currentData(), "country": self.country_combo.currentText(),
                "streams": self.streams_check.isChecked(), "time_offset": self.offset_edit.text(),
                "track": self.track_combo.currentData(), "track_layer": track_layer.id() if track_layer else "",
                "time_field": self.time_field_combo.currentField(), "track_file": self.track_file_widget.filePath()}

    def remember(self, *_changed) -> None:
        if self._restoring:
            return
        for name, value in self._values().items():
            settings.set_value(settings.context_choice(name), value)

    def restore(self) -> None:
        """The choices of the last session; a layer that is not in the project now is not chosen (a run
        asks for one rather than taking another layer)."""
        def remembered(name, default):
            return settings.value(settings.context_choice(name), default)

        self._restoring = True
        try:
            for name, combo in (("area", self.area_combo), ("area_mode", self.area_mode_combo),
                                ("track", self.track_combo)):
                index = combo.findData(remembered(name, combo.currentData()))
                if index >= 0:
                    combo.setCurrentIndex(index)
            country = self.country_combo.findText(str(remembered("country", "")))
            if country >= 0:
                self.country_combo.setCurrentIndex(country)
            for name, combo in (("area_layer", self.area_layer_combo), ("track_layer", self.track_layer_combo)):
                layer = QgsProject.instance().mapLayer(str(remembered(name, "")))
                if layer is not None:
                    combo.setLayer(layer)
            self.time_field_combo.setLayer(self.track_layer_combo.currentLayer())
            self.time_field_combo.setField(str(remembered("time_field", "")))
            self.streams_check.setChecked(remembered("streams", False))
            self.offset_edit.setText(str(remembered("time_offset", "")))
            self.track_file_widget.setFilePath(str(remembered("track_file", "")))
        finally:
            self._restoring = False

    @staticmethod
    def forget() -> None:
        settings.remove(settings.CONTEXT)

    # -- the request -------------------------------------------------------------------------------

    def in_use(self) -> bool:
        """Whether the analyst gave anything: otherwise each photo is located alone, as before."""
        return (self.area_combo.currentData() != NO_AREA or self.track_combo.currentData() != NO_TRACK
                or self.streams_check.isChecked() or bool(self.offset_edit.text().strip()))

    def context_request(self, folder: Path):
        """The run's ContextRequest (None when nothing is given), the project's layers written under
        `folder` first. A choice that cannot be used raises UserError with one line saying why."""
        self.release()
        if not self.in_use():
            return None
        self._check_offset()
        problem = self.offset_problem_text()
        if problem:
            raise UserError(tr("Camera clock offset: {}").format(problem))
        return service.ContextRequest(
            area=self._area(folder), area_mode=self.area_mode_combo.currentData(), track=self._track(folder),
            time_offset=self.offset_edit.text().strip() or None, streams=self.streams_check.isChecked())

    def describe(self) -> dict:
        """The choices as a run's parameters record them (on its layers)."""
        if not self.in_use():
            return {}
        area = self.area_combo.currentData()
        layer = self.area_layer_combo.currentLayer()
        where = {AREA_LAYER: layer.name() if layer else "", AREA_SELECTION: f"{layer.name()} (selected)" if layer
                 else "", AREA_EXTENT: "map extent", AREA_COUNTRY: self.country_combo.currentText()}.get(area, "")
        track = self.track_combo.currentData()
        track_layer = self.track_layer_combo.currentLayer()
        source = {TRACK_LAYER: track_layer.name() if track_layer else "",
                  TRACK_FILE: self.track_file_widget.filePath()}.get(track, "")
        return {"area": where, "area_mode": self.area_mode_combo.currentData() if where else "",
                "track": source, "time_offset": self.offset_edit.text().strip(),
                "streams": self.streams_check.isChecked()}

    def release(self) -> None:
        """Remove the files written for the last run (called when it has ended)."""
        if self.scratch is not None:
            self.scratch.cleanup()
            self.scratch = None

    def _scratch_folder(self, folder: Path) -> Path:
        if self.scratch is None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                self.scratch = tempfile.TemporaryDirectory(prefix=".photo-geolocator-context-", dir=folder)
            except OSError as exc:
                raise UserError(tr("{}: cannot write the area or track for the run ({})").format(
                    folder, exc.strerror or exc)) from None
        return Path(self.scratch.name)

    def _area(self, folder: Path) -> str | None:
        choice = self.area_combo.currentData()
        if choice == NO_AREA:
            return None
        if choice == AREA_COUNTRY:
            return self.country_combo.currentText()
        if choice == AREA_EXTENT:
            return extent_bbox(self.context.iface.mapCanvas())
        layer = self.area_layer_combo.currentLayer()
        if layer is None:
            raise UserError(tr("Area: choose a polygon layer of the project"))
        selected = choice == AREA_SELECTION
        if selected and layer.selectedFeatureCount() == 0:
            raise UserError(tr("Area: no feature of layer '{}' is selected").format(layer.name()))
        return str(write_area(layer, self._scratch_folder(folder) / "area.gpkg", selected))

    def _track(self, folder: Path) -> str | None:
        choice = self.track_combo.currentData()
        if choice == NO_TRACK:
            return None
        if choice == TRACK_FILE:
            path = self.track_file_widget.filePath()
            if not path:
                raise UserError(tr("Track: choose a track file (GPX, GeoPackage or CSV)"))
            return path
        layer = self.track_layer_combo.currentLayer()
        if layer is None:
            raise UserError(tr("Track: choose a point or line layer of the project"))
        field = self.time_field_combo.currentField() if self._track_has_points() else None
        if self._track_has_points() and not field:
            raise UserError(tr("Track: layer '{}' needs a time field; choose it under Time field").format(layer.name()))
        return str(write_track(layer, field, self._scratch_folder(folder) / "track.csv"))


def narrow(combo: QComboBox) -> None:
    """As wide as the panel allows, not as its longest item: the panel stays narrow."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(14)


def to_wgs84(layer) -> QgsCoordinateTransform:
    return QgsCoordinateTransform(layer.crs(), QgsCoordinateReferenceSystem(WGS84), QgsProject.instance())


def extent_bbox(canvas) -> str:
    """The map extent as the engine's 'bbox:W,S,E,N' in degrees (clamped to the world)."""
    transform = QgsCoordinateTransform(canvas.mapSettings().destinationCrs(), QgsCoordinateReferenceSystem(WGS84),
                                       QgsProject.instance())
    box = transform.transformBoundingBox(canvas.extent())
    west, east = max(box.xMinimum(), -180.0), min(box.xMaximum(), 180.0)
    south, north = max(box.yMinimum(), -90.0), min(box.yMaximum(), 90.0)
    outward = [math.floor(west * 1e6) / 1e6, math.floor(south * 1e6) / 1e6, math.ceil(east * 1e6) / 1e6,
               math.ceil(north * 1e6) / 1e6]  # six decimals (0.1 m), rounded so that the whole extent stays inside
    return "bbox:" + ",".join(f"{v:.6f}" for v in outward)


def write_area(layer, path: Path, selected: bool) -> Path:
    """The layer's polygons (or its selected ones) as a GeoPackage in WGS84."""
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = "area"
    options.onlySelectedFeatures = selected
    options.ct = to_wgs84(layer)
    error = QgsVectorFileWriter.writeAsVectorFormatV3(layer, str(path), QgsProject.instance().transformContext(),
                                                      options)
    if error[0] != QgsVectorFileWriter.WriterError.NoError:
        raise UserError(tr("Area: could not write layer '{}' for the run: {}").format(layer.name(), error[1]))
    return path


def write_track(layer, time_field: str | None, path: Path) -> Path:
    """The track's points in WGS84 with their UTC times, as the CSV the engine reads (time, lat, lon):
    a point layer's time field, or a line layer's vertices with their M values as UTC seconds."""
    transform = to_wgs84(layer)
    rows = []
    for feature in layer.getFeatures():
        geometry = feature.geometry()
        if geometry.isEmpty():
            continue
        if time_field is None:
            if not QgsWkbTypes.hasM(geometry.wkbType()):
                raise UserError(tr("Track: layer '{}' is a line without M values; give its times as M values "
                                   "(UTC seconds) or use a point layer with a time field").format(layer.name()))
            for vertex in geometry.vertices():
                point = transform.transform(vertex.x(), vertex.y())
                rows.append((utc_text_of_seconds(vertex.m()), point.y(), point.x()))
            continue
        moment = utc_text(feature[time_field])
        for part in geometry.constParts():
            point = transform.transform(part.x(), part.y())
            rows.append((moment, point.y(), point.x()))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time", "lat", "lon"])
        writer.writerows((moment, repr(lat), repr(lon)) for moment, lat, lon in rows)
    return path


def utc_text_of_seconds(seconds: float) -> str:
    if not math.isfinite(seconds):
        return ""
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


def utc_text(value) -> str:
    """A time attribute as ISO 8601 UTC text ('' where empty): a date-time with a zone is converted, one
    without is taken as UTC (as GPS logs write); text goes to the engine as it is (it says if unreadable)."""
    if isinstance(value, QDateTime):
        if not value.isValid():
            return ""
        if value.timeSpec() == Qt.TimeSpec.LocalTime:
            value = QDateTime(value.date(), value.time(), Qt.TimeSpec.UTC)
        return utc_text_of_seconds(value.toMSecsSinceEpoch() / 1000.0)
    if isinstance(value, QDate):
        return value.toString(Qt.DateFormat.ISODate) if value.isValid() else ""
    if value is None or (hasattr(value, "isNull") and value.isNull()):
        return ""
    return str(value).strip()
