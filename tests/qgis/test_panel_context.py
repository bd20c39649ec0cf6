"""The panel's sections built on a PanelContext alone, with no dock: what one section changes reaches the
others through the context's signals and values (the open database, the engine, the chosen model, the
one task). A stand-in engine answers; nothing is read from ../shared."""

from __future__ import annotations

from qgis.core import Qgis


class StandInEngine:
    """What the sections ask of an engine between tasks."""

    label = "stand-in engine"

    def __init__(self, geoclip_problem: str | None = "the GeoCLIP model is not downloaded"):
        self.geoclip_problem = geoclip_problem
        self.closed = False

    def model_problem(self, name, models_dir):
        return self.geoclip_problem

    def close(self):
        self.closed = True


def geoclip_database(tmp_path, plugin_module):
    info = plugin_module("geoloc_core.service").DatabaseInfo
    return info(str(tmp_path / "geo.geoloc"), "geo", 42, "GeoCLIP image encoder", architecture="geoclip")


def test_sections_follow_the_database_and_engine_through_the_context(qgis_app, qgis_iface, plugin_module, tmp_path):
    context = plugin_module("ui.context").PanelContext(qgis_iface, StandInEngine())
    database_section = plugin_module("ui.database_section").DatabaseSection(context)
    options = plugin_module("ui.run_options").RunOptions(context)
    options.refresh_choices()
    estimators = options.estimator_combo
    geoclip = estimators.findData("geoclip")
    assert not estimators.model().item(geoclip).isEnabled(), "no GeoCLIP database is open"
    assert not options.mode_combo.model().item(options.mode_combo.findData("world")).isEnabled()

    heard = []
    context.databaseChanged.connect(heard.append)
    context.set_database(geoclip_database(tmp_path, plugin_module))
    assert heard and heard[-1].name == "geo"
    assert "<b>geo</b>: 42 photos" in database_section.label.text()
    assert "stand-in engine" in database_section.label.toolTip()
    assert estimators.model().item(geoclip).isEnabled(), "the options heard of the GeoCLIP database"

    first = context.engine
    context.switch_engine(StandInEngine(geoclip_problem=None))
    assert first.closed and context.database is None and heard[-1] is None
    assert database_section.label.text() == "No reference database is open yet."
    assert not estimators.model().item(geoclip).isEnabled()
    assert options.mode_combo.model().item(options.mode_combo.findData("world")).isEnabled(), \
        "the new engine can run worldwide: the options asked it"


def test_the_chosen_model_reaches_the_database_section_through_the_context(qgis_app, qgis_iface, plugin_module,
                                                                          tmp_path, monkeypatch):
    context = plugin_module("ui.context").PanelContext(qgis_iface, StandInEngine())
    models = plugin_module("ui.models_panel").ModelsPanel(context)
    models.folder = tmp_path / "models"  # nothing downloaded there
    assert context.models_dir == tmp_path / "models"
    models.model_combo.setCurrentIndex(0)  # the bundled network, whatever was remembered
    assert context.build_model_problem is None
    heard = []
    context.modelsChanged.connect(lambda: heard.append(context.build_model))
    clip = models.model_combo.findData("clip_vit_b32")
    models.model_combo.setCurrentIndex(clip)
    assert heard == ["clip_vit_b32"] and context.build_model_problem, "a model not downloaded cannot build"

    messages = []
    monkeypatch.setattr(qgis_iface.messageBar(), "pushMessage",
                        lambda title, text, level, duration: messages.append((text, level)))
    section = plugin_module("ui.database_section").DatabaseSection(context)
    section.build_database(str(tmp_path / "photos"), str(tmp_path / "new.geoloc"))
    assert context.task is None and messages == [(context.build_model_problem, Qgis.MessageLevel.Warning)]
    models.model_combo.setCurrentIndex(0)  # the remembered choice back to the bundled network


def test_one_task_at_a_time(qgis_app, qgis_iface, plugin_module, monkeypatch):
    context = plugin_module("ui.context").PanelContext(qgis_iface, StandInEngine())
    messages, states = [], []
    monkeypatch.setattr(qgis_iface.messageBar(), "pushMessage",
                        lambda title, text, level, duration: messages.append(text))
    context.stateChanged.connect(lambda: states.append(context.task is not None))
    context.task = object()  # a step is running
    assert context.busy() and "Another step is still running" in messages[0]
    context.task_done()
    assert not context.busy() and states == [False]
