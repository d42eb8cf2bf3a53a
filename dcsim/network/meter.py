"""Exact network measurement: link bytes, busy time and switch energy integrated over time.

:class:`NetworkMeter` listens to a :class:`~dcsim.network.flows.FlowNetwork` (its ``listeners``):
the flow model calls it at every instant the max-min rates change, with the load of every
directed link from then on. Between two calls every load is constant, so the meter integrates
exactly, however short a flow is:

* ``link_bytes[l] = ∫ load_l(t) dt / 8`` (bytes carried by link ``l``);
* ``busy_s[l] = ∫ 1[load_l(t) > 0] dt`` (time link ``l`` carried traffic);
* ``energy_j[dc] = ∫ Σ_{switches s of dc} P_s(u(t)) dt`` with ``u_l = load_l / capacity_l`` and
  ``P_s`` the switch power model (:meth:`NetworkPower.per_switch_w`, with link sleeping if
  enabled).

Interval averages follow from differences of these integrals: the utilisation of link ``l`` over
``[t0, t1)`` is ``8 Δlink_bytes_l / (capacity_l (t1 − t0))`` and the network power is
``Δenergy_j / (t1 − t0)``. Utilisation uses the link's nominal capacity (a failed link carries
nothing, so it counts as idle).

Imports: numpy, dcsim.network.power (for typing only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from dcsim.network.power import NetworkPower

F64 = NDArray[np.float64]
I64 = NDArray[np.intp]

__all__ = ["NetworkMeter"]


class NetworkMeter:
    """Integrals of link load and switch power over time (see the module docstring).

    Parameters
    ----------
    capacity_bps : array, shape (n_links,)
        Nominal capacity of each directed link, bit/s.
    power : NetworkPower or None
        Switch power model; None: the network draws nothing (e.g. the implicit NIC star).
    switch_dc : array of int, shape (n_switches,), optional
        Data center of each switch (energy is kept per data center); default all 0.
    n_dc : int
        Number of data centers.
    sleep_idle : bool
        Let idle links and switches sleep (``NetworkPower.per_switch_w``).
    start_s : float
        Time the integrals start, s.
    """

    def __init__(self, capacity_bps: F64, power: NetworkPower | None = None,
                 switch_dc: I64 | None = None, n_dc: int = 1, sleep_idle: bool = False,
                 start_s: float = 0.0) -> None:
        self.capacity_bps = np.asarray(capacity_bps, dtype=np.float64)
        n_links = self.capacity_bps.shape[0]
        self.power = power
        self.sleep_idle = sleep_idle
        self.n_dc = n_dc
        if power is not None:
            self.switch_dc = (np.zeros(power.n_switches, dtype=np.intp) if switch_dc is None
                              else np.asarray(switch_dc, dtype=np.intp))
        self.last_t = float(start_s)
        self.link_bytes = np.zeros(n_links)
        self.busy_s = np.zeros(n_links)
        self.energy_j = np.zeros(n_dc)
        self._load = np.zeros(n_links)
        self._busy = np.zeros(n_links)
        self._power_dc = self._watts(self._load)

    def _watts(self, load: F64) -> F64:
        if self.power is None:
            return np.zeros(self.n_dc)
        util = np.zeros_like(load)
        np.divide(load, self.capacity_bps, out=util, where=self.capacity_bps > 0)
        per = self.power.per_switch_w(util, sleep_idle=self.sleep_idle)
        return np.bincount(self.switch_dc, weights=per, minlength=self.n_dc).astype(np.float64)

    def advance(self, t: float) -> None:
        """Integrate the current loads and power up to ``t`` (s, not before the last time)."""
        dt = t - self.last_t
        if dt > 0:
            self.link_bytes += self._load * (dt / 8.0)
            self.busy_s += self._busy * dt
            self.energy_j += self._power_dc * dt
            self.last_t = t

    def on_rates(self, t: float, load_bps: F64) -> None:
        """Flow-network listener: from ``t`` on, link ``l`` carries ``load_bps[l]`` bit/s."""
        self.advance(t)
        self._load = np.asarray(load_bps, dtype=np.float64).copy()
        self._busy = (self._load > 0).astype(np.float64)
        self._power_dc = self._watts(self._load)

    @property
    def power_w(self) -> float:
        """Network power now, W."""
        return float(self._power_dc.sum())
