"""A small generic registry: policies and models selected by name from configs.

Usage::

    PLACEMENT: Registry[type[PlacementPolicy]] = Registry("placement policy")

    @PLACEMENT.register("best_fit")
    class BestFit: ...

Names are strings; ``names()`` is sorted so error messages and conformance tests are
deterministic. Each entry remembers where it comes from (``origin``: ``"dcsim"`` for the
built-ins, ``"plugin <name> (<distribution> <version>)"`` for entries a plugin registered through
``dcsim.plugins``). A leaf module: imports nothing from dcsim.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

BUILTIN = "dcsim"
"""Origin of the entries dcsim itself registers."""


class Registry(Generic[T]):
    """Name → object mapping with a decorator to add entries."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._origin: dict[str, str] = {}

    def register(self, name: str, *, origin: str = BUILTIN) -> Callable[[T], T]:
        """Decorator adding ``obj`` under ``name`` (refuses duplicates with ValueError)."""

        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is already registered "
                                 f"(by {self._origin[name]})")
            self._items[name] = obj
            self._origin[name] = origin
            return obj

        return deco

    def remove(self, name: str) -> None:
        """Forget ``name`` (a plugin's entries when its registration fails half-way)."""
        self._items.pop(name, None)
        self._origin.pop(name, None)

    def get(self, name: str) -> T:
        """The entry called ``name``; KeyError listing the known names otherwise."""
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self.names())
            raise KeyError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def origin(self, name: str) -> str:
        """Where entry ``name`` comes from (``"dcsim"`` or a plugin's description)."""
        return self._origin[name]

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items
