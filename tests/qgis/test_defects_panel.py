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
