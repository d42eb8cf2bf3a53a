"""Engine extensions: optional subsystems (consolidation, faults, network traffic, snapshots).

An extension is created per run by a factory registered here, which looks at the scenario and
returns ``None`` when the subsystem is not configured (so an unconfigured subsystem costs nothing
and changes nothing). ``start(sim)`` runs before time starts (create SimPy processes, register
hooks on the ``Simulation``); ``finish(sim, result)`` adds summary metrics and tables at the end.
Extensions change the simulation only through ``Simulation``'s public methods (``update_host``,
``admit``, ``evict``, ``set_speed``, ``set_paused``, …), which keep the capacity law.

Imports: importlib, dcsim.policies.registry.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from dcsim.policies.registry import Registry

if TYPE_CHECKING:
    from dcsim.engine.simulation import Simulation
    from dcsim.metrics.result import Result


class Extension(Protocol):
    """See the module docstring."""

    def start(self, sim: Simulation) -> None: ...

    def finish(self, sim: Simulation, result: Result) -> None: ...


ExtensionFactory = Callable[["Simulation"], Any]

EXTENSIONS: Registry[ExtensionFactory] = Registry("engine extension")

# Modules that register built-in extensions when imported (missing ones are skipped).
BUILTIN = (
    "dcsim.engine.carbon",
    "dcsim.engine.consolidation",
    "dcsim.engine.faults",
    "dcsim.engine.follow",
    "dcsim.engine.link_faults",
    "dcsim.engine.memory",
    "dcsim.engine.traffic",
)


def load_builtin() -> None:
    """Import the built-in extension modules so that they register themselves."""
    for name in BUILTIN:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
