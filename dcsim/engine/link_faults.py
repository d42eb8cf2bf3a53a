"""Network link failures (``faults.links``): an engine extension.

Every undirected link of the run's topology alternates between up (a time to failure drawn from
``ttf``) and down (a repair time drawn from ``repair``), independently, from the stream
``faults.links``. Failures and repairs are kept in one heap and served by one SimPy process, so
events grow with failures, not with links. At each change the network re-routes every flow on the
surviving links (``NetworkService.set_links_down``). A flow left without a path (or started
while cut off) stalls at rate 0 until a repair re-routes it — background traffic, guest traffic,
snapshot writes, a post-copy migration's page pulls after its switch-over. A migration before
its switch-over never waits on a cut: it does not start towards a host its source cannot reach
(consolidation does not choose such a target), and one cut off mid-way is aborted at that
instant like one whose destination failed (transfer cancelled, CPU charge and destination
reservation given back, counted in ``migrations_aborted``). Link failures affect traffic only
(migrations, snapshots, background flows): a host cut off from the network keeps running its
guests — use ``faults.racks`` with ``cause: switch`` for a rack that loses service.

Imports: heapq, numpy, dcsim.workload.arrivals (distributions), dcsim.engine.extensions.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

import numpy as np

from dcsim.engine.extensions import EXTENSIONS
from dcsim.workload.arrivals import lifetime_distribution

if TYPE_CHECKING:
    from dcsim.config.faults import LinkFailures
    from dcsim.engine.simulation import ProcessGenerator, Simulation
    from dcsim.metrics.result import Result


class LinkFaults:
    """See the module docstring."""

    def __init__(self, sim: Simulation, spec: LinkFailures) -> None:
        self.sim = sim
        self.spec = spec
        topo = sim.topology
        n_edges = topo.n_links // 2
        host = topo.is_host_node
        ends_host = host[topo.link_src[0::2]] | host[topo.link_dst[0::2]]
        self.edges = np.arange(n_edges) if spec.host_links else np.flatnonzero(~ends_host)
        self.down = np.zeros(topo.n_links, dtype=bool)
        self.rng = sim.streams["faults.links"]
        self.ttf = lifetime_distribution(spec.ttf)
        self.repair = lifetime_distribution(spec.repair)
        self.records: list[tuple[int, float, float]] = []  # edge, fail_s, repair_s (inf: never)
        self.events = 0

    def start(self, sim: Simulation) -> None:
        sim.env.process(self.run())

    def run(self) -> ProcessGenerator:
        """SimPy process: fail and repair links at their drawn instants, in time order."""
        sim = self.sim
        env = sim.env
        if not self.edges.shape[0]:
            return
        first = np.asarray(self.ttf.rvs(size=self.edges.shape[0], random_state=self.rng))
        heap: list[tuple[float, int, int]] = [
            (float(t), 1, int(e)) for t, e in zip(first, self.edges.tolist(), strict=True)
        ]  # (time, kind 1 = failure / 0 = repair, edge): repairs first at equal times
        heapq.heapify(heap)
        open_fail: dict[int, int] = {}
        while heap and heap[0][0] < sim.duration:
            t, kind, e = heapq.heappop(heap)
            if t > env.now:
                self.events += 1
                yield env.timeout(t - env.now)
            if kind == 1:
                self.down[2 * e : 2 * e + 2] = True
                open_fail[e] = len(self.records)
                self.records.append((e, env.now, float("inf")))
                d = float(self.repair.rvs(random_state=self.rng))
                heapq.heappush(heap, (env.now + d, 0, e))
            else:
                self.down[2 * e : 2 * e + 2] = False
                i = open_fail.pop(e)
                self.records[i] = (e, self.records[i][1], env.now)
                d = float(self.ttf.rvs(random_state=self.rng))
                heapq.heappush(heap, (env.now + d, 1, e))
            sim.network.set_links_down(self.down.copy())

    def finish(self, sim: Simulation, result: Result) -> None:
        from dcsim.metrics.result import Frame  # the table written without pandas

        end = sim.duration
        down_s = sum(min(r, end) - f for _, f, r in self.records)
        result.summary["link_failures"] = len(self.records)
        result.summary["link_down_s"] = float(down_s)
        result.summary["events"] = int(result.summary.get("events", 0)) + self.events
        result.tables["link_failures"] = Frame(
            self.records, columns=["edge", "fail_s", "repair_s"]
        )


def _factory(sim: Simulation) -> Any:
    faults = getattr(sim.cfg, "faults", None)
    spec = getattr(faults, "links", None) if faults is not None else None
    return LinkFaults(sim, spec) if spec is not None else None


EXTENSIONS.register("link_faults")(_factory)
