"""Progress reporting and cooperative cancellation shared by the engine's long-running steps.

A step takes an optional `progress` callable, called with a `Progress` after each unit of work; the
callable may raise `Cancelled` (or the step checks `should_stop`) to stop between units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import GeolocError


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    stage: str
    message: str = ""

    def as_dict(self) -> dict:
        return {"done": self.done, "total": self.total, "stage": self.stage, "message": self.message}


ProgressCallback = Callable[[Progress], None]
StopCheck = Callable[[], bool]


class Cancelled(GeolocError):
    """Raised when the caller asked to stop; work committed before it stays committed."""


def report(progress: ProgressCallback | None, done: int, total: int, stage: str, message: str = "") -> None:
    if progress is not None:
        progress(Progress(done, total, stage, message))


def check_stop(should_stop: StopCheck | None) -> None:
    if should_stop is not None and should_stop():
        raise Cancelled("stopped at the user's request")
