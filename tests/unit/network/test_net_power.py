"""Switch power: catalog, hand-computed totals, sleeping."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dcsim.network.flows import FlowNetwork
from dcsim.network.power import NetworkPower, parse_switch_model, switch_models
from dcsim.network.routing import Router
from dcsim.network.topology import attach_hosts, fat_tree, multi_dc


def test_catalog_has_sources_for_every_number() -> None:
    models = switch_models()
    assert {"tor", "aggregation", "core", "gateway"} <= set(models)
    for model in models.values():
        for key in ("chassis_w", "port_w"):
            assert "[" in model.sources[key], "every default carries an evidence marker"
    tor = models["tor"]
    assert tor.port_power_w([1e9, 10e9, 5e9, 400e9]).tolist() == [0.9, 2.5, 2.5, 10.0]


def test_fat_tree_power_by_hand() -> None:
    topo = attach_hosts(fat_tree(4), 16)
    power = NetworkPower(topo)
    # 8 edge (tor: 100 W + 4 ports x 0.9 W), 8 agg (250 + 4 x 1.0), 4 core (500 + 4 x 1.0).
    expected = 8 * (100 + 3.6) + 8 * 254 + 4 * 504
    assert power.power_w() == pytest.approx(expected)
    assert power.n_switches == 20
    # Everything idle and allowed to sleep: every switch is off (sleep_w = 0).
    assert power.power_w(sleep_idle=True) == 0.0


def test_sleeping_keeps_only_the_used_path_on() -> None:
    topo = attach_hosts(fat_tree(4), 16)
    net = FlowNetwork(topo, Router(topo))
    net.add_flow(0.0, 0, 15, math.inf)
    power = NetworkPower(topo)
    util = net.link_utilization()
    # Path host-edge-agg-core-agg-edge-host: 5 switches, ports: edge 2 each, agg 2, core 2.
    expected = 2 * (100 + 2 * 0.9) + 2 * (250 + 2 * 1.0) + (500 + 2 * 1.0)
    assert power.power_w(util, sleep_idle=True) == pytest.approx(expected)
    per = power.per_switch_w(util, sleep_idle=True)
    assert np.count_nonzero(per) == 5
    # A link forced up keeps its ports and switches on.
    forced = np.zeros(topo.n_links, dtype=bool)
    forced[topo.link_id("core0", "agg0_0")] = True
    assert power.power_w(util, forced, sleep_idle=True) > expected


def test_gateways_never_sleep() -> None:
    g = multi_dc([fat_tree(2), fat_tree(2)], wan_bps=10e9, wan_latency_s=0.01)
    power = NetworkPower(attach_hosts(g, 4))
    gw = switch_models()["gateway"]
    # Each gateway: chassis + 1 core port (1 Gbps, the DC's largest link) + 1 WAN port (10G).
    assert power.power_w(sleep_idle=True) == pytest.approx(
        2 * (gw.chassis_w + gw.port_power_w([1e9])[0] + gw.port_power_w([10e9])[0])
    )


def test_parse_switch_model_reports_problems() -> None:
    model, issues = parse_switch_model("x", {"chassis_w": "-5W", "port_w": {"fast": 1}, "oops": 1})
    assert model is None
    assert [i.path for i in issues] == ["x.oops", "x.chassis_w", "x.port_w.fast"]
    model, issues = parse_switch_model("y", {"chassis_w": "1kW", "port_w": {"10Gbps": "3W"}})
    assert issues == []
    assert model is not None
    assert model.chassis_w == 1000.0
