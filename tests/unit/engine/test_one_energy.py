"""One energy, measured exactly: hosts + network everywhere; interval averages integrate to the
summary; a flow shorter than an interval is counted in full (worked by hand)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import dcsim
from tests.conftest import tiny_config

J_PER_KWH = 3.6e6


def _stream(network: bool) -> dict[str, Any]:
    """Guests arriving at random instants on sleeping hosts; optionally a leaf-spine network
    with background flows starting and stopping off the interval grid, idle links sleeping."""
    cfg: dict[str, Any] = {
        "name": "stream", "seed": 5, "duration": "6h", "interval": "5m",
        "datacenters": [
            {"pue": 1.5, "hosts": [{"count": 4, "cores": 2, "mips_per_core": 1000,
                                    "ram": "8GiB", "storage": "100GB", "bandwidth": "10Gbps",
                                    "power": {"kind": "linear", "idle": 100, "max": 200},
                                    "virtualization": "nolayer"}]},
        ],
        "virtualization_profiles": {"nolayer": {"kind": "type1"}},
        "guests": [{"count": 80, "mips": 1000, "ram": "2GiB", "disk": "1GB", "boot": False,
                    "workload": {"kind": "uniform", "low": 0.2, "high": 0.9},
                    "arrival": {"kind": "poisson", "rate": "20/h", "mean_lifetime": "30m"}}],
        "placement": {"name": "best_fit"},
        "power_management": {"sleep_idle_hosts": True, "wake_latency": "90s"},
    }
    if network:
        cfg["network"] = {
            "topology": {"kind": "leaf_spine", "leaves": 2, "spines": 2, "hosts_per_leaf": 2,
                         "link": "10Gbps"},
            "sleep_idle_links": True,
            "traffic": [{"random_pairs": 2, "rate": "3Gbps", "start": "17m", "stop": "9660s"},
                        {"src_host": 0, "dst_host": 3, "rate": "2Gbps", "start": "3780s",
                         "stop": "3840s"}],
        }
    return cfg


@pytest.mark.parametrize("network", [False, True])
def test_timeseries_integrates_to_the_summary(network: bool) -> None:
    r = dcsim.run(_stream(network))
    s, ts = r.summary, r.timeseries
    dt = ts["interval_s"]
    assert float(dt.sum()) == pytest.approx(6 * 3600, rel=1e-12)
    for col, key in (("power_it_w", "energy_it_kwh"), ("power_hosts_w", "energy_hosts_kwh"),
                     ("power_network_w", "energy_network_kwh"),
                     ("power_facility_w", "energy_facility_kwh")):
        assert float((ts[col] * dt).sum()) / J_PER_KWH == pytest.approx(s[key], rel=1e-9), col
    assert s["energy_it_kwh"] == pytest.approx(s["energy_hosts_kwh"] + s["energy_network_kwh"],
                                               rel=1e-12)
    assert s["energy_facility_kwh"] == pytest.approx(1.5 * s["energy_it_kwh"], rel=1e-12)
    assert s["esv"] == pytest.approx(s["energy_it_kwh"] * s["slatah"] * s["pdm"], rel=1e-12)
    assert float((ts["demand_mips"] * dt).sum()) == pytest.approx(s["demand_mi"], rel=1e-9)
    assert float((ts["delivered_mips"] * dt).sum()) == pytest.approx(s["delivered_mi"], rel=1e-9)
    assert float((ts["unmet_mips"] * dt).sum()) == pytest.approx(s["unmet_mi"], rel=1e-6,
                                                                   abs=1e-3)
    if network:
        assert s["energy_network_kwh"] > 0
        net = r.tables["network"]
        assert float((net["network_power_w"] * dt.to_numpy()).sum()) / J_PER_KWH == \
            pytest.approx(s["energy_network_kwh"], rel=1e-9)
    else:
        assert s["energy_network_kwh"] == 0.0


def test_flow_shorter_than_an_interval_by_hand() -> None:
    # leaf-spine with one leaf, one spine and 2 hosts (10 Gbit/s links and NICs); idle links
    # sleep. One 1 Gbit/s flow host 0 -> host 1 from 60 s to 180 s, inside the first 300 s
    # interval. Directed links: host0->leaf, leaf->host0, host1->leaf, leaf->host1, leaf<->spine
    # (6). Utilisation of host0->leaf and leaf->host1 over [0, 300): 1e9 x 120 / (1e10 x 300) =
    # 0.04; mean over the 6 links 0.08 / 6; busy share 2 x 120/300 / 6.
    # Switch power: while the flow runs the leaf (ToR) has its two host ports up: 100 W chassis +
    # 2 x 2.5 W (10G ports) = 105 W for 120 s = 12,600 J; otherwise every port sleeps and both
    # switches draw their sleep power, 0 W. Sampling at the ticks (0, 300 s) would see nothing.
    cfg = copy.deepcopy(tiny_config())
    cfg["datacenters"][0]["hosts"][0]["bandwidth"] = "10Gbps"
    cfg["network"] = {
        "topology": {"kind": "leaf_spine", "leaves": 1, "spines": 1, "hosts_per_leaf": 2,
                     "link": "10Gbps"},
        "sleep_idle_links": True,
        "link_timeseries": True,
        "traffic": [{"src_host": 0, "dst_host": 1, "rate": "1Gbps", "start": "60s",
                     "stop": "180s"}],
    }
    r = dcsim.run(cfg)
    s = r.summary
    net = r.tables["network"]
    first = net.iloc[0]
    assert first["time_s"] == 0.0
    assert first["max_link_utilization"] == pytest.approx(0.04, rel=1e-12)
    assert first["mean_link_utilization"] == pytest.approx(0.08 / 6, rel=1e-12)
    assert first["busy_link_fraction"] == pytest.approx(2 * 120 / 300 / 6, rel=1e-12)
    assert first["network_power_w"] == pytest.approx(12600 / 300, rel=1e-12)
    assert float(net["network_power_w"].iloc[1:].abs().max()) == 0.0
    links = r.tables["links"]
    busy = links[(links["time_s"] == 0.0) & (links["utilization"] > 0)]
    assert busy["utilization"].tolist() == pytest.approx([0.04, 0.04], rel=1e-12)
    assert s["energy_network_kwh"] == pytest.approx(12600 / J_PER_KWH, rel=1e-12)
    # hosts: 150 W (guest at 50 %) + 100 W idle for 3600 s
    assert s["energy_hosts_kwh"] == pytest.approx(250 * 3600 / J_PER_KWH, rel=1e-12)
    assert s["energy_it_kwh"] == pytest.approx((250 * 3600 + 12600) / J_PER_KWH, rel=1e-12)
    assert s["energy_facility_kwh"] == pytest.approx(1.5 * s["energy_it_kwh"], rel=1e-12)
    assert r.timeseries["power_network_w"].iloc[0] == pytest.approx(42.0, rel=1e-12)
    assert s["mean_link_utilization"] == pytest.approx(2 * 1e9 * 120 / (1e10 * 3600) / 6,
                                                       rel=1e-12)
    assert s["link_byte_hops"] == pytest.approx(2 * 1e9 * 120 / 8, rel=1e-12)
