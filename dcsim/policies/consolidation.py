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
* :class:`PowerAwareBestFit` — PABFD's per-guest step (:meth:`~PowerAwareBestFit.find_host`):
  among suitable hosts (per-core capacity and free MIPS), skip non-empty hosts that would be
  overloaded after receiving the guest, pick the least power increase (lowest id on ties).
* :func:`initial_placement` — the t = 0 placement of the CloudSim experiments (``pabfd``,
  ``first_fit`` for DVFS, ``most_free_pes`` for NPA), where RAM and bandwidth still count.
* :func:`specpower_w` — CloudSim's SPECpower interpolation with its exact operation order (the
  PABFD tie-breaking compares power differences bit for bit).
* :func:`parse_policy` / :func:`build_policy` — re-exported from :mod:`dcsim.policies.names`.

Complexity: one PABFD placement costs a few vectorized passes over the hosts; history-based
detectors that are not cheap to vectorize (IQR, MAD) are tested lazily on the best candidates
only. Imports numpy, dcsim.policies.{overload, selection, registry}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

# re-exported: the policy-name helpers live in dcsim.policies.names
from dcsim.policies.names import PolicySpec as PolicySpec
from dcsim.policies.names import build_policy as build_policy
from dcsim.policies.names import parse_policy as parse_policy
from dcsim.policies.overload import HostLoad, StaticThreshold
from dcsim.policies.registry import Registry
from dcsim.policies.selection import GuestView

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]

#: Migration bandwidth of the CloudSim experiments: half of a 1 Gbit/s link, in MB/s.
CLOUDSIM_MIGRATION_MBPS = 1_000_000 / (2 * 8000)

PLACEMENT_MIGRATION: Registry[type[Any]] = Registry("migration placement policy")


# --------------------------------------------------------------------------- power
def specpower_w(tables: F64, util: F64) -> F64:
    """Power (W) of hosts at ``util`` with CloudSim's ``PowerModelSpecPower`` arithmetic.

    Parameters
    ----------
    tables : (n, 11) watts at 0 %, 10 %, ..., 100 % load, one row per value of ``util``.
    util : (n,) utilisation fractions; values outside [0, 1] are clipped (CloudSim would stop).

    Notes
    -----
    ``P = p[i1] + (p[i2] - p[i1]) / 10 * (u - i1 / 10) * 100`` with ``i1 = floor(10 u)``,
    ``i2 = ceil(10 u)``, evaluated left to right as in Java; exact multiples of 0.1 return the
    table value, as CloudSim's special case does. Agrees with :func:`dcsim.model.power.power_w`
    to within a few ulps.
    """
    u = np.clip(util, 0.0, 1.0)
    t10 = u * 10.0
    i1 = np.floor(t10).astype(np.intp)
    i2 = np.ceil(t10).astype(np.intp)
    rows = np.arange(u.shape[0])
    p1 = tables[rows, i1]
    p2 = tables[rows, i2]
    return np.asarray(p1 + (p2 - p1) / 10.0 * (u - i1 / 10.0) * 100.0)


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


@dataclass(slots=True)
class PlanStats:
    """Counters of one optimisation step (for diagnostics)."""

    overloaded_hosts: int = 0
    selected: int = 0
    placed_from_overloaded: int = 0
    underload_sources: int = 0
    evacuated_hosts: int = 0
    find_host_calls: int = 0


# --------------------------------------------------------------------------- working state
class _Work:
    """The planner's scratch copy of host state, with CloudSim's sequential sums.

    ``hist`` (host utilisation history, newest first) is kept only when the detector reads
    history. Guests' history contributions ``u · MIPS / host MIPS`` are tabulated once per
    distinct host capacity.
    """

    def __init__(self, snap: ClusterSnapshot, need_hist: bool, detector: Any = None) -> None:
        self.snap = snap
        self.need_hist = need_hist
        self.journal: dict[int, tuple[Any, ...]] | None = None
        self.T = np.ascontiguousarray(snap.host_total_mips, dtype=np.float64)
        self.pe = np.ascontiguousarray(snap.host_pe_mips, dtype=np.float64)
        self.pe_min = float(self.pe.min()) if self.pe.size else 0.0
        tables = np.ascontiguousarray(snap.host_power_table, dtype=np.float64)
        self.tflat = tables.ravel()
        n_h = self.T.shape[0]
        self.n_points = int(tables.shape[1])
        self.off = np.arange(n_h, dtype=np.intp) * self.n_points
        self.stale_power = specpower_w(tables, snap.host_util)
        self.avail = snap.host_avail_mips.astype(np.float64, copy=True)
        self.U = snap.host_alloc_mips.astype(np.float64, copy=True)
        self.lists = [list(v) for v in snap.host_vms]
        self.r = snap.vm_requested_mips
        self.r_list: list[float] = self.r.tolist()
        self.ram_list: list[float] = snap.vm_ram_mb.tolist()
        self.vh = snap.vm_history
        self.vlen = snap.vm_history_len
        self.ram = snap.vm_ram_mb
        self.mips = snap.vm_mips
        self.bw = snap.migration_mbps
        self.interval = snap.interval_s
        k = snap.vm_history.shape[1]
        self.K = k
        counts = np.fromiter((len(v) for v in self.lists), dtype=np.intp, count=n_h)
        flat = np.fromiter((v for lst in self.lists for v in lst), dtype=np.intp,
                           count=int(counts.sum()))
        host = np.repeat(np.arange(n_h), counts)
        # bincount adds in input order: the per-host sums are sequential in list order.
        self.reqsum = np.asarray(np.bincount(host, weights=self.r[flat], minlength=n_h),
                                 dtype=np.float64)
        maxram = np.zeros(n_h)
        if flat.size:
            np.maximum.at(maxram, host, self.ram[flat])
        self.maxram = maxram
        if need_hist:
            caps, self.ttype = np.unique(self.T, return_inverse=True)
            self.ttype = self.ttype.astype(np.intp)
            self.ctab = (self.vh * self.mips[:, None])[None, :, :] / caps[:, None, None]
            contrib = self.ctab[self.ttype[host], flat]
            idx = (host[:, None] * k + np.arange(k)[None, :]).ravel()
            self.hist = np.asarray(np.bincount(idx, weights=contrib.ravel(), minlength=n_h * k),
                                   dtype=np.float64).reshape(n_h, k)
            self.hlen = self._trimmed_len(self.hist)
        self.feat_fn = getattr(detector, "features", None) if need_hist else None
        if self.feat_fn is not None:
            self.F = np.asarray(self.feat_fn(self.hist))
            q = self.F.shape[1]
            self.ftab = np.asarray(self.feat_fn(self.ctab.reshape(-1, k))).reshape(
                self.ctab.shape[0], self.ctab.shape[1], q)
        if not need_hist:
            self.hist = np.zeros((n_h, 0))
            self.hlen = np.zeros(n_h, dtype=np.int64)

    @staticmethod
    def _trimmed_len(hist: F64) -> I64:
        if hist.shape[1] == 0:
            return np.zeros(hist.shape[0], dtype=np.int64)
        nz = hist != 0.0
        last = hist.shape[1] - np.argmax(nz[:, ::-1], axis=1)
        return np.where(nz.any(axis=1), last, 0).astype(np.int64)

    def load_all(self) -> HostLoad:
        return HostLoad(self.reqsum / self.T, self.hist, self.hlen, self.maxram / self.bw,
                        self.interval)

    def recompute_host(self, h: int) -> None:
        """Sums of host ``h`` from scratch, in list order (after a guest left)."""
        lst = self.lists[h]
        rl, raml = self.r_list, self.ram_list
        s = 0.0
        for v in lst:
            s += rl[v]
        self.reqsum[h] = s
        self.maxram[h] = max((raml[v] for v in lst), default=0.0)
        if self.need_hist:
            if lst:
                hist = np.add.accumulate(self.ctab[self.ttype[h], lst], axis=0)[-1]
                nz = hist.nonzero()[0]
                self.hlen[h] = int(nz[-1]) + 1 if nz.size else 0
            else:
                hist = np.zeros(self.K)
                self.hlen[h] = 0
            self.hist[h] = hist
            if self.feat_fn is not None:
                self.F[h] = np.asarray(self.feat_fn(hist[None, :]))[0]

    def save_all(self) -> dict[int, tuple[Any, ...]]:
        """Start journaling: hosts changed by :meth:`add` from now on can be rolled back."""
        journal: dict[int, tuple[Any, ...]] = {}
        self.journal = journal
        return journal

    def restore_all(self, journal: dict[int, tuple[Any, ...]]) -> None:
        """Undo the trial placements journaled since :meth:`save_all`."""
        for h in reversed(list(journal)):
            self.restore(h, journal[h])
        self.journal = None

    def add(self, v: int, h: int) -> None:
        """Trial placement of ``v`` on ``h`` (appended to its list)."""
        j = self.journal
        if j is not None and h not in j:
            j[h] = self.save(h)
        r = self.r_list[v]
        self.lists[h].append(v)
        self.avail[h] -= r
        self.U[h] += r
        self.reqsum[h] += r
        if self.need_hist:
            tt = self.ttype[h]
            self.hist[h] += self.ctab[tt, v]
            self.hlen[h] = max(int(self.hlen[h]), int(self.vlen[v]))
            if self.feat_fn is not None:
                self.F[h] += self.ftab[tt, v]
        self.maxram[h] = max(float(self.maxram[h]), self.ram_list[v])

    def save(self, h: int) -> tuple[Any, ...]:
        hist = self.hist[h].copy() if self.need_hist else None
        feat = self.F[h].copy() if self.feat_fn is not None else None
        return (len(self.lists[h]), float(self.avail[h]), float(self.U[h]),
                float(self.reqsum[h]), hist, int(self.hlen[h]), float(self.maxram[h]), feat)

    def restore(self, h: int, saved: tuple[Any, ...]) -> None:
        (n, self.avail[h], self.U[h], self.reqsum[h], hist, self.hlen[h], self.maxram[h],
         feat) = saved
        if hist is not None:
            self.hist[h] = hist
        if feat is not None:
            self.F[h] = feat
        del self.lists[h][n:]

    def overloaded_one(self, detector: Any, h: int) -> bool:
        n = int(self.hlen[h])
        util = float(self.reqsum[h] / self.T[h])
        mig = float(self.maxram[h] / self.bw)
        hist = self.hist[h, :n].tolist() if self.need_hist else []
        one = getattr(detector, "overloaded_one", None)
        if one is not None:
            return bool(one(util, hist, mig, self.interval))
        load = HostLoad(np.array([util]), self.hist[h : h + 1], np.array([n]), np.array([mig]),
                        self.interval)
        return bool(detector.overloaded(load)[0])


# --------------------------------------------------------------------------- PABFD
@PLACEMENT_MIGRATION.register("pabfd")
class PowerAwareBestFit:
    """Power-aware best fit (the per-guest step of PABFD) over a planner's working state.

    The detector's optional ``history_depth`` (newest history values it reads; 0 = none) limits
    what is built for the trial overload tests.
    """

    def __init__(self, detector: Any) -> None:
        self.detector = detector
        self.depth: int | None = getattr(detector, "history_depth", None)
        self.cheap = bool(getattr(detector, "cheap_vectorized", False))
        self.thr = detector.threshold if isinstance(detector, StaticThreshold) else None

    def find_host(self, w: _Work, v: int, allowed: B) -> int:
        """Host for guest ``v`` among ``allowed`` hosts (``-1`` if none).

        Notes
        -----
        A few vectorized passes over the candidate hosts (power increase with CloudSim's exact
        arithmetic, lowest id on ties), then the trial overload tests: all at once for the static
        threshold and for detectors with linear features (LR), else lazily in order of increasing
        power increase (IQR, MAD).
        """
        r = float(w.r[v])
        m = allowed & (w.avail >= r)
        if r > w.pe_min:
            m &= w.pe >= r
        idx = m.nonzero()[0]
        if idx.size == 0:
            return -1
        U = w.U.take(idx)
        T = w.T.take(idx)
        u = np.minimum((U + r) / T, 1.0)
        t10 = u * 10.0
        i1 = np.floor(t10)
        base = w.off.take(idx)
        p1 = w.tflat.take(base + i1.astype(np.intp))
        p2 = w.tflat.take(base + np.ceil(t10).astype(np.intp))
        diff = p1 + (p2 - p1) / 10.0 * (u - i1 / 10.0) * 100.0 - w.stale_power.take(idx)
        test = U != 0.0
        if self.thr is not None:
            bad = test & ((w.reqsum.take(idx) + r) / T > self.thr)
            diff[bad] = np.inf
        elif self.cheap:
            tpos = test.nonzero()[0]
            if tpos.size:
                bad = self._tests(w, v, r, idx.take(tpos))
                if bad.any():
                    diff[tpos[bad]] = np.inf
        elif test.any():
            return self._lazy(w, v, r, idx, diff, test)
        j = int(diff.argmin())
        return int(idx[j]) if diff[j] != np.inf else -1

    def _tests(self, w: _Work, v: int, r: float, hosts: NDArray[np.intp]) -> B:
        """Trial overload decisions of ``hosts`` receiving ``v`` (cheap detectors)."""
        det = self.detector
        util = (w.reqsum.take(hosts) + r) / w.T.take(hosts)
        hl = np.maximum(w.hlen.take(hosts), w.vlen[v])
        mig = np.maximum(w.maxram.take(hosts), w.ram[v]) / w.bw
        if w.feat_fn is not None and hasattr(det, "screen_features"):
            f = w.F.take(hosts, axis=0) + w.ftab[w.ttype.take(hosts), v]
            bad, unsure = det.screen_features(f, util, hl, mig, w.interval)
            for k in unsure.nonzero()[0].tolist():
                bad[k] = self._exact(w, v, r, int(hosts[k]))
            return np.asarray(bad)
        d = w.K if self.depth is None else min(self.depth, w.K)
        if w.need_hist:
            hist = w.hist[hosts, :d] + w.ctab[w.ttype.take(hosts), v, :d]
        else:
            hist = np.zeros((hosts.size, 0))
        return np.asarray(det.overloaded(HostLoad(util, hist, hl, mig, w.interval)))

    def _exact(self, w: _Work, v: int, r: float, h: int) -> bool:
        """Exact trial test: is host ``h`` overloaded once guest ``v`` is added?"""
        det = self.detector
        n = max(int(w.hlen[h]), int(w.vlen[v]))
        util = float((w.reqsum[h] + r) / w.T[h])
        mig = max(float(w.maxram[h]), float(w.ram[v])) / w.bw
        row = w.hist[h] + w.ctab[w.ttype[h], v] if w.need_hist else np.zeros(0)
        one = getattr(det, "overloaded_one", None)
        if one is not None:
            return bool(one(util, row[:n].tolist(), mig, w.interval))
        load1 = HostLoad(np.array([util]), row[None, :], np.array([n]), np.array([mig]),
                         w.interval)
        return bool(det.overloaded(load1)[0])

    def _lazy(self, w: _Work, v: int, r: float, idx: NDArray[np.intp], diff: F64,
              test: B) -> int:
        """Test the best candidates one by one (CloudSim's first-minimum order)."""
        while True:
            j = int(diff.argmin())
            if diff[j] == np.inf:
                return -1
            h = int(idx[j])
            if not test[j] or not self._exact(w, v, r, h):
                return h
            diff[j] = np.inf


def _place_sequence(placer: PowerAwareBestFit, w: _Work, vms: list[int], allowed: B,
                    stop_on_fail: bool) -> list[tuple[int, int]]:
    """PABFD for ``vms`` in order, with trial placements; unplaced guests are skipped, or end
    the sequence with a ``(guest, -1)`` entry when ``stop_on_fail``."""
    out: list[tuple[int, int]] = []
    for v in vms:
        t = placer.find_host(w, v, allowed)
        if t < 0:
            if stop_on_fail:
                out.append((v, -1))
                return out
            continue
        w.add(v, t)
        out.append((v, t))
    return out


def _sorted_by_demand(vms: list[int], r: F64) -> list[int]:
    """Guests by decreasing demand; stable (CloudSim's ``Collections.sort``)."""
    if len(vms) < 2:
        return list(vms)
    arr = np.asarray(vms, dtype=np.intp)
    return [int(x) for x in arr[np.argsort(-r[arr], kind="stable")]]


# --------------------------------------------------------------------------- one step
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
    st = stats if stats is not None else PlanStats()
    placer = PowerAwareBestFit(detector)
    w = _Work(snap, need_hist=placer.depth != 0, detector=detector)
    in_mig = snap.vm_in_migration
    over = np.asarray(detector.overloaded(w.load_all()), dtype=bool)
    st.overloaded_hosts = int(over.sum())

    # (2) selection loop on each overloaded host, ascending id.
    to_move: list[int] = []
    for h in np.flatnonzero(over).tolist():
        while True:
            cand = [v for v in w.lists[h] if not in_mig[v]]
            if not cand:
                break
            ci = np.asarray(cand, dtype=np.intp)
            view = GuestView(w.ram[ci], w.mips[ci], w.r[ci], w.vh[ci], w.vlen[ci])
            k = selector.select(view, rng)
            if k is None:
                break
            v = cand[k]
            to_move.append(v)
            w.lists[h].remove(v)
            w.recompute_host(h)
            if not w.overloaded_one(detector, h):
                break
    st.selected = len(to_move)

    # (3) PABFD for the selected guests, away from overloaded hosts.
    st.find_host_calls += len(to_move)
    moves = _place_sequence(placer, w, _sorted_by_demand(to_move, w.r), ~over, False)
    st.placed_from_overloaded = len(moves)

    # (4) underload consolidation. Sources are taken by increasing stale utilisation; the order
    # is fixed within a step, so one pass over the sorted hosts finds each next source.
    util = snap.host_util
    off = util == 0.0
    ex_src = over | off
    ex_tgt = over | off
    src_ok = np.flatnonzero((util > 0.0) & (util < 1.0))
    for s in src_ok[np.argsort(util[src_ok], kind="stable")].tolist():
        if ex_src[s]:
            continue
        lst = w.lists[s]
        # CloudSim skips a host whose guests are all in migration (or that has none).
        if not lst or in_mig[lst[0]]:
            continue
        ex_src[s] = True
        ex_tgt[s] = True
        st.underload_sources += 1
        vms = _sorted_by_demand([v for v in lst if not in_mig[v]], w.r)
        saved = w.save_all()
        placed = _place_sequence(placer, w, vms, ~ex_tgt, True)
        st.find_host_calls += len(placed)
        if placed and placed[-1][1] < 0:
            w.restore_all(saved)
            placed = []
        w.journal = None
        if placed:
            st.evacuated_hosts += 1
            moves.extend(placed)
            for _, t in placed:
                ex_src[t] = True
    return moves


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
    avail = hosts.total_mips.astype(np.float64, copy=True)
    alloc = np.zeros(n_h)
    ram = hosts.ram_mb.astype(np.float64, copy=True)
    bw = hosts.bw.astype(np.float64, copy=True)
    sto = hosts.storage_mb.astype(np.float64, copy=True)
    idle = specpower_w(hosts.power_table, np.zeros(n_h))
    free_pes = hosts.pes.astype(np.int64, copy=True) if hosts.pes.size else np.full(n_h, 1)
    for v in range(n_v):
        m = float(vm_mips[v])
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
        else:
            suit = fits & (hosts.pe_mips >= m) & (avail >= m)
            if method == "first_fit":
                nz = np.flatnonzero(suit)
                h = int(nz[0]) if nz.size else -1
            elif method == "pabfd":
                idx = np.flatnonzero(suit)
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
    return out
