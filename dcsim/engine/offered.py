"""Offered load: the demand of guests that wait, integrated exactly, split by cause.

A guest's *offered load* is what its workload asks for over its whole would-be presence in the
run, from its arrival to its planned departure (arrival + lifetime) or the end of the run, as if
it ran the whole time. While it runs (and is not paused) its demand is integrated by the engine's
host accounting (``Simulation._settle``); this module integrates the rest, the demand of a guest
that is *not* being served for a reason other than CPU contention:

* ``wake``: placed on a sleeping host, waiting for it to wake (``power_management.wake_latency``);
* ``boot``: booting or starting on its layer (the profile's ``boot_time``);
* ``rejected``: fitted on no host at its arrival (for its whole would-be lifetime in the run);
* ``downtime``: stopped for a migration's stop-and-copy, down after a host failure (status
  ``DOWN``), and booting again after a failure restart;
* ``dropped``: removed for good by ``assumptions: {zero_demand: drop}`` when its demand hit 0,
  from the drop instant to its planned departure or the end of the run (what its workload would
  have asked for had it been kept; without this, dropping guests would lower offered load and
  make unserved demand look better by serving less).

The demand a waiting guest would have is its workload's current value × vCPUs × MIPS per vCPU,
the same ``u_last`` the engine samples for every guest (placed or not) at each scheduling
instant, so it needs no host and is computed vectorized for all guests at once. Guests running
finite jobs are the exception: their work is delayed, not lost, while they wait (the delay shows
in ``mean_job_slowdown``, measured from arrival), so only a rejected job guest counts, with all
of its job work.

Integration is piecewise exact: a guest's waiting demand is held between scheduling instants,
each guest has its own clock ``w_last``, and ``settle`` is called before every change of a
guest's status or pause flag (through the host settle) and for all guests at every scheduling
instant, before the workloads are sampled again.

Imports: numpy, dcsim.model.cluster; dcsim.kernels (numba) in CloudSim mode, on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from dcsim.model.cluster import GuestStatus

if TYPE_CHECKING:
    from dcsim.engine.simulation import Simulation

F64 = NDArray[np.float64]
I64 = NDArray[np.intp]

CAUSES = ("wake", "boot", "rejected", "downtime", "dropped")
"""Causes of unserved (waiting) demand, in the order of ``Simulation.unserved_by_cause``."""
WAKE, BOOT, REJECTED, DOWNTIME, DROPPED = range(5)


def setup(sim: Simulation) -> None:
    """Create the offered-load arrays on ``sim``."""
    n_g = sim.state.n_guests_total
    sim.w_last = np.zeros(n_g)  # time up to which a guest's waiting demand is integrated, s
    sim.stop_at = np.full(n_g, np.inf)  # end of its would-be presence: arrival + lifetime, s
    sim.wake_until = np.zeros(n_g)  # a booting guest waits for its host's wake until then, s
    sim.recovering = np.zeros(n_g, dtype=bool)  # booting again after a failure: downtime
    sim.dropped = np.zeros(n_g, dtype=bool)  # departed by zero_demand: drop (see ``drop``)
    sim.wait_mi = np.zeros(n_g)  # per guest: waiting demand so far, MI
    sim.unserved_by_cause = np.zeros(len(CAUSES))  # totals per cause, MI


def arrive(sim: Simulation, guests: I64) -> None:
    """First arrival of ``guests`` now: start their clocks and their would-be presence."""
    now = sim.env.now
    sim.w_last[guests] = now
    sim.stop_at[guests] = np.minimum(now + sim.lifetime_s[guests], sim.duration)


_BOOTING, _RUNNING = int(GuestStatus.BOOTING), int(GuestStatus.RUNNING)
_REJECTED, _DOWN = int(GuestStatus.REJECTED), int(GuestStatus.DOWN)
_DEPARTED = int(GuestStatus.DEPARTED)


def settle(sim: Simulation, guests: I64 | None = None, *, on_host: bool = False) -> None:
    """Integrate the waiting demand of ``guests`` (default all) up to now, by cause.

    ``on_host``: the guests are all placed on hosts (the host settle), so none is rejected or
    down; only booting and paused guests can be waiting (a cheaper test).
    """
    st, now = sim.state, sim.env.now
    if guests is not None and guests.shape[0] <= _FEW:
        _settle_few(sim, guests, on_host)
        return
    if guests is None and COMPILED and sim.cs is not None:
        _settle_all_compiled(sim)
        return
    if guests is None:
        status = st.status
        waiting = ((status == _BOOTING) | (status == _DOWN) | (status == _REJECTED)
                   | ((status == _RUNNING) & sim.paused)
                   | ((status == _DEPARTED) & sim.dropped)) & ~sim.has_jobs
        idx = np.flatnonzero(waiting)
    else:
        if guests.shape[0] == 0:
            return
        if on_host and guests.shape[0] * 4 >= st.n_guests_total and not (
                (st.status == _BOOTING).any() or sim.paused.any()):
            # no guest at all is booting or paused: none waits
            sim.w_last[sim.as_index(guests)] = now
            return
        status = st.status[guests]
        if on_host:
            waiting = ((status == _BOOTING) | sim.paused[guests]) & ~sim.has_jobs[guests]
        else:
            waiting = ((status == _BOOTING) | (status == _DOWN) | (status == _REJECTED)
                       | ((status == _RUNNING) & sim.paused[guests])
                       | ((status == _DEPARTED) & sim.dropped[guests])) & ~sim.has_jobs[guests]
        idx = guests[waiting]
    if idx.shape[0]:
        _integrate_vector(sim, idx)
    sim.w_last[slice(None) if guests is None else sim.as_index(guests)] = now


def _integrate_vector(sim: Simulation, idx: I64) -> None:
    """The integration step for the waiting guests ``idx`` (no guest twice, none running finite
    jobs), vectorized; :func:`integrate` is the same in Python floats. Does not move
    ``w_last``. When every guest of ``idx`` boots (a host's guests booting together), the other
    causes' masks are not built and the boot terms are not selected (the same arrays, so the
    same sums)."""
    st, now = sim.state, sim.env.now
    s = st.status[idx]
    rec = sim.recovering[idx]
    booting = (s == _BOOTING) & ~rec
    n_boot = int(np.count_nonzero(booting))
    all_boot = n_boot == idx.shape[0]
    t0 = sim.w_last[idx]
    t1 = np.minimum(now, sim.stop_at[idx])
    dt = np.maximum(t1 - t0, 0.0)
    want = sim.u_last[idx] * st.vcpus[idx] * st.mips[idx]
    mi = want * dt
    by = sim.unserved_by_cause
    # (a cause without guests adds a sum of nothing, 0.0: left out, the same totals)
    if n_boot:
        # np.clip(x, 0, dt)'s arithmetic, without its overhead
        wake = np.minimum(np.maximum(np.minimum(t1, sim.wake_until[idx]) - t0, 0.0), dt)
        wake_mi = want * (wake if all_boot else np.where(booting, wake, 0.0))
        by[WAKE] += float(wake_mi.sum())
        rest = mi - wake_mi
        by[BOOT] += float((rest if all_boot else rest[booting]).sum())
    if not all_boot:
        rejected = s == _REJECTED
        dropped = s == _DEPARTED  # only dropped departed guests are waiting
        down = ~booting & ~rejected & ~dropped  # DOWN, paused, or booting again after a failure
        for cause, of in ((REJECTED, rejected), (DOWNTIME, down), (DROPPED, dropped)):
            if of.any():
                by[cause] += float(mi[of].sum())
    sim.wait_mi[idx] += mi


#: in CloudSim mode (numba loaded for its kernels anyway), ``settle`` of every guest takes one
#: compiled pass (``dcsim.kernels.dcupdate.settle_waiting``); False: numpy, for the tests
COMPILED = True


def _settle_all_compiled(sim: Simulation) -> None:
    """``settle`` of every guest: the compiled pass, then numpy's sums of its terms per cause
    (the same arrays as the numpy form sums, so the same sums)."""
    from dcsim.kernels.jit import kernel

    st = sim.state
    any_boot, wake, boot, rej, down, drop = kernel("dcupdate").settle_waiting(
        float(sim.env.now), st.status, sim.paused, sim.dropped, sim.has_jobs, sim.recovering,
        sim.w_last, sim.stop_at, sim.wake_until, sim.u_last, st.vcpus, st.mips, sim.wait_mi,
        _BOOTING, _DOWN, _REJECTED, _RUNNING, _DEPARTED)
    by = sim.unserved_by_cause
    if any_boot:
        by[WAKE] += float(wake.sum())
        by[BOOT] += float(boot.sum())
    for cause, mi in ((REJECTED, rej), (DOWNTIME, down), (DROPPED, drop)):
        if mi.shape[0]:
            by[cause] += float(mi.sum())


_FEW = 8  # up to this many guests, ``settle`` takes them one by one in Python floats


def _settle_few(sim: Simulation, guests: I64, on_host: bool) -> None:
    """``settle`` of a few ``guests``: the waiting test guest by guest, then ``integrate``."""
    st = sim.state
    status, paused, dropped, has_jobs = st.status, sim.paused, sim.dropped, sim.has_jobs
    wait = []
    for g in guests.tolist():
        s = int(status[g])
        if on_host:
            waiting = s == _BOOTING or bool(paused[g])
        else:
            waiting = (s in (_BOOTING, _DOWN, _REJECTED)
                       or (s == _RUNNING and bool(paused[g]))
                       or (s == _DEPARTED and bool(dropped[g])))
        if waiting and not has_jobs[g]:
            wait.append(g)
    if wait:
        integrate(sim, wait)
    sim.w_last[guests] = sim.env.now


def _sum(xs: list[float]) -> float:
    """``np.sum`` of an array holding ``xs``, bit for bit: below 8 entries numpy adds them left
    to right from 0.0 (its pairwise sum only splits longer arrays)."""
    if len(xs) < 8:
        out = 0.0
        for x in xs:
            out += x
        return out
    return float(np.sum(np.asarray(xs, dtype=np.float64)))


#: From this many waiting guests on, :func:`integrate` takes the vectorized form (the same
#: bits), whose numpy calls cost less than the Python loop's per-guest work from about here.
VECTOR_FROM = 16


def integrate(sim: Simulation, idx: list[int] | I64) -> None:
    """The integration step of ``settle`` for the waiting guests ``idx`` (in ``settle``'s
    order; none running finite jobs, no guest twice) in Python floats: element by element the
    same operations (``np.clip`` and ``np.minimum``/``np.maximum`` are ``min``/``max`` on these
    non-NaN times), the sums per cause as ``np.sum`` takes them (``_sum``). Does not move
    ``w_last``. From :data:`VECTOR_FROM` guests on it is :func:`_integrate_vector`: a host
    whose guests all boot at its start settles the ones still booting at each boot's end
    (~k²/2 guest terms for k guests: up to 84 on a host of the default config).

    A cause with no guest is skipped: ``np.sum`` of nothing is +0.0, and adding +0.0 changes no
    total (a total is never -0.0: it starts at +0.0 and only ever gains sums, which are
    never -0.0 either, as they start from +0.0).
    """
    if len(idx) >= VECTOR_FROM:
        _integrate_vector(sim, np.asarray(idx, dtype=np.intp))
        return
    if isinstance(idx, np.ndarray):
        idx = idx.tolist()
    st, now = sim.state, sim.env.now
    status, rec, w_last, stop_at = st.status, sim.recovering, sim.w_last, sim.stop_at
    u_last, vcpus, mips, wake_until, wait_mi = (sim.u_last, st.vcpus, st.mips, sim.wake_until,
                                                sim.wait_mi)
    wake: list[float] = []
    boot: list[float] = []
    rejected: list[float] = []
    down: list[float] = []
    dropped: list[float] = []
    for g in idx:
        s = int(status[g])
        t0 = w_last.item(g)
        t1 = min(now, stop_at.item(g))
        dt = max(t1 - t0, 0.0)
        want = u_last.item(g) * vcpus.item(g) * mips.item(g)
        mi = want * dt
        if s == _BOOTING and not rec[g]:
            wake_mi = want * min(max(min(t1, wake_until.item(g)) - t0, 0.0), dt)
            boot.append(mi - wake_mi)
        else:
            wake_mi = want * 0.0
            if s == _REJECTED:
                rejected.append(mi)
            elif s == _DEPARTED:
                dropped.append(mi)
            else:
                down.append(mi)
        wake.append(wake_mi)
        wait_mi[g] += mi
    by = sim.unserved_by_cause
    by[WAKE] += _sum(wake)
    for cause, xs in ((BOOT, boot), (REJECTED, rejected), (DOWNTIME, down), (DROPPED, dropped)):
        if xs:
            by[cause] += _sum(xs)


def reject_jobs(sim: Simulation, g: int) -> None:
    """A guest running finite jobs was rejected: all its job work goes unserved."""
    work = float(sim.job_total[g] - sim.work[g])
    sim.unserved_by_cause[REJECTED] += work
    sim.wait_mi[g] += work


def drop(sim: Simulation, g: int) -> None:
    """Guest ``g`` was just dropped (departed now, not at the end of its lifetime): from now to
    ``stop_at`` its workload's demand counts as unserved, cause ``dropped``; it is counted in
    ``guests_dropped``, not in ``guests_departed``.

    ``Simulation.depart`` settled it up to now (``w_last`` = now) through its host; ``settle``
    integrates to ``min(now, stop_at)``, so a drop at or after ``stop_at`` adds no demand.
    """
    sim.dropped[g] = True
