"""The Python API: ``load_config`` and ``run``.

Imports: dcsim.validate (the full config check), dcsim.config, dcsim.engine, dcsim.io,
dcsim.metrics, dcsim.version.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dcsim.config.resolve import Scenario
from dcsim.metrics.result import Result
from dcsim.validate import load_config, scenario_of, trace_rejections

__all__ = ["load_config", "run", "trace_rejections"]


_scenario = scenario_of  # the name tests and benchmarks use


def run(config: Scenario | dict[str, Any] | str | Path | None = None, *,
        seed: int | None = None, replication: int = 0, overrides: list[str] | None = None,
        check_invariants: bool = False,
        progress: Callable[[float], None] | None = None,
        allow_rejections: bool = False) -> Result:
    """Simulate a config (a loaded ``Scenario``, a dict, a YAML path, or None = the default).

    ``seed`` replaces the config's seed; ``overrides`` are ``dotted.path=value`` strings;
    ``progress(t_s)`` is called with the simulated time at every scheduling interval.
    Raises ``ConfigError`` (listing every problem) before anything runs if the input is bad;
    guests sized from a trace that fit on no host are such a problem unless
    ``allow_rejections`` (``dcsim.validate.trace_rejections``).
    """
    from dcsim.engine.dispatch import simulate
    from dcsim.io.results import environment_versions
    from dcsim.version import __version__

    ov = list(overrides or [])
    if seed is not None:
        ov.append(f"seed={int(seed)}")
    sc = _scenario(config, ov, allow_rejections)
    if sc.config.agents is not None:  # outside agents decide (dcsim.rl, the `rl` extra)
        from dcsim.rl.drive import simulate_with_agents

        result = simulate_with_agents(sc, replication=replication,
                                      check_invariants=check_invariants, progress=progress)
    else:
        result = simulate(sc, replication=replication, check_invariants=check_invariants,
                          progress=progress)
    result.manifest = {
        "dcsim_version": __version__,
        "scenario_id": sc.scenario_id,
        "config_source": sc.source,
        "name": sc.config.name,
        "seed": sc.config.seed,
        "replication": replication,
        "status": "ok",
        "wall_s": result.summary.get("wall_s"),
        "versions": environment_versions(),
        "inputs": sc.input_files(),
    }
    return result
