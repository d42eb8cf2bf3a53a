"""Per-interval records of the default engine: interval averages from exact integrals.

At every scheduling instant the engine has settled every integral up to now (host energy, busy
and available CPU, demand and delivered work, the network's energy). A row of the time series
covers one interval ``[time_s, time_s + interval_s)``; its counts (``active_hosts``,
``guests_running`` …) are taken at the interval's start, and every rate is the interval average
``Δ integral / interval_s``, so ``Σ power_it_w × interval_s`` is the run's IT energy exactly
(the last interval ends at the run's end). Columns:

* ``demand_mips`` (offered load), ``delivered_mips``, ``unmet_mips`` (contention),
  ``unserved_mips`` (= demand − delivered, all causes);
* ``cpu_utilization``: busy / available MIPS of awake hosts over the interval;
* ``power_hosts_w``, ``power_network_w`` (switches; 0 without a network section),
  ``power_it_w`` = their sum, ``power_facility_w`` = Σ over data centers of their IT power ×
  PUE.

The per-host series (``output.host_timeseries``) holds, per host and interval, the average
utilisation and power and the guest count at the interval's start.

Imports: numpy, dcsim.model.cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from dcsim.model.cluster import GuestStatus

if TYPE_CHECKING:
    from dcsim.engine.simulation import Simulation

F64 = NDArray[np.float64]

COLUMNS = [
    "time_s", "active_hosts", "sleeping_hosts", "failed_hosts", "guests_running",
    "guests_booting", "interval_s", "demand_mips", "delivered_mips", "unmet_mips", "unserved_mips",
    "cpu_utilization", "power_hosts_w", "power_network_w", "power_it_w", "power_facility_w",
]


class _Totals:
    """Integrals of the run up to one instant."""

    __slots__ = ("avail", "busy", "e_host", "e_net", "host_busy", "host_j", "offered",
                 "running", "useful")

    def __init__(self, sim: Simulation, t: float, hosts: bool) -> None:
        st = sim.state
        n_dc = sim.dc_pue.shape[0]
        self.e_host = np.bincount(st.datacenter, weights=sim.energy_j, minlength=n_dc)
        self.e_net = sim.network_energy_j(t)
        self.running = float(sim.demand_mi.sum())
        self.offered = self.running + float(sim.unserved_by_cause.sum())
        self.useful = float(sim.useful_mi.sum())
        self.busy = float(sim.busy_mi.sum())
        self.avail = float(sim.avail_mi.sum())
        self.host_j: F64 = sim.energy_j.copy() if hosts else np.zeros(0)
        self.host_busy: F64 = sim.busy_mi.copy() if hosts else np.zeros(0)


class IntervalRecorder:
    """Builds the time series (and per-host series) one interval at a time."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.hosts = bool(sim.cfg.output.host_timeseries)
        self.rows: list[tuple[float, ...]] = []
        self.host_rows: list[tuple[float, F64, F64, F64]] = []
        self._t0 = 0.0
        self._prev: _Totals | None = None
        self._open: tuple[float, ...] = ()
        self._guests0: F64 = np.zeros(0)

    def tick(self, t: float) -> None:
        """At a scheduling instant (everything settled to ``t``): close the interval that ends
        here and open the next."""
        sim = self.sim
        st = sim.state
        tot = _Totals(sim, t, self.hosts)
        if self._prev is not None:
            self._close(tot, t)
        self._t0, self._prev = t, tot
        n_awake = int(st.awake.sum())
        n_failed = int(st.failed.sum())
        status = np.bincount(st.status, minlength=len(GuestStatus))
        self._open = (t, n_awake, st.n_hosts - n_awake - n_failed, n_failed,
                      int(status[GuestStatus.RUNNING]), int(status[GuestStatus.BOOTING]))
        if self.hosts:
            self._guests0 = st.n_guests.astype(np.float64)

    def finish(self, t: float) -> None:
        """At the end of the run (settled to ``t``): close the last interval."""
        if self._prev is not None and t > self._t0:
            self._close(_Totals(self.sim, t, self.hosts), t)

    def _close(self, tot: _Totals, t: float) -> None:
        sim, prev = self.sim, self._prev
        assert prev is not None
        dt = t - self._t0
        d_host = tot.e_host - prev.e_host
        d_net = tot.e_net - prev.e_net
        d_avail = tot.avail - prev.avail
        offered = (tot.offered - prev.offered) / dt
        useful = (tot.useful - prev.useful) / dt
        self.rows.append((
            *self._open, dt, offered, useful,
            (tot.running - prev.running) / dt - useful, offered - useful,
            (tot.busy - prev.busy) / d_avail if d_avail > 0 else 0.0,
            float(d_host.sum()) / dt, float(d_net.sum()) / dt,
            float((d_host + d_net).sum()) / dt,
            float(((d_host + d_net) * sim.dc_pue).sum()) / dt,
        ))
        if self.hosts:
            cap = sim.state.cap_mips
            self.host_rows.append((
                self._t0, (tot.host_busy - prev.host_busy) / (cap * dt),
                (tot.host_j - prev.host_j) / dt, self._guests0,
            ))
