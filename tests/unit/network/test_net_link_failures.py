"""Link failures: re-routing on the surviving graph, stalls without a path, the config path."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

import dcsim
from dcsim.engine.network import NetworkService
from dcsim.network.flows import FlowNetwork
from dcsim.network.routing import Router
from dcsim.network.topology import attach_hosts, fat_tree
from tests.conftest import tiny_config


def _fat_tree() -> tuple[object, Router]:
    topo = attach_hosts(fat_tree(4, link_bps=1e9), 16)
    return topo, Router(topo)


def test_router_avoids_failed_links() -> None:
    topo, router = _fat_tree()
    path = router.path_links(0, 15, flow_key=3)
    down = np.zeros(topo.n_links, dtype=bool)  # type: ignore[attr-defined]
    core_hop = path[2]  # host -> edge -> agg -> core: take the agg-core link down
    down[core_hop & ~1] = down[core_hop | 1] = True
    detour = Router(topo, down=down).path_links(0, 15, flow_key=3)  # type: ignore[arg-type]
    assert not down[detour].any()
    assert len(detour) == len(path)  # an equal-cost alternative exists in a fat-tree


def test_flow_rerouted_keeps_rate_and_stalls_when_cut_off() -> None:
    topo, router = _fat_tree()
    env = simpy.Environment()
    net = NetworkService(env, FlowNetwork(topo, router))  # type: ignore[arg-type]
    ends: list[float] = []

    def go() -> object:
        ev = net.transfer(0, 15, 1e9 / 8 * 4)  # 4 s alone at 1 Gbit/s
        yield env.timeout(1.0)
        # cut one of its links in the core: re-routed, no slower
        links = net.flows.flow_links(ev.fid)
        down = np.zeros(topo.n_links, dtype=bool)  # type: ignore[attr-defined]
        down[links[2] & ~1] = down[links[2] | 1] = True
        assert net.set_links_down(down) == 0
        yield env.timeout(1.0)
        # now cut the host's own link: no path; it stalls for 5 s, then resumes
        down[links[0] & ~1] = down[links[0] | 1] = True
        assert net.set_links_down(down) == 1
        yield env.timeout(5.0)
        down[links[0] & ~1] = down[links[0] | 1] = False
        net.set_links_down(down)
        rec = yield ev
        ends.append(rec.end_s)

    env.process(go())
    env.run()
    # 2 s sent, 5 s stalled, 2 s more (+ a few µs of path latency)
    assert ends[0] == pytest.approx(9.0, abs=1e-3)


def test_link_failures_from_config() -> None:
    cfg = tiny_config(duration="6h")
    cfg["datacenters"][0]["hosts"][0]["count"] = 4
    cfg["network"] = {"topology": {"kind": "leaf_spine", "leaves": 2, "spines": 2,
                                   "hosts_per_leaf": 2, "link": "1Gbps"},
                      "switch_energy": False,
                      "traffic": [{"src_host": 0, "dst_host": 3, "rate": "300Mbps"}]}
    cfg["faults"] = {"links": {"ttf": {"kind": "exponential", "mean": "1h"},
                               "repair": {"kind": "constant", "value": "10m"},
                               "host_links": False}}
    a = dcsim.run(cfg)
    b = dcsim.run(cfg)
    assert a.summary["link_failures"] > 0
    assert a.summary["link_failures"] == b.summary["link_failures"]
    fails = a.tables["link_failures"]
    repaired = fails[np.isfinite(fails["repair_s"])]
    assert len(repaired) >= len(fails) - 4  # only the last few can still be down at the end
    assert np.allclose(repaired["repair_s"] - repaired["fail_s"], 600.0)
    base = dict(cfg)
    del base["faults"]
    assert dcsim.run(base).summary["energy_it_kwh"] == a.summary["energy_it_kwh"]
