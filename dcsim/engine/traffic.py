"""Network extension: background traffic, link utilisation, flow records and switch energy.

Active when the config has a ``network`` section. Background flows (fixed host pairs or
``random_pairs`` drawn from the stream ``network.traffic``) start and stop at their configured
instants and compete max-min fairly with migrations and snapshots on every link they cross.

Switch energy: each switch draws chassis power plus per-port power (``dcsim/catalog/switches.yaml``,
see ``dcsim.network.power``). Power is sampled at every scheduling interval from the link
utilisation at that instant and held until the next (sample-and-hold, like the CPU demand), so
switch energy is exact for traffic that changes only at interval boundaries and an approximation
for transfers shorter than an interval. It is added to the IT energy (and, × PUE of the data
center of each switch, to the facility energy). A ``star`` topology is the implicit NIC model of
runs without a network and draws nothing.

Imports: numpy, pandas, dcsim.network, dcsim.engine.extensions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dcsim.engine.extensions import EXTENSIONS
from dcsim.units import JOULES_PER_KWH

if TYPE_CHECKING:
    from dcsim.config.network import NetworkSpec
    from dcsim.engine.simulation import Simulation
    from dcsim.metrics.result import Result


class Traffic:
    """See the module docstring."""

    def __init__(self, sim: Simulation, spec: NetworkSpec) -> None:
        self.sim = sim
        self.spec = spec
        self.rows: list[tuple[float, float, float, float, float]] = []
        self.link_rows: list[tuple[float, Any]] = []
        self.energy_j = np.zeros(len(sim.dc_pue))
        self.last_t = 0.0
        self.last_w = np.zeros(len(sim.dc_pue))
        self.power: Any = None
        kind = spec.topology.kind if spec.per_datacenter is None else "multi"
        if spec.switch_energy and kind != "star":
            from dcsim.network.power import NetworkPower

            self.power = NetworkPower(sim.sc.topology)
            topo = sim.sc.topology
            self.switch_dc = np.asarray([
                int(topo.graph.nodes[topo.nodes[int(n)]].get("dc", 0))
                for n in self.power.switch_nodes], dtype=np.intp)

    def start(self, sim: Simulation) -> None:
        rng = sim.streams["network.traffic"]
        n_h = sim.state.n_hosts
        for k, flow in enumerate(self.spec.traffic):
            pairs: list[tuple[int, int]] = []
            if flow.src_host is not None and flow.dst_host is not None:
                pairs.append((flow.src_host, flow.dst_host))
            for _ in range(flow.random_pairs):
                a, b = rng.choice(n_h, size=2, replace=False)
                pairs.append((int(a), int(b)))
            sim.env.process(self._flow(k, pairs, flow.rate, flow.start, flow.stop))
        sim.tick_hooks.append(self.sample)

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

    def _integrate(self, now: float) -> None:
        self.energy_j += self.last_w * (now - self.last_t)
        self.last_t = now

    def sample(self, now: float) -> None:
        """Tick hook: link utilisation and switch power at this instant."""
        sim = self.sim
        self._integrate(now)
        if sim._network is None:  # nothing has used the network yet
            util = np.zeros(sim.sc.topology.n_links)
        else:
            sim.network.sync()
            util = sim.network.flows.link_utilization()
        if self.power is not None:
            per = self.power.per_switch_w(util, sleep_idle=self.spec.sleep_idle_links)
            self.last_w = np.bincount(self.switch_dc, weights=per,
                                      minlength=len(self.energy_j)).astype(np.float64)
        self.rows.append((now, float(util.mean()) if util.size else 0.0,
                          float(util.max()) if util.size else 0.0,
                          float((util > 0).mean()) if util.size else 0.0,
                          float(self.last_w.sum())))
        if self.spec.link_timeseries:
            self.link_rows.append((now, util.copy()))

    def finish(self, sim: Simulation, result: Result) -> None:
        self._integrate(sim.duration)
        e_kwh = float(self.energy_j.sum()) / JOULES_PER_KWH
        fac = float((self.energy_j * sim.dc_pue).sum()) / JOULES_PER_KWH
        s = result.summary
        s["energy_network_kwh"] = e_kwh
        s["energy_it_kwh"] += e_kwh
        s["energy_facility_kwh"] += fac
        ts = pd.DataFrame(self.rows, columns=["time_s", "mean_link_utilization",
                                              "max_link_utilization", "busy_link_fraction",
                                              "network_power_w"])
        result.tables["network"] = ts
        s["mean_link_utilization"] = float(ts["mean_link_utilization"].mean()) if len(ts) else 0.0
        s["max_link_utilization"] = float(ts["max_link_utilization"].max()) if len(ts) else 0.0
        if sim._network is not None:
            flows = sim.network.flows
            recs = flows.records
            result.tables["flows"] = pd.DataFrame({
                "flow": [r.fid for r in recs], "tag": [r.tag for r in recs],
                "src": [r.src for r in recs], "dst": [r.dst for r in recs],
                "bytes": [r.nbytes for r in recs], "start_s": [r.start_s for r in recs],
                "end_s": [r.end_s for r in recs], "completed": [r.completed for r in recs],
            })
            s["flow_bytes"] = float(sum(r.nbytes for r in recs if np.isfinite(r.nbytes)))
            s["link_byte_hops"] = float(np.asarray(flows.link_bytes).sum())
        else:
            s["flow_bytes"] = 0.0
            s["link_byte_hops"] = 0.0
        if self.link_rows:
            n_l = sim.sc.topology.n_links
            result.tables["links"] = pd.DataFrame({
                "time_s": np.repeat([r[0] for r in self.link_rows], n_l),
                "link": np.tile(np.arange(n_l), len(self.link_rows)),
                "utilization": np.concatenate([r[1] for r in self.link_rows]),
            })


def _factory(sim: Simulation) -> Traffic | None:
    spec = sim.cfg.network
    return Traffic(sim, spec) if spec is not None else None


EXTENSIONS.register("traffic")(_factory)
