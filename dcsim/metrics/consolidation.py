"""SLA and consolidation metrics of Beloglazov & Buyya (CCPE 2012), as CloudSim computes them.

Definitions (``reference/cloudsim-planetlab/README.md``, section 9), over *state histories*: each
host and guest records ``(time, allocated MIPS, requested MIPS, flag)`` at every update; an entry
written at the same time as the previous one replaces it.

* **SLATAH** — pooled over hosts: over consecutive entries whose earlier one is *active*,
  ``violation time / active time`` where violation means ``allocated < requested``.
* **PDM** — ratio of sums over guests: ``Σ (requested - allocated)·Δt`` over intervals that start
  in migration with ``allocated < requested``, divided by ``Σ requested·Δt``.
* **SLAV** = SLATAH × PDM; **ESV** = energy (kWh) × SLAV.
* overall SLA violation = ``(Σ req·Δt - Σ alloc·Δt) / Σ req·Δt``; average SLA violation = mean of
  ``(req - alloc) / req`` over guest intervals with ``alloc < req``.
* host shutdowns: active → inactive transitions (a host starts as "active" at time 0); time before
  shutdown = switch-off time - last switch-on time; time before a guest migration = from the first
  in-migration entry to the next entry that is not. Means and *sample* standard deviations.

Two ways in: pure functions over complete histories (:func:`slatah`, :func:`pdm`, ... — arrays,
one row per entry, for tests and post-processing), and :class:`StateHistoryRecorder`, a passive
observer the engine feeds entry by entry that keeps only the last entry of each host and guest and
accumulates the same sums (O(hosts + guests) memory). Pure numpy and imports nothing from dcsim,
except a recorder built with ``compiled=True`` (CloudSim mode's), whose guest entries take a
compiled pass (:mod:`dcsim.kernels.vmrecord`, numba, imported on first use): the same terms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]


# --------------------------------------------------------------------------- pure functions
def _consecutive(owner: I64, t: F64) -> tuple[NDArray[np.intp], F64]:
    """Indices of entries that have a successor of the same owner, and the gap to it (s).

    Entries must be sorted by (owner, time) with distinct times per owner.
    """
    same = owner[1:] == owner[:-1]
    prev = np.flatnonzero(same)
    return prev, t[prev + 1] - t[prev]


def slatah(host: I64, t: F64, allocated: F64, requested: F64, active: B) -> float:
    """SLA violation time per active host (pooled), a fraction.

    Parameters
    ----------
    host, t, allocated, requested, active
        (n,) host state-history entries sorted by (host, time): host id, time (s), allocated and
        requested MIPS, active flag.
    """
    prev, dt = _consecutive(host, t)
    act = active[prev]
    total = float(dt[act].sum())
    viol = float(dt[act & (allocated[prev] < requested[prev])].sum())
    return viol / total if total > 0 else 0.0


def pdm(vm: I64, t: F64, allocated: F64, requested: F64, in_migration: B) -> float:
    """Performance degradation due to migration (ratio of sums), a fraction.

    Parameters
    ----------
    vm, t, allocated, requested, in_migration
        (n,) guest state-history entries sorted by (guest, time).
    """
    prev, dt = _consecutive(vm, t)
    req = requested[prev]
    alloc = allocated[prev]
    total = float((req * dt).sum())
    under = (alloc < req) & in_migration[prev]
    deg = float(((req - alloc) * dt)[under].sum())
    return deg / total if total > 0 else 0.0


def slav(slatah_value: float, pdm_value: float) -> float:
    """SLA violation SLAV = SLATAH × PDM."""
    return slatah_value * pdm_value


def esv(energy_kwh: float, slav_value: float) -> float:
    """Energy × SLA violation (kWh)."""
    return energy_kwh * slav_value


def _spans(key: I64, t: F64, flag: B, initially: bool) -> F64:
    """Length (s) of each stretch where ``flag`` holds, per key in time order.

    A stretch starts at the first entry with ``flag`` true (or at time 0 when ``initially``)
    and ends at the next entry with ``flag`` false; stretches still open at the end are not
    counted.
    """
    out: list[float] = []
    order = np.lexsort((t, key))
    k_s, t_s, f_s = key[order], t[order], flag[order]
    prev, start, cur = initially, 0.0, None
    for k, tt, f in zip(k_s.tolist(), t_s.tolist(), f_s.tolist(), strict=True):
        if k != cur:
            cur, prev, start = k, initially, 0.0
        if prev and not f:
            out.append(tt - start)
        if not prev and f:
            start = tt
        prev = f
    return np.asarray(out, dtype=np.float64)


def times_before_shutdown(host: I64, t: F64, active: B) -> F64:
    """Time (s) from the last switch-on to each switch-off, per host in entry order.

    A host counts as switched on at time 0 (CloudSim's convention).
    """
    return _spans(host, t, active, initially=True)


def times_before_migration(vm: I64, t: F64, in_migration: B) -> F64:
    """Time (s) from the first in-migration entry to the next entry that is not, per guest."""
    return _spans(vm, t, in_migration, initially=False)


def mean_sd(values: F64) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1); NaN where undefined."""
    n = values.shape[0]
    if n == 0:
        return math.nan, math.nan
    mean = float(values.mean())
    sd = float(values.std(ddof=1)) if n > 1 else math.nan
    return mean, sd


# --------------------------------------------------------------------------- recorder
@dataclass(slots=True)
class ConsolidationSummary:
    """Scalar results of a :class:`StateHistoryRecorder`."""

    slatah: float
    pdm: float
    overall_sla_violation: float
    average_sla_violation: float
    host_shutdowns: int
    time_before_shutdown_mean_s: float
    time_before_shutdown_sd_s: float
    time_before_migration_mean_s: float
    time_before_migration_sd_s: float
    shutdown_times_s: F64
    migration_times_s: F64


class StateHistoryRecorder:
    """Streaming version of the state-history metrics (see the module docstring).

    Every host gets an entry at every update (``host_entries``); guests get entries for the ids
    given (``vm_entries``). Entries at an already recorded time replace the pending one.
    O(hosts + guests) memory; each call is vectorized.
    """

    def __init__(self, n_hosts: int, n_vms: int, *, compiled: bool = False) -> None:
        self._compiled = compiled  # vm_entries' per-guest pass compiled (dcsim.kernels.vmrecord)
        self._h_t = -1.0
        self._h_alloc = np.zeros(n_hosts)
        self._h_req = np.zeros(n_hosts)
        self._h_act = np.zeros(n_hosts, dtype=bool)
        self._h_prev_act = np.ones(n_hosts, dtype=bool)
        self._h_last_on = np.zeros(n_hosts)
        self._active_time = 0.0
        self._viol_time = 0.0
        self._shutdowns: list[F64] = []
        self._v_has = np.zeros(n_vms, dtype=bool)
        self._v_t = np.zeros(n_vms)
        self._v_alloc = np.zeros(n_vms)
        self._v_req = np.zeros(n_vms)
        self._v_mig = np.zeros(n_vms, dtype=bool)
        self._v_prev_mig = np.zeros(n_vms, dtype=bool)
        self._v_mig_start = np.zeros(n_vms)
        self._req_s = 0.0
        self._alloc_s = 0.0
        self._under_mig_s = 0.0
        self._viol_frac_sum = 0.0
        self._viol_count = 0
        self._mig_times: list[F64] = []

    # hosts
    def _finalize_hosts(self) -> None:
        t = self._h_t
        act = self._h_act
        off = self._h_prev_act & ~act
        if off.any():
            self._shutdowns.append(t - self._h_last_on[off])
        on = ~self._h_prev_act & act
        self._h_last_on[on] = t
        self._h_prev_act = act.copy()

    def host_entries(self, t: float, allocated: F64, requested: F64, active: B) -> None:
        """Entries of all hosts at time ``t`` (s): allocated and requested MIPS, active flag."""
        if t != self._h_t:
            if self._h_t >= 0.0:
                dt = t - self._h_t
                act = self._h_act
                self._active_time += dt * int(act.sum())
                self._viol_time += dt * int((act & (self._h_alloc < self._h_req)).sum())
                self._finalize_hosts()
            self._h_t = t
        self._h_alloc = allocated.copy()
        self._h_req = requested.copy()
        self._h_act = active.copy()

    def host_entries_of(self, t: float, allocated: F64, requested: F64) -> None:
        """``host_entries(t, allocated, requested, allocated > 0)``, compiled in a recorder
        built with ``compiled=True`` (:func:`dcsim.kernels.vmrecord.host_entries`: the same
        counts, in place)."""
        if not self._compiled:
            self.host_entries(t, allocated, requested, allocated > 0)
            return
        from dcsim.kernels.jit import kernel

        t_old = self._h_t
        tick = t != t_old and t_old >= 0.0
        n_act, n_viol, off = kernel("vmrecord").host_entries(
            tick, t_old, allocated, requested, self._h_alloc, self._h_req, self._h_act,
            self._h_prev_act, self._h_last_on)
        if tick:
            dt = t - t_old
            self._active_time += dt * n_act
            self._viol_time += dt * n_viol
            if off.shape[0]:  # (a copy: the slice would keep the kernel's whole buffer)
                self._shutdowns.append(off.copy())
        self._h_t = t

    # guests
    def _finalize_vms(self, ids: NDArray[np.intp]) -> None:
        mig = self._v_mig[ids]
        prev = self._v_prev_mig[ids]
        end = prev & ~mig
        if end.any():
            self._mig_times.append(self._v_t[ids[end]] - self._v_mig_start[ids[end]])
        start = ~prev & mig
        self._v_mig_start[ids[start]] = self._v_t[ids[start]]
        self._v_prev_mig[ids] = mig

    def vm_entries(self, t: float, ids: NDArray[np.intp], allocated: F64, requested: F64,
                   in_migration: B) -> None:
        """Entries of guests ``ids`` (distinct) at time ``t`` (s)."""
        if self._compiled:
            if ids.shape[0]:  # (no entries: nothing to do, and no kernel to load)
                self._vm_entries_compiled(t, ids, allocated, requested, in_migration)
            return
        has = self._v_has[ids]
        newer = has & (self._v_t[ids] != t)
        if newer.any():
            old = ids[newer]
            dt = t - self._v_t[old]
            req = self._v_req[old]
            alloc = self._v_alloc[old]
            self._req_s += float((req * dt).sum())
            self._alloc_s += float((alloc * dt).sum())
            under = alloc < req
            if under.any():
                self._viol_frac_sum += float(((req[under] - alloc[under]) / req[under]).sum())
                self._viol_count += int(under.sum())
                um = under & self._v_mig[old]
                self._under_mig_s += float(((req[um] - alloc[um]) * dt[um]).sum())
            self._finalize_vms(old)
        self._v_has[ids] = True
        self._v_t[ids] = t
        self._v_alloc[ids] = allocated
        self._v_req[ids] = requested
        self._v_mig[ids] = in_migration

    def vm_entries_of(self, t: float, ids: NDArray[np.intp], allocated: F64, requested: F64,
                      mig_dst: NDArray[np.intp]) -> None:
        """``vm_entries(t, ids, allocated[ids], requested, mig_dst[ids] >= 0)``: the
        allocations and migration destinations of every guest (-1: none), read per entry."""
        if not self._compiled:
            self.vm_entries(t, ids, allocated[ids], requested, mig_dst[ids] >= 0)
            return
        from dcsim.kernels.jit import kernel

        self._add_terms(*kernel("vmrecord").vm_entries_of(
            float(t), ids, allocated, requested, mig_dst, self._v_has, self._v_t,
            self._v_alloc, self._v_req, self._v_mig, self._v_prev_mig, self._v_mig_start))

    def _vm_entries_compiled(self, t: float, ids: NDArray[np.intp], allocated: F64,
                             requested: F64, in_migration: B) -> None:
        """``vm_entries`` with its per-guest pass compiled (:mod:`dcsim.kernels.vmrecord`):
        the same terms in the same order, summed here by numpy as there."""
        from dcsim.kernels.jit import kernel

        self._add_terms(*kernel("vmrecord").vm_entries(
            float(t), ids, allocated, requested, in_migration, self._v_has, self._v_t,
            self._v_alloc, self._v_req, self._v_mig, self._v_prev_mig, self._v_mig_start))

    def _add_terms(self, req_dt: F64, alloc_dt: F64, frac: F64, under_mig: F64,
                   ended: F64) -> None:
        """Sum the compiled pass's terms into the totals (numpy's sums, as the numpy form)."""
        if req_dt.shape[0]:
            self._req_s += float(req_dt.sum())
            self._alloc_s += float(alloc_dt.sum())
            if frac.shape[0]:
                self._viol_frac_sum += float(frac.sum())
                self._viol_count += frac.shape[0]
                self._under_mig_s += float(under_mig.sum())
            if ended.shape[0]:  # (a copy: the slice would keep the kernel's whole buffer)
                self._mig_times.append(ended.copy())

    def summary(self) -> ConsolidationSummary:
        """Finalize the pending entries (without changing the recorder) and return the results."""
        shut = list(self._shutdowns)
        if self._h_t >= 0.0:
            act = self._h_act
            off = self._h_prev_act & ~act
            if off.any():
                shut.append(self._h_t - self._h_last_on[off])
        mig = list(self._mig_times)
        ids = np.flatnonzero(self._v_has)
        end = self._v_prev_mig[ids] & ~self._v_mig[ids]
        if end.any():
            mig.append(self._v_t[ids[end]] - self._v_mig_start[ids[end]])
        shut_a = np.concatenate(shut) if shut else np.zeros(0)
        mig_a = np.concatenate(mig) if mig else np.zeros(0)
        sm, ss = mean_sd(shut_a)
        mm, ms = mean_sd(mig_a)
        req = self._req_s
        return ConsolidationSummary(
            slatah=self._viol_time / self._active_time if self._active_time > 0 else 0.0,
            pdm=self._under_mig_s / req if req > 0 else 0.0,
            overall_sla_violation=(req - self._alloc_s) / req if req > 0 else 0.0,
            average_sla_violation=(self._viol_frac_sum / self._viol_count
                                   if self._viol_count else 0.0),
            host_shutdowns=int(shut_a.shape[0]),
            time_before_shutdown_mean_s=sm,
            time_before_shutdown_sd_s=ss,
            time_before_migration_mean_s=mm,
            time_before_migration_sd_s=ms,
            shutdown_times_s=shut_a,
            migration_times_s=mig_a,
        )
