"""Panel defects found walking it as a new user would, each pinned by a test: the external engine's
leaked pipes, a database whose folder disappears, the coverage layer's map tip, the model check before
the build's dialogs, the worldwide notice, progress stage names, field aliases and plural wording."""

from __future__ import annotations

import gc
import html
import re
import shutil
import sys
import time
import warnings

import pytest

from .conftest import wait_until_idle


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


def tiny_database(folder, embedder):
    """A 6-photo database of random pictures, built with the tiny random embedder."""
    from geoloc_core.ingest import build_database
    from geoloc_core.sources import Candidate

    from ..conftest import make_photos

    photos = make_photos(folder / "references", 6)
    database, _ = build_database(folder / "gone.geoloc", [Candidate(p, 40.0 + i, -3.0 + i) for i, p in
                                                          enumerate(photos)], embedder)
    database.close()
    return folder / "gone.geoloc"


def process_until(qgis_app, condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        qgis_app.processEvents()
        time.sleep(0.02)
    return condition()


def test_a_deleted_database_is_said_gone_is_no_longer_searched_and_leaves_recent(
        dock, qgis_app, qgis_iface, tiny_embedder, tmp_path):
    path = tiny_database(tmp_path, tiny_embedder)
    section = dock.database_section
    section.open_database(path)
    wait_until_idle(dock, qgis_app)
    assert dock.database is not None and str(path) in section.recent_databases()
    assert str(path) in dock.reference_paths()

    shutil.rmtree(path)
    assert process_until(qgis_app, lambda: dock.database is None), "the panel still shows a deleted database"
    text = section.label.text()
    assert "gone" in text and "deleted or moved" in text and "6 photos" not in text
    assert str(path) not in dock.reference_paths()
    assert dock.run_button.isEnabled() == bool(dock.packs_panel.checked_paths()), "Locate is offered for it"
    assert str(path) not in section.recent_databases()
    assert not section.add_refs_button.isEnabled() and not section.coverage_button.isEnabled()


def test_recent_shows_a_missing_database_as_missing_and_can_remove_it(dock, tmp_path):
    from qgis.PyQt.QtWidgets import QAction

    section = dock.database_section
    present = tmp_path / "here.geoloc"
    present.mkdir()
    missing = str(tmp_path / "elsewhere.geoloc")
    section._remember(missing)
    section._remember(str(present))
    section._fill_recent_menu()
    actions = {a.text(): a for a in section.recent_menu.actions() if isinstance(a, QAction) and a.text()}
    assert actions[str(present)].isEnabled()
    assert not actions[f"{missing} (missing)"].isEnabled()
    actions["Remove the missing databases from this list"].trigger()
    assert missing not in section.recent_databases() and str(present) in section.recent_databases()


def map_tip_columns(template: str) -> set[str]:
    """The fields the [% ... %] expressions of a map tip read."""
    from qgis.core import QgsExpression

    columns = set()
    for expression in re.findall(r"\[%(.*?)%\]", template, re.S):
        parsed = QgsExpression(expression)
        assert not parsed.hasParserError(), (expression, parsed.parserErrorString())
        columns |= set(parsed.referencedColumns())
    return columns


def test_the_coverage_layers_map_tip_reads_its_own_fields(dock, qgis_app, tiny_embedder, tmp_path):
    from qgis.core import QgsExpression, QgsExpressionContext, QgsExpressionContextUtils, QgsProject

    path = tiny_database(tmp_path, tiny_embedder)
    dock.database_section.open_database(path)
    wait_until_idle(dock, qgis_app)
    dock.database_section.show_coverage()
    wait_until_idle(dock, qgis_app)
    layer = next(layer for layer in QgsProject.instance().mapLayers().values()
                 if layer.name() == "References of gone")
    template = layer.mapTipTemplate()
    assert template and map_tip_columns(template) <= set(layer.fields().names()), template
    feature = next(layer.getFeatures())
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    context.setFeature(feature)
    shown = QgsExpression.replaceExpressionText(template, context)
    assert "[%" not in shown and feature["path"] in shown


def test_every_style_map_tip_reads_fields_its_table_has(plugin_module):
    schema = plugin_module("geoloc_core.schema")
    styles = plugin_module("ui.results").STYLES
    tables = {"predictions": schema.PREDICTION_FIELDS, "neighbours": schema.NEIGHBOUR_FIELDS,
              "uncertainty": schema.UNCERTAINTY_FIELDS, "references": schema.REFERENCE_FIELDS}
    for role, fields in tables.items():
        text = (styles / f"{role}.qml").read_text(encoding="utf-8")
        template = html.unescape(re.search(r"<mapTip>(.*?)</mapTip>", text, re.S).group(1))
        assert map_tip_columns(template) <= set(schema.names(fields)), role


def test_result_layers_show_units_and_meaning_after_their_style_is_loaded(plugin_module):
    layers = plugin_module("layers")
    results = plugin_module("ui.results")
    expected = {"predictions": {"radius50_km": "50% radius (km)", "lat": "Latitude (°)"},
                "neighbours": {"similarity": "Similarity (cosine)"},
                "references": {"path": "Photo"}}
    for role, fields in (("predictions", layers.PREDICTIONS), ("neighbours", layers.NEIGHBOURS),
                         ("references", layers.REFERENCES)):
        layer = results.memory_layer("Point", role, fields, [])
        layer.loadNamedStyle(str(results.STYLES / f"{role}.qml"))
        shown = {layer.fields().at(i).name(): layer.attributeDisplayName(i) for i in range(layer.fields().count())}
        for name, alias in expected[role].items():
            assert shown[name] == alias, (role, name, shown[name])
        for name, alias in shown.items():
            assert alias != name, f"{role}.{name} has no alias"
            assert layer.fields().field(name).comment(), f"{role}.{name} has no comment"
    distance = dict(zip(layers.NEIGHBOURS.names(), [f.alias() for f in layers.NEIGHBOURS]))["embedding_distance"]
    assert "feature space" in distance


def test_the_status_line_names_each_stage_of_a_step(dock, plugin_module):
    progress = plugin_module("geoloc_core.progress")
    events = [progress.Progress(2, 2, "hash", "/photos/b.jpg"), progress.Progress(0, 2, "embed"),
              progress.Progress(1, 2, "embed", "/photos/a.jpg"), progress.Progress(0, 100, "index", "")]

    def work(report, should_stop):
        for event in events:
            report(event)
        return True

    task = plugin_module("ui.tasks").EngineTask("build", work, lambda task: None)
    shown = []
    task.progressed.connect(lambda done, total, message: dock._on_progress(done, total, message) or
                            shown.append((dock.progress_bar.value(), dock.status_label.text())))
    assert task.run()
    assert shown == [(100, "Reading the photos: b.jpg (2 / 2)"), (0, "Embedding the photos (0 / 2)"),
                     (50, "Embedding the photos: a.jpg (1 / 2)"), (0, "Indexing the database (0 / 100)")]


def test_locating_one_photo_says_photo_not_photos(dock, qgis_app, tmp_path, monkeypatch):
    from ..conftest import make_photos

    started = []
    monkeypatch.setattr(dock.context, "run_task", lambda description, work, done: started.append(description))
    monkeypatch.setattr(type(dock), "reference_paths", lambda self: [str(tmp_path / "any.geoloc")])
    photos = make_photos(tmp_path / "photos", 2)
    dock.photos.add_photos([str(photos[0])])
    wait_until_idle(dock, qgis_app)
    dock.start_run()
    dock.photos.add_photos([str(photos[1])])
    wait_until_idle(dock, qgis_app)
    dock.start_run()
    assert started == ["Locating 1 photo", "Locating 2 photos"]


def test_folders_named_to_the_user_are_the_running_profiles_not_the_default_ones(
        dock, qgis_app, qgis_iface, plugin_module, tmp_path, monkeypatch):
    from pathlib import Path

    from qgis.core import Qgis, QgsApplication

    profile = plugin_module("profile_data")
    default_packs = plugin_module("geoloc_core.packs").default_packs_dir()
    running = Path(QgsApplication.qgisSettingsDirPath())
    assert profile.data_dir().parent == running != default_packs.parent.parent, "the test needs another profile"
    assert (dock.context.packs_dir, dock.context.models_dir) == (profile.packs_dir(), profile.models_dir())

    # the command a model's notice gives downloads where this profile's panel looks
    dock.options.refresh_choices()
    assert f"download-model geoclip --models-dir {profile.models_dir()}" in dock.options.worldwide_label.toolTip()

    # a pack that is not installed: the error says where this profile's packs are
    from ..conftest import make_photos

    monkeypatch.setattr(type(dock), "reference_paths", lambda self: ["no-such-pack"])
    dock.photos.add_photos([str(make_photos(tmp_path / "photos", 1)[0])])
    wait_until_idle(dock, qgis_app)
    dock.start_run()
    wait_until_idle(dock, qgis_app)
    errors = [m for m in qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Critical) if "no-such-pack" in m]
    assert errors and str(profile.packs_dir()) in errors[-1] and str(default_packs) not in errors[-1], errors


def test_the_results_table_says_units_and_that_similarity_is_no_ground_distance(dock):
    table = dock.results_section.results_table
    header = {table.horizontalHeaderItem(c).text(): table.horizontalHeaderItem(c).toolTip()
              for c in range(table.columnCount())}
    assert {"Lat (°)", "Lon (°)", "50% (km)", "90% (km)", "Error vs EXIF GPS (km)"} <= set(header)
    assert "km" in header["50% (km)"] and "750 km" in header["Confidence"]
    assert "not a distance on the ground" in header["Best match similarity"]
    assert not [title for title in header if "distance" in title.lower()]
