"""The non-default modelling assumptions of the default engine (``dcsim.config.assumptions``).

``Simulation`` calls into this module only where a switch is off its default; with all defaults
nothing here runs. What each switch does in the engine:

* ``footprint: none`` zeroes the layers' memory/disk footprint and CPU overheads (``apply_static``).
* ``slow_cores: cap`` turns off the per-core rule of ``ClusterState.fits``/``feasible``
  (``apply_static``); ``Simulation._share`` always caps a vCPU at its host's core MIPS and
  counts the full demand as requested, so nothing else changes.
* ``reservation: demand``: admission checks and reserves the configured size, then
  ``ClusterState.unhold`` gives it back and ``ClusterState.hold`` is False for the rest of the run.
* ``cpu_sharing: proportional`` (``proportional_share``): per-core cap, then on an oversubscribed
  host every request × ``capacity / Σ request``, floored; a guest migrating out under the
  ``cloudsim`` migration model gets ``speed`` (0.9) of that and its host counts it in full; one
  migrating in asks its destination for 10 % of its capped request.
* ``updates: datacenter``, ``energy: cloudsim`` / ``cloudsim-npa``, ``zero_demand: drop``,
  ``sla: cloudsim``:
  ``datacenter_update`` (the periodic update and the one at each migration completion): re-sample
  every workload, re-share every host, add CloudSim's trapezoid energy, write the state-history
  entries (``StateHistoryRecorder``), then drop guests with zero demand.
* ``migration: cloudsim`` (``dcsim.engine.cloudsim_migrations``): a fixed delay
  ``RAM / (bandwidth / 2)``, the moves that end together completing in one process (one update
  before, one after).
* ``initial_placement: cloudsim`` (``initial_hosts``), ``planner: cloudsim`` (``snapshot``): the
  shared policy code of ``dcsim.policies.consolidation`` on the engine's state.

Imports: numpy, simpy (through the Simulation), dcsim.{model, policies, metrics}.
"""

from __future__ import annotations

from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from dcsim.engine import offered
from dcsim.kernels.jit import kernel
from dcsim.metrics.consolidation import StateHistoryRecorder, esv, slav
from dcsim.model.cluster import GuestStatus
from dcsim.policies.consolidation import specpower_w

if TYPE_CHECKING:
    from dcsim.engine.simulation import Simulation
    from dcsim.metrics.result import Result

F64 = NDArray[np.float64]
I64 = NDArray[np.intp]
RUNNING = int(GuestStatus.RUNNING)

#: the update's energy step and ``drop_idle``'s test in compiled passes
#: (``dcsim.kernels.dcupdate``: the same operations; False: numpy, for the tests)
COMPILED = True
#: ``compiled_share`` writes the state-history entries itself (``record_compiled``)
RECORD_COMPILED = True

MIGRATION_SPEED = 0.9  # CloudSim: a VM migrating out gets 90 % of its MIPS (README §5)
DESTINATION_SHARE = 0.1  # and its destination reserves 10 % of them


def apply_static(sim: Simulation) -> None:
    """Switches that change the cluster's arrays once, before anything is placed."""
    st = sim.state
    if sim.assume.footprint == "none":
        for name in ("reserved_mem", "mem_overhead", "mem_charge", "reserved_charge",
                     "disk_overhead", "cpu_overhead",
                     "sched_slope", "sched_max", "syscall_overhead", "interference",
                     "interference_max"):
            getattr(st, name)[:] = 0.0
        for name in ("io_seq_factor", "io_rand_factor", "net_bulk_factor"):
            getattr(st, name)[:] = 1.0
        st.used_ram[:] = 0.0
    st.core_rule = sim.assume.slow_cores == "refuse"


class CloudSimState:
    """Per-run state of the CloudSim-style switches (built only when one of them is on)."""

    def __init__(self, sim: Simulation) -> None:
        a = sim.assume
        n_h, n_g = sim.state.n_hosts, sim.state.n_guests_total
        self.first_update = a.update_offset + (sim.interval if a.first_decision ==
                                                "first_interval" else 0.0)
        self.started = False  # the first datacenter update happened
        self.e_last = 0.0
        self.recorder = (StateHistoryRecorder(n_h, n_g, compiled=True) if a.sla == "cloudsim"
                         else None)
        self.h_alloc = np.zeros(n_h)
        self.h_req = np.zeros(n_h)
        self.in_alloc = np.zeros(n_h)  # MIPS of guests migrating in, on their destination
        self.ghist = np.zeros((n_g, 30))  # CloudSim's PowerVm history (newest first)
        self.glen = 0
        self.mig_started = 0
        # (guest, destination) of every migration in flight, in start order; a guest moved twice
        # in one step (CloudSim's quirk) is migrating in on both destinations until it ends
        self.incoming: dict[tuple[int, int], None] = {}
        self._order_key = -1
        self._inc: tuple[I64, I64] | None = None
        self._order: I64 = np.zeros(0, dtype=np.intp)
        # a migration group's completion takes its compiled pass (numba is loaded in this
        # mode anyway: the settles' kernel, ``hostrates.settle``)
        sim.state.compiled = COMPILED
        self.full_at = -1.0  # last instant at which every host was settled and re-shared
        # settling again at ``full_at`` changes nothing (``reshare``): no finite jobs
        self.resettle_noop = not bool(sim.has_jobs.any())
        self.host_class: I64 | None = None  # PABFD's host classes (static hardware)
        # CloudSim energy: utilisations at the last update and their powers (NaN: none yet)
        self.p_util = np.full(n_h, np.nan)
        self.p_w = np.zeros(n_h)

    def powers(self, tables: F64, util: F64) -> F64:
        """``specpower_w(tables, util)``: the powers kept for ``p_util`` (the last update's
        utilisations), computed again where a host's utilisation differs (row by row: the
        same values on a subset)."""
        out = self.p_w.copy()
        moved = np.flatnonzero(util != self.p_util)
        if moved.shape[0]:
            out[moved] = specpower_w(tables[moved], util[moved])
        return out

    def incoming_arrays(self) -> tuple[I64, I64]:
        """Guests migrating in and their destinations, in start order (cached)."""
        if self._inc is None:
            if not self.incoming:
                z = np.zeros(0, dtype=np.intp)
                self._inc = (z, z)
            else:
                a = np.fromiter(chain.from_iterable(self.incoming), dtype=np.intp,
                                count=2 * len(self.incoming)).reshape(-1, 2)
                self._inc = (a[:, 0].copy(), a[:, 1].copy())  # (contiguous, for the kernels)
        return self._inc

    def list_order(self, st: Any) -> I64:
        """Placed guests host by host, each host's in list order (CloudSim's summation order).

        Cached until a member list changes (``ClusterState.version``).
        """
        if self._order_key != st.version:  # (chained in C: the same order as nested loops)
            self._order = np.fromiter(chain.from_iterable(st.members), dtype=np.intp)
            self._order_key = st.version
        return self._order

    def order_moved(self, st: Any, version: int, gs: I64, dst: I64) -> None:
        """Keep the cached list order across ``st.finish_migrations(gs)`` made at ``version``:
        each guest leaves its place for the end of its destination's list, in order (as
        ``members``). ``np.insert`` puts values for one index in their given order, so they
        are given by destination, each destination's in the group's order."""
        if self._order_key != version:
            return
        order = self._order
        if COMPILED:  # (the same order in one merge pass: dcsim.kernels.dcupdate)
            self._order = kernel("dcupdate").order_moved(order, gs, dst, st.host_of,
                                                         st.n_guests_total)
            self._order_key = st.version
            return
        pos = np.empty(st.n_guests_total, dtype=np.intp)
        pos[order] = np.arange(order.shape[0], dtype=np.intp)
        keep = np.ones(order.shape[0], dtype=bool)
        keep[pos[gs]] = False
        base = order[keep]  # host by host: each destination's list ends where the next begins
        by = np.argsort(dst, kind="stable")  # (hosts without guests share an insertion point)
        self._order = np.insert(base, np.searchsorted(st.host_of[base], dst[by], side="right"),
                                gs[by])
        self._order_key = st.version

    def order_removed(self, st: Any, version: int, gs: I64) -> None:
        """Keep the cached list order across the release of guests ``gs`` from ``version``."""
        if self._order_key == version:
            self._order = self._order[~np.isin(self._order, gs)]
            self._order_key = st.version

    def members_in_order(self, st: Any, hosts: I64) -> I64:
        """Guests on ``hosts`` (sorted), host by host, each host's in list order: for many
        hosts, the cached list order's guests on them (the same sequence), else chained."""
        if hosts.shape[0] >= 64 and self._order_key == st.version:
            on = np.zeros(st.n_hosts, dtype=bool)
            on[hosts] = True
            out: I64 = self._order[on[st.host_of[self._order]]]
            return out
        members = st.members
        return np.fromiter(chain.from_iterable([members[h] for h in hosts.tolist()]),
                           dtype=np.intp)


def _cs(sim: Simulation) -> CloudSimState:
    cs = sim.cs
    assert cs is not None
    return cs


# ------------------------------------------------------------------------------ CPU sharing
def proportional_share(sim: Simulation, hosts: I64, g: I64, local: I64, raw_want: F64,
                       room: F64, vc: F64 | None = None) -> tuple[F64, F64]:
    """CloudSim's ``VmSchedulerTimeSharedOverSubscription`` on ``hosts``.

    ``raw_want`` is already capped per core; ``vc``: the guests' vCPUs (if the caller has
    them). Returns (raw MIPS each guest consumes on its host, MIPS each guest delivers); also
    sets ``sim.cs.in_alloc`` of ``hosts`` (guests migrating in). The floored shares are
    computed for the guests of oversubscribed hosts only (elementwise the same).
    """
    st, cs = sim.state, _cs(sim)
    n = hosts.shape[0]
    speed = sim.speed[g]
    need = np.bincount(local, weights=raw_want, minlength=n).astype(np.float64)
    inc, dst = cs.incoming_arrays()
    in_local: I64 = np.zeros(0, dtype=np.intp)
    in_need = np.zeros(0)
    if inc.shape[0]:
        if n < st.n_hosts:
            pos = np.searchsorted(hosts, dst)
            pos_c = np.minimum(pos, n - 1)
            keep = hosts[pos_c] == dst
            inc, in_local = inc[keep], pos_c[keep]
        else:
            in_local = dst
        per_core = np.minimum(sim.u_last[inc] * st.mips[inc], st.mips_per_core[hosts[in_local]])
        in_need = DESTINATION_SHARE * per_core * st.vcpus[inc]
        need += np.bincount(in_local, weights=in_need, minlength=n)
    over = need > room
    any_over = bool(over.any())
    delivered = raw_want * speed
    if any_over:
        o = np.flatnonzero(over)  # (need > room >= 0 there: no division by zero)
        scale = np.ones(n)
        scale[o] = room[o] / need[o]
        m = np.flatnonzero(over[local])
        if m.shape[0]:
            vm = st.vcpus[g[m]] if vc is None else vc[m]
            delivered[m] = np.floor(raw_want[m] / vm * scale[local[m]] * speed[m]) * vm
    if speed.shape[0] and speed.min() > 0:
        raw = delivered / speed
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = np.where(speed > 0, delivered / speed, 0.0)
    h = st.host_index(hosts)
    cs.in_alloc[h] = 0.0
    if in_need.shape[0]:
        got = (np.where(over[in_local], np.floor(in_need * scale[in_local]), in_need)
               if any_over else in_need)
        cs.in_alloc[h] += np.bincount(in_local, weights=got, minlength=n)
    return raw, delivered


def compiled_share(sim: Simulation, hosts: I64,
                   g: I64) -> tuple[F64, F64, F64 | None, bool]:
    """``share``'s guest and host terms with ``proportional_share`` on ``hosts`` (sorted) and
    their running guests ``g`` in one compiled pass (``dcsim.kernels.propshare.share_hosts``:
    the same float64 operations in the same order, for the case ``OneHost.propshare``). Sets
    the guests' rates, the hosts' ``in_alloc``, utilisations and powers; returns (the guests'
    demands, the MIPS allocated per host to its own guests, the MIPS they request per host,
    whether any of the hosts' awake flags differs from ``awake_seen``).

    Where ``record`` writes entries and takes the migrations in flight from ``incoming`` (it
    is not empty, or no guest migrates), the pass also sets ``record``'s host terms ``h_req``
    and ``h_alloc`` (the same sums) and the entries are written here (``record_compiled``);
    the requests returned are None then (nothing left to record)."""
    st, cs = sim.state, _cs(sim)
    inc, dst = cs.incoming_arrays()
    any_inc = inc.shape[0] > 0
    rec = (RECORD_COMPILED and cs.recorder is not None and cs.started
           and (any_inc or not bool((st.mig_dst >= 0).any())))
    want, used, req, changed = kernel("propshare").share_hosts(
        g, hosts, st.host_of, sim.u_last, st.vcpus, st.mips, st.mips_per_core, sim.speed,
        inc, dst, sim.extra_raw, st.cap_mips, st.awake, st.failed, st.power_table,
        st.sleep_power, sim.raw_want, sim.demand, sim.useful, sim.raw, cs.in_alloc, sim.util,
        sim.power, rec, cs.h_req, cs.h_alloc, sim.awake_seen)
    if rec:
        record_compiled(sim, g, want)
        return want, used, None, changed
    return want, used, req, changed


def record_compiled(sim: Simulation, g: I64, want: F64) -> None:
    """``record``'s entries once the compiled share set ``h_req`` and ``h_alloc``: every
    host's, then those of the running guests ``g`` (demands ``want``)."""
    cs, st = _cs(sim), sim.state
    assert cs.recorder is not None
    now = sim.env.now
    cs.recorder.host_entries_of(now, cs.h_alloc, cs.h_req)
    cs.recorder.vm_entries_of(now, g, sim.useful, want, st.mig_dst)


# ------------------------------------------------------------------------------ updates
def record(sim: Simulation, hosts: I64, g: I64, local: I64, want: F64, used: F64,
           req: F64 | None = None) -> None:
    """State-history entries (CloudSim's SLA definitions) after ``hosts`` were re-shared:
    ``share``'s running guests ``g`` (in list order), their hosts' positions ``local`` in
    ``hosts``, their demands ``want`` and the MIPS they were allocated per host, ``used``;
    ``req``: their demands summed per host already (``local`` is not read then).

    Requests and allocations are summed per host over the running guests in list order (by
    ``share``, the allocations): the sums over all the hosts' guests, whose others add +0.0
    (their rates are zeroed), in the same order: no ulp-level "violations".
    """
    cs, st = _cs(sim), sim.state
    if cs.recorder is None or not cs.started:
        return
    now = sim.env.now
    if req is None:
        n = hosts.shape[0]
        req = (np.bincount(local, weights=want, minlength=n).astype(np.float64, copy=False)
               if g.shape[0] else np.zeros(n))
    if cs.incoming:
        inc, dst = cs.incoming_arrays()
    else:
        inc = np.flatnonzero(st.mig_dst >= 0)
        dst = st.mig_dst[inc]
    h = st.host_index(hosts)
    if inc.shape[0]:
        req = req + np.bincount(dst, weights=sim.u_last[inc] * st.vcpus[inc] * st.mips[inc],
                                minlength=st.n_hosts)[h]
    cs.h_req[h] = req
    cs.h_alloc[h] = used + cs.in_alloc[h] + sim.extra_raw[h]
    cs.recorder.host_entries(now, cs.h_alloc, cs.h_req, cs.h_alloc > 0)
    cs.recorder.vm_entries(now, g, sim.useful[g], want, st.mig_dst[g] >= 0)


def datacenter_update(sim: Simulation, *, periodic: bool) -> None:
    """CloudSim's datacenter update at ``now``: every host, energy, records, dropped guests."""
    st, cs, a = sim.state, _cs(sim), sim.assume
    now = sim.env.now
    all_hosts = np.arange(st.n_hosts, dtype=np.intp)
    guests = sim.guests_on(all_hosts)
    sim._settle(all_hosts, guests)
    before = sim.util.copy()
    if periodic or a.updates == "datacenter":
        offered.settle(sim)  # every guest, before its demand is sampled again
        sim._sample(now)
    if not cs.started and now >= cs.first_update - 1e-9:
        cs.started = True
        cs.e_last = 0.0 if a.energy == "cloudsim-npa" else now  # NPA charges from t = 0
    sim._share(all_hosts, guests)
    cs.full_at = now
    if not cs.started:
        return
    if periodic:
        cs.ghist[:, 1:] = cs.ghist[:, :-1]
        cs.ghist[:, 0] = sim.u_last
        cs.glen = min(cs.glen + 1, cs.ghist.shape[1])
    if a.energy == "cloudsim" and now > cs.e_last:
        cloudsim_energy(cs, st.power_table, before, sim.util, sim.energy_j, now - cs.e_last)
        cs.e_last = now
    elif a.energy == "cloudsim-npa" and now > cs.e_last:
        sim.energy_j += st.power_table[:, -1] * (now - cs.e_last)
        cs.e_last = now
    if a.zero_demand == "drop":
        drop_idle(sim, guests)


def cloudsim_energy(cs: CloudSimState, tables: F64, before: F64, util: F64, energy_j: F64,
                    dt: float) -> None:
    """CloudSim's trapezoid energy over the last ``dt`` s: every host's power at the
    utilisations ``before`` and ``util`` (``CloudSimState.powers``), ``energy_j += (p0 + (p1 -
    p0) / 2) * dt`` where ``before`` is not 0; then ``util`` and its powers are kept."""
    if COMPILED:  # the same terms in one pass (dcsim.kernels.dcupdate.energy)
        kernel("dcupdate").energy(tables, before, util, cs.p_util, cs.p_w, energy_j, dt)
        return
    p0, p1 = cs.powers(tables, before), cs.powers(tables, util)
    cs.p_util[:], cs.p_w[:] = util, p1
    energy_j += np.where(before == 0.0, 0.0, (p0 + (p1 - p0) / 2) * dt)


def drop_idle(sim: Simulation, guests: I64) -> None:
    """Remove for good the running guests whose demand is exactly 0 and that do not move; their
    would-be demand from now on stays in offered load as unserved (``offered.drop``)."""
    st = sim.state
    if COMPILED and not kernel("dcupdate").any_idle(sim.demand, st.mig_dst, st.status, RUNNING):
        return  # (the test below in one pass: mostly none is idle)
    idle_at = (sim.demand == 0.0) & (st.mig_dst < 0) & (st.status == RUNNING)  # every guest:
    if not idle_at.any():  # no gathers, and mostly none is idle
        return
    idle = guests[idle_at[guests]]
    if sim.memory is not None or sim.move_hooks or sim.depart_hooks or sim._one_host:
        for g in idle.tolist():  # hooks see every departure's state: one by one
            sim.depart(g)
            offered.drop(sim, g)
        return
    depart_all(sim, idle)


def depart_all(sim: Simulation, idle: I64) -> None:
    """``Simulation.depart`` then ``offered.drop`` of each guest of ``idle`` (running, not
    migrating), in order, with one settle and one re-share of their hosts (without memory
    accounting, move or departure hooks, nor the one-host path).

    Exact: one by one, each departure settles its host (a second settle at the same instant
    adds rates x 0), takes the guest off (``Simulation.take_off``), re-shares the host (a
    function of its state: only its last re-share counts, state-history entries at an already
    recorded time replace the earlier ones), and puts it to sleep if it is now empty, which
    only a host's last departing guest can do and which nothing before reads; awake counts only
    fall here (peaks unchanged), rack units are whole numbers (sums exact in any order).
    Shutdown gaps are appended in the order of the hosts' last departures.
    """
    st, cs = sim.state, _cs(sim)
    now = sim.env.now
    ids = idle.tolist()
    hosts_l = st.host_of[idle].tolist()
    hosts = np.unique(st.host_of[idle])
    resettle(sim, hosts, cs.members_in_order(st, hosts))
    version = st.version
    for g in ids:
        sim.take_off(g, GuestStatus.DEPARTED)
        sim.end_s[g] = now
    cs.order_removed(st, version, idle)
    if sim.sleep:
        last = {h: i for i, h in enumerate(hosts_l)}  # host -> its last departure
        for h in sorted(last, key=last.__getitem__):
            if sim.sleeps_now(h):
                sim.fall_asleep(h)
    sim._share(hosts, cs.members_in_order(st, hosts))
    for g in ids:
        offered.drop(sim, g)


def update_hosts(sim: Simulation, hosts: set[int], change: Any = None) -> None:
    """``Simulation.update_host`` for several hosts at one instant, in one vectorized pass."""
    h = np.asarray(sorted(hosts), dtype=np.intp)
    if not h.shape[0]:
        return
    sim._settle(h, sim.guests_on(h))
    if change is not None:
        change()
    sim._share(h, sim.guests_on(h))


def share_all(sim: Simulation) -> None:
    """Re-share every host at ``now`` (no time passes: a CloudSim update with Δt = 0)."""
    all_hosts = np.arange(sim.state.n_hosts, dtype=np.intp)
    guests = sim.guests_on(all_hosts)
    sim._settle(all_hosts, guests)
    sim._share(all_hosts, guests)
    _cs(sim).full_at = sim.env.now


def reshare(sim: Simulation, hosts: I64) -> None:
    """``share_all`` after changes at ``now`` that touched only ``hosts``.

    If every host was settled and re-shared at this instant already (``full_at``), only
    ``hosts`` are: settling the others again would add rates × 0, and a share depends only on
    the host's state, so their rates, powers and state-history entries (replaced at an already
    recorded time, ``StateHistoryRecorder``) come out the same; the guests are taken in list
    order, the order of the full update's sums. Otherwise every host is re-shared.
    """
    cs = _cs(sim)
    if cs.full_at != sim.env.now:
        share_all(sim)
        return
    h = hosts
    if h.shape[0]:
        guests = cs.members_in_order(sim.state, h)
        resettle(sim, h, guests)
        sim._share(h, guests)


def resettle(sim: Simulation, hosts: I64, guests: I64) -> None:
    """``Simulation._settle`` of ``hosts`` and their ``guests``, left out where it is nothing:
    every host and every guest's waiting demand were settled up to now already (``full_at``),
    without memory accounting or finite jobs. Then each term a settle would add is a finite
    rate × 0 s (+0.0 or -0.0), which leaves every accumulator as it is (they start at +0.0 and
    only ever add non-negative terms, so none is -0.0), and its clocks are at now already."""
    cs = _cs(sim)
    if not (cs.full_at == sim.env.now and cs.resettle_noop and sim.memory is None):
        sim._settle(hosts, guests)


def can_wake_later(sim: Simulation) -> bool:
    """Whether the t = 0 placement may defer its hosts' wake re-shares (``wake_later``)."""
    cs = sim.cs
    return (cs is not None and not cs.started and sim.env.now == 0 and sim.memory is None
            and not sim._one_host)


def wake_later(sim: Simulation, h: int, woken: list[int]) -> float:
    """``Simulation.wake`` of host ``h`` at t = 0 (no latency): if it sleeps empty, with its
    settle and re-share left to ``share_woken``; returns the wait (s).

    Exact: the host is empty when woken, and until ``share_woken`` only placements follow,
    which change nothing a re-share reads (guests are shared by the next update, not by the
    wake) nor anything read from a share; settling at t = 0 adds rates x 0; the awake
    counts only rise here (their peaks are the final counts either way) and rack units are
    whole numbers (sums exact in any order); no state-history entry is written before the
    first update (``started``).
    """
    st = sim.state
    if st.awake.item(h) or st.n_guests.item(h):
        return sim.wake(h)
    st.awake[h] = True
    sim.awake_since[h] = sim.env.now
    sim.ready_at[h] = sim.env.now
    woken.append(h)
    return 0.0


def share_woken(sim: Simulation, woken: list[int]) -> None:
    """The settles and re-shares ``wake_later`` left, each host as it was when woken (empty)."""
    h = np.asarray(sorted(woken), dtype=np.intp)
    none = np.zeros(0, dtype=np.intp)
    sim._settle(h, none)
    sim._share(h, none)


# ------------------------------------------------------------------------------ policies
def initial_hosts(sim: Simulation, batch: I64) -> I64:
    """CloudSim's t = 0 placement of ``batch`` (README §8); -1 = no host."""
    from dcsim.policies.consolidation import (
        InitialHosts,
        build_policy,
        initial_placement,
        parse_policy,
    )

    st, cfg = sim.state, sim.cfg
    detector = None
    if cfg.consolidation is not None:
        method = "pabfd"
        detector, _ = build_policy(parse_policy(cfg.consolidation.policy))
    elif cfg.placement.name in ("first-fit", "first_fit", "ff"):
        method = "first_fit"
    elif cfg.placement.name in ("worst-fit", "worst_fit", "wf"):
        method = "most_free_pes"
    else:
        method = "pabfd"
    gbw = np.asarray([g.type.bandwidth for g in sim.sc.guest_groups], dtype=np.float64)[
        st.guest_group[batch]]
    hosts = InitialHosts(
        total_mips=st.cap_mips, pe_mips=st.mips_per_core, ram_mb=st.ram_limit - st.used_ram,
        bw=st.bandwidth.astype(np.float64), storage_mb=st.storage - st.used_storage,
        power_table=st.power_table, pes=st.cores.astype(np.int64))
    out = initial_placement(method, hosts, st.mips[batch] * st.vcpus[batch],
                            st.gram[batch] + 0.0, gbw, st.gdisk[batch] + 0.0, detector)
    return np.asarray(out, dtype=np.intp)


def snapshot(sim: Simulation) -> Any:
    """The engine's state as CloudSim's ``optimizeAllocation`` sees it (``ClusterSnapshot``)."""
    from dcsim.policies.consolidation import ClusterSnapshot, host_classes

    st, cs = sim.state, _cs(sim)
    cap = st.cap_mips
    placed = cs.list_order(st)
    per_core = np.minimum(sim.demand[placed] / st.vcpus[placed],
                          st.mips_per_core[st.host_of[placed]]) * st.vcpus[placed]
    need = np.bincount(st.host_of[placed], weights=per_core, minlength=st.n_hosts)
    alloc = np.bincount(st.host_of[placed], weights=sim.raw[placed],
                        minlength=st.n_hosts).astype(np.float64)
    util = alloc / cap
    util = np.where((util > 1.0) & (util < 1.01), 1.0, np.clip(util, 0.0, 1.0))
    bw = float(np.min(st.bandwidth))
    hist = cs.ghist if cs.glen == cs.ghist.shape[1] else cs.ghist.copy()
    if cs.glen < cs.ghist.shape[1]:
        hist[:, cs.glen:] = 0.0
    if cs.host_class is None:  # hardware never changes after set-up
        cs.host_class = host_classes(cap, st.mips_per_core, st.power_table)
    return ClusterSnapshot(
        host_total_mips=cap, host_pe_mips=st.mips_per_core, host_power_table=st.power_table,
        host_util=util, host_alloc_mips=alloc,
        host_avail_mips=np.where(need > cap, 0.0, cap - need),
        host_vms=st.members, vm_requested_mips=sim.demand.copy(),
        vm_mips=st.mips * st.vcpus, vm_ram_mb=st.gram / 1e6, vm_history=hist,
        vm_history_len=np.full(st.n_guests_total, cs.glen, dtype=np.int64),
        vm_in_migration=st.mig_dst >= 0, migration_mbps=bw / 2.0 / 8e6,
        interval_s=sim.interval, host_class=cs.host_class)


def finish(sim: Simulation, result: Result) -> None:
    """Summary figures that a switch defines differently (SLA metrics, migrations started)."""
    cs = _cs(sim)
    s = result.summary
    if cs.recorder is not None:
        m = cs.recorder.summary()
        sv = slav(m.slatah, m.pdm)
        s.update({
            "slatah": m.slatah, "pdm": m.pdm, "slav": sv,
            "esv": esv(float(s["energy_it_kwh"]), sv),
            "overall_sla_violation": m.overall_sla_violation,
            "average_sla_violation": m.average_sla_violation,
            "host_shutdowns": m.host_shutdowns,
            "time_before_shutdown_mean_s": m.time_before_shutdown_mean_s,
            "time_before_shutdown_sd_s": m.time_before_shutdown_sd_s,
            "time_before_migration_mean_s": m.time_before_migration_mean_s,
            "time_before_migration_sd_s": m.time_before_migration_sd_s,
        })
    if sim.assume.migration == "cloudsim":
        s["migrations"] = cs.mig_started
