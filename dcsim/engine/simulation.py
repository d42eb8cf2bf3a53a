"""The default-semantics engine: SimPy owns time, numpy arrays own state.

Processes exist where something happens: ``arrivals`` releases guests at their arrival instants
(guests arriving together form one placement batch; a guest's boot completion and departure are
plain timers, ``dcsim.engine.lifecycle``, not a process per guest), ``manager`` wakes every
scheduling interval to sample every workload and re-share every host's CPU in one vectorized
step, and ``jobs_watch`` wakes when a guest running finite jobs runs out of work. Between
samples a guest's demand is held (sample-and-hold); an arrival, boot completion, departure or
migration re-shares only the hosts involved, at that instant, so accounting is exact for
piecewise-constant rates and events grow with what happens, not with guests × intervals.

CPU model. A guest that spends part of its bare-metal time on storage or network I/O
(``io_fraction``, ``net_fraction``) waits longer for I/O under a layer with slower I/O
(``io_*_factor``, ``io_latency_mult`` for latency-bound I/O, ``net_bulk_factor``,
``net_latency_add`` for request-response traffic), so it can only ask for
``ClusterState.io_scale`` of its demand (the rest stays unmet). To deliver ``d`` useful MIPS a
guest makes its host spend ``d / eff`` raw MIPS, with
``eff = (1 − cpu_overhead)(1 − sched_overhead(r))(1 − syscall_fraction·syscall_overhead)
(1 − mem_bound_fraction·mem_bw_overhead)(1 − interference)``: the virtualization layer's cost on
CPU-bound work, time-slicing cost growing with runnable (busy) vCPUs per core ``r`` (none when
pinned), the extra cost of syscall/I/O-heavy and of memory-bandwidth-bound work, and slowdown
from each busy co-located guest marked ``antisocial`` (a noisy neighbour: the sources measure
interference only for such neighbours). A guest's ``mips`` per vCPU is its speed
on bare metal and also its entitlement in host CPU: raw demand is capped at vCPUs × min(``mips``,
core speed) (× its ``cpu_cap``), so a CPU-bound guest under a layer delivers ``eff`` of its
bare-metal speed whatever the core speed, while a guest asking less than ``eff`` of its entitlement
gets all of it and the overhead shows only as host CPU (energy). Raw demand is shared weighted
max-min fairly (``kernels.share``) when the host is oversubscribed. What a guest asked for but
did not get is its unmet demand (SLA violation).

Accounting per host is a time integral updated at each change (``_settle``): energy from the power
model at the host's utilisation, busy and available CPU, per guest the work demanded and
delivered, and completions of finite jobs (exact instants, by interpolation within the piece).
Admission (a host per arriving guest, its wake, boot and departure timers) lives in
``dcsim.engine.admission``. Settling and sharing live in ``dcsim.engine.hostrates``, with a
one-host path for ``update_host`` (bit-identical to the vector one) and
``hold_shares``/``release_shares`` for a run of changes at one instant (one re-share per host).
The demand of guests that wait (for a host's wake, booting, rejected, stopped or down) is
integrated by ``dcsim.engine.offered``
(offered load, unserved by cause); the time series is built from these integrals by
``dcsim.engine.records`` (interval averages); network equipment adds its energy through
``network_energy`` (``dcsim.engine.traffic``).

Imports: simpy, numpy, pandas, dcsim.{config, model, policies, workload, metrics, rng}.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray
from simpy.core import StopSimulation
from simpy.events import URGENT

from dcsim.config.resolve import Scenario
from dcsim.engine import admission, assumptions, hostrates, jobs, lifecycle, moves, offered
from dcsim.engine.decisions import External
from dcsim.engine.extensions import EXTENSIONS, load_builtin
from dcsim.engine.migration_log import MigrationLog
from dcsim.engine.records import IntervalRecorder
from dcsim.engine.results import build_result
from dcsim.metrics.result import Result
from dcsim.model.cluster import ClusterState, GuestStatus
from dcsim.policies.placement import PLACEMENT
from dcsim.rng import RandomStreams
from dcsim.workload.arrivals import build_arrivals
from dcsim.workload.models import UtilizationModel, build_workload

ProcessGenerator = Generator[simpy.events.Event, Any, Any]
F64 = NDArray[np.float64]
I64 = NDArray[np.intp]

__all__ = ["Simulation"]



class Simulation:
    """One run of a scenario. ``run()`` returns a ``Result``; a Simulation runs once."""

    # finite-job state, set up by dcsim.engine.jobs.setup_jobs (see that module)
    job_first: I64
    job_stop: I64
    job_next: I64
    job_total: F64
    work: F64
    has_jobs: NDArray[np.bool_]
    jobs_over: NDArray[np.bool_]
    depart_when_done: NDArray[np.bool_]
    t_empty: F64
    job_len: F64
    job_cum: F64
    job_end: F64
    jobs_changed: simpy.Event
    jobs_target: float
    # offered-load state, set up by dcsim.engine.offered.setup (see that module)
    w_last: F64
    stop_at: F64
    wake_until: F64
    recovering: NDArray[np.bool_]
    dropped: NDArray[np.bool_]
    wait_mi: F64
    unserved_by_cause: F64

    def __init__(self, scenario: Scenario, *, replication: int = 0,
                 check_invariants: bool = False) -> None:
        cfg = scenario.config
        self.sc = scenario
        self.cfg = cfg
        self.check_invariants = check_invariants
        self.env = simpy.Environment()
        self.streams = RandomStreams(cfg.seed, replication)
        self.state = st = ClusterState.build(scenario)
        self.assume = cfg.assumptions
        assumptions.apply_static(self)
        self.duration = float(cfg.duration)
        self.interval = float(cfg.interval)
        self.sleep = cfg.power_management.sleep_idle_hosts
        n_h, n_g = st.n_hosts, st.n_guests_total
        # every guest in id order, what ``guests_on`` returns once all are placed: settle and
        # share then index the whole population as a slice (``as_index``); read-only
        self.every_guest = np.arange(n_g, dtype=np.intp)
        self.every_guest.flags.writeable = False

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
        # footprint: rack units of each host; awake hosts / rack units now and at their peak
        # (updated in _share, which follows every change of a host's power state)
        self.rack_units = np.repeat(
            np.asarray([g.model.rack_units for g in scenario.host_groups], dtype=np.float64),
            [g.count for g in scenario.host_groups])
        self.awake_seen = st.awake.copy()
        self.awake_n = self.peak_awake_n = int(st.awake.sum())
        self.awake_ru = self.peak_awake_ru = float(self.rack_units[st.awake].sum())
        self.last_t = np.zeros(n_h)
        self.power = np.where(st.awake, st.power_table[:, 0], st.sleep_power)
        self.util = np.zeros(n_h)
        self.energy_j = np.zeros(n_h)
        self.active_s = np.zeros(n_h)
        self.busy_mi = np.zeros(n_h)
        self.avail_mi = np.zeros(n_h)
        self.guest_s = np.zeros(n_h)  # guest-seconds hosted (consolidation ratio)
        self.full_s = np.zeros(n_h)  # time at 100 % CPU while awake (SLATAH)
        self.ready_s = np.zeros(n_h)  # time awake and done waking (SLATAH's active time)
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
        self.submit_s = np.full(n_g, np.nan)  # submission of a deferred guest (engine.carbon)
        self.start_s = np.full(n_g, np.nan)
        self.end_s = np.full(n_g, np.nan)
        self.lifetime_s = np.full(n_g, np.inf)
        self.gen = np.zeros(n_g, dtype=np.int64)  # bumped on eviction: stale timers ignore it
        self.ready_at = np.zeros(n_h)  # a waking host takes guests' work from then on, s
        offered.setup(self)
        self.any_io = bool((st.io_frac > 0).any() or (st.net_frac > 0).any())
        jobs.setup_jobs(self)
        # migrations: CPU they cost on hosts (not charged to any guest), the network they use
        self.extra_raw = np.zeros(n_h)
        self._network: Any = None
        self._topology: Any = None
        self.migration_records = MigrationLog()
        # CloudSim-style switches (dcsim.engine.assumptions); None when all are dcsim's own
        self.cs = None if self.assume.is_default else assumptions.CloudSimState(self)
        self.proportional = self.assume.cpu_sharing == "proportional"
        self.energy_rule = self.assume.energy == "integral"
        self.migrations_aborted = 0
        self.mig_procs: dict[int, simpy.Process] = {}
        self.timers = lifecycle.timers_for(self)  # boot ends and departures
        # records and hooks
        self.recorder = IntervalRecorder(self)
        # network equipment: called as f(now) -> joules per data center drawn since t = 0
        self.network_energy: list[Callable[[float], F64]] = []
        # listeners of the flow network's rate changes (dcsim.network.flows.FlowNetwork)
        self.flow_listeners: list[Callable[[float, F64], None]] = []
        # called as hook(now) each interval; a hook may return a generator the manager then
        # runs (yield from): an outside agent's decision (dcsim.engine.decisions)
        self.tick_hooks: list[Callable[[float], ProcessGenerator | None]] = []
        self.depart_hooks: list[Callable[[int, int], None]] = []
        # called as hook(guest, old_host, new_host): new_host -1 = the guest left its host
        self.move_hooks: list[Callable[[int, int, int], None]] = []
        self.events = 0
        self._ran = False
        self._t0 = 0.0
        # an outside agent taking placement/consolidation decisions (dcsim.engine.decisions)
        self.external: External | None = None
        # memory accounting (dcsim.engine.memory; None unless configured): the guests' memory
        # speed, their migration speed (speed = mig_speed × mem_speed), the work lost to
        # swapping and balloons; hooks called as hook(now) at each scheduling instant after
        # the workloads are sampled, before the hosts are re-shared
        self.memory: Any = None
        self.mem_speed: F64 | None = None
        self.mig_speed: F64 | None = None
        self.mem_loss_mi: F64 | None = None
        self.sample_hooks: list[Callable[[float], None]] = []
        load_builtin()
        self.extensions: list[Any] = []
        for name in EXTENSIONS.names():
            ext = EXTENSIONS.get(name)(self)
            if ext is not None:
                self.extensions.append(ext)
        self._one_host = hostrates.fast_ok(self)  # update_host's scalar path (hostrates)
        self.one_host: hostrates.OneHost | None = None  # its constants, built on first use
        self.held_shares: dict[int, None] | None = None  # hosts whose re-share is deferred
        self.held_at = 0.0  # ... at this instant (hostrates.hold)

    # ------------------------------------------------------------------ accounting ----------
    def guests_on(self, hosts: I64) -> I64:
        """Guests placed on ``hosts`` (sorted host ids)."""
        if hosts.shape[0] == self.state.n_hosts:
            if self.cs is not None:  # host-list order: sums in CloudSim's order
                return self.cs.list_order(self.state)
            placed = np.flatnonzero(self.state.host_of >= 0)
            return self.every_guest if placed.shape[0] == self.state.n_guests_total else placed
        if hosts.shape[0] == 1:
            return np.asarray(self.state.members[int(hosts[0])], dtype=np.intp)
        return np.flatnonzero(np.isin(self.state.host_of, hosts))

    def as_index(self, guests: I64) -> I64 | slice:
        """``guests`` as an index into the per-guest arrays: ``slice(None)`` when they are
        :attr:`every_guest` (the whole population in id order: the same elements, as views
        instead of gathered copies), else ``guests`` itself."""
        return slice(None) if guests is self.every_guest else guests

    def _settle(self, hosts: I64, guests: I64) -> None:
        """Integrate the current rates of ``hosts`` (and their ``guests``) up to now."""
        hostrates.settle(self, hosts, guests)

    def _share(self, hosts: I64, guests: I64) -> None:
        """Re-share CPU on ``hosts`` (sorted) among their running ``guests``; update power."""
        hostrates.share(self, hosts, guests)

    def update_host(self, h: int, change: Callable[[], None] | None = None) -> None:
        """Settle host ``h`` up to now, apply ``change()`` (if any), then re-share its CPU."""
        if self.memory is not None:  # the host's memory follows every change of its guests
            change = self.memory.wrapped(h, change)
        if self._one_host:
            hostrates.update_one(self, h, change)
            return
        hosts = np.asarray([h], dtype=np.intp)
        self._settle(hosts, self.guests_on(hosts))
        if change is not None:
            change()
        self._share(hosts, self.guests_on(hosts))

    def hold_shares(self) -> None:
        """Defer re-shares until ``release_shares`` (``dcsim.engine.hostrates.hold``): for a run
        of changes at one instant, between two yields, in which nothing reads the shares."""
        hostrates.hold(self)

    def release_shares(self) -> None:
        """Re-share the hosts whose re-share ``hold_shares`` deferred."""
        hostrates.release(self)

    def _sample(self, t: float) -> None:
        for sl, model in zip(self.slices, self.models, strict=True):
            self.u_last[sl] = model.values(t)
        self.u_last[self.jobs_over] = 0.0

    # ------------------------------------------------------------------ public changes ------
    def _change_guest(self, g: int, change: Callable[[], None]) -> None:
        """Apply ``change`` to guest ``g`` at its host's boundary (directly if not placed)."""
        h = int(self.state.host_of[g])
        if h >= 0:
            self.update_host(h, change)
        else:
            change()

    def set_speed(self, g: int, factor: float) -> None:
        """Deliver only ``factor`` of guest ``g``'s work from now on (1 = normal)."""
        if self.mig_speed is not None:  # memory accounting: times the guest's memory speed
            mig, mem = self.mig_speed, self.mem_speed

            def change() -> None:
                mig[g] = factor
                self.speed[g] = factor * mem[g]  # type: ignore[index]

            self._change_guest(g, change)
            return
        self._change_guest(g, functools.partial(self.speed.__setitem__, g, factor))

    def set_paused(self, g: int, paused: bool) -> None:
        """Stop (or resume) guest ``g``: while paused it wants CPU but gets none."""
        self._change_guest(g, functools.partial(self.paused.__setitem__, g, paused))

    def wake(self, h: int) -> float:
        """Wake host ``h`` if asleep; returns the time the caller must wait until it is ready
        (the wake latency, or what is left of it if the host is already waking), s."""
        st, now = self.state, self.env.now
        if st.awake[h]:
            return max(0.0, float(self.ready_at[h]) - now)
        latency = float(self.cfg.power_management.wake_latency) if now > 0 else 0.0

        def change() -> None:
            st.awake[h] = True
            self.awake_since[h] = now
            self.ready_at[h] = now + latency

        self.update_host(h, change)
        return latency

    def fail_host(self, h: int) -> list[int]:
        """Host ``h`` fails: it draws nothing and takes no guest; its guests are evicted with
        status DOWN (returned, in placement order). Repair with ``repair_host``."""
        st = self.state
        guests = list(st.members[h])
        for g in guests:
            self.evict(g, GuestStatus.DOWN)
        for g in np.flatnonzero(st.mig_dst == h).tolist():  # migrations heading here: cancel
            self.update_host(h, functools.partial(st.abort_migration, g))
            moves.interrupt(self, g, "destination failed")

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
                self.ready_at[h] = self.env.now

        self.update_host(h, change)

    def maybe_sleep(self, h: int) -> None:
        """Put host ``h`` to sleep if sleeping is enabled and it holds no guest."""
        if self.sleeps_now(h):
            self.update_host(h, functools.partial(self.fall_asleep, h))

    def sleeps_now(self, h: int) -> bool:
        """Whether host ``h`` goes to sleep now: sleeping is on and it is awake, empty and
        not failed."""
        st = self.state
        return bool(self.sleep and st.awake.item(h) and st.n_guests.item(h) == 0
                    and not st.failed.item(h))

    def fall_asleep(self, h: int) -> None:
        """Put host ``h`` to sleep now (no settle nor re-share: the caller's) and record how
        long it was awake."""
        self.state.awake[h] = False
        self.shutdown_gaps.append(self.env.now - float(self.awake_since[h]))

    # ------------------------------------------------------------------ migration -----------
    @property
    def topology(self) -> Any:
        """The run's topology: the config's network, or the star of host NICs (built on use)."""
        if self._topology is None:
            self._topology = self.sc.topology
        if self._topology is None:
            from dcsim.network.build import scenario_topology

            self._topology, issues = scenario_topology(self.cfg, self.sc.host_groups,
                                                       self.sc.source)
            assert not issues, issues  # a star of the hosts' own NICs is always valid
        return self._topology

    @property
    def network(self) -> Any:
        """The run's ``NetworkService`` (built on first use: runs without transfers pay nothing)."""
        if self._network is None:
            from dcsim.engine.network import NetworkService
            from dcsim.network.flows import FlowNetwork
            from dcsim.network.routing import Router

            topo = self.topology
            ecmp = self.cfg.network.ecmp if self.cfg.network is not None else True
            flows = FlowNetwork(topo, Router(topo, ecmp=ecmp))
            flows.listeners.extend(self.flow_listeners)
            self._network = NetworkService(self.env, flows)
        return self._network

    def migrate(self, g: int, dst: int, spec: Any) -> simpy.Process | None:
        """Start migrating running guest ``g`` to host ``dst`` (``dcsim.engine.moves.migrate``)."""
        return moves.migrate(self, g, dst, spec)

    # ------------------------------------------------------------------ processes -----------
    def manager(self) -> ProcessGenerator:
        """SimPy process: every scheduling interval, sample workloads and re-share all hosts."""
        st = self.state
        all_hosts = np.arange(st.n_hosts, dtype=np.intp)
        k = 0
        offset = float(self.assume.update_offset)
        if offset > 0:
            self.events += 1
            yield self.env.timeout(offset)
        while True:
            now = self.env.now
            if self.cs is not None:
                assumptions.datacenter_update(self, periodic=True)
            else:
                guests = self.guests_on(all_hosts)
                self._settle(all_hosts, guests)
                offered.settle(self)  # every guest, before its demand is sampled again
                self._sample(now)
                for sample_hook in self.sample_hooks:
                    sample_hook(now)
                self._share(all_hosts, guests)
            for hook in self.tick_hooks:
                more = hook(now)
                if more is not None:
                    yield from more
            self.recorder.tick(now)
            if self.check_invariants:
                st.check()
            k += 1
            # with an offset, instants accumulate as CloudSim's (t += interval)
            nxt = now + self.interval if offset > 0 else k * self.interval
            if nxt >= self.duration:
                return
            self.events += 1
            yield self.env.timeout(self.interval if offset > 0 else nxt - now)

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
            batch = order[i:j]
            decision = yield from self.decide(batch)
            self.admit(batch, decision=decision)
            i = j

    def decide(self, batch: I64) -> Generator[simpy.events.Event, Any, I64 | None]:
        """An outside agent's hosts for ``batch`` (``External.place``), or None without one
        (then ``admit`` asks the placement policy)."""
        ext = self.external
        if ext is None or not ext.placement or (
                self.assume.initial_placement == "cloudsim" and self.env.now == 0):
            return None
        out = yield from ext.place(batch)
        return out

    # ------------------------------------------------------------------ state changes -------
    def boot_time(self, g: int, h: int) -> float:
        """Boot/start time of guest ``g`` on host ``h``'s layer, s (``admission.boot_time``)."""
        return admission.boot_time(self, g, h)

    def admit(self, batch: I64, *, lifetime_left: F64 | None = None,
              extra_delay: F64 | None = None, skip_boot: NDArray[np.bool_] | None = None,
              unplaced: GuestStatus = GuestStatus.REJECTED,
              decision: I64 | None = None) -> I64:
        """Place arriving guests and start their lifecycle (``dcsim.engine.admission.admit``);
        returns the host per guest (-1 = not placed, status ``unplaced``)."""
        return admission.admit(self, batch, lifetime_left=lifetime_left,
                               extra_delay=extra_delay, skip_boot=skip_boot, unplaced=unplaced,
                               decision=decision)

    def _start(self, g: int) -> None:
        st = self.state
        h = int(st.host_of[g])

        def change() -> None:
            st.status[g] = GuestStatus.RUNNING
            self.recovering[g] = False
            if np.isnan(self.start_s[g]):
                self.start_s[g] = self.env.now

        self.update_host(h, change)

    def evict(self, g: int, status: GuestStatus) -> int:
        """Take guest ``g`` off its host (settled first), give it ``status``; returns the host."""
        st = self.state
        h = int(st.host_of[g])
        moving = st.mig_dst[g] >= 0
        self.update_host(h, functools.partial(self.take_off, g, status))
        if moving:
            moves.interrupt(self, g, "guest left its host")
        for hook in self.move_hooks:
            hook(g, h, -1)
        return h

    def take_off(self, g: int, status: GuestStatus) -> None:
        """``evict``'s change of guest ``g`` (its host settled before, re-shared after)."""
        st = self.state
        st.release(g)
        self.gen[g] += 1
        if self.check_invariants:
            st.check()
        st.status[g] = status
        self.demand[g] = self.useful[g] = self.raw[g] = 0.0

    def depart(self, g: int) -> None:
        h = self.evict(g, GuestStatus.DEPARTED)
        self.end_s[g] = self.env.now
        for hook in self.depart_hooks:
            hook(g, h)
        self.maybe_sleep(h)

    # ------------------------------------------------------------------ records -------------
    def network_energy_j(self, t: float) -> F64:
        """Joules drawn by network equipment per data center from 0 to ``t`` (now)."""
        out = np.zeros(self.dc_pue.shape[0])
        for source in self.network_energy:
            out += source(t)
        return out

    def run(self) -> Result:
        """Simulate the whole duration and return the result."""
        self.start()
        self.advance()
        return self.finish()

    def advance(self) -> bool:
        """Process events until an outside agent's decision is pending (True) or every event
        before ``duration`` is processed (False). SimPy's ``run(until=duration)`` in steps."""
        env, ext = self.env, self.external
        step = env.step
        try:
            if ext is None:
                while True:
                    step()
            while ext.pending is None:
                step()
        except StopSimulation:
            return False
        return True

    def start(self) -> None:
        """Set up the processes (``run`` = ``start``, the SimPy run to ``duration``,
        ``finish``; ``dcsim.rl`` steps the SimPy environment itself in between)."""
        if self._ran:
            raise RuntimeError("a Simulation runs once; build a new one")
        self._ran = True
        self._t0 = time.perf_counter()
        st = self.state
        times = np.full(st.n_guests_total, np.inf)
        for k, (sl, gg) in enumerate(zip(self.slices, self.sc.guest_groups, strict=True)):
            a, life = build_arrivals(gg.spec.arrival, gg.spec.count, self.duration,
                                     self.streams[f"arrivals.{k}"], base_dir=self.sc.base_dir)
            # guests beyond the arrivals that happen within the run never arrive
            m = min(a.shape[0], gg.spec.count)
            times[sl.start:sl.start + m] = a[:m]
            self.lifetime_s[sl.start:sl.start + m] = life[:m]
        if any(gg.spec.deferrable is not None for gg in self.sc.guest_groups):
            from dcsim.engine.carbon import defer

            times = defer(self, times)  # carbon-aware temporal shifting
        order = np.lexsort((np.arange(times.shape[0]), times))
        self.env.process(self.arrivals(times, order))
        self.env.process(self.manager())
        if self.has_jobs.any():
            self.env.process(jobs.jobs_watch(self))
        for ext in self.extensions:
            ext.start(self)
        # the end: an event before every other at ``duration`` that stops the run, as SimPy's
        # ``run(until=duration)`` schedules it
        stop = simpy.Event(self.env)
        stop._ok, stop._value = True, None
        self.env.schedule(stop, URGENT, self.duration - self.env.now)
        stop.callbacks.append(StopSimulation.callback)

    def finish(self) -> Result:
        """Close the books at ``duration`` (every event before it processed) and return the
        result."""
        t0, st = self._t0, self.state
        all_hosts = np.arange(st.n_hosts, dtype=np.intp)
        self._settle(all_hosts, self.guests_on(all_hosts))
        offered.settle(self)
        self.recorder.finish(self.duration)
        if self.check_invariants:
            st.check()
        result = build_result(self, time.perf_counter() - t0)
        for ext in self.extensions:
            ext.finish(self, result)
        if self.cs is not None:
            assumptions.finish(self, result)
        result.summary["wall_s"] = time.perf_counter() - t0
        return result
