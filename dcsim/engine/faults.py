"""Faults and recovery: host and rack failures, guest snapshots saved as files, HA restarts.

An engine extension (``faults`` section, ``dcsim.config.faults``). It changes the simulation
through ``Simulation``'s public methods (``fail_host``, ``repair_host``, ``evict``, ``admit``,
``maybe_sleep``, ``set_paused``, ``set_speed``, and ``update_host`` around the change of a
cut-off host's ``usable``), and directly only for guests that are on no host (job progress
rolled back). With no ``faults`` section it is not created; with a section that causes no
failure it changes no number of the run (snapshots only read state).

Failures. Host failures are an alternating renewal process per host (``ttf`` from the start or
the last repair, then ``repair``), or a trace; rack failures take every host of a rack down at
once (``power``: they fail; ``switch``: they are cut off; racks are ``size`` consecutive host ids
or, with a ``network`` section, the edge switches of its topology). Each process draws from its
own named streams (``faults.hosts.ttf``, ``faults.hosts.repair``, ``faults.racks.ttf``,
``faults.racks.repair``) and is one SimPy process holding a heap of next events, so events grow
with failures and repairs, not with hosts. A failed host (``Simulation.fail_host``) is unusable
(placement skips it), its guests are evicted with status ``DOWN``, migrations heading to it are
cancelled, and it draws 0 W (the time series counts it in ``failed_hosts``); a cut-off host is
unusable and its guests are evicted, but it keeps its power state (it sleeps once empty if
sleeping is on). A host down for several causes at once comes back when the last one is
repaired (``Simulation.repair_host``), asleep and empty (or idle if sleeping is off); a host
whose power failures are all repaired while it is still cut off is powered again (asleep or
idle) but stays unusable until the cut is repaired too.

Snapshots. A snapshot saves a running VM's state to the storage target: *full* = RAM + the disk
delta; *incremental* = the pages dirtied since the last completed snapshot: ``dirty_rate`` × the
guest's CPU activity since then (delivered MIPS / its vCPUs × MIPS) × elapsed time, at most the
writable working set W = ``working_set`` × RAM (``dirty_model: linear``), or W·(1 − e^(−rate·t/W))
when writes fall uniformly on W (``uniform``: rewriting a dirty page adds nothing). The first
snapshot of a guest, the first after a restart and every ``full_every``-th are full. Periodic
snapshots are batched: the guests of a group are spread over ``batches`` instants per interval
and each instant is one vectorized step, so events grow with batches × intervals, not guests. A
snapshot captures the guest as it is when it starts (a crash-consistent copy-on-write image) and
becomes a restore point when its write ends.

Without a ``network`` section (or without ``storage.host``) writes go to the storage target as a
fluid FIFO: the target drains its queue at its bandwidth B and no write ends before its bytes
could cross the source host's NIC (``end = max(queue end, start + bytes / NIC)``). A write's end
is thus known when it starts and needs no event: restore points are committed lazily, the next
time the guest is looked at, with the instant the write ended. With a network and a storage
host, each write is a ``network.transfer`` to that host (capped at B) and its completion event
commits it. A guest whose previous snapshot is still being written skips the next one
(``snapshots_skipped``: a saturated target thins the schedule out); a write cut short by a
failure is aborted (the bytes sent so far count as traffic). Retention keeps the last
``keep_last`` restore points of each guest and the files they need (an incremental chain back to
its full snapshot); storage in use is the sum of the kept files, each counted from the end of its
write to its deletion.

Energy of snapshots. The storage target draws ``storage.power`` extra watts while it moves data at
its full bandwidth, so every byte written or read costs ``power / bandwidth`` joules
(``snapshot_energy_kwh``; not part of ``energy_it_kwh``, which counts the hosts). The CPU the
source host spends copying pages is not charged (it is small next to the guest's own work).

Recovery. ``detection`` after a failure, the guests it took down are restarted through
``Simulation.admit`` (the placement policy chooses hosts; failed hosts are never chosen):
* ``snapshot`` with a restore point on an available storage target: extra delay = reading a
  full image (the newest copy of every page: RAM + disk delta, however long the chain) at B
  (restores queue among themselves, ahead of snapshot writes) + ``restore_overhead``; a restore
  resumes the saved state and does not boot (``admit(..., skip_boot=...)``). Over the network
  the restore is also sent as a flow from the storage host (traffic and contention), but its
  duration is this estimate.
* ``cold`` (or ``snapshot`` without a restore point): no extra delay: the engine's boot time.
* containers (guests of a ``container``-layer host) always restart from their image: boot time.
* ``none``: guests stay down.
The guest keeps its original departure instant (``lifetime_left``). Guests that fit nowhere stay
``DOWN`` (``admit(..., unplaced=DOWN)``) and are retried whenever a host is repaired. A guest
evicted while still booting is restarted like any other (the engine ignores the timers of an
admission evicted since).

Lost work. ``lost_work_mi`` of a failure is the useful work the guest delivered since its restore
point: its last completed snapshot when the recovery restores snapshots (and the storage is up at
the failure), else its last (re)start. For guests running finite jobs the work is also rolled back
and replayed: progress goes back to the restore point used (for a cold restart, to the end of the
last finished job: finished jobs' results are kept), ``replayed_work_mi``; jobs finished after the
snapshot stay finished.

Downtime and availability. A guest is down from the failure until it runs again (restore or
boot done), or until its planned departure or the end of the run. Availability of a guest =
1 − downtime / (time from its arrival to its departure or the end of the run), over guests that
arrived and were placed; ``availability`` overall is 1 − Σ downtime / Σ time.

Not modelled (see the report): link failures (the flow model cannot disable links), interrupting
a migration in flight (its reservation on a failed destination is given back, its flow runs on),
a storage capacity limit, the snapshot's CPU cost and slowdown on the guest.

Config-time checks, failure traces, the summary-metric descriptions and pure helpers (rack
grouping, failure distributions) live in ``dcsim.engine.fault_inputs``; ``check_faults``,
``read_failure_trace`` and ``FAULT_SUMMARY_DOC`` are re-exported here. This module owns the
running extension: the ``Faults`` class, its SimPy processes and the extension factory.

Imports: heapq, numpy, pandas, simpy, dcsim.{config, errors, model, units},
dcsim.engine.{extensions, fault_inputs}.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import simpy
from numpy.typing import NDArray

from dcsim.config.faults import FaultsSpec, SnapshotSpec
from dcsim.engine.extensions import EXTENSIONS
from dcsim.engine.fault_inputs import (
    FAULT_SUMMARY_DOC,
    check_faults,
    failure_distributions,
    read_failure_trace,
    trace_path,
    unit_hosts,
)
from dcsim.errors import ConfigError
from dcsim.model.cluster import GuestStatus
from dcsim.units import JOULES_PER_KWH

if TYPE_CHECKING:
    from dcsim.config.resolve import Scenario
    from dcsim.engine.simulation import Simulation
    from dcsim.metrics.result import Result

__all__ = [
    "FAULT_SUMMARY_DOC",
    "FailureEvent",
    "Faults",
    "check_faults",
    "read_failure_trace",
]

ProcessGenerator = Generator[simpy.events.Event, Any, Any]
F64 = NDArray[np.float64]
I64 = NDArray[np.intp]
B1 = NDArray[np.bool_]


# ----------------------------------------------------------------------------- the extension


class _Kept:
    """Snapshot files kept for one guest: sizes (bytes) from running number ``first`` on, and
    the running numbers of the full ones among them."""

    __slots__ = ("first", "fulls", "sizes")

    def __init__(self) -> None:
        self.first = 0
        self.sizes: deque[float] = deque()
        self.fulls: deque[int] = deque()


class FailureEvent:
    """One failure of a host or rack: which hosts, why, when (s)."""

    __slots__ = ("cause", "hosts", "kind", "repair_s", "time_s", "unit")

    def __init__(self, kind: str, unit: int, hosts: list[int], cause: str, time_s: float
                 ) -> None:
        self.kind = kind  # "host" or "rack"
        self.unit = unit
        self.hosts = hosts
        self.cause = cause  # "power" or "switch"
        self.time_s = time_s
        self.repair_s = math.inf


class Faults:
    """The fault, snapshot and recovery extension of one run (see the module docstring).

    Parameters
    ----------
    sim : Simulation
        The run; only its public methods and arrays are used.
    spec : FaultsSpec
        The validated ``faults`` section.
    trace : list of (host, fail_s, repair_s), optional
        Parsed failure trace (when ``spec.hosts.trace`` is set).
    """

    def __init__(self, sim: Simulation, spec: FaultsSpec,
                 trace: list[tuple[int, float, float]] | None = None) -> None:
        self.sim = sim
        self.spec = spec
        self.trace = trace or []
        st = sim.state
        n_h, n_g = st.n_hosts, st.n_guests_total
        self.events = 0
        # hosts
        self.n_power_down = np.zeros(n_h, dtype=np.int64)
        self.n_cut = np.zeros(n_h, dtype=np.int64)
        self.is_container_host = np.asarray(
            [sim.profiles[int(p)].kind == "container" for p in st.profile], dtype=bool)
        self.failures: list[FailureEvent] = []
        # guests: downtime and recovery
        self.down_since = np.full(n_g, np.nan)  # start of the open down interval
        self.up_at = np.full(n_g, np.nan)  # when the pending restart makes it run again
        self.open_row = np.full(n_g, -1, dtype=np.intp)  # its row in self.recoveries
        self.downtime = np.zeros(n_g)
        self.n_down = np.zeros(n_g, dtype=np.int64)
        self.n_restarts = np.zeros(n_g, dtype=np.int64)
        self.lost_mi = np.zeros(n_g)
        self.replayed_mi = np.zeros(n_g)
        self.start_u = np.zeros(n_g)  # useful MI when the guest last (re)started
        self.fail_host = np.full(n_g, -1, dtype=np.intp)
        self.waiting: set[int] = set()  # down, no room found yet
        self.recoveries: list[dict[str, Any]] = []
        self.series: list[tuple[float, int, int]] = []
        # snapshots
        self.snap: SnapshotSpec | None = spec.snapshots
        self.storage_host = spec.storage.host
        self.B = float(spec.storage.bandwidth)
        self.use_net = sim.cfg.network is not None and self.storage_host is not None
        self.storage_up = True
        self.write_busy = 0.0  # FIFO: when the storage target finishes its queued writes
        self.read_busy = 0.0  # FIFO of restores
        self.s_active = np.zeros(n_g, dtype=bool)
        self.s_t0 = np.full(n_g, np.nan)  # start instant (the state saved)
        self.s_w0 = np.full(n_g, np.nan)  # instant its bytes start to move
        self.s_done = np.full(n_g, np.inf)  # write end (inf: not known yet)
        self.s_u = np.zeros(n_g)
        self.s_work = np.zeros(n_g)
        self.s_bytes = np.zeros(n_g)
        self.s_full = np.zeros(n_g, dtype=bool)
        self.s_seq = np.zeros(n_g, dtype=np.int64)  # to ignore completions of aborted writes
        self.s_flow: dict[int, int] = {}
        self.has_rp = np.zeros(n_g, dtype=bool)  # a committed restore point exists
        self.rp_t = np.full(n_g, np.nan)
        self.rp_u = np.zeros(n_g)
        self.rp_work = np.zeros(n_g)
        self.chain_ok = np.zeros(n_g, dtype=bool)  # next snapshot may be incremental
        self.since_full = np.zeros(n_g, dtype=np.int64)
        self.n_snaps = np.zeros(n_g, dtype=np.int64)
        self.files: dict[int, _Kept] = {}
        self.log_t: list[float] = []  # storage changes: instant, s
        self.log_b: list[float] = []  # and bytes added (+) or deleted (-)
        self.taken = self.skipped = self.aborted = 0
        self.write_bytes = 0.0
        self.read_bytes = 0.0
        self.storage_j = 0.0
        self.snap_guests = np.zeros(n_g, dtype=bool)
        self.full_bytes = np.zeros(n_g)  # size of a full snapshot: RAM + disk delta
        if self.snap is not None:
            self.full_bytes = st.gram + self.snap.disk_delta * st.gdisk
            groups = (range(len(sim.slices)) if self.snap.groups is None
                      else sorted(set(self.snap.groups)))
            for k in groups:
                self.snap_guests[sim.slices[k]] = True

    # ------------------------------------------------------------------ lifecycle -----------
    def start(self, sim: Simulation) -> None:
        """Create the failure and snapshot processes and the sampling hook."""
        env = sim.env
        spec = self.spec
        if spec.hosts is not None:
            env.process(self._failures("host"))
        if spec.racks is not None:
            env.process(self._failures("rack"))
        if self.snap is not None:
            env.process(self._snapshots(self.snap))
        sim.tick_hooks.append(self._sample)

    def _sample(self, now: float) -> None:
        st = self.sim.state
        self.series.append((now, int(((self.n_power_down + self.n_cut) > 0).sum()),
                            int((st.status == GuestStatus.DOWN).sum())))

    # ------------------------------------------------------------------ failure processes ---
    def _units(self, kind: str) -> list[list[int]]:
        """Hosts of each failing unit: one per host, or one per rack."""
        sim = self.sim
        return unit_hosts(kind, sim.state.n_hosts, self.spec.racks, sim.sc.topology)

    def _failures(self, kind: str) -> ProcessGenerator:
        """SimPy process: fail and repair the hosts (``kind='host'``) or racks of the run.

        A heap holds each unit's next failure or repair; one wake-up per distinct instant.
        """
        sim, env = self.sim, self.sim.env
        units = self._units(kind)
        heap: list[tuple[float, int, int, bool, float]] = []  # (t, seq, unit, is_fail, repair)
        seq = 0
        spec_h, spec_r = self.spec.hosts, self.spec.racks
        ttf: Any = None
        rep: Any = None
        rng_ttf = sim.streams[f"faults.{kind}s.ttf"]
        rng_rep = sim.streams[f"faults.{kind}s.repair"]
        if kind == "host" and spec_h is not None and spec_h.trace is not None:
            cause = "power"
            for h, f, r in self.trace:
                heap.append((f, seq, h, True, r))
                seq += 1
        else:
            fs = spec_h if kind == "host" else spec_r
            assert fs is not None
            cause = "power" if kind == "host" or spec_r is None else spec_r.cause
            ttf, rep = failure_distributions(fs)
            first = np.asarray(ttf.rvs(size=len(units), random_state=rng_ttf), dtype=float)
            for u, t in enumerate(first.tolist()):
                heap.append((t, seq, u, True, math.nan))
                seq += 1
        heapq.heapify(heap)
        open_ev: dict[int, FailureEvent] = {}
        while heap and heap[0][0] < sim.duration:
            t = heap[0][0]
            if t > env.now:
                self.events += 1
                yield env.timeout(t - env.now)
            while heap and heap[0][0] <= env.now:
                _, _, u, is_fail, r = heapq.heappop(heap)
                if is_fail:
                    ev = FailureEvent(kind, u, units[u], cause, env.now)
                    self.failures.append(ev)
                    open_ev[u] = ev
                    self._down(ev)
                    if rep is not None:
                        r = float(rep.rvs(random_state=rng_rep))
                    ev.repair_s = env.now + r
                    if math.isfinite(r):
                        heapq.heappush(heap, (env.now + r, seq, u, False, r))
                        seq += 1
                else:
                    self._up(open_ev.pop(u))
                    if ttf is not None:
                        nxt = env.now + float(ttf.rvs(random_state=rng_ttf))
                        heapq.heappush(heap, (nxt, seq, u, True, math.nan))
                        seq += 1

    # ------------------------------------------------------------------ going down ----------
    def _down(self, ev: FailureEvent) -> None:
        """Take the hosts of failure ``ev`` down now; schedule the restart of their guests.

        The first power failure of a host fails it (``Simulation.fail_host``); a cut (switch)
        makes a host that was still usable unusable and evicts its guests, leaving it powered.
        """
        sim, st, now = self.sim, self.sim.state, self.sim.env.now
        hit: list[int] = []
        for h in ev.hosts:
            was_usable = (self.n_power_down[h] + self.n_cut[h]) == 0
            if ev.cause == "power":
                self.n_power_down[h] += 1
                if self.n_power_down[h] == 1:
                    members = list(st.members[h])
                    for g in members:
                        self._stop_snapshot(g)
                    evicted = sim.fail_host(h)
                    for g in evicted:
                        self._guest_down(g, h)
                    hit += evicted
            else:
                self.n_cut[h] += 1
                if was_usable:
                    def cut(h: int = h) -> None:
                        st.usable[h] = False
                        # give back the reservations of migrations heading here
                        for g in np.flatnonzero(st.mig_dst == h).tolist():
                            st.abort_migration(g)

                    sim.update_host(h, cut)
                    for g in list(st.members[h]):
                        self._stop_snapshot(g)
                        sim.evict(g, GuestStatus.DOWN)
                        self._guest_down(g, h)
                        hit.append(g)
                    sim.maybe_sleep(h)
            if h == self.storage_host and self.storage_up:
                self._storage_lost()
        if hit:
            sim.env.process(self._recover(sorted(hit), now))

    def _stop_snapshot(self, g: int) -> None:
        """Before guest ``g`` goes down: commit its finished write, abort one in progress."""
        self._commit_due(np.asarray([g], dtype=np.intp))
        if self.s_active[g]:
            self._abort(g)

    def _guest_down(self, g: int, h: int) -> None:
        """Guest ``g`` was just evicted (status DOWN) from host ``h``: account lost work and
        downtime."""
        sim, now = self.sim, self.sim.env.now
        sim.set_paused(g, False)
        sim.set_speed(g, 1.0)
        u = float(sim.useful_mi[g])
        base = float(self.start_u[g])
        if self.spec.recovery.restart == "snapshot" and self.has_rp[g] and self.storage_up:
            base = max(base, float(self.rp_u[g]))
        self.lost_mi[g] += u - base
        self.start_u[g] = u  # nothing is delivered while down: the restart starts from here
        self.fail_host[g] = h
        self.chain_ok[g] = False
        if not np.isnan(self.down_since[g]) and self.up_at[g] <= now:
            self._close(g, float(self.up_at[g]))  # it had come back: a new down interval
        if np.isnan(self.down_since[g]):
            self.down_since[g] = now
            self.n_down[g] += 1
        elif self.open_row[g] >= 0:  # failed again while being restored
            self.recoveries[int(self.open_row[g])]["interrupted"] = True
            self.open_row[g] = -1
        self.up_at[g] = np.nan

    def _close(self, g: int, t: float) -> None:
        """End guest ``g``'s down interval at ``t``."""
        self.downtime[g] += t - float(self.down_since[g])
        r = int(self.open_row[g])
        if r >= 0:
            self.recoveries[r]["running_s"] = t
            self.recoveries[r]["recovery_s"] = t - self.recoveries[r]["down_since_s"]
        self.down_since[g] = np.nan
        self.up_at[g] = np.nan
        self.open_row[g] = -1

    def _up(self, ev: FailureEvent) -> None:
        """Repair the hosts of failure ``ev``; retry guests that found no room.

        A host comes back when its last cause is repaired; when its last power failure is
        repaired while it is still cut off, it is powered again (``Simulation.repair_host``)
        but stays unusable.
        """
        sim, st = self.sim, self.sim.state
        for h in ev.hosts:
            if ev.cause == "power":
                self.n_power_down[h] -= 1
                if self.n_power_down[h] == 0:
                    sim.repair_host(h)
                    if self.n_cut[h] > 0:
                        def still_cut(h: int = h) -> None:
                            st.usable[h] = False

                        sim.update_host(h, still_cut)
            else:
                self.n_cut[h] -= 1
                if self.n_cut[h] == 0 and self.n_power_down[h] == 0:
                    def reconnected(h: int = h) -> None:
                        st.usable[h] = True

                    sim.update_host(h, reconnected)
            if h == self.storage_host and self.n_power_down[h] + self.n_cut[h] == 0:
                self.storage_up = True
        if self.waiting and self.spec.recovery.retry_on_repair:
            self._restart(sorted(self.waiting))

    # ------------------------------------------------------------------ recovery ------------
    def _recover(self, guests: list[int], t_fail: float) -> ProcessGenerator:
        """SimPy process: wait for detection, then restart the guests a failure took down."""
        env = self.sim.env
        self.events += 1
        yield env.timeout(self.spec.recovery.detection)
        self._restart(guests)

    def _restart(self, guests: list[int]) -> None:
        """Admit the still-down ``guests`` on other hosts with their recovery delay."""
        sim, st, now = self.sim, self.sim.state, self.sim.env.now
        rec = self.spec.recovery
        for g in guests:
            self.waiting.discard(g)
        cand: list[int] = []
        for g in guests:
            if st.status[g] != GuestStatus.DOWN or np.isnan(self.down_since[g]):
                continue
            if not np.isnan(self.up_at[g]):
                continue  # a restart is already under way
            if sim.arrival_s[g] + sim.lifetime_s[g] <= now:
                continue  # its lifetime ended while it was down
            if rec.restart == "none":
                continue
            cand.append(g)
        if not cand:
            return
        batch = np.asarray(cand, dtype=np.intp)
        n = batch.shape[0]
        extra = np.zeros(n)
        modes: list[str] = []
        nbytes = np.zeros(n)
        for i, g in enumerate(cand):
            cont = bool(self.is_container_host[int(self.fail_host[g])])
            if cont:
                mode = "image"
            elif rec.restart == "snapshot" and self.has_rp[g] and self.storage_up:
                mode = "snapshot"
            else:
                mode = "cold"
            modes.append(mode)
            if mode == "snapshot":
                nbytes[i] = self.full_bytes[g]  # the newest copy of every page
                t0 = max(now, self.read_busy)
                self.read_busy = t0 + nbytes[i] / self.B
                extra[i] = (self.read_busy - now) + rec.restore_overhead
            self._rollback(g, mode)
        life = sim.arrival_s[batch] + sim.lifetime_s[batch] - now
        awake_before = st.awake.copy()
        resume = np.asarray([m == "snapshot" for m in modes], dtype=bool)
        decision = sim.admit(batch, lifetime_left=life, extra_delay=extra, skip_boot=resume,
                             unplaced=GuestStatus.DOWN)
        woken: set[int] = set()
        wake_lat = float(sim.cfg.power_management.wake_latency) if now > 0 else 0.0
        for i, (g, h) in enumerate(zip(cand, decision.tolist(), strict=True)):
            if h < 0:  # no room: it stays DOWN until a repair
                self.waiting.add(g)
                continue
            wake = 0.0
            if not awake_before[h] and h not in woken:
                wake = wake_lat
                woken.add(h)
            boots = sim.sc.guest_groups[int(st.guest_group[g])].spec.boot and not resume[i]
            t_run = now + wake + (sim.boot_time(g, h) if boots else 0.0) + float(extra[i])
            self.up_at[g] = t_run
            self.n_restarts[g] += 1
            if modes[i] == "snapshot":
                self.read_bytes += float(nbytes[i])
                self.storage_j += self.spec.storage.power * float(nbytes[i]) / self.B
                if self.use_net:
                    assert self.storage_host is not None
                    sim.network.transfer(self.storage_host, h, float(nbytes[i]),
                                         rate_cap_bps=self.B * 8.0, tag=f"restore:{g}")
            self.open_row[g] = len(self.recoveries)
            self.recoveries.append({
                "guest": g, "failed_host": int(self.fail_host[g]), "host": h,
                "down_since_s": float(self.down_since[g]), "restart_s": now,
                "running_s": math.nan, "recovery_s": math.nan, "mode": modes[i],
                "restore_bytes": float(nbytes[i]),
                "snapshot_age_s": now - float(self.rp_t[g]) if modes[i] == "snapshot"
                else math.nan,
                "interrupted": False,
            })

    def _rollback(self, g: int, mode: str) -> None:
        """Roll a finite-job guest's progress back to the restore point ``mode`` uses."""
        sim = self.sim
        if not sim.has_jobs[g] or sim.jobs_over[g]:
            return
        nxt, first = int(sim.job_next[g]), int(sim.job_first[g])
        done = float(sim.job_cum[nxt - 1]) if nxt > first else 0.0
        point = max(done, float(self.rp_work[g])) if mode == "snapshot" else done
        cur = float(sim.work[g])
        if point < cur:
            self.replayed_mi[g] += cur - point
            sim.work[g] = point  # off any host: the engine integrates nothing for it now

    # ------------------------------------------------------------------ snapshots -----------
    def request_snapshot(self, guests: I64) -> None:
        """Snapshot ``guests`` (running VMs among them) now: the on-demand entry point."""
        self._take(np.asarray(guests, dtype=np.intp))

    def _snapshots(self, spec: SnapshotSpec) -> ProcessGenerator:
        """SimPy process: take the scheduled snapshots, one vectorized step per instant."""
        sim, env = self.sim, self.sim.env
        ids = np.flatnonzero(self.snap_guests)
        if spec.schedule == "on_demand":
            for t in sorted(spec.at):
                if t >= sim.duration:
                    return
                if t > env.now:
                    self.events += 1
                    yield env.timeout(t - env.now)
                self._take(ids)
            return
        # periodic: guest i of its group in batch i mod batches
        batch_of = np.zeros(sim.state.n_guests_total, dtype=np.intp)
        for sl in sim.slices:
            batch_of[sl] = np.arange(sl.stop - sl.start) % spec.batches
        members = [ids[batch_of[ids] == b] for b in range(spec.batches)]
        plan = [(b * spec.interval / spec.batches, m) for b, m in enumerate(members) if m.size]
        k = 0
        while plan:
            for off, m in plan:
                t = k * spec.interval + off
                if t >= sim.duration:
                    return
                if t > env.now:
                    self.events += 1
                    yield env.timeout(t - env.now)
                self._take(m)
            k += 1

    def _take(self, guests: I64) -> None:
        """Start a snapshot of each running VM among ``guests`` (vectorized)."""
        sim, st, now = self.sim, self.sim.state, self.sim.env.now
        spec = self.snap
        if spec is None or not guests.shape[0]:
            return
        self._commit_due(guests)
        h_of = st.host_of[guests]
        ok = (st.status[guests] == GuestStatus.RUNNING) & (h_of >= 0)
        g = guests[ok]
        h = h_of[ok]
        vm = ~self.is_container_host[h]
        g, h = g[vm], h[vm]
        if not g.shape[0]:
            return
        if not self.storage_up:
            self.skipped += int(g.shape[0])
            return
        busy = self.s_active[g]
        self.skipped += int(busy.sum())
        g, h = g[~busy], h[~busy]
        if not g.shape[0]:
            return
        dt = now - sim.last_t[h]
        u_now = sim.useful_mi[g] + sim.useful[g] * dt
        work = np.where(sim.has_jobs[g],
                        np.minimum(sim.work[g] + sim.useful[g] * dt, sim.job_total[g]), 0.0)
        ram = st.gram[g]
        full = np.full(g.shape[0], spec.kind == "full")
        full |= ~self.chain_ok[g] | (self.since_full[g] + 1 >= spec.full_every)
        elapsed = now - np.nan_to_num(self.rp_t[g], nan=now)
        if spec.dirty_scales_with_cpu:
            cap = st.vcpus[g] * st.mips[g] * elapsed
            with np.errstate(divide="ignore", invalid="ignore"):
                act = np.where(cap > 0, (u_now - self.rp_u[g]) / cap, 0.0)
            act = np.clip(act, 0.0, 1.0)
        else:
            act = np.ones(g.shape[0])
        ws = spec.working_set * ram
        if spec.dirty_model == "uniform":
            dirty = ws * -np.expm1(-spec.dirty_rate * act * elapsed / ws)
        else:
            dirty = np.minimum(spec.dirty_rate * act * elapsed, ws)
        nbytes = np.where(full, self.full_bytes[g], dirty)
        self.s_active[g] = True
        self.s_t0[g] = now
        self.s_u[g] = u_now
        self.s_work[g] = work
        self.s_bytes[g] = nbytes
        self.s_full[g] = full
        self.s_seq[g] += 1
        self.write_bytes += float(nbytes.sum())
        self.storage_j += self.spec.storage.power * float(nbytes.sum()) / self.B
        if self.use_net:
            assert self.storage_host is not None
            self.s_w0[g] = now
            self.s_done[g] = np.inf
            for gi, hi, b in zip(g.tolist(), h.tolist(), nbytes.tolist(), strict=True):
                ev = sim.network.transfer(hi, self.storage_host, b, rate_cap_bps=self.B * 8.0,
                                          tag=f"snapshot:{gi}")
                self.s_flow[gi] = int(ev.fid)
                ev.callbacks.append(self._on_written(gi, int(self.s_seq[gi])))
        else:
            # fluid FIFO: the target drains the queue at B; no write beats its host's NIC
            queue = max(now, self.write_busy) + np.cumsum(nbytes) / self.B
            self.write_busy = float(queue[-1])
            ends = np.maximum(queue, now + nbytes * 8.0 / st.bandwidth[h])
            self.s_done[g] = ends
            self.s_w0[g] = ends - nbytes / np.minimum(self.B, st.bandwidth[h] / 8.0)

    def _on_written(self, g: int, seq: int) -> Any:
        def cb(ev: simpy.Event) -> None:
            rec = ev.value
            if self.s_active[g] and self.s_seq[g] == seq and getattr(rec, "completed", True):
                self.s_done[g] = self.sim.env.now
                self.s_flow.pop(g, None)
        return cb

    def _commit_due(self, guests: I64) -> None:
        """Turn finished writes of ``guests`` into restore points (with their end instants)."""
        now = self.sim.env.now
        due = guests[self.s_active[guests] & (self.s_done[guests] <= now)]
        if not due.shape[0]:
            return
        spec = self.snap
        assert spec is not None
        self.s_active[due] = False
        self.has_rp[due] = True
        self.rp_t[due] = self.s_t0[due]
        self.rp_u[due] = self.s_u[due]
        self.rp_work[due] = self.s_work[due]
        full = self.s_full[due]
        self.since_full[due] = np.where(full, 0, self.since_full[due] + 1)
        self.chain_ok[due] = True
        self.n_snaps[due] += 1
        self.taken += int(due.shape[0])
        k = spec.keep_last
        log_t, log_b = self.log_t, self.log_b
        for g, t, b, f in zip(due.tolist(), self.s_done[due].tolist(),
                              self.s_bytes[due].tolist(), full.tolist(), strict=True):
            kept = self.files.get(g)
            if kept is None:
                kept = self.files[g] = _Kept()
            i = kept.first + len(kept.sizes)  # running number of this file
            kept.sizes.append(b)
            if f:
                kept.fulls.append(i)
            log_t.append(t)
            log_b.append(b)
            # keep the newest k restore points and the chain they need: everything from the
            # newest full snapshot at or before the k-th newest point
            oldest = i - k + 1
            while len(kept.fulls) > 1 and kept.fulls[1] <= oldest:
                kept.fulls.popleft()
            while kept.first < kept.fulls[0]:
                log_t.append(t)
                log_b.append(-kept.sizes.popleft())
                kept.first += 1

    def _abort(self, g: int) -> None:
        """Abort guest ``g``'s write in progress (its host or the storage failed)."""
        sim, now = self.sim, self.sim.env.now
        self.s_active[g] = False
        self.aborted += 1
        b = float(self.s_bytes[g])
        if self.use_net:
            fid = self.s_flow.pop(g, None)
            sent = b
            if fid is not None:
                try:
                    sent = float(sim.network.cancel(fid).nbytes)
                except KeyError:  # it ended at this very instant: all of it was sent
                    sent = b
        else:
            w0, w1 = float(self.s_w0[g]), float(self.s_done[g])
            frac = min(1.0, max(0.0, (now - w0) / (w1 - w0))) if w1 > w0 else 1.0
            sent = b * frac
        self.write_bytes -= b - sent
        self.storage_j -= self.spec.storage.power * (b - sent) / self.B

    def _storage_lost(self) -> None:
        """The storage host failed: writes in progress abort, restore points are unavailable."""
        now = self.sim.env.now
        self.storage_up = False
        active = np.flatnonzero(self.s_active)
        self._commit_due(active)
        for g in np.flatnonzero(self.s_active & (self.s_done > now)).tolist():
            self._abort(g)

    # ------------------------------------------------------------------ results -------------
    def finish(self, sim: Simulation, result: Result) -> None:
        """Close the books at the end of the run; add summary metrics and tables."""
        st, end = sim.state, sim.duration
        self._commit_due(np.flatnonzero(self.s_active & (self.s_done <= end)))
        for g in np.flatnonzero(self.s_active).tolist():  # writes still going at the end
            w0, w1, b = float(self.s_w0[g]), float(self.s_done[g]), float(self.s_bytes[g])
            frac = min(1.0, max(0.0, (end - w0) / (w1 - w0))) if np.isfinite(w1) and w1 > w0 \
                else 0.0
            self.write_bytes -= b * (1 - frac)
            self.storage_j -= self.spec.storage.power * b * (1 - frac) / self.B
        planned = sim.arrival_s + sim.lifetime_s
        stop = np.where(np.isnan(sim.end_s), np.minimum(planned, end), sim.end_s)
        for g in np.flatnonzero(~np.isnan(self.down_since)).tolist():
            t_end = float(stop[g])
            up = float(self.up_at[g])
            if not np.isnan(up) and up <= t_end:
                self._close(g, up)
            else:
                self.downtime[g] += max(0.0, t_end - float(self.down_since[g]))
        arrived = ~np.isnan(sim.arrival_s)
        counted = arrived & (st.status != GuestStatus.REJECTED)
        idx = np.flatnonzero(counted)
        window = np.maximum(0.0, stop[idx] - sim.arrival_s[idx])
        down = self.downtime[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            avail = np.where(window > 0, 1.0 - down / window, 1.0)
        rec = pd.DataFrame(self.recoveries, columns=[
            "guest", "failed_host", "host", "down_since_s", "restart_s", "running_s",
            "recovery_s", "mode", "restore_bytes", "snapshot_age_s", "interrupted"])
        rt = rec["recovery_s"].dropna().to_numpy(dtype=float) if len(rec) else np.zeros(0)
        # storage in use over time: +bytes at each write end, -bytes at each deletion
        peak = end_b = 0.0
        if self.log_t:
            order = np.argsort(np.asarray(self.log_t), kind="stable")
            ts = np.asarray(self.log_t)[order]
            level = np.cumsum(np.asarray(self.log_b)[order])
            keep = np.append(ts[1:] != ts[:-1], True)  # level after all changes of an instant
            peak = float(level[keep].max())
            end_b = float(level[-1])
        total_w = float(window.sum())
        result.summary.update({
            "availability": 1.0 - float(down.sum()) / total_w if total_w > 0 else 1.0,
            "downtime_s": float(down.sum()),
            "lost_work_mi": float(self.lost_mi.sum()),
            "replayed_work_mi": float(self.replayed_mi.sum()),
            "mean_recovery_s": float(rt.mean()) if rt.shape[0] else math.nan,
            "p95_recovery_s": float(np.quantile(rt, 0.95)) if rt.shape[0] else math.nan,
            "host_failures": sum(1 for f in self.failures if f.kind == "host"),
            "rack_failures": sum(1 for f in self.failures if f.kind == "rack"),
            "guest_failures": int(self.n_down.sum()),
            "guest_restarts": int(self.n_restarts.sum()),
            "guests_down_at_end": int((st.status == GuestStatus.DOWN).sum()),
            "snapshots_taken": self.taken,
            "snapshots_skipped": self.skipped,
            "snapshots_aborted": self.aborted,
            "snapshot_storage_peak_bytes": peak,
            "snapshot_storage_end_bytes": end_b,
            "snapshot_traffic_bytes": self.write_bytes,
            "restore_traffic_bytes": self.read_bytes,
            "snapshot_energy_kwh": self.storage_j / JOULES_PER_KWH,
        })
        result.summary["events"] = result.summary.get("events", 0) + self.events
        result.tables["availability"] = pd.DataFrame({
            "guest": idx,
            "group": st.guest_group[idx],
            "window_s": window,
            "downtime_s": down,
            "availability": avail,
            "failures": self.n_down[idx],
            "restarts": self.n_restarts[idx],
            "lost_work_mi": self.lost_mi[idx],
            "replayed_work_mi": self.replayed_mi[idx],
            "snapshots": self.n_snaps[idx],
        })
        result.tables["recoveries"] = rec
        result.tables["failures"] = pd.DataFrame({
            "kind": [f.kind for f in self.failures],
            "unit": [f.unit for f in self.failures],
            "cause": [f.cause for f in self.failures],
            "hosts": [len(f.hosts) for f in self.failures],
            "fail_s": [f.time_s for f in self.failures],
            "repair_s": [f.repair_s for f in self.failures],
        })
        result.tables["faults_timeseries"] = pd.DataFrame(
            self.series, columns=["time_s", "hosts_down", "guests_down"])


def _build(sim: Simulation) -> Faults | None:
    """Extension factory: a ``Faults`` when the config has a ``faults`` section."""
    spec: FaultsSpec | None = getattr(sim.cfg, "faults", None)
    if spec is None:
        return None
    sc: Scenario = sim.sc
    issues = check_faults(sim.cfg, sc.base_dir)
    if issues:
        raise ConfigError(issues, source=sc.source)
    trace = None
    if spec.hosts is not None and spec.hosts.trace is not None:
        trace = read_failure_trace(trace_path(spec.hosts.trace, sc.base_dir),
                                   sim.state.n_hosts)[0]
    return Faults(sim, spec, trace)


EXTENSIONS.register("faults")(_build)
