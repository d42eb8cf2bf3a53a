"""Finite jobs: each guest runs a queue of jobs back to back; completions under processor sharing.

The job state lives on the ``Simulation`` as arrays (one entry per guest, and flat arrays over all
jobs with per-guest offsets): ``job_first``/``job_stop`` (a guest's jobs), ``job_next`` (next to
finish), ``job_cum`` (cumulative MI at each job's end), ``work`` (MI delivered so far),
``t_empty`` (when the guest's queue empties at its current rate). Rates are piecewise constant
between engine events, so the end of every job inside a piece is found by interpolation when the
piece is settled (``job_completions``); the only events are queue-empty instants
(``jobs_watch``), which change the host's shares. So a million jobs cost a few thousand events.

Imports: numpy, simpy (through the Simulation), dcsim.config.workloads, dcsim.model.cluster.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from dcsim.config.workloads import JobsWorkload
from dcsim.model.cluster import GuestStatus

if TYPE_CHECKING:
    from dcsim.engine.simulation import ProcessGenerator, Simulation

F64 = NDArray[np.float64]
I64 = NDArray[np.intp]

# Relative tolerance when deciding that a job's last instruction has been delivered.
JOB_TOL = 1e-9


def setup_jobs(sim: Simulation) -> None:
    st = sim.state
    n_g = st.n_guests_total
    sim.job_first = np.zeros(n_g, dtype=np.intp)  # flat index of the guest's first job
    sim.job_stop = np.zeros(n_g, dtype=np.intp)  # one past its last job
    sim.job_next = np.zeros(n_g, dtype=np.intp)  # next job to finish
    sim.job_total = np.zeros(n_g)  # MI of all the guest's jobs
    sim.work = np.zeros(n_g)  # MI delivered towards them
    sim.has_jobs = np.zeros(n_g, dtype=bool)
    sim.jobs_over = np.zeros(n_g, dtype=bool)  # all jobs finished
    sim.depart_when_done = np.zeros(n_g, dtype=bool)
    sim.t_empty = np.full(n_g, np.inf)
    lengths: list[F64] = []
    pos = 0
    for sl, g in zip(sim.slices, sim.sc.guest_groups, strict=True):
        spec = g.spec.workload
        if not isinstance(spec, JobsWorkload):
            continue
        n = sl.stop - sl.start
        rng = sim.streams[f"jobs.{g.index}"]
        lens = spec.length * rng.uniform(1 - spec.spread, 1 + spec.spread, (n, spec.count))
        lengths.append(lens.ravel())
        ids = np.arange(sl.start, sl.stop)
        sim.job_first[ids] = pos + np.arange(n) * spec.count
        sim.job_stop[ids] = sim.job_first[ids] + spec.count
        sim.job_total[ids] = lens.sum(axis=1)
        sim.has_jobs[ids] = True
        sim.depart_when_done[ids] = spec.depart_when_done
        pos += n * spec.count
    sim.job_next[:] = sim.job_first
    sim.job_len = np.concatenate(lengths) if lengths else np.zeros(0)
    # cumulative work at each job's end, within its guest
    sim.job_cum = np.zeros_like(sim.job_len)
    for gi in np.flatnonzero(sim.has_jobs).tolist():
        a, b = sim.job_first[gi], sim.job_stop[gi]
        sim.job_cum[a:b] = np.cumsum(sim.job_len[a:b])
    sim.job_end = np.full(sim.job_len.shape[0], np.nan)
    sim.jobs_changed = sim.env.event()
    sim.jobs_target = np.inf


#: Fewest jobs looked at per guest in the first pass of ``job_completions``.
JOB_WINDOW = 8
#: Most (guest, job) pairs one pass of ``job_completions`` looks at, unless ``JOB_WINDOW`` per
#: guest is more (bounds memory when one guest finishes very many jobs in one piece).
JOB_BUDGET = 1 << 16
#: Up to about this many (guest, job) pairs to examine, ``job_completions`` walks them in
#: Python floats (numpy's per-call cost dominates small pieces: one host's few guests).
JOB_SCALAR = 256
#: Up to this many guests, ``rates_changed`` works in Python floats.
JOB_SCALAR_GUESTS = 32


def job_completions(sim: Simulation, g: I64, t0: F64, before: F64, rate: F64, after: F64) -> None:
    """Record the end instants of jobs of guests ``g`` finished within this piece.

    A guest's finished jobs are the leading run of its remaining ones whose cumulative end
    ``cum`` satisfies ``cum <= after + JOB_TOL * cum``; each ends at ``t0 + (cum - before) /
    rate`` (``t0`` if the rate is 0), at most now. The jobs are examined in a window per guest,
    all guests at once: about twice the number of average-length jobs the busiest guest did in
    the piece (at least ``JOB_WINDOW``), doubled for the guests that finished their whole window.
    So a piece costs a fixed number of numpy calls, not one round per finished job. A small
    piece (about ``JOB_SCALAR`` pairs or fewer) is walked job by job in Python floats instead:
    the same expressions, element by element, so the same floats.
    """
    n = g.shape[0]
    if not n:
        return
    now = sim.env.now
    nxt = sim.job_next[g]
    stop = sim.job_stop[g]
    # average-length jobs done in the piece by the busiest guest (job lengths are > 0)
    most = float(np.max((after - before) * (stop - sim.job_first[g]) / sim.job_total[g]))
    if n * (most + 2.0) <= JOB_SCALAR:
        _walk(sim, g, nxt.tolist(), stop.tolist(), t0, before, rate, after)
        return
    width = int(min(max(2.0 * most + 2.0, JOB_WINDOW), max(JOB_WINDOW, JOB_BUDGET // n)))
    pos = rate > 0
    safe = np.where(pos, rate, 1.0)[:, None]  # the rate where it is > 0 (no division by 0)
    while True:
        # a guest's jobs are job_first..job_stop-1 (at least one): clipping keeps idx inside
        ahead = nxt[:, None] + np.arange(width, dtype=np.intp)
        inside = ahead < stop[:, None]
        idx = np.minimum(ahead, stop[:, None] - 1)
        cum = sim.job_cum[idx]
        # finished, and every earlier job of the window too (a guest stops at its first
        # unfinished job; job_cum increases along a guest's jobs)
        done = np.logical_and.accumulate(inside & (cum <= after[:, None] + JOB_TOL * cum), axis=1)
        n_done = done.sum(axis=1)
        t = t0[:, None] + np.where(pos[:, None], (cum - before[:, None]) / safe, 0.0)
        sim.job_end[idx[done]] = np.minimum(t[done], now)
        sim.job_next[g] += n_done
        more = (n_done == width) & (nxt + width < stop)  # finished the window: look further
        if not more.any():
            return
        g, t0, before, after = g[more], t0[more], before[more], after[more]
        pos, safe = pos[more], safe[more]
        nxt, stop = sim.job_next[g], stop[more]
        width *= 2


def _walk(sim: Simulation, g: I64, nxt: list[int], stop: list[int], t0: F64, before: F64,
          rate: F64, after: F64) -> None:
    """``job_completions`` one job at a time (for small pieces): each guest's leading run of
    finished jobs, ends ``t0 + (cum - before) / rate`` (``t0 + 0.0`` at rate 0), at most now
    (``np.minimum``: NaN kept, a tie gives now)."""
    now = sim.env.now
    job_cum = sim.job_cum
    ended: list[int] = []
    ends: list[float] = []
    for i, (a, b, r, t) in enumerate(zip(after.tolist(), before.tolist(), rate.tolist(),
                                         t0.tolist(), strict=True)):
        j, last = nxt[i], stop[i]
        while j < last:
            cum = job_cum.item(j)
            if not cum <= a + JOB_TOL * cum:
                break
            end = t + ((cum - b) / r if r > 0 else 0.0)
            ended.append(j)
            ends.append(end if (end < now or end != end) else now)
            j += 1
        nxt[i] = j
    if ended:
        sim.job_end[ended] = ends
        sim.job_next[g] = nxt


def settle_jobs(sim: Simulation, jg: I64, t0: F64, dt: F64 | float) -> None:
    """Progress of the finite jobs of guests ``jg`` over the ``dt`` s since ``t0`` at their
    current useful rates (capped at each guest's total), and the jobs that ended in it."""
    before = sim.work[jg]
    rate = sim.useful[jg]
    after = np.minimum(before + rate * dt, sim.job_total[jg])
    sim.work[jg] = after
    job_completions(sim, jg, t0, before, rate, after)


def rates_changed(sim: Simulation, jg: I64) -> None:
    """Guests ``jg`` (running finite jobs) got new useful rates: when each queue empties; wake
    ``jobs_watch`` if that is sooner than it waits for."""
    now = sim.env.now
    if jg.shape[0] <= JOB_SCALAR_GUESTS:  # a host's few guests: the same in Python floats
        t_list = [math.inf if over else (
            now if total - work <= JOB_TOL * total
            else (now + (total - work) / rate if rate > 0 else math.inf))
            for total, work, rate, over in zip(
                sim.job_total[jg].tolist(), sim.work[jg].tolist(), sim.useful[jg].tolist(),
                sim.jobs_over[jg].tolist(), strict=True)]
        sim.t_empty[jg] = t_list
        soonest = min(t_list)  # np.min: NaN if any (none here: finite work and rates)
        if any(x != x for x in t_list):
            soonest = math.nan
        if soonest < sim.jobs_target and not sim.jobs_changed.triggered:
            sim.jobs_changed.succeed()
        return
    left = sim.job_total[jg] - sim.work[jg]
    rate = sim.useful[jg]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_e = np.where(left <= JOB_TOL * sim.job_total[jg], now,
                       np.where(rate > 0, now + left / rate, np.inf))
    t_e = np.where(sim.jobs_over[jg], np.inf, t_e)
    sim.t_empty[jg] = t_e
    if t_e.min() < sim.jobs_target and not sim.jobs_changed.triggered:
        sim.jobs_changed.succeed()


def jobs_watch(sim: Simulation) -> ProcessGenerator:
    """SimPy process: wake when a guest running finite jobs runs out of work."""
    while True:
        target = float(sim.t_empty.min()) if sim.t_empty.shape[0] else np.inf
        sim.jobs_target = target
        sim.jobs_changed = sim.env.event()
        if np.isfinite(target):
            yield sim.env.any_of(
                [sim.env.timeout(max(0.0, target - sim.env.now)), sim.jobs_changed]
            )
        else:
            yield sim.jobs_changed
        sim.events += 1
        now = sim.env.now
        due = np.flatnonzero(sim.t_empty <= now * (1 + 1e-12) + 1e-9)
        for g in due.tolist():
            finish_jobs(sim, int(g))


def finish_jobs(sim: Simulation, g: int) -> None:
    st = sim.state
    h = int(st.host_of[g])
    if h < 0:
        sim.t_empty[g] = np.inf
        return

    sim.jobs_over[g] = True  # the work is done (set before settling: no further demand)
    sim.t_empty[g] = np.inf
    if sim.depart_when_done[g] and st.status[g] == GuestStatus.RUNNING:
        sim.depart(g)  # settles the host (recording the last job's end) and re-shares
        return

    def change() -> None:
        sim.u_last[g] = 0.0

    sim.update_host(h, change)
