"""Dynamic consolidation: PABFD placement, underload evacuation and one optimisation step.

Pure functions over arrays (no simpy, no mutation of the caller's state), following Beloglazov &
Buyya (CCPE 2012) as implemented in CloudSim 3.0.3 (``reference/cloudsim-planetlab``, section 8):

* :func:`plan_migrations` — one optimisation step: (1) hosts the detector calls overloaded;
  (2) the selector removes guests from each of them until it is no longer overloaded; (3) these
  guests, by decreasing CPU demand, are placed with PABFD away from overloaded hosts; (4) underload
  consolidation: repeatedly take the least-utilised remaining host (stale utilisation in (0, 1))
  and try to place all of its guests elsewhere (not on overloaded, switched-off or earlier source
  hosts); if any guest fits nowhere, that host's trial placements are undone. Returns the
  ``(guest, target)`` moves, step-(3) moves first. CloudSim's quirks are kept: the power before
  placement is the *stale* one of the last update, targets of step (3) may be chosen as sources in
  step (4) (so a guest can appear in two moves), and a host with zero load is never checked for
  overload.
* :class:`~dcsim.policies.pabfd.PowerAwareBestFit` (in :mod:`dcsim.policies.pabfd`, re-exported
  with ``specpower_w``, ``_Work`` and ``PLACEMENT_MIGRATION``) — PABFD's per-guest step: among
  suitable hosts (per-core capacity and free MIPS), skip non-empty hosts that would be overloaded
  after receiving the guest, pick the least power increase (lowest id on ties).
* :func:`initial_placement` — the t = 0 placement of the CloudSim experiments (``pabfd``,
  ``first_fit`` for DVFS, ``most_free_pes`` for NPA), where RAM and bandwidth still count.
* :func:`parse_policy` / :func:`build_policy` — re-exported from :mod:`dcsim.policies.names`.

Complexity: one PABFD placement is one compiled pass (:mod:`dcsim.policies.pabfd_kernel`) over
the *active* hosts of a :class:`~dcsim.policies.pabfd.CandidatePool` (hosts with nothing
allocated are interchangeable within their class, so one per class is evaluated); a host is
trial-tested only when it would beat the best so far, in the pass for the static threshold and LR,
lazily in Python for the other detectors (IQR, MAD). Imports numpy, dcsim.kernels.jit,
dcsim.policies.{overload, pabfd, selection, names}; dcsim.policies.planner_kernel (numba) at
the first step.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

# re-exported: the policy-name helpers live in dcsim.policies.names
from dcsim.kernels.jit import load
from dcsim.policies.names import PolicySpec as PolicySpec
from dcsim.policies.names import build_policy as build_policy
from dcsim.policies.names import parse_policy as parse_policy
from dcsim.policies.overload import HostLoad
from dcsim.policies.pabfd import PLACEMENT_MIGRATION as PLACEMENT_MIGRATION
from dcsim.policies.pabfd import CandidatePool, PowerAwareBestFit, _Work
from dcsim.policies.pabfd import host_classes as host_classes
from dcsim.policies.pabfd import specpower_w as specpower_w
from dcsim.policies.selection import GuestView, MinimumMigrationTime, MinimumUtilization

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]
_NO_HOSTS = np.zeros(0, dtype=np.int64)

#: Migration bandwidth of the CloudSim experiments: half of a 1 Gbit/s link, in MB/s.
CLOUDSIM_MIGRATION_MBPS = 1_000_000 / (2 * 8000)


# --------------------------------------------------------------------------- snapshot
@dataclass(slots=True)
class ClusterSnapshot:
    """State of hosts and guests at an optimisation instant (the planner only reads it).

    Attributes
    ----------
    host_total_mips, host_pe_mips
        (H,) host capacity and per-core capacity, MIPS.
    host_power_table
        (H, 11) SPECpower table, W.
    host_util
        (H,) utilisation fraction recorded at the last update (stale; CloudSim clamps (1, 1.01)
        to 1). Drives the "power before" of PABFD, switched-off hosts (0) and underload order.
    host_alloc_mips
        (H,) sum of MIPS currently allocated to the host's guests (``U`` of PABFD).
    host_avail_mips
        (H,) MIPS the host's CPU scheduler has not handed out (0 when oversubscribed).
    host_vms
        Guest ids per host, in the host's list order.
    vm_requested_mips, vm_mips, vm_ram_mb
        (V,) current demand, capacity (MIPS) and configured RAM (MB).
    vm_history, vm_history_len
        (V, K) past utilisation fractions, newest first, and their valid lengths.
    vm_in_migration
        (V,) guests in migration (never candidates). Snapshots are taken when no migration is
        in flight, as in CloudSim where migrations end within one interval.
    migration_mbps
        Bandwidth used for migration-time estimates, MB/s.
    interval_s
        Scheduling interval, s.
    host_class
        (H,) optional ids, equal iff hosts have equal capacity, per-core capacity and power
        table (:func:`~dcsim.policies.pabfd.host_classes`; derived when None). Lets PABFD treat
        interchangeable hosts as one candidate.
    host_vms_flat, host_vms_count
        Optional, from a caller that keeps them (both or neither): ``host_vms`` chained host by
        host (each host's guests in list order) and the lists' lengths; they must agree with
        ``host_vms`` (the planner then does not build them from the lists).
    """

    host_total_mips: F64
    host_pe_mips: F64
    host_power_table: F64
    host_util: F64
    host_alloc_mips: F64
    host_avail_mips: F64
    host_vms: list[list[int]]
    vm_requested_mips: F64
    vm_mips: F64
    vm_ram_mb: F64
    vm_history: F64
    vm_history_len: I64
    vm_in_migration: B
    migration_mbps: float = CLOUDSIM_MIGRATION_MBPS
    interval_s: float = 300.0
    host_class: I64 | None = None
    host_vms_flat: NDArray[np.intp] | None = None
    host_vms_count: NDArray[np.intp] | None = None


@dataclass(slots=True)
class PlanStats:
    """Counters of one optimisation step (for diagnostics)."""

    overloaded_hosts: int = 0
    selected: int = 0
    placed_from_overloaded: int = 0
    underload_sources: int = 0
    evacuated_hosts: int = 0
    find_host_calls: int = 0


def _place_sequence(placer: PowerAwareBestFit, w: _Work, vms: list[int], pool: CandidatePool,
                    stop_on_fail: bool) -> list[tuple[int, int]]:
    """PABFD for ``vms`` in order over the pool's hosts, with trial placements; unplaced guests
    are skipped, or end the sequence with a ``(guest, -1)`` entry when ``stop_on_fail``."""
    return placer.place_sequence(w, vms, pool, stop_on_fail)  # compiled, placed as trials


def _sorted_by_demand(vms: list[int], r: F64, r_list: list[float] | None = None) -> list[int]:
    """Guests by decreasing demand; stable (CloudSim's ``Collections.sort``). ``r_list``: the
    demands as Python floats, to sort without numpy when none is NaN (the same order: both
    sorts are stable and compare ``-r`` with ``<``)."""
    if len(vms) < 2:
        return list(vms)
    if r_list is not None and all(r_list[v] == r_list[v] for v in vms):
        return sorted(vms, key=lambda v: -r_list[v])
    arr = np.asarray(vms, dtype=np.intp)
    return [int(x) for x in arr[np.argsort(-r[arr], kind="stable")]]


def _sorted_compiled(w: _Work, vms: list[int]) -> list[int]:
    """:func:`_sorted_by_demand` by :func:`dcsim.policies.planner_kernel.sort_by_demand`."""
    n = len(vms)
    if n < 2:
        return list(vms)
    buf = np.empty(n, dtype=np.int64)
    _planner_kernel().sort_by_demand(np.array(vms, dtype=np.int64), n, w.rq, buf,
                                     np.empty(n, dtype=np.int64))
    out: list[int] = buf.tolist()
    return out


# --------------------------------------------------------------------------- one step
def _detect(snap: ClusterSnapshot, detector: Any,
            compiled: bool = False) -> tuple[Any, Any, NDArray[np.bool_]]:
    """Step (1): the placer, the step's working state and the overloaded hosts (``compiled``:
    the state's sums built by the compiled kernel, which the placements need anyway)."""
    placer = PowerAwareBestFit(detector)
    w = _Work(snap, need_hist=placer.depth != 0, detector=detector, compiled=compiled,
              placer=placer if compiled else None)
    if w.over0 is not None:  # decided by the compiled start (the same decisions)
        return placer, w, w.over0
    return placer, w, np.asarray(detector.overloaded(w.load_all()), dtype=bool)


def overloaded_hosts(snap: ClusterSnapshot, detector: Any) -> NDArray[np.bool_]:
    """(n_hosts,) hosts ``detector`` finds overloaded in ``snap`` (as :func:`plan_migrations`
    does first)."""
    return _detect(snap, detector)[2]


def plan_migrations(
    snap: ClusterSnapshot,
    detector: Any,
    selector: Any,
    rng: np.random.Generator,
    stats: PlanStats | None = None,
) -> list[tuple[int, int]]:
    """Moves ``(guest, target host)`` of one optimisation step (see the module docstring).

    Parameters
    ----------
    snap
        State at the optimisation instant (not modified).
    detector, selector
        An overload detector (:mod:`dcsim.policies.overload`) and a guest selector
        (:mod:`dcsim.policies.selection`).
    rng
        Generator for random selection.
    stats
        Optional counters, filled in place.

    Returns
    -------
    list of (guest id, host id)
        In the order the migrations start; a guest may appear twice (CloudSim quirk).
    """
    return _plan(snap, detector, selector, rng, stats, True)


def _plan(snap: ClusterSnapshot, detector: Any, selector: Any, rng: np.random.Generator,
          stats: PlanStats | None, compiled_loop: bool) -> list[tuple[int, int]]:
    """:func:`plan_migrations`; ``compiled_loop``: step (4) as one compiled loop
    (:func:`_underload_compiled`), else in Python (:func:`_underload_plain`; the same moves)."""
    st = stats if stats is not None else PlanStats()
    placer, w, over = _detect(snap, detector, compiled=True)
    w.use_detector(placer)
    in_mig = snap.vm_in_migration
    any_mig = bool(in_mig.any())
    st.overloaded_hosts = int(over.sum())

    # (2) selection loop on each overloaded host, ascending id.
    sel_mode = _SEL_MODES.get(type(selector)) if compiled_loop else None
    if sel_mode is not None:
        to_move = _select_compiled(w, detector, sel_mode, over, in_mig, any_mig)
    else:
        to_move = _select_plain(w, detector, selector, rng, over, in_mig, any_mig)
    st.selected = len(to_move)

    # (3) PABFD for the selected guests, away from overloaded hosts.
    st.find_host_calls += len(to_move)
    moves: list[tuple[int, int]]
    if compiled_loop:  # (the guest lists are read no more: step (4) reads arrays)
        moves = placer.place_sequence(w, _sorted_compiled(w, to_move),
                                      CandidatePool(w, ~over, compiled=True), False, lists=False)
    else:
        moves = _place_sequence(placer, w, _sorted_by_demand(to_move, w.r, w.r_list),
                                CandidatePool(w, ~over), False)
    st.placed_from_overloaded = len(moves)

    # (4) underload consolidation. Sources are taken by increasing stale utilisation; the order
    # is fixed within a step, so one pass over the sorted hosts finds each next source.
    util = snap.host_util
    off = util == 0.0
    ex = over | off  # neither sources nor targets
    src_ok = np.flatnonzero((util > 0.0) & (util < 1.0))
    order = src_ok[np.argsort(util[src_ok], kind="stable")]
    pool = CandidatePool(w, ~ex, compiled=compiled_loop)  # the targets from here on: exclude()
    if compiled_loop:
        moves.extend(_underload_compiled(placer, w, pool, order, ex, in_mig, any_mig, moves, st))
    else:
        moves.extend(_underload_plain(placer, w, pool, order, ex, in_mig, any_mig, st))
    w.pool = None
    return moves


def _select_plain(w: _Work, detector: Any, selector: Any, rng: np.random.Generator, over: B,
                  in_mig: B, any_mig: bool) -> list[int]:
    """Step (2) in Python: the guests selected on the overloaded hosts, in order."""
    to_move: list[int] = []
    for h in np.flatnonzero(over).tolist():
        while True:
            cand = [v for v in w.lists[h] if not in_mig[v]] if any_mig else list(w.lists[h])
            if not cand:
                break
            ci = np.asarray(cand, dtype=np.intp)
            view = GuestView(w.ram[ci], w.mips[ci], w.r[ci], w.vh[ci], w.vlen[ci])
            k = selector.select(view, rng)
            if k is None:
                break
            v = cand[k]
            to_move.append(v)
            w.own(h).remove(v)
            screen = w.recompute_host(h)
            if screen == 0 or (screen == 2 and not w.overloaded_one(detector, h)):
                break
    return to_move


#: selectors :func:`_select_compiled` runs (:data:`dcsim.policies.planner_kernel.SEL_MMT`, MU)
_SEL_MODES: dict[type, int] = {MinimumMigrationTime: 0, MinimumUtilization: 1}


def _select_compiled(w: _Work, detector: Any, mode: int, over: B, in_mig: B,
                     any_mig: bool) -> list[int]:
    """:func:`_select_plain` for MMT / MU in one compiled loop
    (:func:`dcsim.policies.planner_kernel.select_loop`), which returns here only for the
    detector's exact tests; it does not change ``w.lists`` (nothing reads an overloaded host's
    list after this step)."""
    pk = _planner_kernel()
    hosts = np.flatnonzero(over).astype(np.int64)
    if hosts.size == 0:
        return []
    fcount = w.count0
    fstart = w.list_starts()
    longest = max(int(fcount[hosts].max()), 1)
    lst = np.empty(longest, dtype=np.int64)
    cand = np.empty(longest, dtype=np.int64)
    key = np.empty(longest)
    out = np.empty(max(int(fcount[hosts].sum()), 1), dtype=np.int64)
    mips = np.ascontiguousarray(w.mips, dtype=np.float64)
    ss = pk.new_select_state()
    cont = 0
    while True:
        pk.select_loop(hosts, mode, w.flat0, fstart, fcount, np.asarray(in_mig, dtype=np.uint8),
                       any_mig, ss, lst, cand, key, out, w.ramf, mips, cont,
                       *w.recompute_args())
        if not ss[pk.SS_STOP]:
            break
        cont = int(w.overloaded_one(detector, int(hosts[ss[pk.SS_I]])))
    selected: list[int] = out[:ss[pk.SS_NSEL]].tolist()
    return selected


def _underload_plain(placer: PowerAwareBestFit, w: _Work, pool: CandidatePool, order: I64,
                     ex: B, in_mig: B, any_mig: bool, st: PlanStats) -> list[tuple[int, int]]:
    """Step (4) in Python: the moves of the hosts evacuated, sources taken in ``order``
    (hosts in ``ex`` are neither sources nor targets)."""
    moves: list[tuple[int, int]] = []
    done = ex.tolist()  # as Python bools (read once per host)
    for s in order.tolist():
        if done[s]:
            continue
        lst = w.lists[s]
        # CloudSim skips a host whose guests are all in migration (or that has none).
        if not lst or (any_mig and in_mig[lst[0]]):
            continue
        done[s] = True
        pool.exclude(s)
        st.underload_sources += 1
        vms = _sorted_by_demand([v for v in lst if not in_mig[v]] if any_mig else lst, w.r,
                                w.r_list)
        saved = w.save_all()
        placed = _place_sequence(placer, w, vms, pool, True)
        st.find_host_calls += len(placed)
        if placed and placed[-1][1] < 0:
            w.restore_all(saved)  # closes the trial
            placed = []
        w.end_trial()
        if placed:
            st.evacuated_hosts += 1
            moves.extend(placed)
            for _, t in placed:
                done[t] = True
    return moves


def _underload_compiled(placer: PowerAwareBestFit, w: _Work, pool: CandidatePool, order: I64,
                        ex: B, in_mig: B, any_mig: bool, earlier: list[tuple[int, int]],
                        st: PlanStats) -> list[tuple[int, int]]:
    """:func:`_underload_plain` in one compiled loop
    (:func:`dcsim.policies.planner_kernel.underload`; the same kernels in the same order),
    which returns here only for the detector's exact tests. A source's guests are its list at the
    step's start (``w.flat0``) then what it received in ``earlier`` moves (step 3), in order, as
    the Python lists hold them; the loop does not append to ``w.lists``."""
    uk = _planner_kernel()
    n_h = w.T.shape[0]
    fcount = w.count0
    fstart = w.list_starts()
    xstart = np.zeros(n_h + 1, dtype=np.int64)
    if earlier:
        a = np.array(earlier, dtype=np.int64)
        xv = a[np.argsort(a[:, 1], kind="stable"), 0]
        np.cumsum(np.bincount(a[:, 1], minlength=n_h), out=xstart[1:])
    else:
        xv = np.zeros(0, dtype=np.int64)
    longest = int((fcount + np.diff(xstart)).max()) if n_h else 0
    scratch = np.empty(longest, dtype=np.int64)
    buf = np.empty(longest, dtype=np.int64)
    tmp = np.empty(longest, dtype=np.int64)
    mv = np.empty((w.r.shape[0], 2), dtype=np.int64)
    done = ex.astype(np.uint8)
    mig = np.asarray(in_mig, dtype=np.uint8)
    args = w.place_args(placer, pool)
    us = uk.new_state()
    skip, forced = _NO_HOSTS, -1
    while True:
        uk.underload(order, done, w.flat0, fstart, fcount, xv, xstart, mig, any_mig, us,
                     scratch, buf, tmp, mv, skip, forced, pool.allowed, pool.cls_of, pool.pos,
                     pool.pa, pool.pc, *args)
        if not us[uk.US_STOP]:
            break
        if us[uk.US_FRESH]:
            skip = _NO_HOSTS  # the hosts skipped were another guest's
        v, h = int(buf[us[uk.US_J]]), int(us[uk.US_UNSURE])
        if placer._bad(w, v, w.r_list[v], h):
            skip, forced = np.append(skip, h), -1
        else:
            skip, forced = _NO_HOSTS, h
    st.underload_sources += int(us[uk.US_SOURCES])
    st.evacuated_hosts += int(us[uk.US_EVAC])
    st.find_host_calls += int(us[uk.US_CALLS])
    n = int(us[uk.US_NMV])
    return list(zip(mv[:n, 0].tolist(), mv[:n, 1].tolist(), strict=True))


def _planner_kernel() -> Any:
    """:mod:`dcsim.policies.planner_kernel`, imported on first use with its cached machine
    code loaded lightly (as :func:`dcsim.policies.pabfd._kernel`)."""
    return load("dcsim.policies.planner_kernel")


# --------------------------------------------------------------------------- t = 0
@dataclass(slots=True)
class InitialHosts:
    """Host resources for the t = 0 placement (CloudSim's ``vmCreate`` checks).

    Attributes
    ----------
    total_mips, pe_mips, ram_mb, bw, storage_mb
        (H,) capacities.
    power_table
        (H, 11) W.
    pes
        (H,) number of cores.
    """

    total_mips: F64
    pe_mips: F64
    ram_mb: F64
    bw: F64
    storage_mb: F64
    power_table: F64
    pes: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def initial_placement(
    method: str,
    hosts: InitialHosts,
    vm_mips: F64,
    vm_ram_mb: F64,
    vm_bw: F64,
    vm_size_mb: F64,
    detector: Any = None,
) -> I64:
    """Hosts of guests created in id order at t = 0 (``-1`` = no host: CloudSim would stop).

    Parameters
    ----------
    method
        ``"pabfd"`` (migration policies: power-aware best fit, every host's stale power is its
        idle power, guests created earlier request 0 MIPS but keep their full allocation),
        ``"first_fit"`` (DVFS: first suitable host) or ``"most_free_pes"`` (NPA: host with the
        most free cores, then any whose RAM/bandwidth/storage suffice; no MIPS check).
    hosts
        Capacities.
    vm_mips, vm_ram_mb, vm_bw, vm_size_mb
        (V,) guest sizes (one core each).
    detector
        Overload detector for ``pabfd`` (it sees no history, so history-based detectors use their
        0.7 fallback).

    Returns
    -------
    (V,) host id per guest.
    """
    n_h = hosts.total_mips.shape[0]
    n_v = vm_mips.shape[0]
    out = np.full(n_v, -1, dtype=np.int64)
    # host state: allocated and free MIPS, RAM, bandwidth, storage (rows of one array: the
    # compiled choice updates them in place)
    st = np.zeros((5, n_h))
    alloc, avail, ram, bw, sto = st
    avail[:] = hosts.total_mips
    ram[:] = hosts.ram_mb
    bw[:] = hosts.bw
    sto[:] = hosts.storage_mb
    idle = specpower_w(hosts.power_table, np.zeros(n_h))
    free_pes = hosts.pes.astype(np.int64, copy=True) if hosts.pes.size else np.full(n_h, 1)
    # PABFD: hosts alike in everything the step reads are interchangeable (lowest id wins ties)
    cls = _InitialClasses(host_classes(hosts.total_mips, hosts.pe_mips, hosts.power_table),
                          (alloc, avail, ram, bw, sto)) if method == "pabfd" else None
    fast = (cls is not None and n_v > 0 and all(
        bool(np.isfinite(a).all()) for a in (vm_mips, vm_ram_mb, vm_bw, vm_size_mb, st,
                                             hosts.total_mips, hosts.pe_mips, hosts.power_table)))
    if fast and cls is not None:
        _initial_pabfd(cls, hosts, vm_mips, vm_ram_mb, vm_bw, vm_size_mb, detector, st, idle,
                       out)
        return out
    for v in range(n_v):
        m = float(vm_mips[v])
        if cls is not None:
            cand = cls.reps()
            suit = ((ram[cand] >= vm_ram_mb[v]) & (bw[cand] >= vm_bw[v])
                    & (sto[cand] >= vm_size_mb[v]) & (hosts.pe_mips[cand] >= m)
                    & (avail[cand] >= m))
            idx = cand[suit]
            if idx.size == 0:
                h = -1
            else:
                T = hosts.total_mips[idx]
                diff = specpower_w(hosts.power_table[idx], (alloc[idx] + m) / T) - idle[idx]
                if detector is not None:
                    test = alloc[idx] != 0.0
                    if test.any():
                        t = np.flatnonzero(test)
                        # Earlier guests request 0 MIPS before their cloudlets arrive.
                        load = HostLoad(m / T[t], np.zeros((t.size, 1)),
                                        np.zeros(t.size, dtype=np.int64),
                                        np.zeros(t.size), 300.0)
                        bad = np.asarray(detector.overloaded(load), dtype=bool)
                        diff[t[bad]] = np.inf
                j = int(np.argmin(diff))
                h = int(idx[j]) if diff[j] != np.inf else -1
        else:
            fits = (ram >= vm_ram_mb[v]) & (bw >= vm_bw[v]) & (sto >= vm_size_mb[v])
            if method == "most_free_pes":
                tmp = free_pes.astype(np.float64)
                h = -1
                for _ in range(n_h):
                    j = int(np.argmax(tmp))
                    if fits[j]:
                        h = j
                        break
                    tmp[j] = -np.inf
                if h >= 0:
                    free_pes[h] -= 1
            elif method == "first_fit":
                nz = np.flatnonzero(fits & (hosts.pe_mips >= m) & (avail >= m))
                h = int(nz[0]) if nz.size else -1
            else:
                raise ValueError(f"unknown initial placement {method!r}")
        if h < 0:
            continue
        out[v] = h
        capped = min(m, float(hosts.pe_mips[h]))
        avail[h] = max(avail[h] - capped, 0.0)
        alloc[h] += capped
        ram[h] -= vm_ram_mb[v]
        bw[h] -= vm_bw[v]
        sto[h] -= vm_size_mb[v]
        if cls is not None:
            cls.changed(h)
    return out


def _initial_pabfd(cls: _InitialClasses, hosts: InitialHosts, vm_mips: F64, vm_ram_mb: F64,
                   vm_bw: F64, vm_size_mb: F64, detector: Any, st: F64, idle: F64,
                   out: I64) -> None:
    """The ``pabfd`` loop of :func:`initial_placement` with each guest's choice and commit in one
    compiled call (:func:`dcsim.policies.planner_kernel.initial_pick`: the same operations on
    finite values, the same host). The detector's test of a host with an allocation sees only
    ``m / T`` (no history): it is asked once per guest size and host capacity, one host at a
    time."""
    pick = _planner_kernel().initial_pick
    T = np.ascontiguousarray(hosts.total_mips, dtype=np.float64)
    pe = np.ascontiguousarray(hosts.pe_mips, dtype=np.float64)
    tables = np.ascontiguousarray(hosts.power_table, dtype=np.float64)
    tflat, npts = tables.ravel(), int(tables.shape[1])
    caps, tidx = np.unique(T, return_inverse=True)
    tidx = tidx.astype(np.int64)
    test = detector is not None
    rows: dict[float, NDArray[np.uint8]] = {}
    none = np.zeros(caps.size, dtype=np.uint8)
    ms, rams, bws, sizes = (a.tolist() for a in (vm_mips, vm_ram_mb, vm_bw, vm_size_mb))
    for v in range(len(ms)):
        m = float(ms[v])
        badrow = none
        if test:
            badrow = rows.get(m, none)
            if badrow is none:
                badrow = rows[m] = np.array([_initial_bad(detector, m, c) for c in caps.tolist()],
                                            dtype=np.uint8)
        h = int(pick(cls.reps(), m, rams[v], bws[v], sizes[v], st, pe, T, tflat, npts, idle,
                     tidx, badrow, test))
        if h >= 0:
            out[v] = h
            cls.changed(h)


def _initial_bad(detector: Any, m: float, cap: float) -> bool:
    """``detector``'s t = 0 test of a host of ``cap`` MIPS with an allocation receiving a guest
    of ``m`` MIPS (earlier guests request 0 MIPS before their cloudlets arrive)."""
    load = HostLoad(np.array([m]) / np.array([cap]), np.zeros((1, 1)), np.zeros(1, dtype=np.int64),
                    np.zeros(1), 300.0)
    return bool(np.asarray(detector.overloaded(load), dtype=bool)[0])


class _InitialClasses:
    """Hosts grouped by hardware class and the values of ``state`` arrays (mutated by the
    caller, who reports each changed host); :meth:`reps` gives the lowest id of every group."""

    def __init__(self, hw: I64, state: tuple[F64, ...]) -> None:
        self.hw = hw.tolist()
        self.state = state
        self.key_of: list[tuple[float, ...]] = [self._key(h) for h in range(len(self.hw))]
        self.heaps: dict[tuple[float, ...], list[int]] = {}
        for h, k in enumerate(self.key_of):  # ascending ids: each list is already a heap
            self.heaps.setdefault(k, []).append(h)

    def _key(self, h: int) -> tuple[float, ...]:
        return (float(self.hw[h]), *(float(a[h]) for a in self.state))

    def reps(self) -> NDArray[np.intp]:
        out: list[int] = []
        for k, heap in list(self.heaps.items()):
            while heap and self.key_of[heap[0]] != k:
                heapq.heappop(heap)  # stale entry: the host has moved to another group
            if heap:
                out.append(heap[0])
            else:
                del self.heaps[k]
        out.sort()
        return np.asarray(out, dtype=np.intp)

    def changed(self, h: int) -> None:
        k = self._key(h)
        self.key_of[h] = k
        heapq.heappush(self.heaps.setdefault(k, []), h)
