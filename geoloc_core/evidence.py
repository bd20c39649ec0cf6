"""Evidence sources: what places a photo. The locator gathers one batch of photos (each with its ranked
neighbours, a PhotoCase), then every registered source, stage by stage, contributes to the batch: it may
decide a photo's location (a Finding, naming the source in the result's `evidence` field), revise one
that another source decided, or reshape what later sources read. Today one source decides every photo:
"pixels", the neighbours' density with the chosen estimator. Sources that know more plug in at a stage:

- "references": before any photo is decided, change what its neighbours say (an area of interest
  that drops or down-weights references outside it edits each case's neighbourhood);
- "photo": decide each photo alone ("pixels");
- "known": decide photos whose place is known from outside (a photo of the batch with EXIF GPS, a GPS
  track interpolated at the capture time), replacing what the pixels said;
- "joint": revise the batch's photos together (a pass over a time-ordered stream).

The interface is written down, with the table of sources, in docs/estimators.md.

The context's evidence (area, anchor, track, stream: geoloc_core/context/run.py) is not registered here,
on purpose: an area replaces the reference search itself (exact, prefiltered) rather than editing a
neighbourhood already found, and anchors, tracks and streams revise answers across the whole run (a
stream spans many of the locator's batches, which reach the stages one at a time). As sources they
would be wrappers that ContextRun calls anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from .progress import StopCheck, check_stop
from .registry import Registry

if TYPE_CHECKING:
    from .estimator_registry import Neighbourhood
    from .estimators import Estimate
    from .results import Record

STAGES = ("references", "photo", "known", "joint")  # the order sources contribute in
PIXELS = "pixels"


class RunOptions(Protocol):
    """What sources read of the run's options (locate.LocateOptions)."""

    estimator: str


@dataclass
class PhotoCase:
    """What is known about one photo of a batch: its ranked neighbours' records and what the estimators
    read of them."""

    photo: str
    references: list[Record]
    neighbourhood: Neighbourhood


@dataclass(frozen=True)
class Finding:
    """A photo's location and the source that decided it."""

    estimate: Estimate
    evidence: str


@dataclass
class EvidenceBatch:
    """The photos located together, the run's options, and each photo's finding so far (None: undecided)."""

    cases: list[PhotoCase]
    options: RunOptions
    should_stop: StopCheck | None = None
    findings: list[Finding | None] = field(default_factory=list)

    def __post_init__(self):
        if not self.findings:
            self.findings = [None] * len(self.cases)

    def undecided(self) -> list[int]:
        return [i for i, finding in enumerate(self.findings) if finding is None]

    def decide(self, index: int, estimate: Estimate, source: str) -> None:
        self.findings[index] = Finding(estimate, source)


@dataclass(frozen=True)
class EvidenceSource:
    name: str
    label: str
    help: str
    stage: str
    contribute: Callable[[EvidenceBatch], None]


SOURCES: Registry[EvidenceSource] = Registry("evidence source")


def register_source(name: str, label: str, help: str, stage: str):
    """Decorator: register `contribute(batch)` as the evidence source `name`, run at `stage`."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage '{stage}'; choose one of {', '.join(STAGES)}")

    def register(contribute: Callable[[EvidenceBatch], None]) -> Callable[[EvidenceBatch], None]:
        SOURCES.register(EvidenceSource(name, label, help, stage, contribute))
        return contribute

    return register


def weigh(batch: EvidenceBatch, sources: Registry[EvidenceSource] = SOURCES) -> list[Finding]:
    """Run every source over the batch, stage by stage (registration order within a stage); every photo
    ends decided."""
    for stage in STAGES:
        for source in sources:
            if source.stage == stage:
                source.contribute(batch)
    undecided = batch.undecided()
    if undecided:  # "pixels" decides every photo: a source that took a decision back broke the contract
        raise RuntimeError(f"no evidence source decided {batch.cases[undecided[0]].photo}")
    return batch.findings


@register_source(
    PIXELS, "the neighbours' density",
    "What the photo looks like: its k most similar reference photos, their locations weighed by the chosen "
    "estimator. Decides every photo no other source placed.", "photo")
def pixels(batch: EvidenceBatch) -> None:
    from .estimator_registry import estimate_neighbourhood

    for index in batch.undecided():
        check_stop(batch.should_stop)
        batch.decide(index, estimate_neighbourhood(batch.options.estimator, batch.cases[index].neighbourhood), PIXELS)
