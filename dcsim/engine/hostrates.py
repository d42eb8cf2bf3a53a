"""Host accounting and CPU sharing of the default engine: ``settle``, ``share`` and their one-host
fast path ``update_one``.

``settle`` integrates the current rates of some hosts and of their guests up to now (energy, busy
and available CPU, guest-seconds, time at full CPU, per guest the work demanded, delivered and
consumed, migration losses, finite-job progress, then the waiting demand through
``dcsim.engine.offered``). ``share`` re-shares those hosts' CPU among their running guests (the CPU
model of ``dcsim.engine.simulation``) and sets each host's utilisation and power. Both are
vectorized over any set of hosts (every host at each scheduling instant); over every host,
``share`` leaves out the per-guest factors that are exactly 1 in the run (``OneHost``'s flags, as
the one-host path does), takes each guest's entitlement from ``OneHost.limit``, and runs the
water-filling only when some host's wants exceed its room (a host that fits gets its wants, as
``maxmin_share`` gives it); when the guests are the whole population in id order
(``Simulation.every_guest``, all placed) ``settle`` and ``share`` index them as a slice
(``Simulation.as_index``: views, not gathered copies). The same bits, fewer passes over the guests.

Most changes touch one host (a migration's phase, its CPU charge, a boot completion), where the
general code spends its time in dozens of numpy calls on arrays of a few entries (searchsorted,
bincount over hosts, per-host gathers). ``update_one`` does the same work for one host: host terms
as Python floats, guest terms as whole-array operations over the host's members, factors that are
exactly 1 in the run skipped (``x * 1.0 == x``), sums over the host's guests taken left to right
from 0.0 as ``np.bincount`` takes them (``np.clip``/``np.minimum`` are ``min``/``max`` on these
non-NaN values), the water-filling of an oversubscribed host in Python floats
(``kernels.share.maxmin_share_one``), so every float is bit-identical to the vector path's on
that one host. (The vector water-filling of several oversubscribed hosts in one call takes its
running sums across them, so a host shared at an interval step, with every other host, can get
shares that differ in the last bits from the same state shared alone; each path is
deterministic, so runs reproduce.) It
is used only in runs with dcsim's own semantics (``fast_ok``); a host with a zero efficiency
falls back to the vector code. Finite jobs take the same steps on both paths
(``jobs.settle_jobs`` when settling, ``jobs.rates_changed`` after a re-share).
``tests/unit/engine/test_hostrates.py`` checks both paths against each other, state by state and
on whole runs.

``hold``/``release`` defer re-shares over a run of changes at one instant (a migration's start and
its end change both hosts several times): each host is settled once and re-shared once, in the
order of its last change. Settling again at the same instant adds rates × 0, and a share depends
only on the state, so the result is the same.

In CloudSim mode ``settle`` and ``share`` (its proportional rule) run compiled passes
(``dcsim.kernels.hostsettle``, ``dcsim.kernels.propshare``; ``COMPILED``) where no paused guest,
memory accounting or finite job needs the optional terms: the same operations in the same order
(``tests/unit/engine/test_hostsettle_kernel.py``, ``test_propshare_kernel.py``).

Imports: numpy, dcsim.{kernels.jit, kernels.share, model.cluster, model.power,
engine.assumptions, engine.jobs, engine.offered}; numba kernels of dcsim.kernels on first use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

try:  # numpy's count_nonzero without its dispatch wrapper: the same C function, ~0.4 us less
    from numpy._core.multiarray import count_nonzero as _nnz
except ImportError:  # pragma: no cover - another numpy layout
    _nnz = np.count_nonzero

from dcsim.engine import assumptions, jobs, offered
from dcsim.engine.memory import losses
from dcsim.kernels.jit import kernel
from dcsim.kernels.share import maxmin_share, maxmin_share_one
from dcsim.model.cluster import GuestStatus
from dcsim.model.power import N_POINTS, power_w

if TYPE_CHECKING:
    from dcsim.engine.simulation import Simulation

F64 = NDArray[np.float64]
I64 = NDArray[np.intp]

_RUNNING = int(GuestStatus.RUNNING)
_BOOTING = int(GuestStatus.BOOTING)
_FULL = 1.0 - 1e-9  # utilisation counted as 100 % CPU (SLATAH)
COMPILED = True  # CloudSim mode's settle and share in their compiled passes where they apply


def settle(sim: Simulation, hosts: I64, guests: I64) -> None:
    """Integrate the current rates of ``hosts`` (and their ``guests``) up to now."""
    st, now = sim.state, sim.env.now
    if (sim.cs is not None and COMPILED and sim.memory is None and not _one(sim).jobs
            and not sim.paused.any()):  # CloudSim mode: one compiled pass, the same terms
        kernel("hostsettle").settle(
            hosts, guests, float(now), sim.energy_rule, sim.last_t, sim.power, sim.energy_j,
            st.awake, sim.active_s, sim.util, st.cap_mips, sim.busy_mi, sim.avail_mi,
            st.n_guests, sim.guest_s, sim.full_s, sim.ready_at, sim.ready_s, st.host_of,
            sim.demand, sim.useful, sim.raw, sim.speed, sim.demand_mi, sim.useful_mi,
            sim.raw_mi, sim.mig_loss_mi)
        offered.settle(sim, guests, on_host=True)
        return
    h = st.host_index(hosts)
    dt = now - sim.last_t[h]
    if sim.energy_rule:  # else CloudSim's rule, added at datacenter updates
        sim.energy_j[h] += sim.power[h] * dt
    awake = st.awake[h]
    sim.active_s[h] += awake * dt
    sim.busy_mi[h] += sim.util[h] * st.cap_mips[h] * dt
    sim.avail_mi[h] += awake * st.cap_mips[h] * dt
    sim.guest_s[h] += st.n_guests[h] * dt
    sim.full_s[h] += (awake & (sim.util[h] >= _FULL)) * dt
    # a waking host serves no guest yet: not active time for SLATAH (else a slower wake
    # would lower it)
    ready_dt = np.minimum(np.maximum(now - np.maximum(sim.last_t[h], sim.ready_at[h]), 0.0),
                          dt)  # (np.clip's arithmetic, without its overhead)
    sim.ready_s[h] += awake * ready_dt
    if guests.shape[0]:
        ix = sim.as_index(guests)
        t0 = sim.last_t[st.host_of[ix]]
        gdt = now - t0
        paused = sim.paused[ix]
        any_paused = _nnz(paused)
        # a paused guest's demand is downtime (dcsim.engine.offered), not running demand
        d = sim.demand[ix]
        sim.demand_mi[ix] += (np.where(paused, 0.0, d) if any_paused else d) * gdt
        sim.useful_mi[ix] += sim.useful[ix] * gdt
        sim.raw_mi[ix] += sim.raw[ix] * gdt
        # (with memory accounting, speed = migration speed × memory's: the loss to memory is
        # booked apart, the migration's from its own speed)
        speed = sim.speed if sim.memory is None else sim.memory.mig_speed
        degraded = speed[ix] < 1.0
        if any_paused:
            degraded |= paused
        if _nnz(degraded):
            dg = guests[degraded]
            lost = np.where(sim.paused[dg], sim.demand[dg],
                            sim.demand[dg] * (1.0 - speed[dg]))
            sim.mig_loss_mi[dg] += lost * gdt[degraded]
        if sim.memory is not None:
            losses(sim, guests, paused, d, gdt)
        if _one(sim).jobs:
            jm = sim.has_jobs[guests]
            if jm.any():
                jobs.settle_jobs(sim, guests[jm], t0[jm], gdt[jm])
    sim.last_t[h] = now
    offered.settle(sim, guests, on_host=True)


def share(sim: Simulation, hosts: I64, guests: I64) -> None:
    """Re-share CPU on ``hosts`` (sorted) among their running ``guests``; update power."""
    st = sim.state
    running = st.status[guests] == _RUNNING
    if _nnz(running) == guests.shape[0]:  # (each rate zeroed below is set again)
        g = guests
    else:
        g = guests[running]
        sim.demand[guests] = 0.0
        sim.useful[guests] = 0.0
        sim.raw[guests] = 0.0
        sim.raw_want[guests] = 0.0
    one = _one(sim)
    h = st.host_index(hosts)
    req: F64 | None = None
    compiled = recorded = False
    awake_changed = True  # (may be: compared below)
    if g.shape[0] and one.propshare and COMPILED and not sim.paused.any():
        # CloudSim's proportional share in one compiled pass (same operations, same order)
        want, g_used, req, awake_changed = assumptions.compiled_share(sim, hosts, g)
        local = g  # (not read: record gets the requests per host)
        compiled, recorded = True, req is None  # (None: the pass recorded the entries too)
    elif g.shape[0]:
        ix = sim.as_index(g)  # g itself where a guest's index list is needed
        h_of = st.host_of[ix]
        local = np.searchsorted(hosts, h_of) if hosts.shape[0] < st.n_hosts else h_of
        vcpus, mips = st.vcpus[ix], st.mips[ix]
        want = sim.u_last[ix] * vcpus * mips
        eff: F64 | float = 1.0  # every factor below is exactly 1 (OneHost.unit_eff)
        if not one.unit_eff:
            busy = want > 0
            runnable = np.bincount(local, weights=busy * vcpus,
                                   minlength=hosts.shape[0]).astype(np.float64)
            # the layer and scheduling term times the guest factors that are not exactly 1 in
            # this run (OneHost: x * 1.0 == x, so leaving those out changes no bit)
            eff = st.efficiency(hosts, runnable)[local]
            if one.syscall:
                eff = eff * (1.0 - st.syscall_frac[ix] * st.syscall_overhead[h_of])
            if one.mem:
                eff = eff * (1.0 - st.mem_frac[ix] * st.mem_bw_overhead[h_of])
            if one.noisy:
                noisy = busy & st.antisocial[ix]
                n_noisy = (np.bincount(local, weights=noisy, minlength=hosts.shape[0])[local]
                           - noisy)
                eff = eff * (1.0 - np.minimum(st.interference_max[h_of],
                                              st.interference[h_of] * n_noisy))
        # a vCPU's entitlement: its bare-metal speed in host MIPS (never above a core)
        if one.limit is not None:  # the same products, per guest once (OneHost)
            limit = one.limit[ix]
        else:
            limit = vcpus * np.minimum(mips, st.mips_per_core[h_of])
            if one.capped:
                limit = limit * st.cap_frac[ix]
        if sim.any_io:
            want_raw = want * st.io_scale(g, h_of)
        else:
            want_raw = want
        if not one.unit_eff:
            want_raw = want_raw / eff
        raw_want = np.minimum(want_raw, limit)
        paused = sim.paused[ix]
        if _nnz(paused):
            raw_want = np.where(paused, 0.0, raw_want)
        if sim.memory is not None:  # a guest waiting on swap-ins wants no CPU meanwhile
            raw_want = raw_want * sim.memory.stall[ix]
        sim.raw_want[ix] = raw_want
        hh = st.host_index(hosts)
        room = np.maximum(0.0, st.cap_mips[hh] - sim.extra_raw[hh])
        sim.demand[ix] = want
        if sim.proportional:
            alloc, delivered = assumptions.proportional_share(sim, hosts, g, local, raw_want, room,
                                                              vcpus)
            sim.useful[ix] = delivered if one.unit_eff else delivered * eff
            sim.raw[ix] = alloc
            used = np.bincount(local, weights=alloc, minlength=hosts.shape[0]).astype(np.float64)
        else:
            # what each host's guests want: where it fits, the shares are the wants (what
            # ``maxmin_share`` returns then) and these sums are the CPU used, the same bits
            used = np.bincount(local, weights=raw_want,
                               minlength=hosts.shape[0]).astype(np.float64, copy=False)
            if (used > room).any():
                alloc = maxmin_share(raw_want, local, room, st.weight[ix])
                used = np.bincount(local, weights=alloc,
                                   minlength=hosts.shape[0]).astype(np.float64, copy=False)
            else:
                alloc = raw_want
            sim.useful[ix] = (alloc if one.unit_eff else alloc * eff) * sim.speed[ix]
            sim.raw[ix] = alloc
        if one.jobs:
            jm = sim.has_jobs[g]
            if jm.any():
                jobs.rates_changed(sim, g[jm])
    else:
        used = np.zeros(hosts.shape[0], dtype=np.float64)
        local, want = g, np.zeros(0)
    if not compiled:
        g_used = used
        if sim.proportional:
            used = used + sim.cs.in_alloc[h]  # type: ignore[union-attr]
        used = np.minimum(used + sim.extra_raw[h], st.cap_mips[h])
        sim.util[h] = used / st.cap_mips[h]
    if awake_changed:  # (the compiled pass compared the flags already)
        awake = st.awake[h]
        changed = awake != sim.awake_seen[h]
        if changed.any():
            hc = hosts[changed]
            sign = np.where(awake[changed], 1.0, -1.0)
            sim.awake_n += int(sign.sum())
            sim.awake_ru += float((sign * sim.rack_units[hc]).sum())
            sim.awake_seen[hc] = awake[changed]
            sim.peak_awake_n = max(sim.peak_awake_n, sim.awake_n)
            sim.peak_awake_ru = max(sim.peak_awake_ru, sim.awake_ru)
    if not compiled:  # (else set by the compiled pass)
        power = st.sleep_power[h].copy()  # the power model for awake hosts only (row by row)
        on = np.flatnonzero(awake)
        if on.shape[0]:
            ho = hosts[on]
            power[on] = power_w(st.power_table[ho], sim.util[ho])
        sim.power[h] = np.where(st.failed[h], 0.0, power)
    if sim.cs is not None and sim.cs.recorder is not None and not recorded:
        assumptions.record(sim, hosts, g, local, want, g_used, req)


# ---------------------------------------------------------------------- one host, scalar ------
def fast_ok(sim: Simulation) -> bool:
    """Whether ``update_one`` may be used in this run at all (fixed after set-up): dcsim's own
    semantics (no CloudSim switch)."""
    return sim.cs is None and sim.energy_rule and not sim.proportional


class OneHost:
    """Per-run constants of the one-host path: host parameters as Python tuples, and which of
    the per-guest factors of the CPU model are exactly 1 in this run (no syscall- or
    memory-bound work, no noisy neighbour, no CPU cap), so that their products are skipped
    (``x * 1.0 == x``), and whether any guest runs finite jobs. ``unit_eff``: every guest's
    efficiency is exactly 1 (those three factors and the host's layer and scheduling terms),
    so the vector ``share`` skips computing it too (CloudSim mode: ``footprint: none``).

    Host hardware and layer parameters and guest efficiency inputs never change after
    ``Simulation`` set-up; built at the first one-host update.
    """

    __slots__ = ("capped", "host", "int_vcpus", "jobs", "limit", "mem", "noisy", "propshare",
                 "syscall", "unit_eff")

    def __init__(self, sim: Simulation) -> None:
        st = sim.state
        self.host: list[tuple[float, ...]] = list(zip(
            st.cap_mips.tolist(), st.cores.tolist(), st.pinned.tolist(), st.sched_max.tolist(),
            st.sched_slope.tolist(), st.cpu_overhead.tolist(), st.syscall_overhead.tolist(),
            st.mem_bw_overhead.tolist(), st.interference_max.tolist(),
            st.interference.tolist(), st.mips_per_core.tolist(), strict=True))
        finite = all(bool(np.isfinite(a).all()) for a in (
            st.syscall_overhead, st.mem_bw_overhead, st.interference, st.interference_max))
        # 1 - 0 * x == 1 for finite x; 1 - min(i_max, i * 0) == 1 for i_max >= 0
        self.syscall = not (finite and not st.syscall_frac.any())
        self.mem = not (finite and not st.mem_frac.any())
        self.noisy = not (finite and not st.antisocial.any()
                          and bool((st.interference_max >= 0).all()))
        self.capped = not bool((st.cap_frac == 1.0).all())
        # a guest's entitlement ``vcpus * min(mips, mips_per_core) [* cap_frac]``, per guest
        # when no guest's vCPU is faster than any host's core (then the min is ``mips``)
        self.limit: F64 | None = None
        if st.n_hosts and st.n_guests_total and st.mips.max() <= st.mips_per_core.min():
            self.limit = st.vcpus * st.mips
            if self.capped:
                self.limit = self.limit * st.cap_frac
        # host efficiency (1 - cpu_overhead) * (1 - sched) is exactly 1 at any load: no layer
        # overhead, and sched = min(sched_max, 0 * max(0, r - 1)) = 0 (finite r: cores > 0),
        # or pinned; with the three factors above also 1, ``share``'s eff is 1 for every guest
        host_one = bool(((st.cpu_overhead == 0.0)
                         & (st.pinned | ((st.sched_slope == 0.0) & (st.sched_max >= 0.0)
                                         & (st.cores > 0) & np.isfinite(st.cores)))).all())
        self.unit_eff = host_one and not (self.syscall or self.mem or self.noisy)
        self.jobs = bool(sim.has_jobs.any())
        # CloudSim's proportional share takes the compiled pass (``assumptions.compiled_share``)
        # when none of the factors it leaves out applies (paused guests: tested per call)
        self.propshare = (sim.proportional and self.unit_eff and not self.capped
                          and not self.jobs and not sim.any_io and sim.memory is None)
        # whole vCPU counts: any sum of them (below 2**53) is exact whatever its order
        v = st.vcpus
        self.int_vcpus = bool(np.isfinite(v).all() and (v >= 0).all()
                              and (v == np.floor(v)).all() and v.sum() < 2.0 ** 53)


def _one(sim: Simulation) -> OneHost:
    one = sim.one_host
    if one is None:
        one = sim.one_host = OneHost(sim)
    return one


def update_one(sim: Simulation, h: int, change: Callable[[], None] | None) -> None:
    """``settle`` host ``h`` up to now, apply ``change()`` (if any), ``share`` it again: the
    one-host path (bit-identical to the vector one; see the module docstring). Only when
    ``fast_ok(sim)``. While shares are held (``hold``), the re-share waits for ``release``
    and a host already settled at this instant is not settled again."""
    st = sim.state
    held = sim.held_shares
    if held is not None and sim.held_at != sim.env.now:  # never held across instants
        release(sim)
        held = None
    members = st.members[h]
    idx = np.asarray(members, dtype=np.intp)
    if held is None or h not in held:
        _settle_one(sim, h, idx)
    if change is not None:
        before = members.copy()
        change()
        if st.members[h] is not members or members != before:
            idx = np.asarray(st.members[h], dtype=np.intp)
    if held is not None:
        held.pop(h, None)
        held[h] = None  # re-shared in the order of the last change, as without holding
        return
    if not _share_one(sim, h, idx):
        share(sim, np.asarray([h], dtype=np.intp), idx)


def share_one(sim: Simulation, h: int) -> None:
    """``share`` host ``h`` alone (the one-host path, or the vector one where it must)."""
    idx = np.asarray(sim.state.members[h], dtype=np.intp)
    if not _share_one(sim, h, idx):
        share(sim, np.asarray([h], dtype=np.intp), idx)


def hold(sim: Simulation) -> None:
    """Until ``release``, ``update_one`` settles each host once and defers its re-share, so that
    several changes of one host at one instant cost one settle and one re-share.

    Exact: settling again at the same instant adds rates × 0 (nothing), and a re-share is a
    function of the state alone, so only the last one counts. Only for a run of changes
    between two yields of one process, in which nothing reads the shares (utilisation, power,
    guest rates); only on the one-host path (``fast_ok``).
    """
    if sim.held_shares is None and sim._one_host:
        sim.held_shares = {}
        sim.held_at = sim.env.now


def release(sim: Simulation) -> None:
    """Re-share every host whose share ``hold`` deferred, in the order of their last change."""
    held = sim.held_shares
    if held is None:
        return
    sim.held_shares = None
    for h in held:
        share_one(sim, h)


def _settle_one(sim: Simulation, h: int, idx: I64) -> None:
    """``settle`` of host ``h`` and its guests ``idx``: host terms in scalar Python, guest terms
    vectorized (same expressions as ``settle``)."""
    st = sim.state
    now = sim.env.now
    last_t = sim.last_t
    t_last = last_t.item(h)
    dt = now - t_last
    awake = st.awake.item(h)
    util = sim.util.item(h)
    cap = st.cap_mips.item(h)
    sim.energy_j[h] += sim.power.item(h) * dt
    sim.active_s[h] += awake * dt
    sim.busy_mi[h] += util * cap * dt
    sim.avail_mi[h] += awake * cap * dt
    sim.guest_s[h] += st.n_guests.item(h) * dt
    sim.full_s[h] += (awake and util >= _FULL) * dt
    ready_dt = min(max(now - max(t_last, sim.ready_at.item(h)), 0.0), dt)
    sim.ready_s[h] += awake * ready_dt
    last_t[h] = now
    if idx.shape[0]:
        paused = sim.paused[idx]
        d = sim.demand[idx]
        any_paused = _nnz(paused)
        sim.demand_mi[idx] += (np.where(paused, 0.0, d) if any_paused else d) * dt
        sim.useful_mi[idx] += sim.useful[idx] * dt
        sim.raw_mi[idx] += sim.raw[idx] * dt
        sp = sim.speed[idx] if sim.memory is None else sim.memory.mig_speed[idx]
        degraded = (paused | (sp < 1.0)) if any_paused else sp < 1.0
        if _nnz(degraded):
            lost = np.where(paused[degraded], d[degraded], d[degraded] * (1.0 - sp[degraded]))
            sim.mig_loss_mi[idx[degraded]] += lost * dt
        if sim.memory is not None:
            losses(sim, idx, paused, d, dt)
        if _one(sim).jobs:
            jm = sim.has_jobs[idx]
            n_jobs = _nnz(jm)
            if n_jobs:
                jg = idx if n_jobs == idx.shape[0] else idx[jm]
                jobs.settle_jobs(sim, jg, np.full(jg.shape[0], t_last), dt)
        # waiting demand: ``offered.settle(sim, idx, on_host=True)``, its integration in floats
        waiting = st.status[idx] == _BOOTING
        if any_paused:
            waiting |= paused
        if _nnz(waiting):
            if _one(sim).jobs:
                waiting &= ~sim.has_jobs[idx]
            wl = idx[waiting]
            if wl.shape[0]:
                offered.integrate(sim, wl)
        sim.w_last[idx] = now


def _share_one(sim: Simulation, h: int, idx: I64) -> bool:
    """``share`` of host ``h`` among its guests ``idx`` (same expressions as ``share``, with
    host terms as Python floats and factors that are exactly 1 skipped); False (nothing
    changed) when it needs the vector path (a zero efficiency)."""
    st = sim.state
    one = _one(sim)
    (cap, cores, pinned, sched_max, sched_slope, cpu_oh, sys_oh, mem_oh, i_max, i_one,
     mpc) = one.host[h]
    extra = sim.extra_raw.item(h)
    n = idx.shape[0]
    if n:
        running = st.status[idx] == _RUNNING
        n_run = int(_nnz(running))
        g = idx if n_run == n else idx[running]
    else:
        n_run = 0
    used = 0.0
    if n_run:
        vcpus = st.vcpus[g]
        want = sim.u_last[g] * vcpus * st.mips[g]
        busy = want > 0
        if one.int_vcpus:  # a sum of whole numbers below 2**53: exact in any order
            n_busy = _nnz(busy)
            runnable = float(vcpus.sum() if n_busy == n_run else vcpus[busy].sum())
        else:
            runnable = 0.0  # np.bincount's sum: left to right from 0.0
            for x in (busy * vcpus).tolist():
                runnable += x
        if pinned:
            sched = 0.0
        else:
            sched = min(sched_max, sched_slope * max(0.0, runnable / cores - 1.0))
        eff: F64 | float = (1.0 - cpu_oh) * (1.0 - sched)
        if one.syscall:
            eff = eff * (1.0 - st.syscall_frac[g] * sys_oh)
        if one.mem:
            eff = eff * (1.0 - st.mem_frac[g] * mem_oh)
        if one.noisy:
            noisy = busy & st.antisocial[g]
            n_noisy = float(_nnz(noisy))  # a sum of zeros and ones: exact
            eff = eff * (1.0 - np.minimum(i_max, i_one * (n_noisy - noisy)))
        if (_nnz(eff == 0.0) if isinstance(eff, np.ndarray) else eff == 0.0):
            return False  # numpy's inf/NaN semantics: left to the vector path
        if one.limit is not None:
            limit = one.limit[g]
        else:
            limit = vcpus * np.minimum(st.mips[g], mpc)
            if one.capped:
                limit = limit * st.cap_frac[g]
        if sim.any_io:
            want_raw = want * st.io_scale(g, np.full(n_run, h, dtype=np.intp)) / eff
        else:
            want_raw = want / eff
        raw_want = np.minimum(want_raw, limit)
        if sim.memory is not None:  # a guest waiting on swap-ins wants no CPU meanwhile
            raw_want = raw_want * sim.memory.stall[g]
        paused = sim.paused[g]
        if _nnz(paused):
            raw_want = np.where(paused, 0.0, raw_want)
        # np.bincount's sum, left to right from 0.0: an accumulation is left to right too
        # (from its first entry; 0.0 + turns a -0.0 total into 0.0 as the sum from 0.0 does)
        used = 0.0 + np.add.accumulate(raw_want).item(-1)
        room = max(0.0, cap - extra)
        alloc = raw_want
        if used > room:  # oversubscribed: the water-filling kernel of ``share``, in floats
            shares = maxmin_share_one(raw_want.tolist(), room, st.weight[g].tolist())
            alloc = np.asarray(shares)
            used = 0.0
            for x in shares:
                used += x
        if n_run < n:
            _zero(sim, idx)
        sim.demand[g] = want
        sim.raw_want[g] = raw_want
        sim.raw[g] = alloc
        sim.useful[g] = alloc * eff * sim.speed[g]
        if one.jobs:
            jm = sim.has_jobs[g]
            n_jobs = _nnz(jm)
            if n_jobs:
                jobs.rates_changed(sim, g if n_jobs == n_run else g[jm])
    elif n:
        _zero(sim, idx)
    used = min(used + extra, cap)
    util = used / cap
    sim.util[h] = util
    awake = st.awake.item(h)
    if awake != sim.awake_seen.item(h):
        sign = 1.0 if awake else -1.0
        sim.awake_n += int(sign)
        sim.awake_ru += float(sign * sim.rack_units.item(h))
        sim.awake_seen[h] = awake
        sim.peak_awake_n = max(sim.peak_awake_n, sim.awake_n)
        sim.peak_awake_ru = max(sim.peak_awake_ru, sim.awake_ru)
    if st.failed.item(h):
        sim.power[h] = 0.0
    elif awake:
        u = min(max(util, 0.0), 1.0) * (N_POINTS - 1)
        lo = min(math.floor(u), N_POINTS - 2)
        p_lo = st.power_table.item(h, lo)
        sim.power[h] = p_lo + (st.power_table.item(h, lo + 1) - p_lo) * (u - lo)
    else:
        sim.power[h] = st.sleep_power.item(h)
    return True


def _zero(sim: Simulation, idx: I64) -> None:
    sim.demand[idx] = 0.0
    sim.useful[idx] = 0.0
    sim.raw[idx] = 0.0
    sim.raw_want[idx] = 0.0
