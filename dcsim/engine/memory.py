"""Memory as hypervisors manage it: working sets, overcommit, page sharing, ballooning, swapping.

A guest's configured RAM is its *allocation*; the capacity law (``ClusterState``) keeps the sum
of allocations on a host within ``mem_overcommit`` × (RAM − the layer's footprints). What the
guests then hold in *physical* memory is decided here, per host, in the order hypervisors
reclaim memory (Waldspurger, OSDI 2002): page sharing, then ballooning, then host swapping. The
physical memory in use never exceeds the host's RAM: what does not fit is swapped.

Per guest ``g`` resident on host ``h`` (placed there, or migrating in):

- working set ``a_g`` = active fraction × allocation, from the group's ``memory:`` model (or
  its trace's memory series), sampled at every scheduling instant; no model: ``a_g`` = allocation;
- a placed guest's pages are all resident (touched): its OS fills whatever memory it is given
  with caches, and only a balloon takes memory back (Waldspurger's reason for ballooning);
- page sharing (profile ``page_sharing``): with ``n`` placed guests of one ``os_image`` on
  ``h``, each keeps ``1 − σ (n − 1) / n`` of its resident pages (σ = ``sharing_fraction``; the
  pages of ``n`` identical copies are kept once). A guest migrating in shares nothing yet;
- ballooning (profile ``ballooning``), only while the host is short of RAM: balloons take back
  idle memory ``alloc_g − a'_g``, where ``a'_g`` is the working set one memory update earlier (the
  balloon's latency), in proportion to it, just enough to cover the shortfall (``β_g``, bytes;
  the share θ of the idle memory taken is the same on the host). A guest whose balloon holds
  pages does ``1 − balloon_cost × θ`` of its work per CPU cycle (Waldspurger measured the cost
  of a full reclaim; smaller balloons cost in proportion);
- host swapping: what still exceeds RAM (``W_h``) is swapped out, a fraction ``φ_h`` of every
  guest's physical pages (the host picks pages blind to the guest's use). The part ``f_g`` of
  the working set that is not in memory (swapped by the host, or pushed out of the guest by a
  balloon sized on an older, smaller working set) makes the guest wait on swap-ins: it runs
  only ``1 / (1 + κ f_g)`` of the time (κ = ``swap_penalty``), and while it waits it uses no
  CPU (its CPU want is scaled by that share, so its host draws less power and co-located
  guests may use the cycles).

In formulas: resident ``r_g = alloc_g − β_g``; physical ``p_g = (1 − σ_g) r_g``; footprints ``F_h``
= reserved memory + per-guest overhead of every guest holding room on ``h``; physical in use
``F_h + Σ p_g − W_h ≤ RAM_h``; ``φ_h = W_h / Σ p_g``; ``u_g = max(0, a_g − r_g)``;
``f_g = (u_g + φ_h (a_g − u_g)) / a_g``; ``stall_g = 1 / (1 + κ f_g)`` scales the CPU the guest
wants, ``mem_speed_g = 1 − balloon_cost θ_h [β_g > 0]`` the work it does per cycle. Its demand
does not change: what it loses is unmet demand, booked as ``unmet_memory_mi`` = ∫ demand ×
migration speed × (1 − mem_speed × stall) dt.

The state is recomputed for every host at each scheduling instant (vectorized) and for one host
whenever its guests change (``Simulation.update_host``), so the invariant holds at every instant.
Memory accounting is active when a host group has ``mem_overcommit > 1`` or a guest group a
``memory:`` model; otherwise nothing here runs and results are those of earlier versions, bit
for bit.

Imports: numpy, dcsim.{engine.extensions, workload.models}; pandas for the results.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from dcsim.engine.extensions import EXTENSIONS
from dcsim.errors import InvariantViolation
from dcsim.workload.models import UtilizationModel, build_workload

if TYPE_CHECKING:
    from dcsim.engine.simulation import Simulation
    from dcsim.metrics.result import Result

F64 = NDArray[np.float64]
I64 = NDArray[np.intp]

GB = 1e9


def active(sim: Simulation) -> bool:
    """Whether a run needs memory accounting (see the module docstring)."""
    return (any(g.mem_overcommit > 1.0 for g in sim.sc.host_groups)
            or any(g.spec.memory is not None for g in sim.sc.guest_groups))


class Memory:
    """Per-run memory state and its accounting (an engine extension)."""

    def __init__(self, sim: Simulation) -> None:
        st = sim.state
        n_h, n_g = st.n_hosts, st.n_guests_total
        self.sim = sim
        prof = [sim.sc.profiles[n] for n in st.profile_names]
        per_host = st.profile
        self.sharing = st.sharing
        self.ballooning = st.mem_balloons = np.asarray([p.ballooning for p in prof],
                                                       dtype=bool)[per_host]
        self.balloon_cost = np.asarray([p.balloon_cost if p.ballooning else 0.0
                                        for p in prof])[per_host]
        self.kappa = np.asarray([p.swap_penalty for p in prof])[per_host]
        self.touched_only = np.asarray([p.migrate_touched for p in prof], dtype=bool)[per_host]
        self.image = st.image  # one id per distinct os_image (default: the group's name)
        self.n_images = int(st.image.max()) + 1 if n_g else 1
        # working-set models per guest group (None: every allocated page active)
        self.models: list[tuple[slice, UtilizationModel | None, bool]] = []
        for sl, g, cpu in zip(sim.slices, sim.sc.guest_groups, sim.models, strict=True):
            spec = g.spec.memory
            if spec is None:
                self.models.append((sl, None, False))
            elif spec == "trace":
                self.models.append((sl, cpu, True))
            else:
                self.models.append((sl, build_workload(
                    spec, g.spec.count, sim.streams, f"memory.{g.index}", sim.interval,
                    base_dir=sim.sc.base_dir), False))
        self.frac = np.ones(n_g)  # active fraction of the allocation now
        self.a = st.mem_active = st.gram.copy()  # working set, bytes (published to policies)
        self.a_prev = st.gram.copy()  # ... one memory update earlier (balloon sizing)
        self.sampled = False
        self.seen = np.full(n_g, -1, dtype=np.intp)  # host the guest was last resident on
        self.beta = np.zeros(n_g)  # ballooned, bytes
        self.share = st.mem_shared = np.zeros(n_g)  # σ_g now (published, kept in place)
        # host levels (bytes), piecewise constant between refreshes, and their integrals
        self.levels = np.zeros((6, n_h))  # allocated, active, physical, shared, ballooned, swapped
        self.level_s = np.zeros((6, n_h))  # ∫ level dt, byte-seconds
        self.last = np.zeros(n_h)
        self.any_sharing = bool((self.sharing > 0).any())
        self.pressed = np.zeros(n_h, dtype=bool)  # short of RAM at the last refresh
        # per host at its last refresh: guests placed + 1j × guests holding room (a change of
        # either is a change of its memory; a boot or a pause is not)
        self.sig = np.zeros(n_h, dtype=np.complex128)
        self.peak_fraction = 0.0  # max over hosts and instants of physical / RAM
        self.g_last = np.zeros(n_g)  # per guest: last integration instant, s
        self.g_active_s = np.zeros(n_g)  # ∫ a_g dt while placed, byte-seconds
        self.g_res_s = np.zeros(n_g)  # time placed, s
        self.rows: list[tuple[float, ...]] = []
        self.host_marks: list[tuple[float, F64]] = []
        self.mem_speed = sim.mem_speed = np.ones(n_g)  # work per CPU (balloon cost)
        self.stall = np.ones(n_g)  # share of its time a guest is not waiting on swap-ins
        self.slow = np.zeros(n_g, dtype=bool)  # mem_speed × stall < 1 at its last refresh
        self.n_slow = 0  # of those (0: no guest loses work to memory; ``losses`` skips)
        self.mig_speed = sim.mig_speed = np.ones(n_g)
        sim.mem_loss_mi = np.zeros(n_g)
        sim.memory = self

    # ------------------------------------------------------------------ engine hooks ----------
    def start(self, sim: Simulation) -> None:
        self._working_sets(0.0)  # known to the placement of the guests that arrive at t = 0
        sim.sample_hooks.append(self.sample)
        sim.move_hooks.append(self._moved)
        sim.tick_hooks.append(self.tick)

    def wrapped(self, h: int, change: Callable[[], None] | None) -> Callable[[], None]:
        """``change`` (if any) followed by a refresh of host ``h``'s memory."""
        hosts = np.asarray([h], dtype=np.intp)
        st = self.sim.state

        def run() -> None:
            if change is not None:
                change()
            if len(st.members[h]) + 1j * st.n_guests.item(h) != self.sig.item(h):
                self.refresh(hosts)

        return run

    def _moved(self, g: int, src: int, dst: int) -> None:
        if dst < 0:  # left its host (departure, failure): placed again, it starts afresh
            self.seen[g] = -1

    def sample(self, now: float) -> None:
        """Scheduling instant: sample working sets, then recompute every host. (The balloon
        sizes on the previous instant's working sets: at the first, on whole allocations.)"""
        if self.sampled:
            self.a_prev[:] = self.a
        self.sampled = True
        self._working_sets(now)
        self.refresh(np.arange(self.sim.state.n_hosts, dtype=np.intp))

    def _working_sets(self, now: float) -> None:
        for sl, model, from_trace in self.models:
            if model is None:
                continue
            vals = (model.mem_values(now) if from_trace  # type: ignore[attr-defined]
                    else model.values(now))
            self.frac[sl] = np.clip(vals, 0.0, 1.0)
        st = self.sim.state
        self.a = st.mem_active = self.frac * st.gram

    def to_send(self, g: int, src: int) -> float:
        """Bytes of memory a migration of guest ``g`` from ``src`` copies in its first round:
        its allocation, or its resident (touched, not ballooned) pages where the layer sends
        only those (``migrate_touched``)."""
        st = self.sim.state
        if self.touched_only[src] and self.seen[g] == src:
            return float(max(0.0, st.gram[g] - self.beta[g]))
        return float(st.gram[g])

    # ------------------------------------------------------------------ the model -------------
    def refresh(self, hosts: I64) -> None:
        """Integrate the levels of ``hosts`` (sorted) up to now and recompute their memory.

        A host that is not short of RAM, and was not at its last refresh, needs no balloon and
        no swap: its guests' memory speed stays 1 and only its levels are recomputed."""
        sim = self.sim
        st, now = sim.state, sim.env.now
        dt = now - self.last[hosts]
        self.level_s[:, hosts] += self.levels[:, hosts] * dt
        self.last[hosts] = now
        all_hosts = hosts.shape[0] == st.n_hosts
        if all_hosts:
            placed = np.flatnonzero(st.host_of >= 0)
            incoming = np.flatnonzero(st.mig_dst >= 0)
        elif hosts.shape[0] == 1:
            placed = np.asarray(st.members[int(hosts[0])], dtype=np.intp)
            incoming = np.flatnonzero(st.mig_dst == hosts[0])
        else:
            placed = np.flatnonzero(np.isin(st.host_of, hosts))
            incoming = np.flatnonzero(np.isin(st.mig_dst, hosts))
        h_of = st.host_of[placed]
        fresh = self.seen[placed] != h_of
        if fresh.any():  # newly placed (its time starts now) or arrived by migration: its
            # balloon and stalls were its old host's (this host's state is set below if short)
            new = placed[fresh]
            newly = new[self.seen[new] < 0]
            self.g_last[newly] = now
            self.beta[new] = 0.0
            self.stall[new] = 1.0
            self.mem_speed[new] = 1.0
            self._mark_slow(new)
            sim.speed[new] = self.mig_speed[new]
            self.seen[new] = h_of[fresh]
        # per-guest time integrals (working set while placed)
        gdt = now - self.g_last[placed]
        self.g_active_s[placed] += self.a[placed] * gdt
        self.g_res_s[placed] += gdt
        self.g_last[placed] = now
        local = np.searchsorted(hosts, h_of) if not all_hosts else h_of
        n_loc = hosts.shape[0]
        self.sig[hosts] = np.bincount(local, minlength=n_loc) + 1j * st.n_guests[hosts]
        # page sharing among the placed guests of one image on one host
        sigma: F64 | float = 0.0
        if self.any_sharing:
            key = local * self.n_images + self.image[placed]
            n_img = np.bincount(key, minlength=n_loc * self.n_images)[key].astype(np.float64)
            sigma = self.sharing[h_of] * (n_img - 1.0) / n_img
            self.share[placed] = sigma
        t_p = st.gram[placed]
        ram = st.ram[hosts]
        footprint = st.footprint(hosts)
        kept = (1.0 - sigma) * t_p
        need = footprint + _sum(local, kept, n_loc)
        # incoming migrations: the pages sent (all, or the resident ones: migrate_touched), no
        # sharing yet, never ballooned
        in_held: F64 | float = 0.0
        if incoming.shape[0]:
            in_loc = (np.searchsorted(hosts, st.mig_dst[incoming]) if not all_hosts
                      else st.mig_dst[incoming])
            t_in = np.where(self.touched_only[st.host_of[incoming]],
                            st.gram[incoming] - self.beta[incoming], st.gram[incoming])
            in_held = _sum(in_loc, t_in, n_loc)
            need = need + in_held
        short = need - ram
        pressed = short > 0
        a_p = self.a[placed]
        swapped: F64 = np.zeros(n_loc)
        ballooned: F64 = swapped
        res = t_p  # resident pages per placed guest (not ballooned)
        if pressed.any() or self.pressed[hosts].any():
            # ballooning: idle memory as measured one update earlier, only on hosts short
            beta = np.zeros(placed.shape[0])
            theta = np.zeros(n_loc)
            if pressed.any():
                idle = np.where(self.ballooning[h_of],
                                np.maximum(0.0, t_p - self.a_prev[placed]), 0.0)
                cap = _sum(local, (1.0 - sigma) * idle, n_loc)
                theta = np.where(pressed & (cap > 0), np.minimum(1.0, short / np.where(
                    cap > 0, cap, 1.0)), 0.0)
                beta = theta[local] * idle
                need = need - _sum(local, (1.0 - sigma) * beta, n_loc)
            self.beta[placed] = beta
            ballooned = _sum(local, beta, n_loc)
            # host swapping: what still exceeds RAM, a share phi of every guest's pages
            res = t_p - beta
            kept = (1.0 - sigma) * res
            pool = _sum(local, kept, n_loc) + in_held
            swapped = np.maximum(0.0, need - ram)
            phi = np.where(pool > 0, np.minimum(1.0, swapped / np.where(pool > 0, pool, 1.0)),
                           0.0)
            outside = np.maximum(0.0, a_p - res)
            miss = outside + phi[local] * (a_p - outside)
            f = np.where(a_p > 0, miss / np.where(a_p > 0, a_p, 1.0), 0.0)
            # a balloon's cost in proportion to the share of the idle memory it took
            taken = theta[local] if pressed.any() else np.zeros(placed.shape[0])
            speed = 1.0 - self.balloon_cost[h_of] * np.where(beta > 0, taken, 0.0)
            self.mem_speed[placed] = speed
            self.stall[placed] = 1.0 / (1.0 + self.kappa[h_of] * f)
            self._mark_slow(placed)
            sim.speed[placed] = self.mig_speed[placed] * speed
            self.pressed[hosts] = pressed
        physical = need - swapped
        if sim.check_invariants:
            tol = 1 + 1e-9
            if (physical > ram * tol).any() or (footprint > ram * tol).any():
                bad = hosts[(physical > ram * tol) | (footprint > ram * tol)]
                raise InvariantViolation(f"physical memory above RAM on hosts {bad[:5]}")
        # allocated: Σ ram of the guests holding room (placed or arriving), from the charges
        alloc = (st.used_ram[hosts] - st.reserved_charge[hosts]
                 - st.mem_charge[hosts] * st.n_guests[hosts])
        self.levels[:, hosts] = np.stack([
            alloc, _sum(local, a_p, n_loc), physical,
            _sum(local, sigma * res, n_loc) if self.any_sharing
            else np.zeros(n_loc),
            ballooned, swapped])
        if n_loc:
            self.peak_fraction = max(self.peak_fraction, float(np.max(physical / ram)))

    def _mark_slow(self, guests: I64) -> None:
        now = self.mem_speed[guests] * self.stall[guests] < 1.0
        self.n_slow += int(np.count_nonzero(now)) - int(np.count_nonzero(self.slow[guests]))
        self.slow[guests] = now

    # ------------------------------------------------------------------ results ---------------
    def tick(self, now: float) -> None:
        """One row of the ``memory`` table: the levels summed over hosts at this instant (every
        host was refreshed at it); with ``output.host_timeseries``, a mark of the integrals."""
        lv = self.levels.sum(axis=1)
        swapping = int(np.count_nonzero(self.levels[5] > 0))
        self.rows.append((now, *lv.tolist(), swapping))
        if self.sim.cfg.output.host_timeseries:
            self.host_marks.append((now, self.level_s[[2, 5]].copy()))

    def _host_columns(self, sim: Simulation, result: Result) -> None:
        """Interval averages of physical and swapped memory per host, joined to ``hosts``."""
        import pandas as pd

        marks = [*self.host_marks, (sim.duration, self.level_s[[2, 5]].copy())]
        n_h = sim.state.n_hosts
        rows = []
        for (t0, l0), (t1, l1) in itertools.pairwise(marks):
            if t1 > t0:
                avg = (l1 - l0) / (t1 - t0)
                rows.append(pd.DataFrame({"time_s": t0, "host": np.arange(n_h),
                                          "mem_physical_bytes": avg[0],
                                          "mem_swapped_bytes": avg[1]}))
        if not rows or result.hosts is None or result.hosts.empty:
            return
        extra = pd.concat(rows, ignore_index=True)
        hosts = result.hosts.drop(columns=["mem_physical_bytes", "mem_swapped_bytes"],
                                  errors="ignore")
        result.hosts = hosts.merge(extra, on=["time_s", "host"], how="left")

    def finish(self, sim: Simulation, result: Result) -> None:
        import pandas as pd

        self.refresh(np.arange(sim.state.n_hosts, dtype=np.intp))  # levels up to the end
        s = result.summary
        T = sim.duration
        means = self.level_s.sum(axis=1) / T / GB
        for key, v in zip(("allocated", "active", "physical", "shared", "ballooned",
                           "swapped"), means.tolist(), strict=True):
            s[f"mem_{key}_gb_mean"] = v
        s["mem_physical_peak_fraction"] = self.peak_fraction
        lost = float(sim.mem_loss_mi.sum())  # type: ignore[union-attr]
        s["unmet_memory_mi"] = lost
        demand = s.get("demand_mi", 0.0)
        s["unmet_memory_fraction"] = lost / demand if demand > 0 else 0.0
        if "guest" in result.guests.columns:  # no guests table with output.guest_records off
            g = result.guests["guest"].to_numpy(dtype=np.intp)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean_a = np.where(self.g_res_s > 0, self.g_active_s / self.g_res_s, np.nan)
            result.guests["mean_active_mem_bytes"] = mean_a[g]
            result.guests["memory_lost_mi"] = sim.mem_loss_mi[g]  # type: ignore[index]
        if self.host_marks:
            self._host_columns(sim, result)
        result.tables["memory"] = pd.DataFrame(self.rows, columns=[
            "time_s", "allocated_bytes", "active_bytes", "physical_bytes", "shared_bytes",
            "ballooned_bytes", "swapped_bytes", "hosts_swapping"])


def _sum(idx: I64, weights: F64, n: int) -> F64:
    """(n,) Σ of ``weights`` per index (``np.bincount``, as float64)."""
    out: F64 = np.bincount(idx, weights=weights, minlength=n)  # type: ignore[assignment]
    return out


def losses(sim: Simulation, guests: I64, paused: NDArray[np.bool_], d: F64,
           dt: F64 | float) -> None:
    """Book the work ``guests`` (demand ``d``, ``paused``) lose to memory over ``dt``:
    ``d × mig_speed × (1 − mem_speed × stall)`` (none while paused)."""
    mem: Memory = sim.memory
    if mem.n_slow == 0:
        return
    lost = np.where(paused, 0.0, d * mem.mig_speed[guests]
                    * (1.0 - mem.mem_speed[guests] * mem.stall[guests]))
    sim.mem_loss_mi[guests] += lost * dt  # type: ignore[index]


def _factory(sim: Simulation) -> Memory | None:
    return Memory(sim) if active(sim) else None


EXTENSIONS.register("memory")(_factory)
