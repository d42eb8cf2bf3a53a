"""Choose the engine for a scenario: dcsim's default semantics or CloudSim compatibility.

Imports: dcsim.engine.simulation (and the compat engine when asked for).
"""

from __future__ import annotations

from collections.abc import Callable

from dcsim.config.resolve import Scenario
from dcsim.metrics.result import Result


def simulate(sc: Scenario, *, replication: int = 0, check_invariants: bool = False,
             progress: Callable[[float], None] | None = None) -> Result:
    """Run ``sc`` once and return its result; ``progress(t_s)`` is called at every interval."""
    if sc.config.compat == "cloudsim":
        from dcsim.engine.compat import run_compat

        return run_compat(sc, replication)
    from dcsim.engine.simulation import Simulation

    sim = Simulation(sc, replication=replication, check_invariants=check_invariants)
    if progress is not None:
        sim.tick_hooks.append(progress)
    return sim.run()
