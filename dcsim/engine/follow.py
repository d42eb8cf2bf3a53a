"""Follow the renewables: migrate running guests to a data center whose grid is expected to be
greener, when the expected saving pays for the migration. An engine extension, active with a
``follow_renewables:`` section (``dcsim.config.carbon.FollowSpec``; every data center needs
``carbon:``).

Every ``every`` seconds (from t = ``every``), for each data center ``d`` the expected effective
intensity over the next ``horizon`` is ``Ī_d = PUE_d × mean intensity over [now, now +
horizon]``: from the series itself (``forecast: perfect``) or from the same hours one day
earlier (``persistence``, yesterday's curve; the current value where the series has no day
before). A running guest ``g`` on data center ``s`` is a candidate for ``d`` when

* ``Ī_d <= (1 − hysteresis) Ī_s`` (a guest that has just moved does not move back for a small
  difference), and
* the expected saving exceeds the expected cost: ``P_g × horizon × (Ī_s − Ī_d) >
  E_mig × (PUE_s I_s + PUE_d I_d) / 2``, where ``P_g`` is the guest's share of its host's dynamic
  power now (its raw MIPS / capacity × (P(100 %) − P(0 %))), ``I`` the intensities now and
  ``E_mig = migration_j_per_mb × RAM (MB) + migration_j_fixed`` (Liu et al., HPDC 2011).

Candidates go by decreasing expected saving, each to its greenest admissible data center with
room: there the feasible host whose power rises least (power-aware best fit, awake hosts
preferred), reserved in a sandbox so that several moves of one decision never overfill a host;
at most ``max_moves`` per decision. The moves start as real migrations (``Simulation.migrate``
with ``migration``: pre-copy over the network by default; the disk is copied across data
centers), which refuses any that cannot start now.

The summary gains ``follow_migrations`` (started by this policy).

Imports: numpy, dcsim.workload.carbon, dcsim.engine (carbon, moves, extensions),
dcsim.policies.placement (power-aware best fit).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from dcsim.engine.carbon import run_series
from dcsim.engine.extensions import EXTENSIONS
from dcsim.engine.moves import reachable
from dcsim.model.cluster import GuestStatus
from dcsim.workload.carbon import Series, mean_over

if TYPE_CHECKING:
    import simpy

    from dcsim.config.carbon import FollowSpec
    from dcsim.engine.simulation import Simulation
    from dcsim.metrics.result import Result

F64 = NDArray[np.float64]
_J_PER_KWH = 3.6e6
_DAY = 86400.0


class Follow:
    """See the module docstring."""

    def __init__(self, sim: Simulation, spec: FollowSpec) -> None:
        self.sim = sim
        self.spec = spec
        self.series: list[Series | float] = []  # the carbon extension's, at start
        self.t0 = sim.cfg.clock.epoch_s() if sim.cfg.clock is not None else 0.0
        self.started = 0
        self.decisions = 0

    def start(self, sim: Simulation) -> None:
        self.series = run_series(sim)
        sim.env.process(self._run())

    def _run(self) -> Generator[simpy.events.Event, Any, None]:
        sim = self.sim
        k = 1
        while k * self.spec.every < sim.duration:
            sim.events += 1
            yield sim.env.timeout(k * self.spec.every - sim.env.now)
            self.decide(sim.env.now)
            k += 1

    # ------------------------------------------------------------------ forecasts -----------
    def _now(self, s: Series | float, t: float) -> float:
        if isinstance(s, float):
            return s
        k = int(np.searchsorted(s.t, self.t0 + t, side="right")) - 1
        return float(s.v[min(max(k, 0), s.t.shape[0] - 1)])

    def expected(self, t: float) -> F64:
        """(n_dc,) mean intensity over ``[t, t + horizon]`` by the forecast, g/kWh."""
        h = float(self.spec.horizon)
        out = np.empty(len(self.series))
        for d, s in enumerate(self.series):
            if isinstance(s, float):
                out[d] = s
                continue
            a = self.t0 + t
            if self.spec.forecast == "persistence":
                if a - _DAY < s.t[0]:  # no day before: the value now
                    out[d] = self._now(s, t)
                    continue
                a -= _DAY
            out[d] = mean_over(s, a, a + h)
        return out

    # ------------------------------------------------------------------ one decision --------
    def decide(self, now: float) -> list[tuple[int, int]]:
        """Plan and start this period's moves; returns them."""
        from dcsim.policies.placement import PowerAwareBFD

        sim, spec = self.sim, self.spec
        st = sim.state
        self.decisions += 1
        pue = sim.dc_pue
        eff = pue * self.expected(now)  # effective expected intensity per data center
        cur = pue * np.asarray([self._now(s, now) for s in self.series])
        cand = np.flatnonzero((st.status == GuestStatus.RUNNING) & (st.host_of >= 0)
                              & (st.mig_dst < 0))
        if not cand.shape[0]:
            return []
        h = st.host_of[cand]
        src = st.datacenter[h]
        dyn_w = (st.power_table[h, -1] - st.power_table[h, 0]) * sim.raw[cand] / st.cap_mips[h]
        e_mig_j = spec.migration_j_per_mb * st.gram[cand] / 2**20 + spec.migration_j_fixed
        order_dc = np.argsort(eff, kind="stable")  # greenest first, ties: lower index
        rows: list[tuple[float, int, int]] = []  # (-saving, guest, index in cand)
        for i, g in enumerate(cand.tolist()):
            s = int(src[i])
            for d in order_dc.tolist():
                if d == s or not eff[d] <= (1.0 - spec.hysteresis) * eff[s]:
                    continue
                saving_g = dyn_w[i] * spec.horizon * (eff[s] - eff[d]) / _J_PER_KWH
                cost_g = e_mig_j[i] * (cur[s] + cur[d]) / 2.0 / _J_PER_KWH
                if saving_g > cost_g:
                    rows.append((-saving_g, g, i))
                break  # the greenest admissible site decides the saving
        rows.sort()
        sb = st.sandbox()
        pabfd = PowerAwareBFD(PowerAwareBFD.Params(), np.random.default_rng(0))
        moves: list[tuple[int, int]] = []
        for _, g, i in rows:
            if len(moves) >= spec.max_moves:
                break
            s = int(src[i])
            ok = sb.feasible(g) & reachable(sim, int(st.host_of[g]))
            for d in order_dc.tolist():
                if d == s or not eff[d] <= (1.0 - spec.hysteresis) * eff[s]:
                    continue
                idx = np.flatnonzero(ok & (st.datacenter == d))
                if idx.shape[0]:
                    dst = pabfd.choose_among(sb, g, idx)
                    sb.begin_migration(g, dst)
                    moves.append((g, dst))
                    break
        for g, dst in moves:
            if sim.migrate(g, dst, spec.migration) is not None:
                self.started += 1
        return moves

    def finish(self, sim: Simulation, result: Result) -> None:
        result.summary["follow_migrations"] = self.started


def _factory(sim: Simulation) -> Follow | None:
    spec = sim.cfg.follow_renewables
    return Follow(sim, spec) if spec is not None else None


EXTENSIONS.register("follow_renewables")(_factory)
