"""The panel's "Parameters" section: what a run searches (the reference database and ticked packs, or
worldwide with GeoCLIP's GPS gallery) and how (k, estimator, bandwidth, outputs). Every value is
remembered in the profile's settings and restored when the panel opens; a choice that cannot run now
(worldwide without the GeoCLIP model, an estimator whose requirements the database lacks: the registry's
EstimatorSpec.problem) is disabled and says what it needs."""

from __future__ import annotations

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
from ..geoloc_core.service import ESTIMATORS, LocateRequest, WorldwideRequest, estimator_spec, spin_range
from . import settings
from .i18n import tr
from .plain_text import plain_tooltip

REFERENCES, WORLDWIDE = "references", "world"  # what a run searches (the Search choice)


class RunOptions(QgsCollapsibleGroupBox):
    def __init__(self, context, parent=None):
        super().__init__(tr("Parameters"), parent)
        self.context = context
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow panel: fields under labels
        self.mode_combo = QComboBox(self)
        self.mode_combo.setObjectName("modeCombo")
        self.mode_combo.addItem(tr("The reference database and ticked packs"), REFERENCES)
        self.mode_combo.addItem(tr("Worldwide: GeoCLIP's GPS gallery (no database)"), WORLDWIDE)
        self.mode_combo.setToolTip(tr("Worldwide needs no reference database: GeoCLIP (downloaded under Feature "
                                      "model) scores each photo against 100,000 places of its GPS gallery"))
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
        self.top_k_spin.setToolTip(tr("How many of the gallery's most probable places are kept per photo (shown "
                                      "as its neighbours and measured for its uncertainty)"))
        form.addRow(self.top_k_label, self.top_k_spin)
        self.k_spin = QSpinBox(self)
        self.k_spin.setRange(*spin_range("k"))
        self.k_spin.setValue(DEFAULT_K)
        self.k_spin.setToolTip(tr("How many of the most similar reference photos vote on the location"))
        form.addRow(tr("Neighbours (k)"), self.k_spin)
        self.estimator_combo = QComboBox(self)
        for spec in sorted(ESTIMATORS, key=lambda e: e.name != DEFAULT_ESTIMATOR):  # the default first
            self.estimator_combo.addItem(f"{spec.name}: {tr(spec.label)}", spec.name)
        self.estimator_combo.setCurrentIndex(self.estimator_combo.findData(DEFAULT_ESTIMATOR))
        self.estimator_combo.setToolTip(tr(estimator_spec(DEFAULT_ESTIMATOR).help))
        self.estimator_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.estimator_combo.setMinimumContentsLength(14)
        form.addRow(tr("Estimator"), self.estimator_combo)
        self.bandwidth_spin = QDoubleSpinBox(self)
        self.bandwidth_spin.setRange(*spin_range("bandwidth_km"))
        self.bandwidth_spin.setDecimals(2)
        self.bandwidth_spin.setValue(DEFAULT_BANDWIDTH_KM)
        self.bandwidth_spin.setSuffix(tr(" km"))
        self.bandwidth_spin.setToolTip(tr("Size of each neighbour's kernel on the ground: small for a dense local "
                                          "collection (one site), large for a sparse worldwide one"))
        form.addRow(tr("Bandwidth"), self.bandwidth_spin)
        self.temperature = DEFAULT_TEMPERATURE
        self.uncertainty_check = QCheckBox(tr("Uncertainty circles (50% / 90%)"), self)
        self.uncertainty_check.setChecked(True)
        form.addRow(self.uncertainty_check)
        self.density_check = QCheckBox(tr("Density raster"), self)
        self.density_check.setChecked(True)
        self.density_check.setToolTip(tr("Write the kernel density as a GeoTIFF per photo (probability per km²)"))
        form.addRow(self.density_check)
        self.resolution_spin = QDoubleSpinBox(self)
        self.resolution_spin.setRange(*spin_range("density_resolution_deg"))
        self.resolution_spin.setDecimals(3)
        self.resolution_spin.setValue(DEFAULT_DENSITY_RESOLUTION_DEG)
        self.resolution_spin.setSuffix("°")
        self.resolution_spin.setSpecialValueText(tr("Auto (bandwidth / 8)"))  # shown at 0, the lowest value
        self.resolution_spin.setToolTip(tr("Cell size of the density raster in degrees (0.1° ≈ 11 km), given exactly; "
                                           "Auto: the bandwidth / 8 rounded down to 1, 2 or 5 (1° for 1000 km), "
                                           "the finest detail the density has"))
        form.addRow(tr("Raster resolution"), self.resolution_spin)
        self.extent_combo = QComboBox(self)
        self.extent_combo.addItem(tr("Around each prediction"), "around")
        self.extent_combo.addItem(tr("Whole world"), "world")
        form.addRow(tr("Raster extent"), self.extent_combo)
        self.output_widget = QgsFileWidget(self)
        self.output_widget.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.output_widget.setToolTip(tr("Where each run writes its GeoPackage (predictions, neighbours, circles, "
                                         "density). Empty: the saved project's folder, else a temporary folder"))
        form.addRow(tr("Results folder"), self.output_widget)

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
        for changed in (context.databaseChanged, context.engineChanged, context.modelsChanged):
            changed.connect(self.refresh_choices)

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
        for name, value in self._values().items():
            settings.set_value(settings.parameter(name), value)

    @staticmethod
    def remembered(name: str, default):
        """A remembered value as the type of `default` (settings may give strings back)."""
        value = settings.value(settings.parameter(name), default)
        if isinstance(default, bool):
            return value
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
        settings.remove(settings.PARAMETERS)

    # -- what can run now --------------------------------------------------------------------------

    def worldwide(self) -> bool:
        return self.mode_combo.currentData() == WORLDWIDE

    def worldwide_problem(self) -> str | None:
        """Why the worldwide search cannot run now (the GeoCLIP model or its packages); None when it can."""
        return self.context.engine.model_problem("geoclip", self.context.models_dir)

    def estimator_problems(self) -> dict[str, str | None]:
        """Why each estimator cannot run on the open database (what it needs); None where it can."""
        return {spec.name: spec.problem(self.context.database) for spec in ESTIMATORS}

    def refresh_choices(self) -> None:
        """Enable the choices that can run now; the others are disabled and say what they need. A
        remembered choice that could not run is taken again once it can."""
        choices = [(self.mode_combo, "search", WORLDWIDE, self.worldwide_problem(), REFERENCES)]
        choices += [(self.estimator_combo, "estimator", name, problem, DEFAULT_ESTIMATOR)
                    for name, problem in self.estimator_problems().items()]
        self._restoring = True  # falling back is no choice of the user's: the remembered one is kept
        try:
            for combo, setting, data, problem, fallback in choices:
                index = combo.findData(data)
                combo.model().item(index).setEnabled(problem is None)
                combo.setItemData(index, problem or None, Qt.ItemDataRole.ToolTipRole)
                if problem and combo.currentData() == data:
                    combo.setCurrentIndex(combo.findData(fallback))
                elif problem is None and self.remembered(setting, "") == data:
                    combo.setCurrentIndex(index)
        finally:
            self._restoring = False
        problem = choices[0][3]
        # one short line: the whole reason (folder, command) is the tooltip, not five lines of the panel
        notice = tr("<small>Worldwide needs the GeoCLIP model (hover for why)</small>")
        self.worldwide_label.setText(notice if problem else "")
        self.worldwide_label.setToolTip(plain_tooltip(problem) if problem else "")
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
        self.context.stateChanged.emit()

    # -- requests ----------------------------------------------------------------------------------

    def locate_request(self, references: list[str], paths: list[str], context=None) -> LocateRequest:
        """The run's request; `context` is the ContextRequest of the "Area and trip" section (None: none)."""
        first, *also = references
        return LocateRequest(
            database=first, also=also, photos=paths, k=self.k_spin.value(),
            estimator=self.estimator_combo.currentData(), bandwidth_km=self.bandwidth_spin.value(),
            temperature=self.temperature,
            density_resolution=self.resolution_spin.value() if self.density_check.isChecked() else None,
            density_world=self.extent_combo.currentData() == "world",
            models_dir=str(self.context.models_dir), packs_dir=str(self.context.packs_dir), context=context)

    def worldwide_request(self, paths: list[str]) -> WorldwideRequest:
        return WorldwideRequest(paths, self.top_k_spin.value(), str(self.context.models_dir))
