"""Admission in the default engine: placing arriving (or restarted) guests and starting their
lifecycle.

``admit`` asks the placement policy (or takes an outside agent's hosts, or CloudSim's initial
placement at t = 0) for a host per guest, places each guest under the capacity law, wakes its host,
and arms its boot end and departure (``dcsim.engine.lifecycle``); a guest without a host gets the
status it is given (rejected, or down after a failure). ``boot_time`` draws a guest's boot time on a
host's layer. ``Simulation.admit`` and ``Simulation.boot_time`` call these.

Imports: numpy, dcsim.engine.{assumptions, lifecycle, offered}, dcsim.errors, dcsim.model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from dcsim.engine import assumptions, lifecycle, offered
from dcsim.errors import ConfigError, Issue
from dcsim.model.cluster import GuestStatus

if TYPE_CHECKING:
    from dcsim.engine.simulation import Simulation

F64 = NDArray[np.float64]
I64 = NDArray[np.intp]


def boot_time(sim: Simulation, g: int, h: int) -> float:
    """Boot/start time of guest ``g`` on host ``h``'s layer, s (its own normal draw)."""
    prof = sim.profiles[int(sim.state.profile[h])]
    bt = prof.boot_time
    if bt.dist == "constant" or bt.sd == 0:
        t = bt.mean
    elif bt.dist == "normal":
        t = bt.mean + bt.sd * sim.boot_z[g]
    else:  # lognormal with the given mean and sd
        s2 = np.log1p((bt.sd / bt.mean) ** 2)
        t = float(np.exp(np.log(bt.mean) - s2 / 2 + np.sqrt(s2) * sim.boot_z[g]))
    return max(0.0, float(t))


def admit(sim: Simulation, batch: I64, *, lifetime_left: F64 | None = None,
          extra_delay: F64 | None = None, skip_boot: NDArray[np.bool_] | None = None,
          unplaced: GuestStatus = GuestStatus.REJECTED, decision: I64 | None = None) -> I64:
    """Place arriving guests with the placement policy (or the hosts ``decision`` gives, -1 =
    none: an outside agent's, ``Simulation.decide``); returns the host per guest (-1 = not
    placed, status ``unplaced``). ``extra_delay`` (s) is added before boot (e.g. a restore from a
    snapshot); ``skip_boot`` marks guests that resume instead of booting."""
    st, now = sim.state, sim.env.now
    first = np.isnan(sim.arrival_s[batch])
    sim.arrival_s[batch[first]] = now
    offered.arrive(sim, batch[first])
    offered.settle(sim, batch)  # e.g. the downtime of guests restarted after a failure
    recovering = unplaced == GuestStatus.DOWN
    demand_only = sim.assume.reservation == "demand"
    st.hold = True  # admission checks and reserves the configured size
    cloudsim_start = sim.assume.initial_placement == "cloudsim" and now == 0
    if decision is not None:
        decision = np.asarray(decision, dtype=np.intp).copy()
    elif cloudsim_start:
        decision = assumptions.initial_hosts(sim, batch).copy()
    else:
        decision = sim.policy.place(st.sandbox(batch), batch)
    touched: list[int] = []
    # CloudSim's t = 0 placement wakes its hosts with one re-share (assumptions.wake_later)
    woken: list[int] | None = (
        [] if cloudsim_start and assumptions.can_wake_later(sim) else None)
    timers: list[tuple[int, float, float]] = []  # boots and lifetimes (dcsim.engine.lifecycle)
    booting, running = int(GuestStatus.BOOTING), int(GuestStatus.RUNNING)
    for i, (g, h) in enumerate(zip(batch.tolist(), decision.tolist(), strict=True)):
        if cloudsim_start and h >= 0 and not st.fits(g, h):
            h = decision[i] = -1  # CloudSim's choice, refused by the capacity law
        if h < 0:
            st.status[g] = unplaced
            if unplaced == GuestStatus.REJECTED and sim.has_jobs[g]:
                offered.reject_jobs(sim, g)
            continue
        wake = sim.wake(h) if woken is None else assumptions.wake_later(sim, h, woken)
        sim.wake_until[g] = now + wake
        sim.recovering[g] = recovering
        st.place(g, h)  # raises InvariantViolation if the policy chose a host that is full
        sim.placed_since[g] = now
        if sim.check_invariants:
            st.check()
        boots = sim.sc.guest_groups[int(st.guest_group[g])].spec.boot and not (
            skip_boot is not None and bool(skip_boot[i]))
        boot = wake + (sim.boot_time(g, h) if boots else 0.0)
        if extra_delay is not None:
            boot += float(extra_delay[i])
        life = sim.lifetime_s[g] if lifetime_left is None else float(lifetime_left[i])
        if boot > 0 or np.isfinite(life):
            st.status[g] = booting if boot > 0 else running
            if boot == 0 and np.isnan(sim.start_s[g]):
                sim.start_s[g] = now
            timers.append((g, boot, life))
        else:
            st.status[g] = running
            if np.isnan(sim.start_s[g]):
                sim.start_s[g] = now
        touched.append(h)
    if woken:
        assumptions.share_woken(sim, woken)
    strict = sim.sc.written is not None and sim.sc.written.compat == "cloudsim"
    if cloudsim_start and strict and (decision < 0).any():  # compat: CloudSim's broker stops
        raise ConfigError([Issue(
            "guests", f"compat: cloudsim: {int((decision < 0).sum())} of {len(batch)} guests "
            "fit on no host at t = 0 (CloudSim's broker would stop the simulation): use more "
            "or larger hosts, or fewer guests")])
    lifecycle.arm(sim, timers)
    if demand_only:  # then holds only its current CPU demand (CloudSim)
        for g in batch[decision >= 0].tolist():
            st.unhold(g)
        st.hold = False
    if now > 0:  # at t = 0 the first manager step shares every host anyway
        for h in sorted(set(touched)):
            sim.update_host(h)
    out: I64 = np.asarray(decision, dtype=np.intp)
    return out
