"""Thin QGIS glue: a menu entry and toolbar button toggling the dock, and the Processing provider.

Everything added in `initGui`/`initProcessing` is removed again in `unload`, so that
loading and unloading leaves QGIS as it was.
"""

from __future__ import annotations

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from .geoloc_core.defaults import PLUGIN_DIR
from .processing_provider.provider import PhotoGeolocatorProvider
from .ui.dock import PhotoGeolocatorDock
from .ui.i18n import install_translator, tr


class PhotoGeolocatorPlugin:
    """The object QGIS holds for this plugin."""

    def __init__(self, iface):
        self.iface = iface
        self.action: QAction | None = None
        self.diagnostics_action: QAction | None = None
        self.toolbar = None
        self.dock: PhotoGeolocatorDock | None = None
        self.provider: PhotoGeolocatorProvider | None = None
        self.translator = install_translator()
        self.menu_name = tr("&Photo Geolocator")  # worded once the translator is in

    def initProcessing(self):
        if self.provider is None:
            self.provider = PhotoGeolocatorProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):
        self.initProcessing()
        main_window = self.iface.mainWindow()
        self.dock = PhotoGeolocatorDock(self.iface, main_window)
        self.dock.setObjectName("PhotoGeolocatorDock")
        self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()

        self.action = QAction(QIcon(str(PLUGIN_DIR / "resources" / "icon.svg")), tr("Photo Geolocator"), main_window)
        self.action.setObjectName("PhotoGeolocatorToggleDock")
        self.action.setCheckable(True)
        self.action.setToolTip(tr("Show or hide the Photo Geolocator panel"))
        self.action.toggled.connect(self.dock.setVisible)
        self.dock.visibilityChanged.connect(self.action.setChecked)
        self.iface.addPluginToMenu(self.menu_name, self.action)
        self.diagnostics_action = QAction(tr("About / diagnostics…"), main_window)
        self.diagnostics_action.setObjectName("PhotoGeolocatorDiagnostics")
        self.diagnostics_action.triggered.connect(self.show_diagnostics)
        self.iface.addPluginToMenu(self.menu_name, self.diagnostics_action)
        self.toolbar = self.iface.addToolBar(tr("Photo Geolocator"))
        self.toolbar.setObjectName("PhotoGeolocatorToolbar")
        self.toolbar.addAction(self.action)

    def show_diagnostics(self):
        from .ui.diagnostics import DiagnosticsDialog

        DiagnosticsDialog(self.dock.engine.label if self.dock else "", self.iface.mainWindow()).exec()

    def unload(self):
        if self.translator is not None:
            QCoreApplication.removeTranslator(self.translator)
            self.translator = None
        for action in (self.action, self.diagnostics_action):
            if action is not None:
                self.iface.removePluginMenu(self.menu_name, action)
                action.deleteLater()
        self.action = self.diagnostics_action = None
        if self.toolbar is not None:
            self.iface.mainWindow().removeToolBar(self.toolbar)
            self.toolbar.deleteLater()
            self.toolbar = None
        if self.dock is not None:
            self.dock.shutdown()
            self.iface.removeDockWidget(self.dock)
            self.dock.setParent(None)
            self.dock.deleteLater()
            self.dock = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
