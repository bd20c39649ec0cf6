"""About / diagnostics: what the engine needs, what is present, where things are; copyable."""

from __future__ import annotations

import platform
import sys

from qgis.core import Qgis
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QFontDatabase, QGuiApplication
from qgis.PyQt.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QPushButton, QVBoxLayout

from ..geoloc_core.defaults import PLUGIN_DIR
from .i18n import tr


def plugin_version() -> str:
    for line in (PLUGIN_DIR / "metadata.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("version="):
            return line.split("=", 1)[1].strip()
    return "unknown"


def running_python() -> str:
    """The Python QGIS runs: its installation (sys.base_prefix) and the program embedding it. Inside QGIS,
    sys.executable is whatever `python` the environment found first (a pyenv shim, say), not this one."""
    program = QCoreApplication.applicationFilePath()
    return f"installed in {sys.base_prefix}" + (f", run by {program}" if program else "")


def report(engine_label: str = "") -> str:
    from ..geoloc_core.service import describe_dependencies
    from .installer import packages_folder

    lines = [
        f"Photo Geolocator {plugin_version()} ({PLUGIN_DIR})",
        f"QGIS {Qgis.QGIS_VERSION}",
        f"Python {sys.version.split()[0]} ({running_python()}) on {platform.platform()}",
        f"Engine: {engine_label or 'QGIS own Python'}",
        f"Private package folder: {packages_folder()}",
        "",
        "Packages the engine needs (in QGIS's Python):",
        describe_dependencies(),
    ]
    return "\n".join(lines)


class DiagnosticsDialog(QDialog):
    def __init__(self, engine_label: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle(tr("Photo Geolocator: about and diagnostics"))
        self.resize(720, 420)
        layout = QVBoxLayout(self)
        self.text = QPlainTextEdit(report(engine_label), self)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        copy = QPushButton(tr("Copy details"), self)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText()))
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
