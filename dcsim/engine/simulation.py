"""The default-semantics engine: SimPy owns time, numpy arrays own state.

Processes exist where something happens: ``arrivals`` releases guests at their arrival instants
(guests arriving together form one placement batch), ``guest_lifecycle`` boots a guest and ends
it at the end of its lifetime, and ``manager`` wakes every scheduling interval to sample every
workload and re-share every host's CPU in one vectorized step. Between samples a guest's demand
is held (sample-and-hold); an arrival, boot completion or departure re-shares only its own host at
that instant, so accounting is exact for piecewise-constant rates and events grow with what
happens, not with guests × intervals.

Accounting per host is a time integral updated at each change (``_settle``): energy from the
power model at the host's utilisation, busy and available CPU, and per guest the work demanded
and delivered. Virtualization costs enter as CPU efficiency: to deliver ``d`` useful MIPS a host
spends ``d / eff`` raw MIPS, ``eff = (1 − cpu_overhead)(1 − sched_overhead(vCPUs per core))``;
shares are weighted max-min fair (``kernels.share``); what a guest asked for but did not get is
its unmet demand (SLA violation).

Imports: simpy, numpy, dcsim.{config, model, kernels, policies, workload, metrics, rng}.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import numpy as np
import pandas as pd
import simpy
from numpy.typing import NDArray

from dcsim.config.resolve import Scenario
from dcsim.config.workloads import AtStart, PoissonArrivals
from dcsim.kernels.share import maxmin_share
from dcsim.metrics.result import Result
from dcsim.model.cluster import ClusterState, GuestStatus
from dcsim.model.power import power_w
from dcsim.policies.placement import PLACEMENT
from dcsim.rng import RandomStreams
from dcsim.units import JOULES_PER_KWH
from dcsim.workload.models import UtilizationModel, build_workload

ProcessGenerator = Generator[simpy.events.Event, Any, Any]
F64 = NDArray[np.float64]
I64 = NDArray[np.intp]

__all__ = ["Simulation"]


def _arrivals(spec: Any, n: int, duration_s: float,
              rng: np.random.Generator) -> tuple[F64, F64]:
    """Arrival instants (sorted) and lifetimes (inf = stays) of ``n`` guests."""
    try:
        from dcsim.workload.arrivals import build_arrivals
    except ImportError:
        build_arrivals = None
    if build_arrivals is not None:
        a, life = build_arrivals(spec, n, duration_s, rng)
        return np.asarray(a, dtype=np.float64), np.asarray(life, dtype=np.float64)
    if isinstance(spec, AtStart):
        return np.zeros(n), np.full(n, np.inf)
    if isinstance(spec, PoissonArrivals):
        gaps = rng.exponential(1.0 / spec.rate, n)
        return np.cumsum(gaps), rng.exponential(spec.mean_lifetime, n)
    raise TypeError(f"unsupported arrival kind {spec.kind!r}")


class Simulation:
    """One run of a scenario. ``run()`` returns a ``Result``; a Simulation runs once."""

    def __init__(self, scenario: Scenario, *, replication: int = 0,
                 check_invariants: bool = False) -> None:
        cfg = scenario.config
        self.sc = scenario
        self.cfg = cfg
        self.check_invariants = check_invariants
        self.env = simpy.Environment()
        self.streams = RandomStreams(cfg.seed, replication)
        self.state = st = ClusterState.build(scenario)
        self.duration = float(cfg.duration)
        self.interval = float(cfg.interval)
        self.sleep = cfg.power_management.sleep_idle_hosts
        n_h, n_g = st.n_hosts, st.n_guests_total

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
        pol_cls = PLACEMENT.get(cfg.placement.name)
        self.policy = pol_cls(scenario.placement_params, self.streams["policy.placement"])

        # boot-time draws: one standard normal per guest, scaled by the host's profile
        self.boot_z = self.streams["lifecycle.boot"].standard_normal(n_g)
        self.profiles = [scenario.profiles[n] for n in st.profile_names]
        self.dc_pue = np.asarray([dc.pue for dc in cfg.datacenters])

        # host accounting
        st.awake[:] = not self.sleep
        self.last_t = np.zeros(n_h)
        self.power = np.where(st.awake, st.power_table[:, 0], st.sleep_power)
        self.util = np.zeros(n_h)
        self.energy_j = np.zeros(n_h)
        self.active_s = np.zeros(n_h)
        self.busy_mi = np.zeros(n_h)
        self.avail_mi = np.zeros(n_h)
        self.guest_s = np.zeros(n_h)  # guest-seconds hosted (consolidation ratio)
        # guest accounting
        self.u_last = np.zeros(n_g)
        self.demand = np.zeros(n_g)  # useful MIPS wanted now
        self.useful = np.zeros(n_g)  # useful MIPS delivered now
        self.raw = np.zeros(n_g)  # raw host MIPS consumed now
        self.demand_mi = np.zeros(n_g)
        self.useful_mi = np.zeros(n_g)
        self.raw_mi = np.zeros(n_g)
        self.arrival_s = np.full(n_g, np.nan)
        self.start_s = np.full(n_g, np.nan)
        self.end_s = np.full(n_g, np.nan)
        self.lifetime_s = np.full(n_g, np.inf)
        # records
        self._rows: list[tuple[float, ...]] = []
        self._host_rows: list[tuple[float, F64, F64, F64]] = []
        self.events = 0
        self._ran = False

    # ------------------------------------------------------------------ accounting ----------
    def _guests_on(self, hosts: I64) -> I64:
        if hosts.shape[0] == self.state.n_hosts:
            return np.flatnonzero(self.state.host_of >= 0)
        if hosts.shape[0] == 1:
            return np.asarray(self.state.members[int(hosts[0])], dtype=np.intp)
        return np.flatnonzero(np.isin(self.state.host_of, hosts))

    def _settle(self, hosts: I64, guests: I64) -> None:
        """Integrate the current rates of ``hosts`` (and their ``guests``) up to now."""
        st, now = self.state, self.env.now
        dt = now - self.last_t[hosts]
        self.energy_j[hosts] += self.power[hosts] * dt
        awake = st.awake[hosts]
        self.active_s[hosts] += awake * dt
        self.busy_mi[hosts] += self.util[hosts] * st.cap_mips[hosts] * dt
        self.avail_mi[hosts] += awake * st.cap_mips[hosts] * dt
        self.guest_s[hosts] += st.n_guests[hosts] * dt
        if guests.shape[0]:
            gdt = now - self.last_t[st.host_of[guests]]
            self.demand_mi[guests] += self.demand[guests] * gdt
            self.useful_mi[guests] += self.useful[guests] * gdt
            self.raw_mi[guests] += self.raw[guests] * gdt
        self.last_t[hosts] = now

    def _share(self, hosts: I64, guests: I64) -> None:
        """Re-share CPU on ``hosts`` among their running ``guests``; update power."""
        st = self.state
        running = st.status[guests] == GuestStatus.RUNNING
        g = guests[running]
        self.demand[guests] = 0.0
        self.useful[guests] = 0.0
        self.raw[guests] = 0.0
        if g.shape[0]:
            h_of = st.host_of[g]
            want = self.u_last[g] * st.vcpus[g] * st.mips[g]
            local = np.searchsorted(hosts, h_of) if hosts.shape[0] < st.n_hosts else h_of
            eff = st.efficiency(hosts)[local]
            raw_want = np.minimum(want / eff, st.vcpus[g] * st.mips_per_core[h_of])
            alloc = maxmin_share(raw_want, local, st.cap_mips[hosts], st.vcpus[g])
            self.demand[g] = want
            self.raw[g] = alloc
            self.useful[g] = alloc * eff
            used = np.bincount(local, weights=alloc, minlength=hosts.shape[0])
        else:
            used = np.zeros(hosts.shape[0])
        self.util[hosts] = used / st.cap_mips[hosts]
        awake = st.awake[hosts]
        self.power[hosts] = np.where(
            awake, power_w(st.power_table[hosts], self.util[hosts]), st.sleep_power[hosts]
        )

    def _update_host(self, h: int, change: Any = None) -> None:
        """Settle host ``h`` up to now, apply ``change()`` (if any), then re-share its CPU."""
        hosts = np.asarray([h], dtype=np.intp)
        self._settle(hosts, self._guests_on(hosts))
        if change is not None:
            change()
        self._share(hosts, self._guests_on(hosts))

    def _sample(self, t: float) -> None:
        for sl, model in zip(self.slices, self.models, strict=True):
            self.u_last[sl] = model.values(t)

    # ------------------------------------------------------------------ processes -----------
    def manager(self) -> ProcessGenerator:
        """SimPy process: every scheduling interval, sample workloads and re-share all hosts."""
        st = self.state
        all_hosts = np.arange(st.n_hosts, dtype=np.intp)
        k = 0
        while True:
            now = self.env.now
            guests = self._guests_on(all_hosts)
            self._settle(all_hosts, guests)
            self._sample(now)
            self._share(all_hosts, guests)
            self._record(now)
            if self.check_invariants:
                st.check()
            k += 1
            nxt = k * self.interval
            if nxt >= self.duration:
                return
            self.events += 1
            yield self.env.timeout(nxt - now)

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
            self._admit(order[i:j])
            i = j

    def guest_lifecycle(self, g: int, boot_s: float, lifetime_s: float) -> ProcessGenerator:
        """SimPy process: boot (no useful work), run, and depart when the lifetime ends."""
        if boot_s > 0:
            self.events += 1
            yield self.env.timeout(min(boot_s, lifetime_s))
            if boot_s >= lifetime_s:
                self._depart(g)
                return
            self._start(g)
        if np.isfinite(lifetime_s):
            self.events += 1
            yield self.env.timeout(lifetime_s - boot_s)
            self._depart(g)

    # ------------------------------------------------------------------ state changes -------
    def _boot_time(self, g: int, h: int) -> float:
        prof = self.profiles[int(self.state.profile[h])]
        bt = prof.boot_time
        if bt.dist == "constant" or bt.sd == 0:
            t = bt.mean
        elif bt.dist == "normal":
            t = bt.mean + bt.sd * self.boot_z[g]
        else:  # lognormal with the given mean and sd
            s2 = np.log1p((bt.sd / bt.mean) ** 2)
            t = float(np.exp(np.log(bt.mean) - s2 / 2 + np.sqrt(s2) * self.boot_z[g]))
        return max(0.0, float(t))

    def _admit(self, batch: I64) -> None:
        st, now = self.state, self.env.now
        self.arrival_s[batch] = now
        decision = self.policy.place(st.sandbox(), batch)
        touched: list[int] = []
        for g, h in zip(batch.tolist(), decision.tolist(), strict=True):
            if h < 0:
                st.status[g] = GuestStatus.REJECTED
                continue
            wake = 0.0
            if not st.awake[h]:
                self._update_host(h)
                st.awake[h] = True
                wake = self.cfg.power_management.wake_latency if now > 0 else 0.0
            st.place(g, h)  # raises InvariantViolation if the policy chose a host that is full
            if self.check_invariants:
                st.check()
            boot = wake + (self._boot_time(g, h) if self.sc.guest_groups[
                int(st.guest_group[g])].spec.boot else 0.0)
            life = self.lifetime_s[g]
            if boot > 0 or np.isfinite(life):
                st.status[g] = GuestStatus.BOOTING if boot > 0 else GuestStatus.RUNNING
                if boot == 0:
                    self.start_s[g] = now
                self.env.process(self.guest_lifecycle(g, boot, life))
            else:
                st.status[g] = GuestStatus.RUNNING
                self.start_s[g] = now
            touched.append(h)
        if now > 0:  # at t = 0 the first manager step shares every host anyway
            for h in sorted(set(touched)):
                self._update_host(h)

    def _start(self, g: int) -> None:
        st = self.state
        h = int(st.host_of[g])

        def change() -> None:
            st.status[g] = GuestStatus.RUNNING
            self.start_s[g] = self.env.now

        self._update_host(h, change)

    def _depart(self, g: int) -> None:
        st = self.state
        h = int(st.host_of[g])

        def change() -> None:
            st.release(g)
            if self.check_invariants:
                st.check()
            st.status[g] = GuestStatus.DEPARTED
            self.end_s[g] = self.env.now
            self.demand[g] = self.useful[g] = self.raw[g] = 0.0
            if self.sleep and st.n_guests[h] == 0:
                st.awake[h] = False

        self._update_host(h, change)

    # ------------------------------------------------------------------ records -------------
    def _record(self, t: float) -> None:
        st = self.state
        awake = st.awake
        cap_awake = float(st.cap_mips[awake].sum())
        used = float((self.util * st.cap_mips).sum())
        p_it = float(self.power.sum())
        p_fac = float((np.bincount(st.datacenter, weights=self.power,
                                   minlength=self.dc_pue.shape[0]) * self.dc_pue).sum())
        status = np.bincount(st.status, minlength=5)
        demand = float(self.demand.sum())
        useful = float(self.useful.sum())
        self._rows.append((
            t, int(awake.sum()), int(st.n_hosts - awake.sum()), int(status[GuestStatus.RUNNING]),
            int(status[GuestStatus.BOOTING]), demand, useful, demand - useful,
            used / cap_awake if cap_awake > 0 else 0.0, p_it, p_fac,
        ))
        if self.cfg.output.host_timeseries:
            self._host_rows.append((t, self.util.copy(), self.power.copy(),
                                    st.n_guests.copy()))

    def run(self) -> Result:
        """Simulate the whole duration and return the result."""
        if self._ran:
            raise RuntimeError("a Simulation runs once; build a new one")
        self._ran = True
        t0 = time.perf_counter()
        st = self.state
        times = np.zeros(st.n_guests_total)
        for k, (sl, gg) in enumerate(zip(self.slices, self.sc.guest_groups, strict=True)):
            a, life = _arrivals(gg.spec.arrival, gg.spec.count, self.duration,
                                self.streams[f"arrivals.{k}"])
            # guests beyond the arrivals that happen within the run never arrive
            times[sl] = np.inf
            life_full = np.full(gg.spec.count, np.inf)
            m = min(a.shape[0], gg.spec.count)
            times[sl.start:sl.start + m] = a[:m]
            life_full[:m] = life[:m]
            self.lifetime_s[sl] = life_full
        order = np.lexsort((np.arange(times.shape[0]), times))
        self.env.process(self.arrivals(times, order))
        self.env.process(self.manager())
        self.env.run(until=self.duration)
        all_hosts = np.arange(st.n_hosts, dtype=np.intp)
        self._settle(all_hosts, self._guests_on(all_hosts))
        if self.check_invariants:
            st.check()
        wall = time.perf_counter() - t0
        return self._result(wall)

    def _result(self, wall_s: float) -> Result:
        st = self.state
        e_dc = np.bincount(st.datacenter, weights=self.energy_j, minlength=self.dc_pue.shape[0])
        arrived = ~np.isnan(self.arrival_s)
        demand_mi = float(self.demand_mi.sum())
        useful_mi = float(self.useful_mi.sum())
        raw_mi = float(self.raw_mi.sum())
        ts = pd.DataFrame(self._rows, columns=[
            "time_s", "active_hosts", "sleeping_hosts", "guests_running", "guests_booting",
            "demand_mips", "delivered_mips", "unmet_mips", "cpu_utilization", "power_it_w",
            "power_facility_w"])
        total_active = float(self.active_s.sum())
        summary: dict[str, Any] = {
            "energy_it_kwh": float(self.energy_j.sum()) / JOULES_PER_KWH,
            "energy_facility_kwh": float((e_dc * self.dc_pue).sum()) / JOULES_PER_KWH,
            "mean_active_hosts": total_active / self.duration,
            "max_active_hosts": int(ts["active_hosts"].max()) if len(ts) else 0,
            "mean_cpu_utilization": float(self.busy_mi.sum() / self.avail_mi.sum())
            if self.avail_mi.sum() > 0 else 0.0,
            "demand_mi": demand_mi,
            "unmet_mi": demand_mi - useful_mi,
            "unmet_fraction": (demand_mi - useful_mi) / demand_mi if demand_mi > 0 else 0.0,
            "overhead_mi": raw_mi - useful_mi,
            "guests_arrived": int(arrived.sum()),
            "guests_placed": int((~np.isnan(self.start_s) | (st.status == GuestStatus.BOOTING)
                                  | (st.host_of >= 0)).sum()),
            "guests_rejected": int((st.status == GuestStatus.REJECTED).sum()),
            "guests_departed": int((st.status == GuestStatus.DEPARTED).sum()),
            "mean_guests_per_active_host": float(self.guest_s.sum() / total_active)
            if total_active > 0 else 0.0,
            "simulated_s": self.duration,
            "wall_s": wall_s,
            "events": self.events,
        }
        summary["guests_placed"] = summary["guests_arrived"] - summary["guests_rejected"]
        idx = np.flatnonzero(arrived)
        guests = pd.DataFrame({
            "guest": idx,
            "group": st.guest_group[idx],
            "arrival_s": self.arrival_s[idx],
            "start_s": self.start_s[idx],
            "end_s": self.end_s[idx],
            "status": [GuestStatus(int(s)).name.lower() for s in st.status[idx]],
            "host": st.host_of[idx],
            "demand_mi": self.demand_mi[idx],
            "delivered_mi": self.useful_mi[idx],
        }) if self.cfg.output.guest_records else pd.DataFrame()
        if self._host_rows:
            n_h = st.n_hosts
            hosts = pd.DataFrame({
                "time_s": np.repeat([r[0] for r in self._host_rows], n_h),
                "host": np.tile(np.arange(n_h), len(self._host_rows)),
                "cpu_utilization": np.concatenate([r[1] for r in self._host_rows]),
                "power_w": np.concatenate([r[2] for r in self._host_rows]),
                "guests": np.concatenate([r[3] for r in self._host_rows]).astype(np.int64),
            })
        else:
            hosts = pd.DataFrame()
        return Result(summary=summary, timeseries=ts, hosts=hosts, guests=guests,
                      config=self.sc.config_json(), resolved=self.sc.resolved_json())
