"""The panel's "Parameters" section: what a run searches (the reference database and ticked packs, or
worldwide with GeoCLIP's GPS gallery) and how (k, estimator, bandwidth, outputs). Every value is
remembered in the profile's settings and restored when the panel opens; a choice that cannot run now
(worldwide without the GeoCLIP model, the geoclip estimator without a GeoCLIP database) is disabled and
says what it needs."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProject, QgsSettings
from qgis.gui import QgsCollapsibleGroupBox, QgsFileWidget
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox

from ..geoloc_core.defaults import (
    DEFAULT_BANDWIDTH_KM,
    DEFAULT_DENSITY_RESOLUTION_DEG,
    DEFAULT_ESTIMATOR,
    DEFAULT_GALLERY_TOP_K,
    DEFAULT_K,
    DEFAULT_TEMPERATURE,
)
from ..geoloc_core.options import spin_range
from .engine import LocateRequest, WorldwideRequest
from .i18n import tr

SETTINGS_PARAMETERS = "photo_geolocator/parameters"
REFERENCES, WORLDWIDE = "references", "world"  # what a run searches (the Search choice)


class RunOptions(QgsCollapsibleGroupBox):
    def __init__(self, dock, parent=None):
        super().__init__(tr("Parameters"), parent)
        self.dock = dock
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow panel: fields under labels
        self.mode_combo = QComboBox(self)
        self.mode_combo.setObjectName("modeCombo")
        self.mode_combo.addItem("The reference database and ticked packs", REFERENCES)
        self.mode_combo.addItem("Worldwide: GeoCLIP's GPS gallery (no database)", WORLDWIDE)
        self.mode_combo.setToolTip("Worldwide needs no reference database: GeoCLIP (downloaded under Feature model) "
                                   "scores each photo against 100,000 places of its GPS gallery")
        self.mode_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.mode_combo.setMinimumContentsLength(14)
        form.addRow(tr("Search"), self.mode_combo)
        self.worldwide_label = QLabel(self)
        self.worldwide_label.setObjectName("worldwideLabel")
        self.worldwide_label.setWordWrap(True)
        form.addRow(self.worldwide_label)
        self.top_k_label = QLabel(tr("Gallery points (top-k)"), self)
        self.top_k_spin = QSpinBox(self)
        self.top_k_spin.setRange(*spin_range("top_k"))
        self.top_k_spin.setValue(DEFAULT_GALLERY_TOP_K)
        self.top_k_spin.setToolTip("How many of the gallery's most probable places are kept per photo (shown as "
                                   "its neighbours and measured for its uncertainty)")
        form.addRow(self.top_k_label, self.top_k_spin)
        self.k_spin = QSpinBox(self)
        self.k_spin.setRange(*spin_range("k"))
        self.k_spin.setValue(DEFAULT_K)
        self.k_spin.setToolTip("How many of the most similar reference photos vote on the location")
        form.addRow(tr("Neighbours (k)"), self.k_spin)
        self.estimator_combo = QComboBox(self)
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
        self.bandwidth_spin = QDoubleSpinBox(self)
        self.bandwidth_spin.setRange(*spin_range("bandwidth_km"))
        self.bandwidth_spin.setDecimals(2)
        self.bandwidth_spin.setValue(DEFAULT_BANDWIDTH_KM)
        self.bandwidth_spin.setSuffix(" km")
        self.bandwidth_spin.setToolTip("Size of each neighbour's kernel on the ground: small for a dense local "
                                       "collection (one site), large for a sparse worldwide one")
        form.addRow(tr("Bandwidth"), self.bandwidth_spin)
        self.temperature = DEFAULT_TEMPERATURE
        self.uncertainty_check = QCheckBox(tr("Uncertainty circles (50% / 90%)"), self)
        self.uncertainty_check.setChecked(True)
        form.addRow(self.uncertainty_check)
        self.density_check = QCheckBox(tr("Density raster"), self)
        self.density_check.setChecked(True)
        self.density_check.setToolTip("Write the kernel density as a GeoTIFF per photo (probability per km²)")
        form.addRow(self.density_check)
        self.resolution_spin = QDoubleSpinBox(self)
        self.resolution_spin.setRange(*spin_range("density_resolution_deg"))
        self.resolution_spin.setDecimals(3)
        self.resolution_spin.setValue(DEFAULT_DENSITY_RESOLUTION_DEG)
        self.resolution_spin.setSuffix("°")
        self.resolution_spin.setToolTip("Cell size of the density raster in degrees (0.1° ≈ 11 km)")
        form.addRow(tr("Raster resolution"), self.resolution_spin)
        self.extent_combo = QComboBox(self)
        self.extent_combo.addItem("Around each prediction", "around")
        self.extent_combo.addItem("Whole world", "world")
        form.addRow(tr("Raster extent"), self.extent_combo)
        self.output_widget = QgsFileWidget(self)
        self.output_widget.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.output_widget.setToolTip("Where density rasters are kept (the project folder by default)")
        form.addRow(tr("Raster folder"), self.output_widget)

        self._restoring = False
        self.restore()
        for spin in (self.top_k_spin, self.k_spin, self.bandwidth_spin, self.resolution_spin):
            spin.valueChanged.connect(self.remember)
        for combo in (self.mode_combo, self.estimator_combo, self.extent_combo):
            combo.currentIndexChanged.connect(self.remember)
        for check in (self.uncertainty_check, self.density_check):
            check.toggled.connect(self.remember)
        self.output_widget.fileChanged.connect(self.remember)
        self.mode_combo.currentIndexChanged.connect(self._mode_changed)

    # -- remembered values -------------------------------------------------------------------------

    def _values(self) -> dict:
        return {"search": self.mode_combo.currentData(), "top_k": self.top_k_spin.value(), "k": self.k_spin.value(),
                "estimator": self.estimator_combo.currentData(), "bandwidth_km": self.bandwidth_spin.value(),
                "uncertainty": self.uncertainty_check.isChecked(), "density": self.density_check.isChecked(),
                "density_resolution_deg": self.resolution_spin.value(),
                "density_extent": self.extent_combo.currentData(), "raster_folder": self.output_widget.filePath()}

    def remember(self, *_changed) -> None:
        if self._restoring:
            return
        settings = QgsSettings()
        for name, value in self._values().items():
            settings.setValue(f"{SETTINGS_PARAMETERS}/{name}", value)

    @staticmethod
    def remembered(name: str, default):
        """A remembered value as the type of `default` (settings may give strings back)."""
        value = QgsSettings().value(f"{SETTINGS_PARAMETERS}/{name}", default)
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() == "true"
        try:
            return type(default)(value)
        except (TypeError, ValueError):
            return default

    def restore(self) -> None:
        """The values of the last session (a value out of range or unknown keeps the default)."""
        self._restoring = True
        try:
            for spin in (("top_k", self.top_k_spin), ("k", self.k_spin), ("bandwidth_km", self.bandwidth_spin),
                         ("density_resolution_deg", self.resolution_spin)):
                spin[1].setValue(self.remembered(spin[0], spin[1].value()))
            for name, combo in (("search", self.mode_combo), ("estimator", self.estimator_combo),
                                ("density_extent", self.extent_combo)):
                index = combo.findData(self.remembered(name, combo.currentData()))
                if index >= 0:
                    combo.setCurrentIndex(index)
            self.uncertainty_check.setChecked(self.remembered("uncertainty", True))
            self.density_check.setChecked(self.remembered("density", True))
            self.output_widget.setFilePath(self.remembered("raster_folder", ""))
        finally:
            self._restoring = False

    @staticmethod
    def forget() -> None:
        QgsSettings().remove(SETTINGS_PARAMETERS)

    # -- what can run now --------------------------------------------------------------------------

    def worldwide(self) -> bool:
        return self.mode_combo.currentData() == WORLDWIDE

    def worldwide_problem(self) -> str | None:
        """Why the worldwide search cannot run now (the GeoCLIP model or its packages); None when it can."""
        return self.dock.engine.model_problem("geoclip", self.dock.models_panel.folder)

    def geoclip_estimator_problem(self) -> str | None:
        database = self.dock.database
        if database is not None and database.architecture == "geoclip":
            return None
        return ("needs a reference database built with GeoCLIP (Feature model: GeoCLIP image encoder); "
                "without one, choose Search: Worldwide")

    def refresh_choices(self) -> None:
        """Enable the choices that can run now; the others are disabled and say what they need. A
        remembered choice that could not run is taken again once it can."""
        problems = {WORLDWIDE: self.worldwide_problem(), "geoclip": self.geoclip_estimator_problem()}
        self._restoring = True  # falling back is no choice of the user's: the remembered one is kept
        try:
            for combo, name, data, fallback in ((self.mode_combo, "search", WORLDWIDE, REFERENCES),
                                                (self.estimator_combo, "estimator", "geoclip", DEFAULT_ESTIMATOR)):
                index = combo.findData(data)
                combo.model().item(index).setEnabled(problems[data] is None)
                combo.setItemData(index, problems[data] or None, Qt.ItemDataRole.ToolTipRole)
                if problems[data] and combo.currentData() == data:
                    combo.setCurrentIndex(combo.findData(fallback))
                elif problems[data] is None and self.remembered(name, "") == data:
                    combo.setCurrentIndex(index)
        finally:
            self._restoring = False
        problem = problems[WORLDWIDE]
        self.worldwide_label.setText(f"<small>Worldwide: {problem}</small>" if problem else "")
        self.worldwide_label.setVisible(problem is not None)
        self._mode_changed()

    def _mode_changed(self, _index=None) -> None:
        """A worldwide run has no k, estimator, bandwidth or density; a search of references no top-k."""
        worldwide = self.worldwide()
        for widget in (self.k_spin, self.estimator_combo, self.bandwidth_spin, self.density_check,
                       self.resolution_spin, self.extent_combo, self.output_widget):
            widget.setEnabled(not worldwide)
        self.top_k_label.setVisible(worldwide)
        self.top_k_spin.setVisible(worldwide)
        self.dock.update_buttons()

    # -- requests ----------------------------------------------------------------------------------

    def locate_request(self, references: list[str], paths: list[str]) -> LocateRequest:
        first, *also = references
        return LocateRequest(
            database=first, also=also, photos=paths, k=self.k_spin.value(),
            estimator=self.estimator_combo.currentData(), bandwidth_km=self.bandwidth_spin.value(),
            temperature=self.temperature,
            density_resolution=self.resolution_spin.value() if self.density_check.isChecked() else None,
            density_world=self.extent_combo.currentData() == "world",
            models_dir=str(self.dock.models_panel.folder), packs_dir=str(self.dock.packs_panel.folder))

    def worldwide_request(self, paths: list[str]) -> WorldwideRequest:
        return WorldwideRequest(paths, self.top_k_spin.value(), str(self.dock.models_panel.folder))

    def density_folder(self) -> Path:
        chosen = self.output_widget.filePath()
        if chosen:
            return Path(chosen)
        home = QgsProject.instance().homePath()
        return Path(home) if home else Path.home() / "Photo Geolocator"
