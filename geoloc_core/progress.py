"""Progress reporting and cooperative cancellation shared by the engine's long-running steps.

A step takes an optional `progress` callable, called with a `Progress` after each unit of work; the
callable may raise `Cancelled` (or the step checks `should_stop`) to stop between units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

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

# What each stage is called where people read it (the panel's status line, Processing's log). Every
# stage a step reports has a name here (tests/engine/test_defects_engine.py checks); within a stage,
# `done` only grows, and a new stage starts from its own 0 under its own name.
STAGE_NAMES = {
    "load": "Loading the network",
    "hash": "Reading the photos",
    "embed": "Embedding the photos",
    "add": "Adding to the database",
    "index": "Indexing the database",
    "verify": "Verifying the database",
    "locate": "Locating",
    "density": "Computing the density",
    "gallery": "Preparing GeoCLIP's GPS gallery",
    "evaluate": "Evaluating",
    "train": "Training",
    "finetune": "Fine-tuning",
    "download": "Downloading",
    "install": "Installing",
    "pack": "Packing",
    "write": "Writing the results",
}


def stage_name(stage: str) -> str:
    """The words for a stage (an unnamed one by its identifier, never blank)."""
    return STAGE_NAMES.get(stage) or stage.replace("_", " ").capitalize() or "Working"


def describe(progress: Progress) -> str:
    """One line for a status bar: the stage's name, then the file (or the words) it is at."""
    name = stage_name(progress.stage)
    detail = PurePath(progress.message).name if progress.message else ""
    if detail.lower().startswith(name.lower()):  # the words already say the stage
        return detail[:1].upper() + detail[1:]
    return f"{name}: {detail}" if detail else name
StopCheck = Callable[[], bool]


class Cancelled(GeolocError):
    """Raised when the caller asked to stop; work committed before it stays committed."""


def report(progress: ProgressCallback | None, done: int, total: int, stage: str, message: str = "") -> None:
    if progress is not None:
        progress(Progress(done, total, stage, message))


def check_stop(should_stop: StopCheck | None) -> None:
    if should_stop is not None and should_stop():
        raise Cancelled("stopped at the user's request")
