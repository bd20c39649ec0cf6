"""The QGIS side's seams, checked in the source: the panel reaches the engine only through its service
layer, the sections never hold the dock or each other, every settings key lives in ui/settings.py, and
no user-visible text literal reaches Qt, the message bar or Processing without tr()."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UI = REPO / "ui"
# the engine modules the QGIS glue in ui/ may import: the service and the light modules its requests,
# outcomes and failures are made of (progress: the Progress/Cancelled protocol a task reports through)
SERVICE_LEVEL = {"service", "defaults", "results", "errors", "progress"}
SECTIONS = {"setup_section", "database_section", "packs_panel", "models_panel", "results_section"}  # the
# dock's names for them (its photos and options sections too, names too common to scan for)

# calls whose text arguments the user reads, and which of their positional arguments are text (None: all)
TEXT_CALLS = {
    "setText": None, "setToolTip": None, "setWindowTitle": None, "setTitle": None, "setPlaceholderText": None,
    "setStatusTip": None, "setWhatsThis": None, "setSuffix": None, "setPrefix": None, "setLabelText": None,
    "setHorizontalHeaderLabels": None, "addItem": (0,), "addAction": (0,), "insertItem": (1,),
    "pushMessage": (0, 1), "pushInfo": None, "pushWarning": None, "pushCritical": None, "pushSuccess": None,
    "pushFormattedMessage": None, "reportError": (0,), "setProgressText": None, "createMessage": None,
    "message": (0,), "question": (1, 2), "warning": (1, 2), "information": (1, 2), "critical": (1, 2),
    "getText": (1, 2), "getOpenFileName": (1, 3), "getOpenFileNames": (1, 3), "getSaveFileName": (1, 3),
    "getExistingDirectory": (1,), "addToolBar": None,
    "QLabel": (0,), "QPushButton": (0,), "QCheckBox": (0,), "QRadioButton": (0,), "QToolButton": (0,),
    "QAction": (1,), "QListWidgetItem": (0,), "QTableWidgetItem": (0,), "QGroupBox": (0,),
    "QgsCollapsibleGroupBox": (0,), "QgsProcessingException": (0,),
}
PROCESSING_TEXT_METHODS = {"displayName", "group", "shortHelpString", "longName", "shortDescription"}


def python_files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in ([root] if root.is_file() else root.rglob("*.py")))


def engine_imports(path: Path) -> set[str]:
    """The geoloc_core modules a ui/ module imports (relative imports from the plugin package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and "geoloc_core" in node.module.split("."):
            parts = node.module.split(".")
            below = parts[parts.index("geoloc_core") + 1:]
            found |= {below[0]} if below else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("geoloc_core.")}
    return found


def test_ui_reaches_the_engine_only_through_the_service():
    wrong = {str(p.relative_to(REPO)): sorted(engine_imports(p) - SERVICE_LEVEL) for p in python_files(UI)}
    assert {path: modules for path, modules in wrong.items() if modules} == {}


def test_the_import_scan_sees_engine_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from ..geoloc_core.packs import remove\nfrom ..geoloc_core import dependencies\n"
                      "def f():\n    from ..geoloc_core.service import utc_now\n", encoding="utf-8")
    assert engine_imports(module) == {"packs", "dependencies", "service"}


def test_sections_hold_neither_the_dock_nor_each_other():
    for path in python_files(UI):
        if path.name == "dock.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute):
                assert node.attr != "dock" and node.attr not in SECTIONS, \
                    f"{_where(path)}:{node.lineno} reaches .{node.attr}; use the PanelContext"


def test_settings_are_read_and_written_in_one_module():
    for path in python_files(UI, REPO / "plugin.py", REPO / "layers.py", REPO / "profile_data.py",
                             REPO / "processing_provider"):
        if path == UI / "settings.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "QgsSettings" not in text, f"{path.relative_to(REPO)} uses QgsSettings; use ui/settings.py"


# -- texts through tr() ------------------------------------------------------------------------------

def _has_words(text: str) -> bool:
    return bool(re.search(r"[A-Za-z]", re.sub(r"<[^>]*>", "", text)))  # markup alone is no text


def untranslated(node: ast.AST) -> bool:
    """Whether an argument is (or builds on) a string literal with words that no tr() call wraps."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and _has_words(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(untranslated(part) for part in node.values)
    if isinstance(node, ast.FormattedValue):
        return untranslated(node.value)
    if isinstance(node, ast.BinOp):
        return untranslated(node.left) or untranslated(node.right)
    if isinstance(node, ast.IfExp):
        return untranslated(node.body) or untranslated(node.orelse)
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id == "tr" or \
                isinstance(node.func, ast.Attribute) and node.func.attr == "tr":
            return False
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
            return untranslated(node.func.value)
    return False


def _where(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else path.name


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def untranslated_texts(path: Path) -> list[str]:
    """`file:line call` for each user-visible literal passed to a text call, or returned by a Processing
    algorithm's name or help method, without tr()."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if name == "__init__" and isinstance(node.func, ast.Attribute) and \
                    isinstance(node.func.value, ast.Call) and _call_name(node.func.value) == "super":
                positions = (0,)  # a dock's, group box's or task's title
            elif name in TEXT_CALLS:
                positions = TEXT_CALLS[name]
            elif name and name.startswith("QgsProcessingParameter"):
                positions = (1,)  # (name, description, ...): the name is an identifier
            else:
                continue
            arguments = [a for i, a in enumerate(node.args) if positions is None or i in positions]
            arguments += [k.value for k in node.keywords if k.arg in ("description", "text", "title", "message")]
            if any(untranslated(argument) for argument in arguments):
                found.append(f"{_where(path)}:{node.lineno} {name}")
        elif isinstance(node, ast.FunctionDef) and node.name in PROCESSING_TEXT_METHODS:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None and untranslated(inner.value):
                    found.append(f"{_where(path)}:{inner.lineno} {node.name}")
    return found


def test_every_visible_text_goes_through_tr():
    found = [line for path in python_files(UI, REPO / "plugin.py", REPO / "processing_provider")
             for line in untranslated_texts(path)]
    assert found == []


def test_the_text_scan_finds_untranslated_literals(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "button.setToolTip('Open it')\n"  # 1: found
        "bar.pushMessage(tr('Title'), f'{n} photos', level)\n"  # 2: found (the f-string's words)
        "label.setText(tr('{} photos').format(n))\n"  # translated
        "label.setText(f'<small>{text}</small>')\n"  # markup only
        "combo.addItem(tr('Sphere'), 'sphere')\n"  # the item's data is no text
        "QgsProcessingParameterNumber('K', 'Neighbours (k)')\n"  # 6: found
        "class A:\n    def displayName(self):\n        return 'Locate photos'\n",  # 9: found
        encoding="utf-8")
    assert [line.split(":")[1].split()[0] for line in untranslated_texts(module)] == ["1", "2", "6", "9"]


def test_processing_names_and_help_reach_the_translation_template():
    import importlib.util

    spec = importlib.util.spec_from_file_location("update_translations", REPO / "scripts" / "update_translations.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    tree = ast.parse('INTRO = "<p>Shared.</p>"\n'
                     'class A:\n    NAME, DISPLAY = "a", "Do A"\n    HELP = "<p>About A.</p>" + INTRO\n    OTHER = "x"\n')
    assert script.attribute_texts(tree) == ["Do A", "<p>About A.</p><p>Shared.</p>"]
    template = (REPO / "i18n" / "photo_geolocator.ts").read_text(encoding="utf-8")
    assert "<source>Geolocate photos</source>" in template, "an algorithm's display name is in the template"
