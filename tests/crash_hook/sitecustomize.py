"""Put on PYTHONPATH (before the repository) by tests and bench/faults.py: with
GEOLOC_CORE_TEST_ABORT_AFTER=N, the engine's CLI calls os.abort() at its N-th progress event, a native
crash in the middle of a run, to check that its callers (the external engine route, the fault campaign)
survive one. Production code has no such hook."""

import os

_ABORT_AFTER = int(os.environ.get("GEOLOC_CORE_TEST_ABORT_AFTER", "0") or 0)

if _ABORT_AFTER:
    from geoloc_core import cli

    _report = cli.ProgressPrinter.__call__
    _events = [0]

    def _aborting(self, progress):
        _events[0] += 1
        if _events[0] == _ABORT_AFTER:
            os.abort()
        _report(self, progress)

    cli.ProgressPrinter.__call__ = _aborting
