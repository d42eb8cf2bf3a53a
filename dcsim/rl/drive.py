"""``dcsim run`` with agents: a config's ``agents:`` section (``dcsim.config.schema.AgentsSpec``)
puts trained (or any) agents in charge of placement and/or consolidation for a whole run, in
``dcsim run``, sweeps and ``dcsim.run`` alike.

Each factory is called once per run with the matching environment built on the run's scenario
(``PlacementEnv`` / ``ConsolidationEnv``; the agent may read its spaces and ``unwrapped``
helpers), and the agent is then asked ``agent(obs, info)`` at every decision, with the
observation the environment would give at that point. Both agents share one simulation; the run
ends as ``dcsim run`` ends and returns the same ``Result``. A factory that fails, an agent that
raises, or an action outside the space is the agent's error: ``ConfigError`` at
``agents.<kind>`` (exit 2 in the CLI; a failed run in a sweep), not an internal one.

Imports: dcsim.rl.placement, dcsim.rl.consolidation, dcsim.engine, dcsim.metrics.contract.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from dcsim.config.resolve import Scenario
from dcsim.engine.decisions import External, PlaceRequest
from dcsim.engine.simulation import Simulation
from dcsim.errors import ConfigError, Issue
from dcsim.metrics.contract import conform
from dcsim.metrics.result import Result
from dcsim.rl._base import ActionError, DcsimEnv
from dcsim.rl.consolidation import ConsolidationEnv
from dcsim.rl.placement import PlacementEnv


def load_factory(ref: str) -> Callable[[Any], Any]:
    """The object ``'module:attr.attr'`` names (checked at config load by dcsim.validate)."""
    module, _, attr = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[no-any-return]


def simulate_with_agents(sc: Scenario, *, replication: int = 0, check_invariants: bool = False,
                         progress: Callable[[float], None] | None = None) -> Result:
    """Run ``sc`` once with the agents of its ``agents:`` section; returns the result."""
    spec = sc.config.agents
    assert spec is not None
    sim = Simulation(sc, replication=replication, check_invariants=check_invariants)
    if progress is not None:
        sim.tick_hooks.append(progress)
    ext = External(sim, placement=spec.placement is not None,
                   consolidation=spec.consolidation is not None)
    sim.external = ext
    envs: dict[bool, tuple[DcsimEnv, Any]] = {}  # is-placement -> (env, agent)
    if spec.placement is not None:
        penv = PlacementEnv(sc, reward={})
        envs[True] = (penv, _made(spec.placement, penv, "placement"))
    if spec.consolidation is not None:
        cenv = ConsolidationEnv(sc, reward={}, max_moves=spec.max_moves)
        envs[False] = (cenv, _made(spec.consolidation, cenv, "consolidation"))
    sim.start()
    for env, _ in envs.values():
        env.adopt(sim, ext)
    while sim.advance():
        placing = isinstance(ext.pending, PlaceRequest)
        env, agent = envs[placing]
        kind = "placement" if placing else "consolidation"
        obs = env._obs()
        try:
            action = agent(obs, env._info())
        except Exception as exc:  # the agent's own code failed: its config path, exit 2
            raise _agent_error(kind, f"the agent raised at t = {sim.env.now:g} s", exc) from exc
        try:
            env._answer(action)
        except ActionError as exc:
            raise _agent_error(kind, f"the agent's action at t = {sim.env.now:g} s", exc) from exc
    return conform(sim.finish())


def _agent_error(kind: str, what: str, exc: Exception) -> ConfigError:
    """An error of the user's agent, reported at ``agents.<kind>`` (exit 2), not as dcsim's."""
    return ConfigError(Issue(f"agents.{kind}", f"{what}: {type(exc).__name__}: {exc}"))


def _made(ref: str, env: DcsimEnv, kind: str) -> Any:
    """The agent factory ``ref`` called with ``env`` (its failure is the agent's error)."""
    factory = load_factory(ref)
    try:
        return factory(env)
    except Exception as exc:
        raise _agent_error(kind, f"the factory {ref!r} failed", exc) from exc
