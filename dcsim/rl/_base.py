"""What both environments share: the simulation an episode runs, its seeding, and the reward.

An episode is one ``dcsim run`` of the config, from t = 0 to ``duration``, with an outside agent
attached to the engine's decision points (``dcsim.engine.decisions``); between decisions the
engine runs exactly as ``dcsim run`` does (``Simulation.advance``). The config is loaded and
checked by the same code as ``dcsim run`` (a bad one raises the same ``ConfigError`` with the
same paths), once per seed.

Reward. ``reward`` maps additive summary metrics (``REWARD_METRICS``; the summary's names and
units: kWh, MI, counts, bytes) to weights. A step's reward is ``Σ w_k (m_k(now) − m_k(before))``
where ``m_k`` is the metric integrated so far (``dcsim.engine.results.totals``: each host's and
guest's integrals run to its last settling, at most one scheduling interval behind); the last
step adds the rest up to the run's summary, so an episode's rewards sum to ``Σ w_k summary[k]``
(up to the rounding of the sum).

Imports: numpy, gymnasium, dcsim.validate (config loading), dcsim.engine, dcsim.metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from dcsim.config.resolve import Scenario
from dcsim.engine.decisions import External
from dcsim.engine.results import TOTALS, totals
from dcsim.engine.simulation import Simulation
from dcsim.metrics.contract import conform
from dcsim.metrics.result import Result
from dcsim.model.cluster import ClusterState
from dcsim.validate import scenario_of

#: Summary metrics a reward may weigh (additive over time; see the README's metric table).
REWARD_METRICS = TOTALS

#: Default weights: 1 kWh of facility energy costs 1; 10^7 MI of offered work left unserved
#: (about an hour of a 2,500-MIPS guest) costs 1; a migration 0.01; a rejected guest 1. A
#: starting point for experiments, not a calibrated trade-off.
DEFAULT_REWARD = {"energy_facility_kwh": -1.0, "unserved_mi": -1e-7, "migrations": -0.01,
                  "guests_rejected": -1.0}


def check_reward(reward: dict[str, float] | None) -> dict[str, float]:
    """The weights, checked: known metric names and finite numbers (ValueError otherwise)."""
    if reward is None:
        return dict(DEFAULT_REWARD)
    out: dict[str, float] = {}
    for k, v in reward.items():
        if k not in REWARD_METRICS:
            raise ValueError(f"reward: unknown metric {k!r}; expected one of "
                             f"{', '.join(REWARD_METRICS)}")
        w = float(v)
        if not np.isfinite(w):
            raise ValueError(f"reward.{k}: expected a finite number, got {v!r}")
        out[k] = w
    return out


class ActionError(ValueError):
    """An action outside the environment's action space (an agent's mistake, not dcsim's)."""


class Episodes:
    """Builds one Simulation per episode from a config, with the agent attached."""

    def __init__(self, config: Scenario | dict[str, Any] | str | Path | None,
                 overrides: list[str] | None, *, placement: bool, consolidation: bool,
                 check_invariants: bool = False) -> None:
        self.config = config
        self.check_invariants = check_invariants
        self.overrides = list(overrides or [])
        self.placement = placement
        self.consolidation = consolidation
        self.base = scenario_of(config, self.overrides)  # ConfigError here, as `dcsim run`
        self._by_seed: dict[int, Scenario] = {int(self.base.config.seed): self.base}
        self.seed = int(self.base.config.seed)
        self.replication = -1

    def scenario(self, seed: int) -> Scenario:
        sc = self._by_seed.get(seed)
        if sc is None:
            sc = self._by_seed[seed] = scenario_of(self.config, [*self.overrides, f"seed={seed}"])
        return sc

    def new(self, seed: int | None) -> tuple[Simulation, External]:
        """The next episode's simulation: ``seed`` replaces the config's seed (replication 0);
        without one, the next replication of the current seed (0, 1, 2, ...)."""
        if seed is not None:
            self.seed, self.replication = int(seed), 0
        else:
            self.replication += 1
        sim = Simulation(self.scenario(self.seed), replication=self.replication,
                         check_invariants=self.check_invariants)
        ext = External(sim, placement=self.placement, consolidation=self.consolidation)
        sim.external = ext
        sim.start()
        return sim, ext


class Reward:
    """Per-step reward from the change of the weighted metrics (see the module docstring)."""

    def __init__(self, weights: dict[str, float]) -> None:
        self.weights = weights
        self.last = 0.0

    def value(self, m: dict[str, Any]) -> float:
        return float(sum(w * float(m[k]) for k, w in self.weights.items()))

    def reset(self) -> None:
        self.last = 0.0

    def step(self, sim: Simulation) -> float:
        now = self.value(totals(sim, sim.env.now, self.weights)) if self.weights else 0.0
        r, self.last = now - self.last, now
        return r

    def final(self, summary: dict[str, Any]) -> float:
        end = self.value(summary)
        r, self.last = end - self.last, end
        return r


class DcsimEnv(gym.Env[Any, Any]):
    """The episode loop both environments share; subclasses define spaces and observations."""

    metadata = {"render_modes": []}  # noqa: RUF012 (gymnasium.Env declares it so)

    def __init__(self, config: Scenario | dict[str, Any] | str | Path | None,
                 overrides: list[str] | None, reward: dict[str, float] | None, *,
                 placement: bool, consolidation: bool, check_invariants: bool = False) -> None:
        self.episodes = Episodes(config, overrides, placement=placement,
                                 consolidation=consolidation, check_invariants=check_invariants)
        self.reward_fn = Reward(check_reward(reward))
        self.sim: Simulation | None = None
        self.ext: External | None = None
        self.result: Result | None = None
        self.done = True
        # the fixed shapes (hosts, guests) of this config: its cluster state, as a run builds it
        shape = ClusterState.build(self.episodes.base)
        self.n_hosts = int(shape.n_hosts)
        self.n_guests = int(shape.n_guests_total)
        self.profile_names = tuple(shape.profile_names)

    # -------------------------------------------------------------------- gymnasium
    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start an episode: ``seed`` replaces the config's seed (see ``Episodes.new``)."""
        super().reset(seed=seed)
        self._begin(seed)
        return self._obs(), self._info()

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """Answer the pending decision with ``action`` and run to the next one (or the end)."""
        if self.done:
            raise RuntimeError("the episode is over: call reset()")
        self._answer(action)
        self._run_on()
        reward = self._reward()
        return self._obs(), reward, self.done, False, self._info()

    # -------------------------------------------------------------------- episode loop
    def _begin(self, seed: int | None) -> bool:
        sim, ext = self.episodes.new(seed)
        self.adopt(sim, ext)
        return self._run_on()

    def adopt(self, sim: Simulation, ext: External) -> None:
        """Take ``sim`` (started, with ``ext`` attached) as the episode under way."""
        self.sim, self.ext = sim, ext
        self.result = None
        self.done = False
        self.reward_fn.reset()
        st = sim.state
        self._scale = np.asarray([st.cap_mips.max(), st.ram.max(), max(st.storage.max(), 0.0)])

    def _run_on(self) -> bool:
        """Advance to the next decision (True) or to the end (False: the result is built)."""
        assert self.sim is not None
        if self.sim.advance():
            self.done = False
            return True
        self.result = conform(self.sim.finish())
        self.done = True
        return False

    def _reward(self) -> float:
        assert self.sim is not None
        if self.result is not None:
            return self.reward_fn.final(self.result.summary)
        return self.reward_fn.step(self.sim)

    def _obs(self) -> dict[str, Any]:
        """The observation at the pending decision (zeros when none is pending)."""
        raise NotImplementedError

    def _answer(self, action: Any) -> None:
        """Check ``action`` (ValueError outside the action space) and hand it to the engine."""
        raise NotImplementedError

    def _info(self) -> dict[str, Any]:
        assert self.sim is not None
        assert self.ext is not None
        info: dict[str, Any] = {"time_s": float(self.sim.env.now),
                                "refused": self.ext.refused}
        if self.result is not None:
            info["summary"] = self.result.summary
        return info
