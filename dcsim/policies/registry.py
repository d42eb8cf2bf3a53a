"""A small generic registry: policies and models selected by name from configs.

Usage::

    PLACEMENT: Registry[type[PlacementPolicy]] = Registry("placement")

    @PLACEMENT.register("best_fit")
    class BestFit: ...

Names are snake_case strings; ``names()`` is sorted so error messages and conformance tests are
deterministic. Imports nothing from dcsim.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Name → object mapping with a decorator to add entries."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator adding ``obj`` under ``name`` (refuses duplicates)."""

        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return deco

    def get(self, name: str) -> T:
        """The entry called ``name``; KeyError listing the known names otherwise."""
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self.names())
            raise KeyError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items
