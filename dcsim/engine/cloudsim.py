"""CloudSim-compatible engine: the PlanetLab consolidation experiments of CloudSim 3.0.3.

Reproduces ``reference/cloudsim-planetlab/README.md`` (Beloglazov & Buyya, CCPE 2012, as run by
CloudSim 3.0.3) so that published numbers can be regenerated and compared. What it copies:

* **Event instants.** Guests are placed at t = 0 (full MIPS, RAM and bandwidth requested); their
  workloads start at 0.1; datacenter updates happen at ``t += 300.0`` from 0.1 (300.1 ...
  86100.1) and at every migration completion (``start + RAM / 62.5`` s); the simulation ends at
  86400 s. A SimPy ``Environment`` drives the clock: one process wakes every interval, one process
  per group of migrations that finish at the same instant.
* **Updates.** Demand ``u(t) · MIPS`` with the trace interpolated at ``t``; per-core cap; a
  guest migrating in gets 10 % of its demand, a guest migrating out 90 %; an oversubscribed host
  scales every allocation by ``capacity / Σ demand`` and floors it; the host's utilisation counts a
  migrating-out guest as ``allocated / 0.9``. State-history entries for hosts and guests (same
  time = replace); then energy; then **guests whose demand is exactly 0 are dropped for good**.
* **Energy.** Per host and update, ``(P(prev) + (P(cur) - P(prev)) / 2) · Δt``, 0 when the
  previous utilisation was 0 (the host counts as switched off), with CloudSim's SPECpower
  interpolation; NPA charges every host its maximum power for the whole time.
* **Migrations.** The optimisation of :func:`dcsim.policies.consolidation.plan_migrations` at
  every periodic update; each move starts at once (the host updates of its source and target are
  replayed at that instant), completes after ``RAM / 62.5`` s with an update before and a forced
  update after the moves that finish together. A guest moved twice in one step (CloudSim's
  underload quirk) ends on its second target.
* **Metrics** through :class:`dcsim.metrics.consolidation.StateHistoryRecorder`.

Known deviations (ulp level, see the report in ``experiments/planetlab_consolidation``): CloudSim
iterates the scheduler's requested-MIPS map in hash order when it re-shares an oversubscribed host
and subtracts free MIPS one guest at a time; dcsim sums in host-list order.

State lives in numpy arrays (guests: host, list position, demand, flags; hosts: capacity, power
table, utilisation); each update is a handful of vectorized passes (``np.bincount`` in host-list
order reproduces CloudSim's sequential sums). Imports simpy, numpy, pandas, dcsim.policies,
dcsim.metrics, dcsim.rng.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import simpy
from numpy.typing import NDArray

from dcsim.errors import ConfigError, Issue
from dcsim.metrics.consolidation import StateHistoryRecorder, esv, slav
from dcsim.policies.consolidation import (
    ClusterSnapshot,
    InitialHosts,
    PlanStats,
    PolicySpec,
    build_policy,
    host_classes,
    initial_placement,
    parse_policy,
    plan_migrations,
    specpower_w,
)
from dcsim.rng import RandomStreams

ProcessGenerator = Generator[simpy.events.Event, Any, Any]
F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

__all__ = ["CloudSimEngine", "PlanetLabSetup", "run_cloudsim_planetlab"]

JOULES_PER_KWH = 3.6e6
_NORMAL, _OUT, _IN = 0, 1, 2


@dataclass(frozen=True, slots=True)
class PlanetLabSetup:
    """Constants of CloudSim's PlanetLab experiments (``ex/Constants.java``).

    Attributes
    ----------
    host_pe_mips, host_power_tables
        Per host type (G4, G5): MIPS per core and the SPECpower table (W at 0 %, 10 %, ... 100 %).
        Host ``i`` has type ``i % 2``.
    host_pes, host_ram_mb, host_bw, host_storage_mb
        Cores, RAM (MB), bandwidth (CloudSim units, kbit/s) and storage (MB) of every host.
    vm_mips, vm_ram_mb
        Per guest type; guest ``i`` of ``n`` has type ``i // ceil(n / 4)``.
    vm_bw, vm_size_mb
        Bandwidth and image size of every guest.
    interval_s, first_event_s
        Scheduling interval and the instant the workloads start (``minTimeBetweenEvents``).
    migration_mbps
        Bandwidth used by a migration, MB/s (half of the target's 1 Gbit/s).
    """

    host_pe_mips: tuple[float, ...] = (1860.0, 2660.0)
    host_power_tables: tuple[tuple[float, ...], ...] = (
        (86.0, 89.4, 92.6, 96.0, 99.5, 102.0, 106.0, 108.0, 112.0, 114.0, 117.0),
        (93.7, 97.0, 101.0, 105.0, 110.0, 116.0, 121.0, 125.0, 129.0, 133.0, 135.0),
    )
    host_pes: int = 2
    host_ram_mb: float = 4096.0
    host_bw: float = 1_000_000.0
    host_storage_mb: float = 1_000_000.0
    vm_mips: tuple[float, ...] = (2500.0, 2000.0, 1000.0, 500.0)
    vm_ram_mb: tuple[float, ...] = (870.0, 1740.0, 1740.0, 613.0)
    vm_bw: float = 100_000.0
    vm_size_mb: float = 2500.0
    interval_s: float = 300.0
    first_event_s: float = 0.1
    migration_mbps: float = 1_000_000.0 / (2 * 8000)


@dataclass(slots=True)
class _Totals:
    energy_j: float = 0.0
    migrations: int = 0
    updates: int = 0
    intervals: list[dict[str, float]] = field(default_factory=list)


def _bsum(index: NDArray[np.intp], weights: F64, n: int) -> F64:
    """Per-bin sums; ``np.bincount`` adds in input order, i.e. sequentially per bin."""
    return np.asarray(np.bincount(index, weights=weights, minlength=n), dtype=np.float64)


def _snap_percent(util: F64) -> F64:
    """Fractions exactly as CloudSim reads integer percents (``int / 100.0``) when they are."""
    p = util * 100.0
    r = np.rint(p)
    if np.all(np.abs(p - r) < 1e-4):
        return np.asarray(r / 100.0, dtype=np.float64)
    return np.asarray(util, dtype=np.float64)


class CloudSimEngine:
    """One CloudSim-compatible run (see the module docstring).

    Parameters
    ----------
    util
        (n_vms, 288) utilisation fractions (one sample per interval), or (n_vms, 289) with
        CloudSim's duplicated last sample. Fractions that are whole percents are snapped to
        ``percent / 100.0`` exactly as CloudSim reads them.
    policy
        A policy name (``"lr-mmt-1.2"``, ``"dvfs"``, ``"npa"``) or a parsed spec.
    n_hosts
        Number of hosts.
    seed
        Seed of the random selection stream (``rs``).
    setup
        Experiment constants.
    """

    def __init__(self, util: F64, policy: str | PolicySpec, n_hosts: int = 800, seed: int = 0,
                 setup: PlanetLabSetup | None = None) -> None:
        self.setup = st = setup if setup is not None else PlanetLabSetup()
        self.spec = policy if isinstance(policy, PolicySpec) else parse_policy(policy)
        u = np.asarray(util, dtype=np.float64)
        if u.ndim != 2 or u.shape[1] < 2:
            raise ValueError(f"util must be (n_vms, n_samples >= 2), got shape {u.shape}")
        if np.any(~np.isfinite(u)) or np.any(u < 0) or np.any(u > 1):
            raise ValueError("util must hold fractions in [0, 1]")
        u = _snap_percent(u)
        if u.shape[1] == 289:
            data = u
            self.limit_s = 288 * st.interval_s
        else:
            data = np.concatenate([u, u[:, -1:]], axis=1)
            self.limit_s = u.shape[1] * st.interval_s
        self.data = np.ascontiguousarray(data)
        n_v = data.shape[0]
        self.n_vms, self.n_hosts = n_v, int(n_hosts)
        H = self.n_hosts
        htype = np.arange(H) % 2
        self.pe = np.asarray(st.host_pe_mips, dtype=np.float64)[htype]
        self.T = self.pe * st.host_pes
        self.tables = np.asarray(st.host_power_tables, dtype=np.float64)[htype]
        self.max_power = self.tables[:, -1].copy()
        self.host_class = host_classes(self.T, self.pe, self.tables)
        vtype = np.arange(n_v) // max(1, math.ceil(n_v / 4))
        self.mips = np.asarray(st.vm_mips, dtype=np.float64)[vtype]
        self.ram = np.asarray(st.vm_ram_mb, dtype=np.float64)[vtype]
        self.mig_delay = self.ram / st.migration_mbps

        # Periodic instants exactly as CloudSim accumulates them, and the demand at each.
        ts: list[float] = []
        t = st.first_event_s
        while True:
            t += st.interval_s
            if t >= self.limit_s:
                break
            ts.append(t)
        self.t_k = np.asarray(ts)
        self.U = np.zeros((n_v, len(ts) + 1))
        for k, tk in enumerate(ts, start=1):
            self.U[:, k] = self._u_at(tk, np.arange(n_v))

        # Guest state.
        self.alive = np.ones(n_v, dtype=bool)
        self.host_of = np.full(n_v, -1, dtype=np.int64)
        self.seq = np.arange(n_v, dtype=np.int64)
        self._next_seq = n_v
        self.in_mig = np.zeros(n_v, dtype=bool)
        self.r = np.zeros(n_v)
        # Slots of guests migrating in: (guest, target) -> list position, in start order.
        self.mig_in: dict[tuple[int, int], int] = {}
        #: (vm, source, destination, start_s, duration_s) of every migration started
        self.migration_log: list[tuple[int, int, int, float, float]] = []
        self._slot_cache: tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.int8]] | None = None
        # Host state (of the last update).
        self.util_mips = np.zeros(H)
        self.alloc_mips = np.zeros(H)
        self.avail_mips = self.T.copy()
        self.req_mips = np.zeros(H)
        self.last_process_s = 0.0
        self.totals = _Totals()
        self.recorder = StateHistoryRecorder(H, n_v)
        self.rng = RandomStreams(seed)["cloudsim.selection"]
        self.plan_stats: list[PlanStats] = []
        self.detector: Any = None
        self.selector: Any = None
        if self.spec.kind == "migration":
            self.detector, self.selector = build_policy(self.spec)
        self.env = simpy.Environment()

    # ----------------------------------------------------------------- workload
    def _u_at(self, t: float, ids: NDArray[np.intp]) -> F64:
        """CloudSim ``UtilizationModelPlanetLabInMemory.getUtilization(t)`` for guests ``ids``."""
        iv = self.setup.interval_s
        d = self.data
        if t % iv == 0:
            return np.asarray(d[ids, int(t) // int(iv)])
        i1 = math.floor(t / iv)
        i2 = math.ceil(t / iv)
        u1 = d[ids, i1]
        u2 = d[ids, i2]
        delta = (u2 - u1) / ((i2 - i1) * iv)
        return np.asarray(u1 + delta * (t - i1 * iv))

    # ----------------------------------------------------------------- placement
    def _initial_placement(self) -> None:
        st = self.setup
        H, n_v = self.n_hosts, self.n_vms
        hosts = InitialHosts(
            total_mips=self.T, pe_mips=self.pe, ram_mb=np.full(H, st.host_ram_mb),
            bw=np.full(H, st.host_bw), storage_mb=np.full(H, st.host_storage_mb),
            power_table=self.tables, pes=np.full(H, st.host_pes, dtype=np.int64),
        )
        method = {"npa": "most_free_pes", "dvfs": "first_fit"}.get(self.spec.kind, "pabfd")
        where = initial_placement(method, hosts, self.mips, self.ram, np.full(n_v, st.vm_bw),
                                  np.full(n_v, st.vm_size_mb), self.detector)
        if np.any(where < 0):
            # refused before the first event: CloudSim's broker stops when a VM cannot be created
            raise ConfigError(Issue(
                "guests", f"compat: cloudsim: {int((where < 0).sum())} of {n_v} guests fit on no "
                "host at t = 0 (CloudSim's broker would stop the simulation): use more or larger "
                "hosts, or fewer guests"))
        self.host_of = where.astype(np.int64)

    # ----------------------------------------------------------------- updates
    def _slots(self) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.int8]]:
        """Guest, host and kind of every host-list slot, sorted by (host, list position).

        Cached until the membership changes (migration start or end, dropped guests).
        """
        if self._slot_cache is not None:
            return self._slot_cache
        alive = np.flatnonzero(self.alive)
        kind = np.where(self.in_mig[alive], _OUT, _NORMAL).astype(np.int8)
        if self.mig_in:
            keys = list(self.mig_in)
            vm = np.concatenate([alive, np.asarray([k[0] for k in keys], dtype=np.intp)])
            host = np.concatenate([self.host_of[alive],
                                   np.asarray([k[1] for k in keys], dtype=np.int64)])
            seq = np.concatenate([self.seq[alive],
                                  np.fromiter(self.mig_in.values(), dtype=np.int64)])
            kind = np.concatenate([kind, np.full(len(keys), _IN, dtype=np.int8)])
        else:
            vm, host, seq = alive, self.host_of[alive], self.seq[alive]
        order = np.lexsort((seq, host))
        self._slot_cache = (vm[order], host[order].astype(np.intp), kind[order])
        return self._slot_cache

    def _update(self, t: float, *, energy: bool, drop: bool, k: int = 0,
                record: bool = True) -> None:
        """A host update at ``t`` for every host (CloudSim's datacenter update when ``energy``).

        ``record=False`` skips the state-history entries that a later update at the same
        instant replaces anyway (entries of dropped guests are still written: they are final).
        """
        H = self.n_hosts
        alive = np.flatnonzero(self.alive)
        if k > 0:
            self.r[alive] = self.U[alive, k] * self.mips[alive]
        else:
            self.r[alive] = self._u_at(t, alive) * self.mips[alive]
        vm, host, kind = self._slots()
        r = self.r[vm]
        cap = np.minimum(r, self.pe[host])
        is_in = kind == _IN
        is_out = kind == _OUT
        need = np.where(is_in, cap * 0.1, cap)
        sum_need = _bsum(host, need, H)
        over_h = sum_need > self.T
        alloc = np.where(is_out, cap * 0.9, need)
        if over_h.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = (self.T / sum_need)[host]
                scaled = np.floor(np.where(is_out, cap * scale * 0.9,
                                           np.where(is_in, cap * 0.1 * scale, cap * scale)))
            alloc = np.where(over_h[host], scaled, alloc)
        util_mips = _bsum(host, np.where(is_out, alloc / 0.9, alloc), H)
        req_mips = _bsum(host, r, H)
        if is_in.any():
            u_w = np.where(is_in, alloc * 0.9 / 0.1 + alloc, alloc)
        else:
            u_w = alloc
        self.alloc_mips = _bsum(host, u_w, H)
        self.avail_mips = np.where(over_h, 0.0, self.T - sum_need)
        self.req_mips = req_mips

        if energy and t > self.last_process_s:
            dt = t - self.last_process_s
            if self.spec.kind == "npa":
                e = self.max_power * dt
            else:
                prev = self._clamped(self.util_mips)
                cur = self._clamped(util_mips)
                p_prev = specpower_w(self.tables, prev)
                p_cur = specpower_w(self.tables, cur)
                e = np.where(prev == 0.0, 0.0, (p_prev + (p_cur - p_prev) / 2) * dt)
            self.totals.energy_j += float(np.add.accumulate(e)[-1])
        self.util_mips = util_mips

        if record:
            self.recorder.host_entries(t, util_mips, req_mips, util_mips > 0)
            own = ~is_in
            self.recorder.vm_entries(t, vm[own], alloc[own], r[own], is_out[own])
        if drop:
            gmask = (kind == _NORMAL) & (r == 0.0)
            if gmask.any():
                gone = vm[gmask]
                if not record:
                    self.recorder.vm_entries(t, gone, alloc[gmask], r[gmask],
                                             np.zeros(gone.size, dtype=bool))
                self.alive[gone] = False
                self.host_of[gone] = -1
                self._slot_cache = None
        if energy:
            self.last_process_s = t
        self.totals.updates += 1

    def _clamped(self, util_mips: F64) -> F64:
        u = util_mips / self.T
        u = np.where((u > 1.0) & (u < 1.01), 1.0, u)
        return np.asarray(np.clip(u, 0.0, 1.0))

    # ----------------------------------------------------------------- optimisation
    def _snapshot(self, k: int) -> ClusterSnapshot:
        vm, host, _ = self._slots()
        counts = np.bincount(host, minlength=self.n_hosts)
        ends = np.cumsum(counts).tolist()
        flat = vm.tolist()
        starts = [0, *ends[:-1]]
        lists = [flat[a:b] for a, b in zip(starts, ends, strict=True)]
        depth = 30
        cols = k - np.arange(depth)
        valid = cols >= 1
        hist = np.where(valid[None, :], self.U[:, np.maximum(cols, 0)], 0.0)
        hlen = np.full(self.n_vms, int(valid.sum()), dtype=np.int64)
        return ClusterSnapshot(
            host_total_mips=self.T, host_pe_mips=self.pe, host_power_table=self.tables,
            host_util=self._clamped(self.util_mips), host_alloc_mips=self.alloc_mips,
            host_avail_mips=self.avail_mips, host_vms=lists, vm_requested_mips=self.r,
            vm_mips=self.mips, vm_ram_mb=self.ram, vm_history=hist, vm_history_len=hlen,
            vm_in_migration=self.in_mig, migration_mbps=self.setup.migration_mbps,
            interval_s=self.setup.interval_s, host_class=self.host_class,
        )

    def _start_migrations(self, moves: list[tuple[int, int]]) -> None:
        groups: dict[float, list[tuple[int, int]]] = {}
        for v, tgt in moves:
            self.in_mig[v] = True
            self.mig_in[(v, tgt)] = self._next_seq
            self._next_seq += 1
            groups.setdefault(float(self.mig_delay[v]), []).append((v, tgt))
        self._slot_cache = None
        self.totals.migrations += len(moves)
        now = float(self.env.now)
        self.migration_log += [(v, int(self.host_of[v]), tgt, now, float(self.mig_delay[v]))
                               for v, tgt in moves]
        for delay in sorted(groups):
            self.env.process(self._completion(delay, groups[delay]))

    def _complete(self, moves: list[tuple[int, int]]) -> None:
        t = self.env.now
        if t > self.last_process_s:
            # Superseded by the forced update below except for energy and dropped guests.
            self._update(t, energy=True, drop=True, record=False)
        for v, tgt in moves:
            del self.mig_in[(v, tgt)]
            self.host_of[v] = tgt
            self.seq[v] = self._next_seq
            self._next_seq += 1
            self.in_mig[v] = False
        self._slot_cache = None
        self._update(t, energy=True, drop=True)

    # ----------------------------------------------------------------- processes
    def _control(self) -> ProcessGenerator:
        """SimPy process: the datacenter's periodic update and optimisation."""
        yield self.env.timeout(self.setup.first_event_s)
        k = 0
        while True:
            yield self.env.timeout(self.setup.interval_s)
            k += 1
            t = self.env.now
            if t != self.t_k[k - 1]:  # pragma: no cover - guards the instant arithmetic
                raise RuntimeError(f"periodic instant {t!r} != {self.t_k[k - 1]!r}")
            self._update(t, energy=True, drop=True, k=k)
            n_mig = 0
            if self.spec.kind == "migration":
                stats = PlanStats()
                moves = plan_migrations(self._snapshot(k), self.detector, self.selector,
                                        self.rng, stats)
                self.plan_stats.append(stats)
                if moves:
                    n_mig = len(moves)
                    self._start_migrations(moves)
                    self._update(t, energy=False, drop=False, k=k)
            self.totals.intervals.append({
                "time_s": t,
                "active_hosts": float(np.count_nonzero(self.util_mips > 0)),
                "vms": float(np.count_nonzero(self.alive)),
                "migrations": float(n_mig),
                "energy_kwh": self.totals.energy_j / JOULES_PER_KWH,
            })

    def _completion(self, delay: float, moves: list[tuple[int, int]]) -> ProcessGenerator:
        """SimPy process: the migrations that end together, ``delay`` s after they started."""
        yield self.env.timeout(delay)
        self._complete(moves)

    # ----------------------------------------------------------------- run
    def run(self) -> dict[str, Any]:
        """Simulate and return the metrics (see :func:`run_cloudsim_planetlab`)."""
        t0 = time.perf_counter()
        self._initial_placement()
        self.env.process(self._control())
        self.env.run(until=self.limit_s)
        s = self.recorder.summary()
        energy = self.totals.energy_j / JOULES_PER_KWH
        sv = slav(s.slatah, s.pdm)
        return {
            "policy": self.spec.name,
            "hosts": self.n_hosts,
            "vms": self.n_vms,
            "energy_kwh": energy,
            "migrations": self.totals.migrations,
            "slatah": s.slatah,
            "pdm": s.pdm,
            "slav": sv,
            "esv": esv(energy, sv),
            "overall_sla_violation": s.overall_sla_violation,
            "average_sla_violation": s.average_sla_violation,
            "host_shutdowns": s.host_shutdowns,
            "time_before_shutdown_mean_s": s.time_before_shutdown_mean_s,
            "time_before_shutdown_sd_s": s.time_before_shutdown_sd_s,
            "time_before_migration_mean_s": s.time_before_migration_mean_s,
            "time_before_migration_sd_s": s.time_before_migration_sd_s,
            "updates": self.totals.updates,
            "wall_s": time.perf_counter() - t0,
            "shutdown_times_s": s.shutdown_times_s,
            "migration_times_s": s.migration_times_s,
        }

    def intervals(self) -> pd.DataFrame:
        """Per-interval table: time_s, active_hosts, vms, migrations, energy_kwh (cumulative)."""
        return pd.DataFrame(self.totals.intervals,
                            columns=["time_s", "active_hosts", "vms", "migrations", "energy_kwh"])


def run_cloudsim_planetlab(
    util: F64,
    policy: str,
    n_hosts: int = 800,
    seed: int = 0,
    *,
    intervals: bool = False,
    setup: PlanetLabSetup | None = None,
) -> dict[str, Any] | tuple[dict[str, Any], pd.DataFrame]:
    """Run CloudSim's PlanetLab consolidation experiment in compat mode.

    Parameters
    ----------
    util
        (n_vms, 288) or (n_vms, 289) utilisation fractions, guests in sorted trace-file order.
    policy
        ``"npa"``, ``"dvfs"`` or ``"<detector>-<selection>-<parameter>"`` such as
        ``"thr-mmt-0.8"``, ``"iqr-mmt-1.5"``, ``"mad-mmt-2.5"``, ``"lr-mmt-1.2"``,
        ``"lrr-mmt-1.2"``, ``"lr-mc-1.2"``, ``"lr-rs-1.2"``, ``"lr-mu-1.2"``.
    n_hosts
        Hosts (half G4, half G5, alternating).
    seed
        Seed of the random-selection stream (only ``rs`` draws).
    intervals
        Also return the per-interval table.
    setup
        Experiment constants (defaults: CloudSim's).

    Returns
    -------
    dict
        ``energy_kwh``, ``migrations``, ``slatah``, ``pdm``, ``slav``, ``esv`` (SLA figures as
        fractions), ``host_shutdowns``, ``time_before_shutdown_{mean,sd}_s``,
        ``time_before_migration_{mean,sd}_s``, ``overall_sla_violation``,
        ``average_sla_violation``, ``vms``, ``hosts``, ``updates``, ``wall_s`` and the individual
        ``shutdown_times_s`` / ``migration_times_s`` arrays; with ``intervals=True`` also a
        DataFrame (see :meth:`CloudSimEngine.intervals`).
    """
    eng = CloudSimEngine(util, policy, n_hosts=n_hosts, seed=seed, setup=setup)
    out = eng.run()
    if intervals:
        return out, eng.intervals()
    return out
