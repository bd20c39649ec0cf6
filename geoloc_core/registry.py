"""A named, ordered set of pluggable parts (estimators, evidence sources), in the spirit of torchvision's
`register_model`: a part registers once, beside its code, and every front end lists and validates names
through the registry instead of repeating them. Light on purpose (no numpy): QGIS and `--help` list the
names at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

from .errors import OptionError


class Named(Protocol):
    name: str


Part = TypeVar("Part", bound=Named)


class Registry(Generic[Part]):
    """Parts by name, in registration order (an order front ends may store as an index: append only)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._parts: dict[str, Part] = {}

    def register(self, part: Part) -> Part:
        if part.name in self._parts:
            raise ValueError(f"{self.kind} '{part.name}' is registered twice")
        self._parts[part.name] = part
        return part

    def get(self, name: str) -> Part:
        """The part called `name`; a ValueError naming the choices for any other name."""
        try:
            return self._parts[name]
        except (KeyError, TypeError):
            raise OptionError(f"unknown {self.kind} '{name}'; choose one of {', '.join(self._parts)}") from None

    def names(self) -> tuple[str, ...]:
        return tuple(self._parts)

    def __iter__(self) -> Iterator[Part]:
        return iter(tuple(self._parts.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._parts

    def __len__(self) -> int:
        return len(self._parts)
