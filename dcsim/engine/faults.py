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


Snapshots. Running VMs are saved to a storage target as full or incremental snapshots; a
completed write becomes a restore point. The schedule, the writes (fluid FIFO or network flows),
retention, the restore points and the storage target's traffic and energy
(``snapshot_energy_kwh``) are owned by :class:`dcsim.engine.snapshots.Snapshots`, which this
extension creates and calls; see that module for the model.

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
running extension: the ``Faults`` class, its SimPy processes and the extension factory; the
snapshot machinery lives in ``dcsim.engine.snapshots``.

Imports: heapq, numpy, simpy, dcsim.{config, errors, model, units},
dcsim.engine.{extensions, fault_inputs, snapshots}.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
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
from dcsim.engine.snapshots import Snapshots
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
        # snapshots, restore points and the storage target
        self.snap: SnapshotSpec | None = spec.snapshots
        self.snaps = Snapshots(sim, spec, self.is_container_host)

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
            env.process(self.snaps.process(self.snap))
        sim.tick_hooks.append(self._sample)

    def _sample(self, now: float) -> None:
        st = self.sim.state
        self.series.append((now, int(((self.n_power_down + self.n_cut) > 0).sum()),
                            int((st.status == GuestStatus.DOWN).sum())))

    # ------------------------------------------------------------------ failure processes ---
    def _units(self, kind: str) -> list[list[int]]:
        """Hosts of each failing unit: one per host, or one per rack."""
        sim = self.sim
        return unit_hosts(kind, sim.state.n_hosts, self.spec.racks, sim.topology)

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
                    yield from self._up(open_ev.pop(u))
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
        sim, st, now, snaps = self.sim, self.sim.state, self.sim.env.now, self.snaps
        hit: list[int] = []
        for h in ev.hosts:
            was_usable = (self.n_power_down[h] + self.n_cut[h]) == 0
            if ev.cause == "power":
                self.n_power_down[h] += 1
                if self.n_power_down[h] == 1:
                    members = list(st.members[h])
                    for g in members:
                        self.snaps.stop(g)
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
                        self.snaps.stop(g)
                        sim.evict(g, GuestStatus.DOWN)
                        self._guest_down(g, h)
                        hit.append(g)
                    sim.maybe_sleep(h)
            if h == snaps.storage_host and snaps.storage_up:
                snaps.storage_lost()
        if hit:
            sim.env.process(self._recover(sorted(hit), now))

    def _guest_down(self, g: int, h: int) -> None:
        """Guest ``g`` was just evicted (status DOWN) from host ``h``: account lost work and
        downtime."""
        sim, now = self.sim, self.sim.env.now
        sim.set_paused(g, False)
        sim.set_speed(g, 1.0)
        u = float(sim.useful_mi[g])
        base = float(self.start_u[g])
        snaps = self.snaps
        if self.spec.recovery.restart == "snapshot" and snaps.restorable(g):
            base = max(base, float(snaps.rp_u[g]))
        self.lost_mi[g] += u - base
        self.start_u[g] = u  # nothing is delivered while down: the restart starts from here
        self.fail_host[g] = h
        snaps.chain_ok[g] = False
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

    def _up(self, ev: FailureEvent) -> ProcessGenerator:
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
            if h == self.snaps.storage_host and self.n_power_down[h] + self.n_cut[h] == 0:
                self.snaps.storage_up = True
        if self.waiting and self.spec.recovery.retry_on_repair:
            yield from self._restart(sorted(self.waiting))

    # ------------------------------------------------------------------ recovery ------------
    def _recover(self, guests: list[int], t_fail: float) -> ProcessGenerator:
        """SimPy process: wait for detection, then restart the guests a failure took down."""
        env = self.sim.env
        self.events += 1
        yield env.timeout(self.spec.recovery.detection)
        yield from self._restart(guests)

    def _restart(self, guests: list[int]) -> ProcessGenerator:
        """Admit the still-down ``guests`` on other hosts with their recovery delay (an
        outside agent, if attached, chooses their hosts: ``Simulation.decide``)."""
        sim, st, now, snaps = self.sim, self.sim.state, self.sim.env.now, self.snaps
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
            elif rec.restart == "snapshot" and snaps.restorable(g):
                mode = "snapshot"
            else:
                mode = "cold"
            modes.append(mode)
            if mode == "snapshot":
                nbytes[i], wait = snaps.queue_restore(g, now)
                extra[i] = wait + rec.restore_overhead
            self._rollback(g, mode)
        life = sim.arrival_s[batch] + sim.lifetime_s[batch] - now
        resume = np.asarray([m == "snapshot" for m in modes], dtype=bool)
        chosen = yield from sim.decide(batch)
        decision = sim.admit(batch, lifetime_left=life, extra_delay=extra, skip_boot=resume,
                             unplaced=GuestStatus.DOWN, decision=chosen)
        for i, (g, h) in enumerate(zip(cand, decision.tolist(), strict=True)):
            if h < 0:  # no room: it stays DOWN until a repair
                self.waiting.add(g)
                continue
            wake = max(0.0, float(sim.ready_at[h]) - now)  # until the host is ready
            boots = sim.sc.guest_groups[int(st.guest_group[g])].spec.boot and not resume[i]
            t_run = now + wake + (sim.boot_time(g, h) if boots else 0.0) + float(extra[i])
            self.up_at[g] = t_run
            self.n_restarts[g] += 1
            if modes[i] == "snapshot":
                snaps.restore_sent(g, h, float(nbytes[i]))
            self.open_row[g] = len(self.recoveries)
            self.recoveries.append({
                "guest": g, "failed_host": int(self.fail_host[g]), "host": h,
                "down_since_s": float(self.down_since[g]), "restart_s": now,
                "running_s": math.nan, "recovery_s": math.nan, "mode": modes[i],
                "restore_bytes": float(nbytes[i]),
                "snapshot_age_s": now - float(snaps.rp_t[g]) if modes[i] == "snapshot"
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
        point = max(done, float(self.snaps.rp_work[g])) if mode == "snapshot" else done
        cur = float(sim.work[g])
        if point < cur:
            self.replayed_mi[g] += cur - point
            sim.work[g] = point  # off any host: the engine integrates nothing for it now

    # ------------------------------------------------------------------ snapshots -----------
    def request_snapshot(self, guests: I64) -> None:
        """Snapshot ``guests`` (running VMs among them) now: the on-demand entry point."""
        self.snaps.request_snapshot(guests)

    # ------------------------------------------------------------------ results -------------
    def finish(self, sim: Simulation, result: Result) -> None:
        """Close the books at the end of the run; add summary metrics and tables (handed over
        as Frames, ``dcsim.metrics.result``: written without pandas, built when read)."""
        from dcsim.metrics.result import Frame

        st, end, snaps = sim.state, sim.duration, self.snaps
        snaps.close(end)
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
        cols = ["guest", "failed_host", "host", "down_since_s", "restart_s", "running_s",
                "recovery_s", "mode", "restore_bytes", "snapshot_age_s", "interrupted"]
        rec = Frame([tuple(r[c] for c in cols) for r in self.recoveries], columns=cols)
        # the recovery times that ended, in row order (the column without its NaNs)
        rt = np.array([float(r["recovery_s"]) for r in self.recoveries], dtype=np.float64)
        rt = rt[~np.isnan(rt)]
        peak, end_b = snaps.storage_levels()
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
            "snapshots_taken": snaps.taken,
            "snapshots_skipped": snaps.skipped,
            "snapshots_aborted": snaps.aborted,
            "snapshot_storage_peak_bytes": peak,
            "snapshot_storage_end_bytes": end_b,
            "snapshot_traffic_bytes": snaps.write_bytes,
            "restore_traffic_bytes": snaps.read_bytes,
            "snapshot_energy_kwh": snaps.storage_j / JOULES_PER_KWH,
        })
        result.summary["events"] = result.summary.get("events", 0) + self.events + snaps.events
        result.tables["availability"] = Frame({
            "guest": idx,
            "group": st.guest_group[idx],
            "window_s": window,
            "downtime_s": down,
            "availability": avail,
            "failures": self.n_down[idx],
            "restarts": self.n_restarts[idx],
            "lost_work_mi": self.lost_mi[idx],
            "replayed_work_mi": self.replayed_mi[idx],
            "snapshots": snaps.n_snaps[idx],
        })
        result.tables["recoveries"] = rec
        result.tables["failures"] = Frame({
            "kind": [f.kind for f in self.failures],
            "unit": [f.unit for f in self.failures],
            "cause": [f.cause for f in self.failures],
            "hosts": [len(f.hosts) for f in self.failures],
            "fail_s": [f.time_s for f in self.failures],
            "repair_s": [f.repair_s for f in self.failures],
        })
        result.tables["faults_timeseries"] = Frame(
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
