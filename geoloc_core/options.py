"""The bounds of every numeric option a user sets, in one table that every front end reads: the engine's
checks (the options' dataclasses), the panel's spin boxes and the Processing parameters' minimum and
maximum, so that a value one front end accepts no other refuses. Light (no numpy or torch): QGIS reads it
at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from .checks import real_number, whole_number


@dataclass(frozen=True)
class Bound:
    """An option's allowed values: [low, high] (no upper bound where high is None), whole numbers or not."""

    label: str  # how a refusal names the option
    low: float
    high: float | None = None
    whole: bool = False

    def check(self, value) -> None:
        """OptionError naming the option when `value` is outside the bound (or not a number)."""
        if self.whole:
            whole_number(self.label, value, int(self.low), None if self.high is None else int(self.high))
        else:
            real_number(self.label, value, self.low, float("inf") if self.high is None else self.high,
                        low_inclusive=True)


BOUNDS = {
    # locating
    "k": Bound("k (neighbours)", 1, 100_000, whole=True),  # faiss allocates k floats per photo
    # narrower than ~10 m overflows the spherical kernel's exponent; wider than half the Earth it is flat
    "bandwidth_km": Bound("bandwidth (km)", 0.01, 20_000.0),
    "temperature": Bound("temperature", 1e-6, 1e6),  # beyond 1e6 every neighbour weighs the same (so at ~100)
    "density_resolution_deg": Bound("density resolution (degrees; 0 for auto: the bandwidth / 8)", 0.0, 10.0),
    "top_k": Bound("top-k (gallery points per photo)", 1, 100_000, whole=True),  # GeoCLIP's gallery holds 100,000
    # building
    "batch_size": Bound("batch size", 1, None, whole=True),
    "workers": Bound("workers", 1, None, whole=True),
    # training
    "t_max": Bound("t_max (most photos per geocell)", 2, None, whole=True),
    "t_min": Bound("t_min (fewest photos per geocell)", 1, None, whole=True),
    "geo_dim": Bound("geo_dim (size of the learned features)", 2, 65_536, whole=True),
    "epochs": Bound("epochs", 1, None, whole=True),
    "smoothing_km": Bound("label smoothing distance (km; 0 for none)", 0.0, 40_000.0),
    "finetune_epochs": Bound("fine-tuning epochs", 1, None, whole=True),
}


def spin_range(name: str) -> tuple[float, float]:
    """(lowest, highest) a spin box offers for the option (an unbounded one up to a 32-bit int's largest)."""
    bound = BOUNDS[name]
    return bound.low, bound.high if bound.high is not None else 2**31 - 1


def check(name: str, value) -> None:
    """`BOUNDS[name].check(value)`: OptionError naming the option when it is out of bounds."""
    BOUNDS[name].check(value)
