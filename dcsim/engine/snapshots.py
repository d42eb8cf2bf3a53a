"""Guest snapshots of the ``faults`` extension: scheduling, writes, retention, restore points.

Owns the :class:`Snapshots` state of one run: the snapshot schedule (a SimPy process), the
writes to the storage target, retention of the files, the committed restore points each guest
can be restored from, the restore reads' FIFO and the storage target's traffic and energy.
:class:`dcsim.engine.faults.Faults` creates one and calls it when hosts fail, when guests are
restored and at the end of the run; the results it reports are Faults' summary metrics.

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

Imports: numpy, simpy, dcsim.{config, model}; only for type checking dcsim.engine.simulation.
Must not import :mod:`dcsim.engine.faults` (which imports this module).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
from numpy.typing import NDArray

from dcsim.config.faults import FaultsSpec, SnapshotSpec
from dcsim.model.cluster import GuestStatus

if TYPE_CHECKING:
    from dcsim.engine.simulation import Simulation

__all__ = ["Snapshots"]

ProcessGenerator = Generator[simpy.events.Event, Any, Any]
I64 = NDArray[np.intp]
B1 = NDArray[np.bool_]


class _Kept:
    """Snapshot files kept for one guest: sizes (bytes) from running number ``first`` on, and
    the running numbers of the full ones among them."""

    __slots__ = ("first", "fulls", "sizes")

    def __init__(self) -> None:
        self.first = 0
        self.sizes: deque[float] = deque()
        self.fulls: deque[int] = deque()


class Snapshots:
    """Snapshots, restore points and the storage target of one run (see the module docstring).

    Parameters
    ----------
    sim : Simulation
        The run; only its public methods and arrays are used.
    spec : FaultsSpec
        The validated ``faults`` section (its ``snapshots`` and ``storage``).
    is_container_host : bool array
        Per host: its guests are containers (never snapshotted).
    """

    def __init__(self, sim: Simulation, spec: FaultsSpec, is_container_host: B1) -> None:
        self.sim = sim
        self.spec = spec
        self.is_container_host = is_container_host
        st = sim.state
        n_g = st.n_guests_total
        self.events = 0
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

    # ------------------------------------------------------------------ restore points ------
    def restorable(self, g: int) -> bool:
        """Guest ``g`` has a committed restore point and the storage target is up."""
        return bool(self.has_rp[g] and self.storage_up)

    def stop(self, g: int) -> None:
        """Before guest ``g`` goes down: commit its finished write, abort one in progress."""
        self._commit_due(np.asarray([g], dtype=np.intp))
        if self.s_active[g]:
            self._abort(g)

    def queue_restore(self, g: int, now: float) -> tuple[float, float]:
        """Queue the read of guest ``g``'s full image: (bytes, wait until it is read, s)."""
        nbytes = self.full_bytes[g]  # the newest copy of every page
        t0 = max(now, self.read_busy)
        self.read_busy = t0 + nbytes / self.B
        return nbytes, self.read_busy - now

    def restore_sent(self, g: int, h: int, nbytes: float) -> None:
        """Account the restore of ``nbytes`` of guest ``g`` to host ``h`` (traffic, energy)."""
        self.read_bytes += nbytes
        self.storage_j += self.spec.storage.power * nbytes / self.B
        if self.use_net:
            assert self.storage_host is not None
            self.sim.network.transfer(self.storage_host, h, nbytes,
                                      rate_cap_bps=self.B * 8.0, tag=f"restore:{g}")

    # ------------------------------------------------------------------ writes --------------
    def request_snapshot(self, guests: I64) -> None:
        """Snapshot ``guests`` (running VMs among them) now: the on-demand entry point."""
        self._take(np.asarray(guests, dtype=np.intp))

    def process(self, spec: SnapshotSpec) -> ProcessGenerator:
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

    def storage_lost(self) -> None:
        """The storage host failed: writes in progress abort, restore points are unavailable."""
        now = self.sim.env.now
        self.storage_up = False
        active = np.flatnonzero(self.s_active)
        self._commit_due(active)
        for g in np.flatnonzero(self.s_active & (self.s_done > now)).tolist():
            self._abort(g)

    # ------------------------------------------------------------------ end of the run ------
    def close(self, end: float) -> None:
        """End of the run at ``end``: commit finished writes, count only the bytes sent of the
        writes still going."""
        self._commit_due(np.flatnonzero(self.s_active & (self.s_done <= end)))
        for g in np.flatnonzero(self.s_active).tolist():  # writes still going at the end
            w0, w1, b = float(self.s_w0[g]), float(self.s_done[g]), float(self.s_bytes[g])
            frac = min(1.0, max(0.0, (end - w0) / (w1 - w0))) if np.isfinite(w1) and w1 > w0 \
                else 0.0
            self.write_bytes -= b * (1 - frac)
            self.storage_j -= self.spec.storage.power * b * (1 - frac) / self.B

    def storage_levels(self) -> tuple[float, float]:
        """Storage in use: (peak, at the end) in bytes."""
        # over time: +bytes at each write end, -bytes at each deletion
        peak = end_b = 0.0
        if self.log_t:
            order = np.argsort(np.asarray(self.log_t), kind="stable")
            ts = np.asarray(self.log_t)[order]
            level = np.cumsum(np.asarray(self.log_b)[order])
            keep = np.append(ts[1:] != ts[:-1], True)  # level after all changes of an instant
            peak = float(level[keep].max())
            end_b = float(level[-1])
        return peak, end_b
