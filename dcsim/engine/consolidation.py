"""Dynamic consolidation in dcsim's default semantics: an engine extension.

At every scheduling interval (after CPU is re-shared) one optimisation step runs, after
Beloglazov & Buyya (CCPE 2012): (1) the overload detector marks hosts; (2) the selection policy
picks guests to move off each overloaded host until the detector no longer fires; (3) those guests,
by decreasing demand, go to the feasible host whose power rises least (power-aware best fit,
PABFD), never one that the detector would find overloaded with the guest added; (4) underload
consolidation tries the least-utilised hosts in turn and evacuates one only if all its guests fit
elsewhere. Then the moves start as real migrations (``Simulation.migrate``: pre-copy over the
network by default).

What the detector sees for a host without (step 2) or with (steps 3, 4) a guest, as CloudSim
computes a host's history from its VMs' histories: the current requested utilisation minus (plus)
the guest's raw demand, the host's utilisation history minus (plus) the guest's own history of raw
MIPS consumed (divided by the host's capacity; the history length of a host that receives a guest
is the longer of the two), and the longest migration time among the guests then on it (RAM × 8 /
``migration_bps``). Without this, a local-regression detector, which reads only the
history, would keep firing until a host is empty. A host's history is its guests': it ends
when the host holds none, and its next guests start a new one.

Differences from CloudSim's semantics (``compat: cloudsim``), on purpose: RAM, storage and the
virtualization footprint count in every placement (the capacity law); utilisation comes from the
current CPU shares, not from a stale copy; idle guests are never dropped; migration takes the
time the migration model and the network give it, with its CPU cost on both hosts; a host holds
the guest on both ends while it moves; hosts go to sleep as soon as they are empty.

Imports: numpy, dcsim.policies, dcsim.model (power), dcsim.engine.extensions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from dcsim.engine import assumptions, cloudsim_migrations
from dcsim.engine.extensions import EXTENSIONS
from dcsim.engine.moves import links_intact, reachable
from dcsim.engine.receivers import Receivers
from dcsim.kernels.capacity import EPS
from dcsim.model import memfit
from dcsim.model.cluster import GuestStatus
from dcsim.model.power import power_rows
from dcsim.policies.consolidation import (
    build_policy,
    overloaded_hosts,
    parse_policy,
    plan_migrations,
)
from dcsim.policies.overload import HostLoad, StaticThreshold, make_detector
from dcsim.policies.placement import MemoryAwareBFD, sharing_worth
from dcsim.policies.selection import GuestView, make_selector

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from dcsim.config.consolidation import ConsolidationSpec
    from dcsim.engine.simulation import ProcessGenerator, Simulation
    from dcsim.metrics.result import Result

F64 = NDArray[np.float64]
I64 = NDArray[np.intp]


class Consolidation:
    """The optimisation step above, run as a tick hook of the simulation."""

    def __init__(self, sim: Simulation, spec: ConsolidationSpec) -> None:
        self.sim = sim
        self.spec = spec
        ps = parse_policy(spec.policy)
        self.detector = make_detector(ps.detector, ps.parameter)
        self.selector = make_selector(ps.selection)
        self.limit = (float(self.detector.threshold) if isinstance(self.detector, StaticThreshold)
                      else 1.0)
        self._ws: F64 | None = None  # memory pressure: memfit.floor per host, kept up to date
        # the run's placement is pabfd_mem: targets scored with its page-sharing affinity too
        self.sharing_weight = (float(getattr(sim.policy.params, "memory_weight", 0.0))
                               if isinstance(sim.policy, MemoryAwareBFD) else 0.0)
        # CloudSim's planner draws from its own named stream (the one the CloudSim engine
        # retired at e20ea4d used), so its random selections are the recorded ones
        self.rng = sim.streams["cloudsim.selection" if sim.assume.planner == "cloudsim"
                               else "consolidation.selection"]
        depth = getattr(self.detector, "history_depth", None) or 0
        k = max(spec.history, int(depth))
        n_h, n_g = sim.state.n_hosts, sim.state.n_guests_total
        self.hist = np.zeros((n_h, k))
        self.hlen = np.zeros(n_h, dtype=np.int64)
        self.ghist = np.zeros((n_g, k))
        self.glen = np.zeros(n_g, dtype=np.int64)
        self.graw = np.zeros((n_g, k))  # raw MIPS each guest consumed, newest first
        self.hadd = np.zeros((n_h, k))  # history added to each host by this step's choices
        self.static = isinstance(self.detector, StaticThreshold)
        self.steps = 0
        self.planned = 0
        self.pruned = 0  # underload trials skipped by the memory bound (not in the summary)
        self.hopeless = 0  # underload trials skipped: a guest fits no receiver (Receivers)
        self.one_receiver = 0  # underload trials skipped: _one_receiver_fails
        self.cs_detector, self.cs_selector = build_policy(ps)  # CloudSim planner's own objects
        self._mig_bps: F64 | None = None
        self._live: NDArray[np.bool_] | None = None
        self._max_gram_now = np.zeros(0)  # of the step under way (members do not change in it)

    #: False: every underload trial runs (the reference for the memory bound in tests)
    prune: bool = True
    #: False: underload trials scan all hosts per guest and run even when a guest fits no
    #: receiver (the reference for :class:`~dcsim.engine.receivers.Receivers` in tests)
    fast: bool = True

    def start(self, sim: Simulation) -> None:
        sim.tick_hooks.append(self.step)

    def finish(self, sim: Simulation, result: Result) -> None:
        result.summary["consolidation_steps"] = self.steps
        result.summary["migrations_planned"] = self.planned

    # ------------------------------------------------------------------------------------------
    def _push(self, util: F64) -> None:
        sim, st = self.sim, self.sim.state
        active = st.awake & (st.n_guests > 0)
        self.hist[active, 1:] = self.hist[active, :-1]
        self.hist[active, 0] = util[active]
        self.hlen[active] = np.minimum(self.hlen[active] + 1, self.hist.shape[1])
        idle = ~active  # an empty host's history ends: its next guests start a new one
        self.hist[idle] = 0.0
        self.hlen[idle] = 0
        placed = st.host_of >= 0
        self.ghist[placed, 1:] = self.ghist[placed, :-1]
        self.ghist[placed, 0] = sim.u_last[placed]
        self.glen[placed] = np.minimum(self.glen[placed] + 1, self.ghist.shape[1])
        self.graw[placed, 1:] = self.graw[placed, :-1]
        self.graw[placed, 0] = sim.raw[placed]

    def migration_bps(self) -> F64:
        """(n_hosts,) bandwidth a migration from each host is estimated to get, bit/s.

        ``min(host access link, migration.bandwidth_cap)``: the host's access link is its NIC
        without a ``network:`` section and ``min(NIC, topology link)`` with one
        (``Topology.host_access_bps``). Contention with other flows is not foreseen.
        """
        if self._mig_bps is None:
            sim = self.sim
            if sim.cfg.network is None:  # the implicit star of NICs: no need to build it
                bps = sim.state.bandwidth.copy()
            else:
                bps = np.asarray(sim.topology.host_access_bps(), dtype=np.float64)
            cap = self.spec.migration.bandwidth_cap
            if cap is not None:
                bps = np.minimum(bps, float(cap))
            self._mig_bps = bps
        return self._mig_bps

    def _max_gram(self) -> F64:
        """(n_hosts,) RAM of the largest guest on each host (bytes; 0 when empty), from one
        pass over the placed guests (a guest belongs to its source until a migration ends)."""
        st = self.sim.state
        placed = np.flatnonzero(st.host_of >= 0)
        out = np.zeros(st.n_hosts)
        np.maximum.at(out, st.host_of[placed], st.gram[placed])
        return out

    def _load(self, hosts: I64, util: F64, max_gram: F64 | None = None) -> HostLoad:
        """Load of ``hosts``; the migration time estimate is one full copy of the largest
        guest's RAM at ``migration_bps`` (no dirty-page rounds, no contention).
        ``max_gram``: :meth:`_max_gram`, if already computed."""
        if max_gram is None:
            max_gram = self._max_gram()
        mig_s = max_gram[hosts] * 8.0 / self.migration_bps()[hosts]
        return HostLoad(util, self.hist[hosts], self.hlen[hosts], mig_s, self.sim.interval)

    def _over_without(self, h: int, util: float, hist: F64, left: list[int]) -> bool:
        """Whether host ``h`` is still overloaded holding only guests ``left`` (step 2)."""
        st = self.sim.state
        bps = float(self.migration_bps()[h])
        mig_s = float(np.max(st.gram[left])) * 8.0 / bps if left else 0.0
        load = HostLoad(np.asarray([util]), hist[None, :], self.hlen[h:h + 1],
                        np.asarray([mig_s]), self.sim.interval)
        return bool(np.asarray(self.detector.overloaded(load))[0])

    def _over_with(self, sb: Any, g: int, idx: I64, after: F64) -> NDArray[np.bool_]:
        """Which hosts ``idx`` the detector finds overloaded with guest ``g`` added."""
        if self.static:
            return np.asarray(after > self.limit)
        st = self.sim.state
        cap = st.cap_mips[idx]
        hist = self.hist[idx] + self.hadd[idx] + self.graw[g][None, :] / cap[:, None]
        hlen = np.maximum(self.hlen[idx], self.glen[g])
        gbits = float(st.gram[g]) * 8.0
        mig_s = np.maximum(gbits, self._max_gram_now[idx] * 8.0) / self.migration_bps()[idx]
        load = HostLoad(after, hist, hlen, mig_s, self.sim.interval)
        return np.asarray(self.detector.overloaded(load), dtype=bool)

    def step(self, now: float) -> ProcessGenerator | None:
        """Plan and start this interval's migrations (or, with an outside agent attached,
        return the generator that asks it for them: ``dcsim.engine.decisions``)."""
        sim = self.sim
        if sim.cs is not None and not sim.cs.started:
            return None  # assumptions.first_decision: not before the first datacenter update
        self.prepare()
        ext = sim.external
        if ext is not None and ext.consolidation:
            return ext.consolidate(self)
        self.start_moves(self.plan())
        return None

    def prepare(self) -> None:
        """Count the step and push this interval's utilisations into the histories."""
        self.steps += 1
        if self.sim.assume.planner != "cloudsim":
            self._push(self.sim.util)

    def _requested(self) -> F64:
        """(n_hosts,) raw MIPS the guests on each host want now, plus migrations' CPU."""
        sim, st = self.sim, self.sim.state
        placed = np.flatnonzero(st.host_of >= 0)
        req: F64 = np.bincount(st.host_of[placed], weights=sim.raw_want[placed],
                               minlength=st.n_hosts) + sim.extra_raw
        return req

    def overloaded(self) -> NDArray[np.bool_]:
        """(n_hosts,) hosts the configured detector finds overloaded now (after ``prepare``;
        what the planner's step (1) computes)."""
        sim, st = self.sim, self.sim.state
        if sim.assume.planner == "cloudsim":
            return overloaded_hosts(_snapshot(sim), self.cs_detector)
        util = self._requested() / st.cap_mips
        hosts = np.flatnonzero(st.awake & (st.n_guests > 0))
        return self._detect(util, hosts, self._max_gram())

    def _detect(self, util: F64, hosts: I64, max_gram: F64) -> NDArray[np.bool_]:
        """Step (1): (n_hosts,) the detector's verdict on the active ``hosts`` at utilisations
        ``util`` (of all hosts); ``max_gram``: :meth:`_max_gram`."""
        over = np.zeros(self.sim.state.n_hosts, dtype=bool)
        if hosts.shape[0]:
            over[hosts] = np.asarray(self.detector.overloaded(self._load(hosts, util[hosts],
                                                                         max_gram)))
        return over

    def plan(self) -> list[tuple[int, int]]:
        """This step's moves ``(guest, host)`` in start order (after ``prepare``)."""
        sim, st = self.sim, self.sim.state
        if sim.assume.planner == "cloudsim":
            return plan_migrations(_snapshot(sim), self.cs_detector, self.cs_selector, self.rng)
        req = self._requested()
        util = req / st.cap_mips
        active = st.awake & (st.n_guests > 0)
        hosts = np.flatnonzero(active)
        if not hosts.shape[0]:
            return []
        max_gram = self._max_gram_now = self._max_gram()
        over = self._detect(util, hosts, max_gram)
        # memory pressure: a host that swaps is overloaded until it sheds the swapped bytes;
        # targets must hold the guests without swapping (self._ws: dcsim.model.memfit.floor)
        mem = sim.memory if self.spec.memory_pressure else None
        self._ws = None
        excess = np.zeros(0)
        if mem is not None:
            excess = mem.levels[5].copy()
            over |= active & (excess > 0)
            self._ws = memfit.floor(st)
        moving = st.mig_dst >= 0
        busy_host = np.zeros(st.n_hosts, dtype=bool)
        busy_host[st.host_of[moving]] = True
        busy_host[st.mig_dst[moving]] = True
        movable = (st.status == GuestStatus.RUNNING) & ~moving
        if self._live is None:  # per virtualization profile: can it migrate live?
            self._live = np.asarray([p.live_migration for p in sim.profiles], dtype=bool)
        prof_live = self._live[st.profile]
        need_live = (self.spec.migration.model in ("precopy", "postcopy")
                     and sim.assume.migration == "configured")
        work = req.copy()
        sb = st.sandbox()
        self.hadd[:] = 0.0

        # (2) selection on each overloaded host, ascending id
        to_move: list[int] = []
        for h in np.flatnonzero(over & ~busy_host).tolist():
            if need_live and not prof_live[h]:
                continue
            hist = self.hist[h].copy()
            left = list(st.members[h])
            shed = 0.0  # physical bytes the guests chosen so far free (memory pressure)
            while True:
                cand = [g for g in st.members[h] if movable[g]]
                if not cand:
                    break
                ci = np.asarray(cand, dtype=np.intp)
                view = GuestView(st.gram[ci] / 2**20, st.vcpus[ci] * st.mips[ci],
                                 sim.raw_want[ci], self.ghist[ci], self.glen[ci])
                k = self.selector.select(view, self.rng)
                if k is None:
                    break
                g = cand[k]
                to_move.append(g)
                movable[g] = False
                work[h] -= sim.raw_want[g]
                hist = np.maximum(hist - self.graw[g] / st.cap_mips[h], 0.0)
                left.remove(g)
                if mem is not None and excess[h] > 0:
                    shed += float((1.0 - mem.share[g]) * (st.gram[g] - mem.beta[g]))
                    if shed < excess[h]:
                        continue
                if not self._over_without(h, work[h] / st.cap_mips[h], hist, left):
                    break

        # (3) place them, by decreasing demand, away from overloaded hosts
        moves: list[tuple[int, int]] = []
        targets = np.zeros(st.n_hosts, dtype=bool)
        allowed = ~over
        for g in sorted(to_move, key=lambda x: -float(sim.raw_want[x])):
            dst = self._pabfd(sb, g, allowed, work)
            if dst >= 0:
                moves.append((g, dst))
                targets[dst] = True

        # (4) underload: evacuate the least-loaded hosts whose guests all fit elsewhere
        if self.spec.underload:
            sources = np.zeros(st.n_hosts, dtype=bool)
            load = work / st.cap_mips  # (the trials below change work, not this)
            # Upper bounds of what any target can still take: reservations only shrink free
            # room during the step, so a guest above them cannot move and its host is skipped
            # without a search (most underload trials fail on memory).
            receivers = st.awake & (sb.n_guests > 0) & ~over
            ram_room = float(np.max(np.where(receivers, sb.ram_limit - sb.used_ram - sb.mem_charge,
                                             -np.inf), initial=-np.inf))
            cpu_room = float(np.max(np.where(receivers, self.limit * st.cap_mips - work, -np.inf),
                                    initial=-np.inf))
            # The per-host conditions that do not change during this loop, for all hosts at once
            # (members are all movable; the largest guest's RAM and demand within the bounds).
            on = st.host_of >= 0
            n_mem = np.bincount(st.host_of[on], minlength=st.n_hosts)
            n_mov = np.bincount(st.host_of[on & movable], minlength=st.n_hosts)
            max_want = np.zeros(st.n_hosts)
            np.maximum.at(max_want, st.host_of[on], sim.raw_want[on])
            ok = (active & ~over & ~busy_host & (n_mem > 0) & (n_mov == n_mem)
                  & ~(max_gram > ram_room) & ~(max_want > cpu_room))
            if need_live:
                ok &= prof_live
            bound = _RamBound(sb)
            min_gram = np.full(st.n_hosts, np.inf)  # the smallest guest RAM on each host
            np.minimum.at(min_gram, st.host_of[on], sb.gram[on])
            # receivers per guest shape, kept up to date (not across failed links: reachability
            # depends on the source)
            recv = (Receivers(sb, receivers & sb.awake)
                    if self.fast and links_intact(sim) else None)
            # the sources by increasing load, ties by id: a stable sort of the candidates alone
            # (in id order) is the stable sort of every host with the others left out
            cands = np.flatnonzero(ok)
            sources_in_order = cands[np.argsort(load[cands], kind="stable")]
            # hopeless before any trial stays hopeless (receivers only shrink): found for all
            # hosts at once, each still skipped at its turn (the same counts)
            hopeless0 = (recv.hopeless_hosts(sources_in_order) if recv is not None
                         else np.zeros(st.n_hosts, dtype=bool))
            allow = np.zeros(0, dtype=bool)
            for h in sources_in_order.tolist():
                if targets[h]:
                    continue
                if self.prune and not bound.may_fit(h, float(min_gram[h]), int(n_mem[h]),
                                                    lambda: st.awake & ~over & ~sources):
                    self.pruned += 1  # would fail on memory: skipping it is exact (_RamBound)
                    continue
                if hopeless0[h]:
                    self.hopeless += 1  # would fail: skipping it is exact (Receivers)
                    continue
                guests = list(st.members[h])
                if recv is not None and recv.hopeless(h, guests):
                    self.hopeless += 1  # became hopeless during this step's trials
                    continue
                if recv is not None and self._one_receiver_fails(sb, h, guests, work, recv):
                    self.one_receiver += 1  # would fail: skipping it is exact (see there)
                    continue
                if recv is None:
                    allow = st.awake & (sb.n_guests > 0) & ~over & ~sources
                    allow[h] = False
                trial: list[tuple[int, int]] = []
                saved = _save(sb, work, h, self.hadd)
                ws_before = None if self._ws is None else self._ws.copy()
                for g in sorted(guests, key=lambda x: -float(sim.raw_want[x])):
                    dst = self._pabfd(sb, g, allow, work, wake=False, saved=saved, recv=recv)
                    if dst < 0:
                        break
                    trial.append((g, dst))
                if len(trial) == len(guests):
                    moves += trial
                    sources[h] = True
                    bound.committed([h, *(d for _, d in trial)],
                                    lambda: st.awake & ~over & ~sources)
                    if recv is not None:
                        recv.commit(h)
                    for _, d in trial:
                        targets[d] = True
                else:  # undo exactly (restoring values, not subtracting: no rounding drift)
                    _restore(sb, work, saved, self.hadd, [g for g, _ in trial])
                    if ws_before is not None:
                        self._ws = ws_before
                    if recv is not None:
                        recv.discard()

        return moves

    def start_moves(self, moves: list[tuple[int, int]]) -> None:
        """Start the moves, in order, with the migration model the switches select (a move
        that cannot start now is refused: ``moves.migrate``,
        ``cloudsim_migrations.start_migrations``).
        """
        if not moves:
            return
        if self.spec.max_migrations_per_step is not None:
            moves = moves[: self.spec.max_migrations_per_step]
        self.planned += len(moves)
        if self.sim.assume.migration == "cloudsim":
            cloudsim_migrations.start_migrations(self.sim, moves)
            return
        for g, dst in moves:
            self.sim.migrate(g, dst, self.spec.migration)

    def _one_receiver_fails(self, sb: Any, h: int, guests: list[int], work: F64,
                            recv: Receivers) -> bool:
        """Whether source ``h``'s guests all fit on one and the same receiver ``r`` only (each
        on its own, before the trial) and cannot all be reserved there one after another: the
        trial would fail, so skipping it changes nothing.

        Candidates only shrink during a trial (:class:`Receivers`), so each guest can go to
        ``r`` or nowhere; the trial places them in decreasing demand, each reserving ``r``
        (``begin_migration``) after ``fits`` said yes. This replays exactly those
        reservations, without the power and overload computations of :meth:`_pabfd`, and
        undoes them as a failed trial does. (At PlanetLab ×20 ~10,000 trials a day fail so,
        each after a full placement of its first guest.)
        """
        r = -1
        for g in guests:
            x = recv.only(g, h)
            if x < 0 or (r >= 0 and x != r):
                return False
            r = x
        saved = _save(sb, work, h, self.hadd)
        saved.update(_save(sb, work, r, self.hadd))
        done: list[int] = []
        fails = False
        for g in sorted(guests, key=lambda x: -float(self.sim.raw_want[x])):
            if not sb.fits(g, r):
                fails = True
                break
            sb.begin_migration(g, r, fits_checked=True)
            done.append(g)
        _restore(sb, work, saved, self.hadd, done)
        return fails

    def _pabfd(self, sb: Any, g: int, allowed: NDArray[np.bool_], work: F64,
               wake: bool = True, saved: Saved | None = None,
               recv: Receivers | None = None) -> int:
        """Feasible host with the least power increase for guest ``g``; -1 if none.

        Reserves the choice in the sandbox ``sb`` and moves the guest's load in ``work``; with
        ``saved``, first records the chosen host's values so that a trial can be undone. With
        ``recv`` (an underload trial, ``wake`` False), the candidates are its receivers that
        ``g`` fits on (the same ids as ``allowed`` would give) and ``allowed`` is not read.
        """
        sim = self.sim
        src = int(sb.host_of[g])
        if recv is not None:
            idx = recv.candidates(g, src)
        else:
            ok = allowed & reachable(sim, src)  # not across failed links
            ok[src] = False
            if not wake:
                ok &= sb.awake
            idx = np.flatnonzero(ok)
            idx = idx[sb.feasible(g, at=idx)]  # the same test as over all hosts, element-wise
        if not idx.shape[0]:
            return -1
        cap = sb.cap_mips[idx]
        after = (work[idx] + sim.raw_want[g]) / cap
        fit = after <= self.limit
        if self._ws is not None:  # memory pressure: the guests must fit without swapping
            fit &= (self._ws[idx] + memfit.need(sb, g, idx, landed=False)
                    <= sb.ram[idx] * (1 + EPS))
        idx, cap, after = idx[fit], cap[fit], after[fit]
        if not idx.shape[0]:
            return -1
        pt = sb.power_table
        before = np.where(sb.awake[idx], power_rows(pt, idx, work[idx] / cap),
                          sb.sleep_power[idx])
        delta = power_rows(pt, idx, np.minimum(after, 1.0)) - before
        if self.sharing_weight > 0:
            delta = delta - self.sharing_weight * sharing_worth(sb, g, idx)
        dst = -1
        for part in _best_first(delta):  # least power increase first, ties: lowest id
            over = self._over_with(sb, g, idx[part], after[part])
            if not over.all():
                dst = int(idx[part[int(np.argmin(over))]])
                break
        if dst < 0:
            return -1
        if saved is not None and dst not in saved:
            saved.update(_save(sb, work, dst, self.hadd))
        sb.begin_migration(g, dst)
        if recv is not None:
            recv.reserved(dst)
        work[dst] += sim.raw_want[g]
        work[src] -= sim.raw_want[g]
        self.hadd[dst] += self.graw[g] / sb.cap_mips[dst]
        if self._ws is not None:
            self._ws[dst] += float(memfit.need(sb, g, np.asarray([dst]), landed=False)[0])
        return dst


def _snapshot(sim: Simulation) -> Any:
    """CloudSim's view of the state (``assumptions.snapshot``) with the member lists chained
    as the engine keeps them (``CloudSimState.list_order``: the lists host by host, the order
    the snapshot's sums use) and their lengths (guests per host of those placements)."""
    snap = assumptions.snapshot(sim)
    st, cs = sim.state, sim.cs
    if cs is not None:
        flat = cs.list_order(st)
        snap.host_vms_flat = flat
        snap.host_vms_count = np.bincount(st.host_of[flat], minlength=st.n_hosts)
    return snap


class _RamBound:
    """A necessary memory condition for an underload trial to succeed (so skipping a trial
    that fails it is exact: a failed trial is undone without a trace).

    A receiver ``h`` with free RAM ``F`` accepts guests one by one only while each needs at most
    ``F (1 + EPS)`` of what is still free (the capacity kernel's tolerance), so the needs it
    accepts sum to at most ``F (1 + EPS)``, and it takes at most :func:`ram_slots` guests of
    need at least ``m = smallest guest's RAM + h's per-guest footprint``. If the receivers'
    slots (source excluded) are fewer than the source's guests, not all can move. Receivers
    are a superset of those a trial may use (awake, holding guests, not overloaded, not an
    evacuated source). Only while placements reserve memory (``hold``).
    """

    def __init__(self, sb: Any) -> None:
        self.sb = sb
        self.slots: dict[float, tuple[F64, float]] = {}  # smallest RAM -> (slots, their sum)

    def clear(self) -> None:
        """Forget the slots (free memory or the receivers changed)."""
        self.slots.clear()

    def committed(self, hosts: list[int], receivers: Callable[[], NDArray[np.bool_]]) -> None:
        """A trial succeeded: only ``hosts`` (its destinations and its source) changed free
        memory or receiver status. Their slots are recomputed with the same elementwise
        arithmetic and the totals adjusted (sums of whole numbers: exact); a cache holding an
        unbounded slot count is dropped instead."""
        if not self.slots:
            return
        sb = self.sb
        take = receivers() & (sb.n_guests > 0)
        at = np.unique(np.asarray(hosts, dtype=np.intp))
        free = sb.ram_limit[at] - sb.used_ram[at]
        for m in list(self.slots):
            k, total = self.slots[m]
            new = np.where(take[at], ram_slots(free, sb.ram_limit[at], m + sb.mem_charge[at]),
                           0.0)
            if not (np.isfinite(total) and np.isfinite(new).all()):
                del self.slots[m]
                continue
            total += float(new.sum()) - float(k[at].sum())
            k[at] = new
            self.slots[m] = (k, total)

    def may_fit(self, h: int, m: float, n: int,
                receivers: Callable[[], NDArray[np.bool_]]) -> bool:
        """Whether source ``h``'s ``n`` guests, the smallest of ``m`` bytes of RAM, may all
        move. ``receivers()``: the receivers' mask, asked for only when the slots are
        computed."""
        sb = self.sb
        if not sb.hold or not n:
            return True
        hit = self.slots.get(m)
        if hit is None:
            take = receivers() & (sb.n_guests > 0)
            k = np.where(take, ram_slots(sb.ram_limit - sb.used_ram, sb.ram_limit,
                                         m + sb.mem_charge),
                         0.0)
            hit = self.slots[m] = (k, float(k.sum()))
        k, total = hit
        return total - float(k[h]) >= n


def ram_slots(free: F64, ram: F64, need: F64) -> F64:
    """(n,) upper bound of how many guests, each needing at least ``need`` bytes (> 0), hosts
    with ``free`` bytes of ``ram`` can still accept (``inf`` where ``need`` is 0).

    Accepting guests of needs ``n_1..n_k`` one by one requires ``n_i <= (free - n_1 - ... -
    n_(i-1)) (1 + EPS)``, hence ``n_1 + ... + n_k <= free (1 + EPS)`` and ``k <= free (1 + EPS)
    / need``. ``EPS * ram`` is added for the rounding of the sums in the real bookkeeping
    (ulps of ``ram``, far below it), so the bound is never below the true count.
    """
    room = free * (1 + EPS) + EPS * ram
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(need > 0, np.floor(room / np.where(need > 0, need, 1.0)), np.inf)
    return np.asarray(np.maximum(k, 0.0), dtype=np.float64)


_HOST_FIELDS = ("used_ram", "used_storage", "reserved_mips", "n_guests", "vcpus_placed")
#: Candidate hosts whose after-placement overload check is evaluated at once, best first.
_CHUNK = 16

Saved = dict[int, tuple[tuple[float, ...], F64]]


def _best_first(delta: F64) -> Iterator[NDArray[np.intp]]:
    """Positions of ``delta`` in the order of ``np.argsort(delta, kind="stable")`` (ascending,
    ties by position, NaN last), in chunks of at most ``_CHUNK``.

    The caller stops at the first host that passes, nearly always the first in this order, so
    the positions holding the least value (by position: where the full order starts) come
    first, found in O(n), and the full sort is made only if the caller reads past them. The
    chunks may be cut at other places than the full order's: the caller's answer is the first
    passing position, whatever the chunks.
    """
    n = delta.shape[0]
    done = 0
    if n:
        head = np.flatnonzero(delta <= np.min(delta))  # empty if delta holds a NaN
        for lo in range(0, head.shape[0], _CHUNK):
            yield head[lo:lo + _CHUNK]
        done = head.shape[0]
    if done < n:
        order = np.argsort(delta, kind="stable")
        for lo in range(done, n, _CHUNK):
            yield order[lo:lo + _CHUNK]


def _save(sb: Any, work: F64, h: int, hadd: F64) -> Saved:
    """Host ``h``'s reservation values, work and added history, to restore after a trial."""
    return {h: ((*(float(getattr(sb, f)[h]) for f in _HOST_FIELDS), float(work[h])),
                hadd[h].copy())}


def _restore(sb: Any, work: F64, saved: Saved, hadd: F64, guests: list[int]) -> None:
    """Undo a trial: ``guests``' destination reservations are dropped and the hosts of
    ``saved`` (:func:`_save`) get their values back (restored, not subtracted: no rounding
    drift)."""
    for g in guests:
        sb.mig_dst[g] = -1
        sb.dst_ram[g] = sb.dst_disk[g] = 0.0
    for h, (values, added) in saved.items():
        for f, v in zip(_HOST_FIELDS, values[:-1], strict=True):
            getattr(sb, f)[h] = v
        work[h] = values[-1]
        hadd[h] = added


def _factory(sim: Simulation) -> Consolidation | None:
    spec = sim.cfg.consolidation
    return Consolidation(sim, spec) if spec is not None else None


EXTENSIONS.register("consolidation")(_factory)
