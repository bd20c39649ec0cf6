"""Keeping what the review decided beyond the run: the accepted and moved locations written into the
photos' EXIF GPS (an XMP sidecar where the format cannot hold it; the originals kept, a dry run listed
first; a write undone from the originals once what it would restore is listed), and the reviewed photos
added to the open reference database at their reviewed place, so that it grows with every batch. Each
runs as the panel's one task, through the engine (either route), from the GeoPackage the run's
predictions layer is stored in."""

from __future__ import annotations

from pathlib import Path

from qgis.core import Qgis, QgsProject, QgsProviderRegistry
from qgis.PyQt.QtWidgets import QFileDialog, QMessageBox, QPushButton, QVBoxLayout, QWidget

from ..geoloc_core.service import REVIEWED_STATUSES, AddReviewedRequest, WriteGpsRequest
from .i18n import tr

LISTED_LINES = 12  # of a dry run, shown in the question; all of them under "Show Details…"


def layer_geopackage(layer) -> str | None:
    """The GeoPackage file a vector layer is stored in, or None (a memory layer)."""
    if layer.providerType() != "ogr":
        return None
    path = QgsProviderRegistry.instance().decodeUri("ogr", layer.source()).get("path", "")
    return path if path.lower().endswith(".gpkg") else None


def reviewed_count(layer) -> int:
    """Photos whose reviewed location would be written or added (accepted or moved)."""
    return sum(1 for f in layer.getFeatures() if f["review_status"] in REVIEWED_STATUSES)


class ReviewOutputs(QWidget):
    """The buttons; `current()` gives the run and its predictions layer (None, None without one)."""

    def __init__(self, context, current, parent=None):
        super().__init__(parent)
        self.context = context
        self.current = current
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.write_button = QPushButton(tr("Write GPS to photos…"), self)
        self.write_button.setToolTip(tr("Write the accepted and moved locations into the photos' EXIF GPS (an XMP "
                                        "sidecar for HEIC and formats that cannot hold it), keeping each original as "
                                        "<name>_original. What would change is listed first."))
        self.write_button.clicked.connect(lambda: self.write_gps())
        self.undo_button = QPushButton(tr("Undo GPS write…"), self)
        self.undo_button.setToolTip(tr("Put back the photos the GPS write changed, from the originals it kept, and "
                                       "remove the sidecars it made. What would be restored is listed first."))
        self.undo_button.clicked.connect(lambda: self.undo_gps())
        self.add_button = QPushButton(tr("Add reviewed photos to database…"), self)
        self.add_button.setToolTip(tr("Add the accepted and moved photos to the open reference database at their "
                                      "reviewed location, marked as analyst-reviewed"))
        self.add_button.clicked.connect(lambda: self.add_to_database())
        layout.addWidget(self.write_button)
        layout.addWidget(self.undo_button)
        layout.addWidget(self.add_button)
        context.stateChanged.connect(self.update_buttons)
        context.databaseChanged.connect(self.update_buttons)
        self.update_buttons()

    def update_buttons(self) -> None:
        _, layer = self.current()
        ready = layer is not None and self.context.task is None
        self.write_button.setEnabled(ready)
        self.undo_button.setEnabled(ready and layer_geopackage(layer) is not None)  # the undo list is beside it
        self.add_button.setEnabled(ready and self.context.database is not None)

    # -- the results file --------------------------------------------------------------------------

    def results_file(self, choose_path=None) -> str | None:
        """The GeoPackage holding the review: the predictions layer's own, or, for a run whose layers live
        in memory or in the session's temporary folder, a GeoPackage the run is kept in first (`choose_path()`
        asks where; None: cancelled): the undo list of a write goes beside it, and a temporary folder is
        removed after QGIS closes while the written photos stay."""
        run, layer = self.current()
        if layer is None or not self._reviewed_any(layer):
            return None
        if layer.isModified():
            self.context.message(tr("Save or discard your edits of {} first: the photos get what is saved.")
                                 .format(layer.name()), Qgis.MessageLevel.Warning)
            return None
        stored = layer_geopackage(layer)
        if stored and not getattr(run, "temporary", False):
            return stored
        path = (choose_path or self._choose_path)()
        if not path:
            return None
        from .results import export_run
        from .tasks import failure_message

        try:
            export_run(run, QgsProject.instance(), path)
        except Exception as exc:
            self.context.message(tr("Export failed: {}").format(failure_message(exc)), Qgis.MessageLevel.Critical, 0)
            return None
        return path

    def _reviewed_any(self, layer) -> bool:
        if reviewed_count(layer):
            return True
        self.context.message(tr("No photo is accepted or moved yet: review some first."), Qgis.MessageLevel.Warning)
        return False

    def _choose_path(self) -> str | None:
        from .results import suggested_export_name

        run, _layer = self.current()
        suggested = Path(self.context.start_folder()) / suggested_export_name(run) if run is not None else None
        path, _ = QFileDialog.getSaveFileName(self, tr("Save the reviewed run as a GeoPackage"),
                                              str(suggested or self.context.start_folder()),
                                              tr("GeoPackage (*.gpkg)"))
        if not path:
            return None
        self.context.remember_folder(path)
        return path if path.endswith(".gpkg") else path + ".gpkg"

    # -- writing GPS -------------------------------------------------------------------------------

    def write_gps(self, confirm=None, choose_path=None) -> bool:
        """List what would be written (a dry run, as a task), then write it once `confirm(report)` (by
        default a question listing the changes) says yes. False when it did not start."""
        if self.context.busy():
            return False
        results = self.results_file(choose_path)
        if results is None:
            return False
        engine = self.context.engine

        def dry_run(progress, should_stop):
            return engine.run(WriteGpsRequest(results, dry_run=True), progress, should_stop)

        self.context.run_task(tr("Checking what would be written into the photos"), dry_run,
                              lambda task: self._checked(task, results, confirm or self._confirm_write))
        return True

    def _checked(self, task, results: str, confirm) -> None:
        self.context.task_done()
        if task.error or task.result is None:
            self.context.message(tr("Writing GPS failed: {}").format(task.error or tr("cancelled")),
                                 Qgis.MessageLevel.Critical, 0)
            return
        report = task.result
        if not report.count("would write"):
            self.context.message(tr("No photo can be written: {}").format(
                "; ".join(row.line() for row in report.rows) or report.summary()), Qgis.MessageLevel.Warning, 0)
            return
        if not confirm(report):
            return
        engine = self.context.engine

        def write(progress, should_stop):
            return engine.run(WriteGpsRequest(results), progress, should_stop)

        self.context.run_task(tr("Writing GPS into {} photos").format(report.count("would write")), write,
                              self._written)

    def _confirm_write(self, report) -> bool:
        return self._ask_with_list(tr("Write GPS to photos"), tr("{}.\nWrite it now? Each original is kept as "
                                                                  "<name>_original.").format(report.summary()), report)

    def _ask_with_list(self, title: str, question: str, report) -> bool:
        """A yes/no question above the report's first lines (all of them under Show Details)."""
        lines = [row.line() for row in report.rows]
        shown = "\n".join(lines[:LISTED_LINES] + (["…"] if len(lines) > LISTED_LINES else []))
        box = QMessageBox(QMessageBox.Icon.Question, title, question,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setInformativeText(shown)
        box.setDetailedText("\n".join(lines))
        return box.exec() == QMessageBox.StandardButton.Yes

    def _written(self, task) -> None:
        self._report_done(task, tr("Writing GPS failed: {}"))

    def _report_done(self, task, failed: str) -> None:
        """The write's or the undo's report in one message: its summary, the photos skipped, the undo list."""
        self.context.task_done()
        if task.error or task.result is None:
            self.context.message(failed.format(task.error or tr("cancelled")), Qgis.MessageLevel.Critical, 0)
            return
        report = task.result
        skipped = [row.line() for row in report.rows if row.outcome == "skipped"]
        level = Qgis.MessageLevel.Warning if skipped else Qgis.MessageLevel.Success
        self.context.message("; ".join([report.summary(), *skipped]) +
                             (tr(" (undo list: {})").format(report.undo_list) if report.undo_list else ""), level, 0)

    # -- undoing the GPS write ---------------------------------------------------------------------

    def undo_gps(self, confirm=None) -> bool:
        """List what undoing the GPS written for the run's GeoPackage would restore (a dry run, as a task),
        then undo it once `confirm(report)` (by default a question listing it) says yes. False when it did
        not start."""
        if self.context.busy():
            return False
        _, layer = self.current()
        results = layer_geopackage(layer) if layer is not None else None
        if results is None:
            self.context.message(tr("The run is kept in no GeoPackage, so no GPS was written from it."),
                                 Qgis.MessageLevel.Warning)
            return False
        engine = self.context.engine

        def dry_run(progress, should_stop):
            return engine.run(WriteGpsRequest(results, undo=True, dry_run=True), progress, should_stop)

        self.context.run_task(tr("Checking what undoing the GPS write would restore"), dry_run,
                              lambda task: self._undo_checked(task, results, confirm or self._confirm_undo))
        return True

    def _undo_checked(self, task, results: str, confirm) -> None:
        self.context.task_done()
        if task.error or task.result is None:
            self.context.message(tr("Undoing the GPS write failed: {}").format(task.error or tr("cancelled")),
                                 Qgis.MessageLevel.Warning, 0)
            return
        report = task.result
        if not report.count("would restore") + report.count("would remove"):
            self.context.message(tr("Nothing can be restored: {}").format(
                "; ".join(row.line() for row in report.rows) or report.summary()), Qgis.MessageLevel.Warning, 0)
            return
        if not confirm(report):
            return
        engine = self.context.engine

        def undo(progress, should_stop):
            return engine.run(WriteGpsRequest(results, undo=True), progress, should_stop)

        self.context.run_task(tr("Undoing the GPS write"), undo, self._undone)

    def _confirm_undo(self, report) -> bool:
        return self._ask_with_list(tr("Undo GPS write"), tr(
            "{}.\nRestore them now? Each photo gets its kept original back, and the sidecars the write made are "
            "removed.").format(report.summary()), report)

    def _undone(self, task) -> None:
        self._report_done(task, tr("Undoing the GPS write failed: {}"))

    # -- adding to the database --------------------------------------------------------------------

    def add_to_database(self, confirm=None, choose_path=None) -> bool:
        """Add the accepted and moved photos to the open database (as a task), once `confirm(count, name)`
        (by default a question) says yes. False when it did not start."""
        database = self.context.database
        if database is None:
            self.context.message(tr("Open the reference database to add the reviewed photos to first."),
                                 Qgis.MessageLevel.Warning)
            return False
        if self.context.busy():
            return False
        results = self.results_file(choose_path)
        if results is None:
            return False
        _, layer = self.current()
        count, name = reviewed_count(layer), Path(database.path).name
        ask = confirm or (lambda n, target: QMessageBox.question(
            self, tr("Add reviewed photos to database"),
            tr("Add {} accepted or moved photos to {} at their reviewed location?").format(n, target))
            == QMessageBox.StandardButton.Yes)
        if not ask(count, name):
            return False
        engine, path, models = self.context.engine, database.path, str(self.context.models_dir)

        def add(progress, should_stop):
            report = engine.run(AddReviewedRequest(results, path, models_dir=models), progress, should_stop)
            return report, engine.open(path)  # the panel shows the database as it is now

        self.context.run_task(tr("Adding {} reviewed photos to {}").format(count, name), add, self._added)
        return True

    def _added(self, task) -> None:
        self.context.task_done()
        if task.error or task.result is None:
            self.context.message(tr("Adding the reviewed photos failed: {}").format(task.error or tr("cancelled")),
                                 Qgis.MessageLevel.Critical, 0)
            return
        report, info = task.result
        self.context.set_database(info)
        problems = [f"{Path(s.path).name}: {s.reason}" for s in report.skipped + report.failed]
        self.context.message("; ".join([tr("Added {} reviewed photos to {} ({} already in it)").format(
            report.added, Path(info.path).name, report.already_present), *problems]),
            Qgis.MessageLevel.Warning if problems else Qgis.MessageLevel.Success, 0)
