"""Run a scenario: the one engine (``dcsim.engine.simulation``), its result through the contract.

``compat: cloudsim`` configs arrive here already rewritten for it (``dcsim.config.compat``). Every
result passes through ``dcsim.metrics.contract.conform``: every mode gives the same summary keys,
tables and columns.

Imports: dcsim.engine.simulation, dcsim.metrics.contract.
"""

from __future__ import annotations

from collections.abc import Callable

from dcsim.config.resolve import Scenario
from dcsim.metrics.contract import conform
from dcsim.metrics.result import Result


def simulate(sc: Scenario, *, replication: int = 0, check_invariants: bool = False,
             progress: Callable[[float], None] | None = None) -> Result:
    """Run ``sc`` once and return its result; ``progress(t_s)`` is called at every interval."""
    from dcsim.engine.simulation import Simulation

    sim = Simulation(sc, replication=replication, check_invariants=check_invariants)
    if progress is not None:
        sim.tick_hooks.append(progress)
    return conform(sim.run())
