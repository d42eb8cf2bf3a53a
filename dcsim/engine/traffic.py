"""Network extension: background traffic, link utilisation, flow records and switch energy.

Active when the config has a ``network`` section. Background flows (fixed host pairs or
``random_pairs`` drawn from the stream ``network.traffic``) start and stop at their configured
instants and compete max-min fairly with migrations and snapshots on every link they cross.

Measurement is exact (``dcsim.network.meter.NetworkMeter``): the flow network reports every
change of its max-min rates, and link bytes, link busy time and switch power (chassis plus
per-port power, ``dcsim/catalog/switches.yaml``, see ``dcsim.network.power``) are integrated
between those instants, so a transfer shorter than an interval is counted in full. The
``network`` table has one row per scheduling interval ``[time_s, time_s + interval)`` with
interval averages: ``mean_link_utilization`` (mean over links of ``8 Δbytes / (capacity ×
interval)``), ``max_link_utilization`` (the busiest link's), ``busy_link_fraction`` (mean over
links of the share of the interval a link carried traffic) and ``network_power_w`` (Δenergy /
interval). The engine adds the switch energy to the IT energy everywhere (summary, time series,
ESV, facility energy × PUE of each switch's data center) through ``Simulation.network_energy``.
A ``star`` topology is the implicit NIC model of runs without a network and draws nothing.

Imports: numpy, dcsim.engine.extensions; dcsim.network when a run has a network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from dcsim.engine.extensions import EXTENSIONS

if TYPE_CHECKING:
    from dcsim.config.network import NetworkSpec
    from dcsim.engine.simulation import Simulation
    from dcsim.metrics.result import Result


class Traffic:
    """See the module docstring."""

    def __init__(self, sim: Simulation, spec: NetworkSpec) -> None:
        # dcsim.network (scipy.sparse, networkx: ~0.5 s to import) only for runs with a network
        from dcsim.network.meter import NetworkMeter

        self.sim = sim
        self.spec = spec
        self.rows: list[tuple[float, float, float, float, float]] = []
        self.link_rows: list[tuple[float, Any]] = []
        self.power: Any = None
        topo = sim.topology
        switch_dc = None
        kind = spec.topology.kind if spec.per_datacenter is None else "multi"
        if spec.switch_energy and kind != "star":
            from dcsim.network.power import NetworkPower

            self.power = NetworkPower(topo)
            switch_dc = np.asarray([
                int(topo.graph.nodes[topo.nodes[int(n)]].get("dc", 0))
                for n in self.power.switch_nodes], dtype=np.intp)
        self.meter = NetworkMeter(topo.capacity_bps, self.power, switch_dc, len(sim.dc_pue),
                                  sleep_idle=spec.sleep_idle_links)
        self.cap = np.asarray(topo.capacity_bps, dtype=np.float64)
        self.last_t = 0.0
        self.last_bytes = np.zeros(self.cap.shape[0])
        self.last_busy = np.zeros(self.cap.shape[0])
        self.last_j = 0.0
        sim.flow_listeners.append(self.meter.on_rates)
        sim.network_energy.append(self.energy_j)

    def start(self, sim: Simulation) -> None:
        rng = sim.streams["network.traffic"]
        n_h = sim.state.n_hosts
        # guest flows: [guest a, guest b, rate, tag, live fid or -1, ended]
        self.gflows: list[list[Any]] = []
        self.by_guest: dict[int, list[int]] = {}
        for k, flow in enumerate(self.spec.traffic):
            pairs: list[tuple[int, int]] = []
            if flow.src_host is not None and flow.dst_host is not None:
                pairs.append((flow.src_host, flow.dst_host))
            for _ in range(flow.random_pairs):
                a, b = rng.choice(n_h, size=2, replace=False)
                pairs.append((int(a), int(b)))
            if pairs:
                sim.env.process(self._flow(k, pairs, flow.rate, flow.start, flow.stop))
            if (flow.src_guest is not None and flow.dst_guest is not None) or flow.guest_pairs:
                sim.env.process(self._guest_flows(k, flow, rng))
        sim.tick_hooks.append(self.sample)
        sim.move_hooks.append(self._moved)

    def _guest_flows(self, k: int, flow: Any, rng: Any) -> Any:
        """SimPy process: start guest-to-guest flows at ``flow.start``; stop them at ``stop``."""
        sim = self.sim
        env = sim.env
        if flow.start > env.now:
            yield env.timeout(flow.start - env.now)
        else:
            yield env.timeout(0)  # after the t = 0 admissions
        st = sim.state
        pairs: list[tuple[int, int]] = []
        if flow.src_guest is not None and flow.dst_guest is not None:
            pairs.append((flow.src_guest, flow.dst_guest))
        placed = np.flatnonzero(st.host_of >= 0)
        if flow.guest_pairs and placed.shape[0] >= 2:
            for _ in range(flow.guest_pairs):
                a, b = rng.choice(placed, size=2, replace=False)
                pairs.append((int(a), int(b)))
        ids = []
        for a, b in pairs:
            if a >= st.n_guests_total or b >= st.n_guests_total:
                continue
            i = len(self.gflows)
            self.gflows.append([a, b, flow.rate, f"guest-traffic.{k}", -1, False])
            self.by_guest.setdefault(a, []).append(i)
            self.by_guest.setdefault(b, []).append(i)
            ids.append(i)
            self._route(i)
        if flow.stop is not None and flow.stop > env.now:
            yield env.timeout(flow.stop - env.now)
            for i in ids:
                self._end(i)

    def _route(self, i: int) -> None:
        """(Re)start guest flow ``i`` between its guests' current hosts (none if co-located)."""
        a, b, rate, tag, fid, ended = self.gflows[i]
        if ended:
            return
        net = self.sim.network
        if fid >= 0:
            net.stop_background(fid)
            self.gflows[i][4] = -1
        ha, hb = int(self.sim.state.host_of[a]), int(self.sim.state.host_of[b])
        if ha < 0 or hb < 0:
            self.gflows[i][5] = True  # a guest left: the conversation is over
        elif ha != hb:
            self.gflows[i][4] = net.start_background(ha, hb, rate_bps=rate, tag=tag)

    def _end(self, i: int) -> None:
        fid = self.gflows[i][4]
        if fid >= 0:
            self.sim.network.stop_background(fid)
        self.gflows[i][4] = -1
        self.gflows[i][5] = True

    def _moved(self, g: int, old: int, new: int) -> None:
        """Move hook: re-route (or end) the flows of guest ``g``."""
        for i in self.by_guest.get(g, ()):
            if new < 0:
                self._end(i)
            else:
                self._route(i)

    def _flow(self, k: int, pairs: list[tuple[int, int]], rate: float, start: float,
              stop: float | None) -> Any:
        """SimPy process: run a traffic entry's flows from ``start`` to ``stop``."""
        env = self.sim.env
        if start > env.now:
            yield env.timeout(start - env.now)
        net = self.sim.network
        fids = [net.start_background(a, b, rate_bps=rate, tag=f"traffic.{k}") for a, b in pairs]
        if stop is not None and stop > env.now:
            yield env.timeout(stop - env.now)
            for fid in fids:
                net.stop_background(fid)

    def energy_j(self, now: float) -> Any:
        """Switch energy per data center from 0 to ``now``, J (the flow network synced first)."""
        if self.sim._network is not None:
            self.sim.network.sync()
        self.meter.advance(now)
        return self.meter.energy_j.copy()

    def sample(self, now: float) -> None:
        """Tick hook: close the interval ending now with its exact averages."""
        self.energy_j(now)
        dt = now - self.last_t
        if dt <= 0:
            return
        m = self.meter
        util = np.zeros_like(self.cap)
        np.divide((m.link_bytes - self.last_bytes) * 8.0, self.cap * dt, out=util,
                  where=self.cap > 0)
        busy = (m.busy_s - self.last_busy) / dt
        e = float(m.energy_j.sum())
        self.rows.append((self.last_t, float(util.mean()) if util.size else 0.0,
                          float(util.max()) if util.size else 0.0,
                          float(busy.mean()) if busy.size else 0.0, (e - self.last_j) / dt))
        if self.spec.link_timeseries:
            self.link_rows.append((self.last_t, util))
        self.last_t = now
        self.last_bytes = m.link_bytes.copy()
        self.last_busy = m.busy_s.copy()
        self.last_j = e

    def finish(self, sim: Simulation, result: Result) -> None:
        """Summary metrics and the ``network``, ``flows`` and ``links`` tables, handed over as
        Frames (``dcsim.metrics.result``): written without pandas, built when read."""
        from dcsim.metrics.result import Frame

        self.sample(sim.duration)  # the last interval (its energy is already in the summary)
        s = result.summary
        result.tables["network"] = Frame(self.rows, columns=[
            "time_s", "mean_link_utilization", "max_link_utilization", "busy_link_fraction",
            "network_power_w"])
        m = self.meter
        util = np.zeros_like(self.cap)
        np.divide(m.link_bytes * 8.0, self.cap * sim.duration, out=util, where=self.cap > 0)
        s["mean_link_utilization"] = float(util.mean()) if util.size else 0.0
        # the column's maximum as the DataFrame's would take it (numpy's, over float64)
        s["max_link_utilization"] = (float(np.max(np.asarray([r[2] for r in self.rows],
                                                             dtype=np.float64)))
                                     if self.rows else 0.0)
        if sim._network is not None:
            flows = sim.network.flows
            recs = flows.records
            result.tables["flows"] = Frame({
                "flow": [r.fid for r in recs], "tag": [r.tag for r in recs],
                "src": [r.src for r in recs], "dst": [r.dst for r in recs],
                "bytes": [r.nbytes for r in recs], "start_s": [r.start_s for r in recs],
                "end_s": [r.end_s for r in recs], "completed": [r.completed for r in recs],
            })
            s["flow_bytes"] = float(sum(r.nbytes for r in recs if np.isfinite(r.nbytes)))
            s["link_byte_hops"] = float(m.link_bytes.sum())
        else:
            s["flow_bytes"] = 0.0
            s["link_byte_hops"] = 0.0
        if self.link_rows:
            n_l = sim.topology.n_links
            result.tables["links"] = Frame({
                "time_s": np.repeat([r[0] for r in self.link_rows], n_l),
                "link": np.tile(np.arange(n_l), len(self.link_rows)),
                "utilization": np.concatenate([r[1] for r in self.link_rows]),
            })


def _factory(sim: Simulation) -> Traffic | None:
    spec = sim.cfg.network
    return Traffic(sim, spec) if spec is not None else None


EXTENSIONS.register("traffic")(_factory)
