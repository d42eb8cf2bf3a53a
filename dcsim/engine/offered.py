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
    if guests is None:
        status = st.status
        waiting = ((status == _BOOTING) | (status == _DOWN) | (status == _REJECTED)
                   | ((status == _RUNNING) & sim.paused)
                   | ((status == _DEPARTED) & sim.dropped)) & ~sim.has_jobs
        idx = np.flatnonzero(waiting)
    else:
        if guests.shape[0] == 0:
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
        s = st.status[idx]
        rec = sim.recovering[idx]
        booting = (s == _BOOTING) & ~rec
        rejected = s == _REJECTED
        dropped = s == _DEPARTED  # only dropped departed guests are waiting
        down = ~booting & ~rejected & ~dropped  # DOWN, paused, or booting again after a failure
        t0 = sim.w_last[idx]
        t1 = np.minimum(now, sim.stop_at[idx])
        dt = np.maximum(t1 - t0, 0.0)
        want = sim.u_last[idx] * st.vcpus[idx] * st.mips[idx]
        mi = want * dt
        wake_dt = np.where(booting, np.clip(np.minimum(t1, sim.wake_until[idx]) - t0, 0.0, dt),
                           0.0)
        wake_mi = want * wake_dt
        by = sim.unserved_by_cause
        by[WAKE] += float(wake_mi.sum())
        by[BOOT] += float((mi - wake_mi)[booting].sum())
        by[REJECTED] += float(mi[rejected].sum())
        by[DOWNTIME] += float(mi[down].sum())
        by[DROPPED] += float(mi[dropped].sum())
        sim.wait_mi[idx] += mi
    if guests is None:
        sim.w_last[:] = now
    else:
        sim.w_last[guests] = now


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
