"""The default-semantics engine: SimPy owns time, numpy arrays own state.

Processes exist where something happens: ``arrivals`` releases guests at their arrival instants
(guests arriving together form one placement batch), ``guest_lifecycle`` boots a guest and ends
it at the end of its lifetime, ``manager`` wakes every scheduling interval to sample every
workload and re-share every host's CPU in one vectorized step, and ``jobs_watch`` wakes when a
guest running finite jobs runs out of work. Between samples a guest's demand is held
(sample-and-hold); an arrival, boot completion, departure or migration re-shares only the hosts
involved, at that instant, so accounting is exact for piecewise-constant rates and events grow
with what happens, not with guests × intervals.

CPU model. To deliver ``d`` useful MIPS a guest makes its host spend ``d / eff`` raw MIPS, with
``eff = (1 − cpu_overhead)(1 − sched_overhead(r))(1 − syscall_fraction·syscall_overhead)
(1 − interference)``: the virtualization layer's cost on CPU-bound work, time-slicing cost growing
with runnable (busy) vCPUs per core ``r`` (none when pinned), the extra cost of syscall/I/O-heavy
work, and slowdown from each busy co-located guest marked ``antisocial`` (a noisy neighbour: the
sources measure interference only for such neighbours). Raw demand is capped at the guest's vCPUs ×
core speed (× its ``cpu_cap``) and shared weighted max-min fairly (``kernels.share``) when the host
is oversubscribed. What a guest asked for but did not get is its unmet demand (SLA violation).

Accounting per host is a time integral updated at each change (``_settle``): energy from the power
model at the host's utilisation, busy and available CPU, per guest the work demanded and
delivered, and completions of finite jobs (exact instants, by interpolation within the piece).

Imports: simpy, numpy, pandas, dcsim.{config, model, kernels, policies, workload, metrics, rng}.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import pandas as pd
import simpy
from numpy.typing import NDArray

from dcsim.config.resolve import Scenario
from dcsim.config.workloads import JobsWorkload
from dcsim.engine.extensions import EXTENSIONS, load_builtin
from dcsim.kernels.share import maxmin_share
from dcsim.metrics.result import Result
from dcsim.model.cluster import ClusterState, GuestStatus
from dcsim.model.power import power_w
from dcsim.policies.placement import PLACEMENT
from dcsim.rng import RandomStreams
from dcsim.units import JOULES_PER_KWH
from dcsim.workload.arrivals import build_arrivals
from dcsim.workload.models import UtilizationModel, build_workload

ProcessGenerator = Generator[simpy.events.Event, Any, Any]
F64 = NDArray[np.float64]
I64 = NDArray[np.intp]

__all__ = ["Simulation"]

# Relative tolerance when deciding that a job's last instruction has been delivered.
_JOB_TOL = 1e-9


class Simulation:
    """One run of a scenario. ``run()`` returns a ``Result``; a Simulation runs once."""

    def __init__(self, scenario: Scenario, *, replication: int = 0,
                 check_invariants: bool = False) -> None:
        cfg = scenario.config
        self.sc = scenario
        self.cfg = cfg
        self.check_invariants = check_invariants
        self.env = simpy.Environment()
        self.streams = RandomStreams(cfg.seed, replication)
        self.state = st = ClusterState.build(scenario)
        self.duration = float(cfg.duration)
        self.interval = float(cfg.interval)
        self.sleep = cfg.power_management.sleep_idle_hosts
        n_h, n_g = st.n_hosts, st.n_guests_total

        # guest groups → contiguous id ranges, one workload model each
        self.slices: list[slice] = []
        start = 0
        for g in scenario.guest_groups:
            self.slices.append(slice(start, start + g.spec.count))
            start += g.spec.count
        self.models: list[UtilizationModel] = [
            build_workload(g.spec.workload, g.spec.count, self.streams, f"workload.{g.index}",
                           self.interval, base_dir=scenario.base_dir)
            for g in scenario.guest_groups
        ]
        for sl, g, model in zip(self.slices, scenario.guest_groups, self.models, strict=True):
            if g.spec.size_from_trace:
                for attr, arr in (("vcpus", "vcpus"), ("mips_per_vcpu", "mips"),
                                  ("ram_bytes", "gram")):
                    values = getattr(model, attr, None)
                    if values is not None:
                        getattr(st, arr)[sl] = np.asarray(values, dtype=np.float64)
                st.weight[sl] = g.spec.cpu_weight or st.vcpus[sl]
        pol_cls = PLACEMENT.get(cfg.placement.name)
        self.policy = pol_cls(scenario.placement_params, self.streams["policy.placement"])

        # boot-time draws: one standard normal per guest, scaled by the host's profile
        self.boot_z = self.streams["lifecycle.boot"].standard_normal(n_g)
        self.profiles = [scenario.profiles[n] for n in st.profile_names]
        self.dc_pue = np.asarray([dc.pue for dc in cfg.datacenters])

        # host accounting
        st.awake[:] = not self.sleep
        self.last_t = np.zeros(n_h)
        self.power = np.where(st.awake, st.power_table[:, 0], st.sleep_power)
        self.util = np.zeros(n_h)
        self.energy_j = np.zeros(n_h)
        self.active_s = np.zeros(n_h)
        self.busy_mi = np.zeros(n_h)
        self.avail_mi = np.zeros(n_h)
        self.guest_s = np.zeros(n_h)  # guest-seconds hosted (consolidation ratio)
        self.full_s = np.zeros(n_h)  # time at 100 % CPU while awake (SLATAH)
        self.awake_since = np.zeros(n_h)
        self.shutdown_gaps: list[float] = []  # time awake before each shutdown, s
        self.placed_since = np.zeros(n_g)
        self.migration_gaps: list[float] = []  # time on a host before each migration, s
        # guest accounting
        self.u_last = np.zeros(n_g)
        self.speed = np.ones(n_g)  # < 1 while degraded (e.g. migrating)
        self.paused = np.zeros(n_g, dtype=bool)  # stopped (downtime): wants CPU, gets none
        self.demand = np.zeros(n_g)  # useful MIPS wanted now
        self.useful = np.zeros(n_g)  # useful MIPS delivered now
        self.raw = np.zeros(n_g)  # raw host MIPS consumed now
        self.raw_want = np.zeros(n_g)  # raw host MIPS wanted now (demand / efficiency, capped)
        self.mig_loss_mi = np.zeros(n_g)  # work lost to migration slowdown and downtime
        self.demand_mi = np.zeros(n_g)
        self.useful_mi = np.zeros(n_g)
        self.raw_mi = np.zeros(n_g)
        self.arrival_s = np.full(n_g, np.nan)
        self.start_s = np.full(n_g, np.nan)
        self.end_s = np.full(n_g, np.nan)
        self.lifetime_s = np.full(n_g, np.inf)
        self.gen = np.zeros(n_g, dtype=np.int64)  # bumped on eviction: stale timers ignore it
        self._setup_jobs()
        # migrations: CPU they cost on hosts (not charged to any guest), the network they use
        self.extra_raw = np.zeros(n_h)
        self._network: Any = None
        self.migration_records: list[Any] = []
        # records and hooks
        self._rows: list[tuple[float, ...]] = []
        self._host_rows: list[tuple[float, F64, F64, F64]] = []
        self.tick_hooks: list[Callable[[float], None]] = []
        self.depart_hooks: list[Callable[[int, int], None]] = []
        # called as hook(guest, old_host, new_host): new_host -1 = the guest left its host
        self.move_hooks: list[Callable[[int, int, int], None]] = []
        self.events = 0
        self._ran = False
        load_builtin()
        self.extensions: list[Any] = []
        for name in EXTENSIONS.names():
            ext = EXTENSIONS.get(name)(self)
            if ext is not None:
                self.extensions.append(ext)

    # ------------------------------------------------------------------ finite jobs ---------
    def _setup_jobs(self) -> None:
        st = self.state
        n_g = st.n_guests_total
        self.job_first = np.zeros(n_g, dtype=np.intp)  # flat index of the guest's first job
        self.job_stop = np.zeros(n_g, dtype=np.intp)  # one past its last job
        self.job_next = np.zeros(n_g, dtype=np.intp)  # next job to finish
        self.job_total = np.zeros(n_g)  # MI of all the guest's jobs
        self.work = np.zeros(n_g)  # MI delivered towards them
        self.has_jobs = np.zeros(n_g, dtype=bool)
        self.jobs_over = np.zeros(n_g, dtype=bool)  # all jobs finished
        self.depart_when_done = np.zeros(n_g, dtype=bool)
        self.t_empty = np.full(n_g, np.inf)
        lengths: list[F64] = []
        pos = 0
        for sl, g in zip(self.slices, self.sc.guest_groups, strict=True):
            spec = g.spec.workload
            if not isinstance(spec, JobsWorkload):
                continue
            n = sl.stop - sl.start
            rng = self.streams[f"jobs.{g.index}"]
            lens = spec.length * rng.uniform(1 - spec.spread, 1 + spec.spread, (n, spec.count))
            lengths.append(lens.ravel())
            ids = np.arange(sl.start, sl.stop)
            self.job_first[ids] = pos + np.arange(n) * spec.count
            self.job_stop[ids] = self.job_first[ids] + spec.count
            self.job_total[ids] = lens.sum(axis=1)
            self.has_jobs[ids] = True
            self.depart_when_done[ids] = spec.depart_when_done
            pos += n * spec.count
        self.job_next[:] = self.job_first
        self.job_len = np.concatenate(lengths) if lengths else np.zeros(0)
        # cumulative work at each job's end, within its guest
        self.job_cum = np.zeros_like(self.job_len)
        for gi in np.flatnonzero(self.has_jobs).tolist():
            a, b = self.job_first[gi], self.job_stop[gi]
            self.job_cum[a:b] = np.cumsum(self.job_len[a:b])
        self.job_end = np.full(self.job_len.shape[0], np.nan)
        self._jobs_changed = self.env.event()
        self._jobs_target = np.inf

    def _job_completions(self, g: I64, t0: F64, before: F64, rate: F64, after: F64) -> None:
        """Record the end instants of jobs of guests ``g`` finished within this piece."""
        while g.shape[0]:
            nxt = self.job_next[g]
            live = nxt < self.job_stop[g]
            g, nxt, t0, before, rate, after = (g[live], nxt[live], t0[live], before[live],
                                                rate[live], after[live])
            cum = self.job_cum[nxt]
            done = cum <= after + _JOB_TOL * cum
            if not done.any():
                return
            g, nxt, t0, before, rate, after, cum = (g[done], nxt[done], t0[done], before[done],
                                                     rate[done], after[done], cum[done])
            with np.errstate(divide="ignore", invalid="ignore"):
                t = t0 + np.where(rate > 0, (cum - before) / rate, 0.0)
            self.job_end[nxt] = np.minimum(t, self.env.now)
            self.job_next[g] += 1

    def jobs_watch(self) -> ProcessGenerator:
        """SimPy process: wake when a guest running finite jobs runs out of work."""
        while True:
            target = float(self.t_empty.min()) if self.t_empty.shape[0] else np.inf
            self._jobs_target = target
            self._jobs_changed = self.env.event()
            if np.isfinite(target):
                yield self.env.any_of([self.env.timeout(max(0.0, target - self.env.now)),
                                       self._jobs_changed])
            else:
                yield self._jobs_changed
            self.events += 1
            now = self.env.now
            due = np.flatnonzero(self.t_empty <= now * (1 + 1e-12) + 1e-9)
            for g in due.tolist():
                self._finish_jobs(int(g))

    def _finish_jobs(self, g: int) -> None:
        st = self.state
        h = int(st.host_of[g])
        if h < 0:
            self.t_empty[g] = np.inf
            return

        self.jobs_over[g] = True  # the work is done (set before settling: no further demand)
        self.t_empty[g] = np.inf
        if self.depart_when_done[g] and st.status[g] == GuestStatus.RUNNING:
            self._depart(g)  # settles the host (recording the last job's end) and re-shares
            return

        def change() -> None:
            self.u_last[g] = 0.0

        self.update_host(h, change)

    # ------------------------------------------------------------------ accounting ----------
    def guests_on(self, hosts: I64) -> I64:
        """Guests placed on ``hosts`` (sorted host ids)."""
        if hosts.shape[0] == self.state.n_hosts:
            return np.flatnonzero(self.state.host_of >= 0)
        if hosts.shape[0] == 1:
            return np.asarray(self.state.members[int(hosts[0])], dtype=np.intp)
        return np.flatnonzero(np.isin(self.state.host_of, hosts))

    def _settle(self, hosts: I64, guests: I64) -> None:
        """Integrate the current rates of ``hosts`` (and their ``guests``) up to now."""
        st, now = self.state, self.env.now
        dt = now - self.last_t[hosts]
        self.energy_j[hosts] += self.power[hosts] * dt
        awake = st.awake[hosts]
        self.active_s[hosts] += awake * dt
        self.busy_mi[hosts] += self.util[hosts] * st.cap_mips[hosts] * dt
        self.avail_mi[hosts] += awake * st.cap_mips[hosts] * dt
        self.guest_s[hosts] += st.n_guests[hosts] * dt
        self.full_s[hosts] += (awake & (self.util[hosts] >= 1.0 - 1e-9)) * dt
        if guests.shape[0]:
            t0 = self.last_t[st.host_of[guests]]
            gdt = now - t0
            self.demand_mi[guests] += self.demand[guests] * gdt
            self.useful_mi[guests] += self.useful[guests] * gdt
            self.raw_mi[guests] += self.raw[guests] * gdt
            degraded = self.paused[guests] | (self.speed[guests] < 1.0)
            if degraded.any():
                dg = guests[degraded]
                lost = np.where(self.paused[dg], self.demand[dg],
                                self.demand[dg] * (1.0 - self.speed[dg]))
                self.mig_loss_mi[dg] += lost * gdt[degraded]
            jm = self.has_jobs[guests]
            if jm.any():
                jg = guests[jm]
                before = self.work[jg]
                rate = self.useful[jg]
                after = np.minimum(before + rate * gdt[jm], self.job_total[jg])
                self.work[jg] = after
                self._job_completions(jg, t0[jm], before, rate, after)
        self.last_t[hosts] = now

    def _share(self, hosts: I64, guests: I64) -> None:
        """Re-share CPU on ``hosts`` (sorted) among their running ``guests``; update power."""
        st = self.state
        running = st.status[guests] == GuestStatus.RUNNING
        g = guests[running]
        self.demand[guests] = 0.0
        self.useful[guests] = 0.0
        self.raw[guests] = 0.0
        self.raw_want[guests] = 0.0
        if g.shape[0]:
            h_of = st.host_of[g]
            local = np.searchsorted(hosts, h_of) if hosts.shape[0] < st.n_hosts else h_of
            want = self.u_last[g] * st.vcpus[g] * st.mips[g]
            busy = want > 0
            noisy = busy & st.antisocial[g]
            n_noisy = np.bincount(local, weights=noisy, minlength=hosts.shape[0])[local] - noisy
            interf = 1.0 - np.minimum(st.interference_max[h_of], st.interference[h_of] * n_noisy)
            runnable = np.bincount(local, weights=busy * st.vcpus[g],
                                   minlength=hosts.shape[0]).astype(np.float64)
            eff = (st.efficiency(hosts, runnable)[local]
                   * (1.0 - st.syscall_frac[g] * st.syscall_overhead[h_of]) * interf)
            limit = st.vcpus[g] * st.mips_per_core[h_of] * st.cap_frac[g]
            raw_want = np.where(self.paused[g], 0.0, np.minimum(want / eff, limit))
            self.raw_want[g] = raw_want
            room = np.maximum(0.0, st.cap_mips[hosts] - self.extra_raw[hosts])
            alloc = maxmin_share(raw_want, local, room, st.weight[g])
            self.demand[g] = want
            self.raw[g] = alloc
            self.useful[g] = alloc * eff * self.speed[g]
            used = np.bincount(local, weights=alloc, minlength=hosts.shape[0]).astype(np.float64)
            jm = self.has_jobs[g]
            if jm.any():
                jg = g[jm]
                left = self.job_total[jg] - self.work[jg]
                rate = self.useful[jg]
                with np.errstate(divide="ignore", invalid="ignore"):
                    t_e = np.where(left <= _JOB_TOL * self.job_total[jg], self.env.now,
                                   np.where(rate > 0, self.env.now + left / rate, np.inf))
                self.t_empty[jg] = np.where(self.jobs_over[jg], np.inf, t_e)
                if self.t_empty[jg].min() < self._jobs_target and not self._jobs_changed.triggered:
                    self._jobs_changed.succeed()
        else:
            used = np.zeros(hosts.shape[0], dtype=np.float64)
        used = np.minimum(used + self.extra_raw[hosts], st.cap_mips[hosts])
        self.util[hosts] = used / st.cap_mips[hosts]
        awake = st.awake[hosts]
        self.power[hosts] = np.where(
            st.failed[hosts], 0.0,
            np.where(awake, power_w(st.power_table[hosts], self.util[hosts]),
                     st.sleep_power[hosts]))

    def update_host(self, h: int, change: Callable[[], None] | None = None) -> None:
        """Settle host ``h`` up to now, apply ``change()`` (if any), then re-share its CPU."""
        hosts = np.asarray([h], dtype=np.intp)
        self._settle(hosts, self.guests_on(hosts))
        if change is not None:
            change()
        self._share(hosts, self.guests_on(hosts))

    def _sample(self, t: float) -> None:
        for sl, model in zip(self.slices, self.models, strict=True):
            self.u_last[sl] = model.values(t)
        self.u_last[self.jobs_over] = 0.0

    # ------------------------------------------------------------------ public changes ------
    def set_speed(self, g: int, factor: float) -> None:
        """Deliver only ``factor`` of guest ``g``'s work from now on (1 = normal)."""
        h = int(self.state.host_of[g])

        def change() -> None:
            self.speed[g] = factor

        if h >= 0:
            self.update_host(h, change)
        else:
            change()

    def set_paused(self, g: int, paused: bool) -> None:
        """Stop (or resume) guest ``g``: while paused it wants CPU but gets none."""
        h = int(self.state.host_of[g])

        def change() -> None:
            self.paused[g] = paused

        if h >= 0:
            self.update_host(h, change)
        else:
            change()

    def wake(self, h: int) -> float:
        """Wake host ``h`` if asleep; returns the wake latency the caller must wait."""
        st = self.state
        if st.awake[h]:
            return 0.0

        def change() -> None:
            st.awake[h] = True
            self.awake_since[h] = self.env.now

        self.update_host(h, change)
        return float(self.cfg.power_management.wake_latency) if self.env.now > 0 else 0.0

    def fail_host(self, h: int) -> list[int]:
        """Host ``h`` fails: it draws nothing and takes no guest; its guests are evicted with
        status DOWN (returned, in placement order). Repair with ``repair_host``."""
        st = self.state
        guests = list(st.members[h])
        for g in guests:
            self.evict(g, GuestStatus.DOWN)
        for g in np.flatnonzero(st.mig_dst == h).tolist():  # migrations heading here: cancel
            self.update_host(h, functools.partial(st.abort_migration, g))

        def change() -> None:
            st.failed[h] = True
            st.usable[h] = False
            st.awake[h] = False

        self.update_host(h, change)
        return guests

    def repair_host(self, h: int) -> None:
        """Host ``h`` is repaired: usable again, empty, asleep (or idle if hosts never sleep)."""
        st = self.state

        def change() -> None:
            st.failed[h] = False
            st.usable[h] = True
            st.awake[h] = not self.sleep
            if st.awake[h]:
                self.awake_since[h] = self.env.now

        self.update_host(h, change)

    def maybe_sleep(self, h: int) -> None:
        """Put host ``h`` to sleep if sleeping is enabled and it holds no guest."""
        st = self.state
        if self.sleep and st.awake[h] and st.n_guests[h] == 0 and not st.failed[h]:

            def change() -> None:
                st.awake[h] = False
                self.shutdown_gaps.append(self.env.now - float(self.awake_since[h]))

            self.update_host(h, change)

    # ------------------------------------------------------------------ migration -----------
    @property
    def network(self) -> Any:
        """The run's ``NetworkService`` (built on first use: runs without transfers pay nothing)."""
        if self._network is None:
            from dcsim.engine.network import NetworkService
            from dcsim.network.flows import FlowNetwork
            from dcsim.network.routing import Router

            topo = self.sc.topology
            ecmp = self.cfg.network.ecmp if self.cfg.network is not None else True
            self._network = NetworkService(self.env, FlowNetwork(topo, Router(topo, ecmp=ecmp)))
        return self._network

    def migrate(self, g: int, dst: int, spec: Any) -> simpy.Process | None:
        """Start migrating running guest ``g`` to host ``dst`` with ``spec`` (a MigrationSpec).

        The destination is reserved at once (the guest holds resources on both hosts until the
        switch-over, so capacity is never exceeded); returns the SimPy process, or ``None`` when
        the guest cannot move now (not running, already moving, or ``dst`` has no room).
        """
        st = self.state
        src = int(st.host_of[g])
        if (src < 0 or src == dst or st.status[g] != GuestStatus.RUNNING or st.mig_dst[g] >= 0
                or not st.fits(g, dst)):
            return None
        prof = self.profiles[int(st.profile[src])]
        if spec.model in ("precopy", "postcopy") and not prof.live_migration:
            return None
        wake = self.wake(dst)
        self.update_host(dst, lambda: st.begin_migration(g, dst))
        return self.env.process(self._migration(g, src, dst, spec, wake))

    def _migration(self, g: int, src: int, dst: int, spec: Any, wake_s: float) -> ProcessGenerator:
        """SimPy process: one migration, its rounds carried by the network model."""
        from dcsim.engine.migration import migration_process
        from dcsim.model.migration import dirty_rate_function

        st = self.state
        if wake_s > 0:
            self.events += 1
            yield self.env.timeout(wake_s)
        mips = float(st.vcpus[g] * st.mips[g])
        cost_src, cost_dst = spec.cpu_cost_source * mips, spec.cpu_cost_destination * mips

        def charge(sign: float) -> None:
            self.update_host(src, lambda: self.extra_raw.__setitem__(
                src, max(0.0, self.extra_raw[src] + sign * cost_src)))
            self.update_host(dst, lambda: self.extra_raw.__setitem__(
                dst, max(0.0, self.extra_raw[dst] + sign * cost_dst)))

        def alive() -> bool:
            return bool(st.mig_dst[g] == dst and st.host_of[g] == src)

        def on_phase(phase: str, now: float) -> None:
            if phase == "live" and alive():
                self.set_speed(g, 1.0 - spec.slowdown)
            elif phase == "stop" and alive():
                self.set_paused(g, True)
            elif phase == "post" and st.host_of[g] == dst:
                self.set_speed(g, 1.0 - spec.slowdown)

        def on_switch(now: float) -> None:
            if not alive():
                return
            self.update_host(src)
            self.update_host(dst)
            st.finish_migration(g)
            for hook in self.move_hooks:
                hook(g, src, dst)
            self.migration_gaps.append(now - float(self.placed_since[g]))
            self.placed_since[g] = now
            if self.check_invariants:
                st.check()
            self.paused[g] = False
            self.update_host(src)
            self.update_host(dst)

        charge(1.0)
        # Storage is shared within a data center; across data centers the disk goes too: with a
        # live model it is copied first while the guest runs (slowed), then memory pre-copy.
        cross_dc = bool(st.datacenter[src] != st.datacenter[dst])
        disk = float(st.gdisk[g] + st.disk_overhead[src]) if cross_dc else 0.0
        disk_s = 0.0
        if cross_dc and spec.model in ("precopy", "postcopy") and disk > 0:
            t0 = self.env.now
            on_phase("live", t0)
            cap = spec.bandwidth_cap if spec.bandwidth_cap is not None else float("inf")
            yield self.network.transfer(src, dst, disk, rate_cap_bps=cap, tag=f"disk:{g}")
            disk_s = self.env.now - t0
            disk = 0.0
        dirty = dirty_rate_function(spec, lambda t: float(self.u_last[g]))
        record = yield from migration_process(
            self.env, self.network, float(st.gram[g]), dirty, src, dst, spec, on_switch,
            guest=g, disk_bytes=disk, host_bandwidth_bps=float(st.bandwidth[src]),
            on_phase=on_phase)
        if disk_s > 0:
            record = dataclasses.replace(record, start_s=record.start_s - disk_s,
                                         bytes_sent=record.bytes_sent + float(
                                             st.gdisk[g] + st.disk_overhead[src]))
        charge(-1.0)
        if st.mig_dst[g] == dst:  # never switched (e.g. guest left): give the room back
            self.update_host(dst, lambda: st.abort_migration(g))
        if st.host_of[g] >= 0:
            self.paused[g] = False
            self.set_speed(g, 1.0)
        self.migration_records.append(record)
        self.maybe_sleep(src)
        self.maybe_sleep(dst)
        return record

    # ------------------------------------------------------------------ processes -----------
    def manager(self) -> ProcessGenerator:
        """SimPy process: every scheduling interval, sample workloads and re-share all hosts."""
        st = self.state
        all_hosts = np.arange(st.n_hosts, dtype=np.intp)
        k = 0
        while True:
            now = self.env.now
            guests = self.guests_on(all_hosts)
            self._settle(all_hosts, guests)
            self._sample(now)
            self._share(all_hosts, guests)
            for hook in self.tick_hooks:
                hook(now)
            self._record(now)
            if self.check_invariants:
                st.check()
            k += 1
            nxt = k * self.interval
            if nxt >= self.duration:
                return
            self.events += 1
            yield self.env.timeout(nxt - now)

    def arrivals(self, times: F64, order: I64) -> ProcessGenerator:
        """SimPy process: release guests at their arrival instants, in (time, id) order."""
        i, n = 0, order.shape[0]
        while i < n:
            t = times[order[i]]
            if not t < self.duration:
                return
            if t > self.env.now:
                self.events += 1
                yield self.env.timeout(t - self.env.now)
            j = i
            while j < n and times[order[j]] == t:
                j += 1
            self.admit(order[i:j])
            i = j

    def guest_lifecycle(self, g: int, boot_s: float, lifetime_s: float) -> ProcessGenerator:
        """SimPy process: boot (no useful work), run, and depart when the lifetime ends.

        The process belongs to one admission of the guest: if the guest is evicted meanwhile
        (its host failed; it may even be running elsewhere again), the process ends silently.
        """
        gen = int(self.gen[g])
        if boot_s > 0:
            self.events += 1
            yield self.env.timeout(min(boot_s, lifetime_s))
            if self.gen[g] != gen or self.state.status[g] != GuestStatus.BOOTING:
                return  # evicted while booting (e.g. its host failed)
            if boot_s >= lifetime_s:
                self._depart(g)
                return
            self._start(g)
        if np.isfinite(lifetime_s):
            self.events += 1
            yield self.env.timeout(lifetime_s - boot_s)
            if self.gen[g] == gen and self.state.status[g] == GuestStatus.RUNNING:
                self._depart(g)

    # ------------------------------------------------------------------ state changes -------
    def boot_time(self, g: int, h: int) -> float:
        """Boot/start time of guest ``g`` on host ``h``'s layer, s (its own normal draw)."""
        prof = self.profiles[int(self.state.profile[h])]
        bt = prof.boot_time
        if bt.dist == "constant" or bt.sd == 0:
            t = bt.mean
        elif bt.dist == "normal":
            t = bt.mean + bt.sd * self.boot_z[g]
        else:  # lognormal with the given mean and sd
            s2 = np.log1p((bt.sd / bt.mean) ** 2)
            t = float(np.exp(np.log(bt.mean) - s2 / 2 + np.sqrt(s2) * self.boot_z[g]))
        return max(0.0, float(t))

    def admit(self, batch: I64, *, lifetime_left: F64 | None = None,
              extra_delay: F64 | None = None, skip_boot: NDArray[np.bool_] | None = None,
              unplaced: GuestStatus = GuestStatus.REJECTED) -> I64:
        """Place arriving guests with the placement policy; returns the host per guest (-1 =
        not placed, status ``unplaced``). ``extra_delay`` (s) is added before boot (e.g. a
        restore from a snapshot); ``skip_boot`` marks guests that resume instead of booting."""
        st, now = self.state, self.env.now
        first = np.isnan(self.arrival_s[batch])
        self.arrival_s[batch[first]] = now
        decision = self.policy.place(st.sandbox(), batch)
        touched: list[int] = []
        for i, (g, h) in enumerate(zip(batch.tolist(), decision.tolist(), strict=True)):
            if h < 0:
                st.status[g] = unplaced
                continue
            wake = self.wake(h)
            st.place(g, h)  # raises InvariantViolation if the policy chose a host that is full
            self.placed_since[g] = now
            if self.check_invariants:
                st.check()
            boots = self.sc.guest_groups[int(st.guest_group[g])].spec.boot and not (
                skip_boot is not None and bool(skip_boot[i]))
            boot = wake + (self.boot_time(g, h) if boots else 0.0)
            if extra_delay is not None:
                boot += float(extra_delay[i])
            life = self.lifetime_s[g] if lifetime_left is None else float(lifetime_left[i])
            if boot > 0 or np.isfinite(life):
                st.status[g] = GuestStatus.BOOTING if boot > 0 else GuestStatus.RUNNING
                if boot == 0 and np.isnan(self.start_s[g]):
                    self.start_s[g] = now
                self.env.process(self.guest_lifecycle(g, boot, life))
            else:
                st.status[g] = GuestStatus.RUNNING
                if np.isnan(self.start_s[g]):
                    self.start_s[g] = now
            touched.append(h)
        if now > 0:  # at t = 0 the first manager step shares every host anyway
            for h in sorted(set(touched)):
                self.update_host(h)
        out: I64 = np.asarray(decision, dtype=np.intp)
        return out

    def _start(self, g: int) -> None:
        st = self.state
        h = int(st.host_of[g])

        def change() -> None:
            st.status[g] = GuestStatus.RUNNING
            if np.isnan(self.start_s[g]):
                self.start_s[g] = self.env.now

        self.update_host(h, change)

    def evict(self, g: int, status: GuestStatus) -> int:
        """Take guest ``g`` off its host (settled first), give it ``status``; returns the host."""
        st = self.state
        h = int(st.host_of[g])

        def change() -> None:
            st.release(g)
            self.gen[g] += 1
            if self.check_invariants:
                st.check()
            st.status[g] = status
            self.demand[g] = self.useful[g] = self.raw[g] = 0.0

        self.update_host(h, change)
        for hook in self.move_hooks:
            hook(g, h, -1)
        return h

    def _depart(self, g: int) -> None:
        h = self.evict(g, GuestStatus.DEPARTED)
        self.end_s[g] = self.env.now
        for hook in self.depart_hooks:
            hook(g, h)
        self.maybe_sleep(h)

    # ------------------------------------------------------------------ records -------------
    def _record(self, t: float) -> None:
        st = self.state
        awake = st.awake
        cap_awake = float(st.cap_mips[awake].sum())
        used = float((self.util * st.cap_mips).sum())
        p_it = float(self.power.sum())
        p_fac = float((np.bincount(st.datacenter, weights=self.power,
                                   minlength=self.dc_pue.shape[0]) * self.dc_pue).sum())
        status = np.bincount(st.status, minlength=len(GuestStatus))
        demand = float(self.demand.sum())
        useful = float(self.useful.sum())
        self._rows.append((
            t, int(awake.sum()), int(st.n_hosts - awake.sum() - st.failed.sum()),
            int(st.failed.sum()), int(status[GuestStatus.RUNNING]),
            int(status[GuestStatus.BOOTING]), demand, useful, demand - useful,
            used / cap_awake if cap_awake > 0 else 0.0, p_it, p_fac,
        ))
        if self.cfg.output.host_timeseries:
            self._host_rows.append((t, self.util.copy(), self.power.copy(),
                                    st.n_guests.copy()))

    def run(self) -> Result:
        """Simulate the whole duration and return the result."""
        if self._ran:
            raise RuntimeError("a Simulation runs once; build a new one")
        self._ran = True
        t0 = time.perf_counter()
        st = self.state
        times = np.full(st.n_guests_total, np.inf)
        for k, (sl, gg) in enumerate(zip(self.slices, self.sc.guest_groups, strict=True)):
            a, life = build_arrivals(gg.spec.arrival, gg.spec.count, self.duration,
                                     self.streams[f"arrivals.{k}"], base_dir=self.sc.base_dir)
            # guests beyond the arrivals that happen within the run never arrive
            m = min(a.shape[0], gg.spec.count)
            times[sl.start:sl.start + m] = a[:m]
            self.lifetime_s[sl.start:sl.start + m] = life[:m]
        order = np.lexsort((np.arange(times.shape[0]), times))
        self.env.process(self.arrivals(times, order))
        self.env.process(self.manager())
        if self.has_jobs.any():
            self.env.process(self.jobs_watch())
        for ext in self.extensions:
            ext.start(self)
        self.env.run(until=self.duration)
        all_hosts = np.arange(st.n_hosts, dtype=np.intp)
        self._settle(all_hosts, self.guests_on(all_hosts))
        if self.check_invariants:
            st.check()
        result = self._result(time.perf_counter() - t0)
        for ext in self.extensions:
            ext.finish(self, result)
        result.summary["wall_s"] = time.perf_counter() - t0
        return result

    def _jobs_table(self) -> pd.DataFrame:
        st = self.state
        jg = np.flatnonzero(self.has_jobs)
        if not jg.shape[0]:
            return pd.DataFrame()
        counts = self.job_stop[jg] - self.job_first[jg]
        guest = np.repeat(jg, counts)
        flat = np.concatenate([np.arange(a, b) for a, b in
                               zip(self.job_first[jg], self.job_stop[jg], strict=True)])
        end = self.job_end[flat]
        prev_end = np.concatenate([[np.nan], end[:-1]])
        first = flat == self.job_first[guest]
        start = np.where(first, self.start_s[guest], prev_end)
        ref = self.job_len[flat] / (st.vcpus[guest] * st.mips[guest])
        return pd.DataFrame({
            "guest": guest, "job": flat - self.job_first[guest], "length_mi": self.job_len[flat],
            "start_s": start, "end_s": end, "time_s": end - start, "slowdown": (end - start) / ref,
        })

    def _migration_summary(self, tables: dict[str, pd.DataFrame], summary: dict[str, Any],
                           demand_mi: float, total_active: float) -> dict[str, Any]:
        """Migration records and the SLA metrics of Beloglazov & Buyya (CCPE 2012).

        SLATAH: fraction of awake host time spent at 100 % CPU (pooled over hosts). PDM: work lost
        to migration (slowdown and downtime) over work demanded. SLAV = SLATAH × PDM; ESV =
        energy × SLAV.
        """
        recs = self.migration_records
        out: dict[str, Any] = {}
        dur = np.asarray([r.end_s - r.start_s for r in recs])
        down = np.asarray([r.downtime_s for r in recs])
        if recs:
            tables["migrations"] = pd.DataFrame({
                "guest": [r.guest for r in recs], "source": [r.source for r in recs],
                "destination": [r.destination for r in recs], "model": [r.model for r in recs],
                "start_s": [r.start_s for r in recs], "end_s": [r.end_s for r in recs],
                "duration_s": dur, "rounds": [r.rounds for r in recs],
                "bytes_sent": [r.bytes_sent for r in recs], "downtime_s": down,
                "stop_reason": [r.stop_reason for r in recs],
            })
        slatah = float(self.full_s.sum() / total_active) if total_active > 0 else 0.0
        pdm = float(self.mig_loss_mi.sum() / demand_mi) if demand_mi > 0 else 0.0

        def ms(x: list[float]) -> tuple[float, float]:
            a = np.asarray(x)
            return (float(a.mean()) if a.size else float("nan"),
                    float(a.std(ddof=1)) if a.size > 1 else float("nan"))

        sd_mean, sd_sd = ms(self.shutdown_gaps)
        mg_mean, mg_sd = ms(self.migration_gaps)
        out.update({
            "migrations": len(recs),
            "mean_migration_s": float(dur.mean()) if recs else float("nan"),
            "p95_migration_s": float(np.quantile(dur, 0.95)) if recs else float("nan"),
            "mean_downtime_s": float(down.mean()) if recs else float("nan"),
            "p95_downtime_s": float(np.quantile(down, 0.95)) if recs else float("nan"),
            "migration_bytes": float(sum(r.bytes_sent for r in recs)),
            "host_shutdowns": len(self.shutdown_gaps),
            "time_before_shutdown_mean_s": sd_mean, "time_before_shutdown_sd_s": sd_sd,
            "time_before_migration_mean_s": mg_mean, "time_before_migration_sd_s": mg_sd,
            "slatah": slatah, "pdm": pdm, "slav": slatah * pdm,
            "esv": summary["energy_it_kwh"] * slatah * pdm,
        })
        return out

    def _result(self, wall_s: float) -> Result:
        st = self.state
        e_dc = np.bincount(st.datacenter, weights=self.energy_j, minlength=self.dc_pue.shape[0])
        arrived = ~np.isnan(self.arrival_s)
        demand_mi = float(self.demand_mi.sum())
        useful_mi = float(self.useful_mi.sum())
        raw_mi = float(self.raw_mi.sum())
        ts = pd.DataFrame(self._rows, columns=[
            "time_s", "active_hosts", "sleeping_hosts", "failed_hosts", "guests_running",
            "guests_booting",
            "demand_mips", "delivered_mips", "unmet_mips", "cpu_utilization", "power_it_w",
            "power_facility_w"])
        total_active = float(self.active_s.sum())
        rejected = int((st.status == GuestStatus.REJECTED).sum())
        summary: dict[str, Any] = {
            "energy_it_kwh": float(self.energy_j.sum()) / JOULES_PER_KWH,
            "energy_facility_kwh": float((e_dc * self.dc_pue).sum()) / JOULES_PER_KWH,
            "mean_active_hosts": total_active / self.duration,
            "max_active_hosts": int(ts["active_hosts"].max()) if len(ts) else 0,
            "mean_cpu_utilization": float(self.busy_mi.sum() / self.avail_mi.sum())
            if self.avail_mi.sum() > 0 else 0.0,
            "demand_mi": demand_mi,
            "unmet_mi": demand_mi - useful_mi,
            "unmet_fraction": (demand_mi - useful_mi) / demand_mi if demand_mi > 0 else 0.0,
            "overhead_mi": raw_mi - useful_mi,
            "guests_arrived": int(arrived.sum()),
            "guests_placed": int(arrived.sum()) - rejected,
            "guests_rejected": rejected,
            "guests_departed": int((st.status == GuestStatus.DEPARTED).sum()),
            "mean_guests_per_active_host": float(self.guest_s.sum() / total_active)
            if total_active > 0 else 0.0,
        }
        tables: dict[str, pd.DataFrame] = {}
        if self.has_jobs.any():
            jobs = self._jobs_table()
            done = jobs[jobs["end_s"].notna()]
            summary.update({
                "jobs_total": len(jobs),
                "jobs_completed": len(done),
                "mean_job_time_s": float(done["time_s"].mean()) if len(done) else float("nan"),
                "mean_job_slowdown": float(done["slowdown"].mean()) if len(done) else float("nan"),
                "p95_job_slowdown": float(done["slowdown"].quantile(0.95)) if len(done)
                else float("nan"),
                "makespan_s": float(done["end_s"].max()) if len(done) else float("nan"),
            })
            tables["jobs"] = jobs
        summary.update(self._migration_summary(tables, summary, demand_mi, total_active))
        summary.update({"simulated_s": self.duration, "wall_s": wall_s, "events": self.events})
        idx = np.flatnonzero(arrived)
        guests = pd.DataFrame({
            "guest": idx,
            "group": st.guest_group[idx],
            "arrival_s": self.arrival_s[idx],
            "start_s": self.start_s[idx],
            "end_s": self.end_s[idx],
            "status": [GuestStatus(int(s)).name.lower() for s in st.status[idx]],
            "host": st.host_of[idx],
            "demand_mi": self.demand_mi[idx],
            "delivered_mi": self.useful_mi[idx],
        }) if self.cfg.output.guest_records else pd.DataFrame()
        if self._host_rows:
            n_h = st.n_hosts
            hosts = pd.DataFrame({
                "time_s": np.repeat([r[0] for r in self._host_rows], n_h),
                "host": np.tile(np.arange(n_h), len(self._host_rows)),
                "cpu_utilization": np.concatenate([r[1] for r in self._host_rows]),
                "power_w": np.concatenate([r[2] for r in self._host_rows]),
                "guests": np.concatenate([r[3] for r in self._host_rows]).astype(np.int64),
            })
        else:
            hosts = pd.DataFrame()
        return Result(summary=summary, timeseries=ts, hosts=hosts, guests=guests, tables=tables,
                      config=self.sc.config_json(), resolved=self.sc.resolved_json())
