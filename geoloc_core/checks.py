"""Checks of option values, raised from the options' dataclasses so that the CLI, Processing, the dock
and the external engine all refuse a bad value with the same message (kept free of heavy imports)."""

from __future__ import annotations

import math
import numbers

from .errors import OptionError


def whole_number(name: str, value, low: int, high: int | None = None) -> None:
    """`value` is an int within [low, high]; OptionError naming the option otherwise."""
    within = isinstance(value, numbers.Integral) and not isinstance(value, bool) and low <= value \
        and (high is None or value <= high)
    if not within:
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise OptionError(f"{name} must be a whole number {bounds} (got {value!r})")


def real_number(name: str, value, low: float, high: float, low_inclusive: bool = False) -> None:
    """`value` is a finite number in (low, high] ([low, high] with low_inclusive); OptionError otherwise."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    above = number >= low if low_inclusive else number > low
    if not (math.isfinite(number) and above and number <= high):
        lowest = f"at least {low:g}" if low_inclusive else f"more than {low:g}"
        raise OptionError(f"{name} must be a finite number {lowest} and at most {high:g} (got {value!r})")
