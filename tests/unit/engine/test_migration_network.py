"""Migrations inside the engine, over the network model; network config wiring; consolidation."""

from __future__ import annotations

import numpy as np
import pytest

import dcsim
from dcsim.engine.simulation import Simulation
from dcsim.model.cluster import GuestStatus
from tests.conftest import tiny_config


def _two_host_cfg(**over: object) -> dict:
    cfg = tiny_config(duration="10m", interval="5m")
    cfg["datacenters"][0]["hosts"][0].update(count=2, bandwidth="1Gbps", cpu_overcommit=2.0)
    cfg["virtualization_profiles"] = {"nolayer": {"kind": "type1", "live_migration": True}}
    cfg["guests"][0].update(ram="1000MB")
    cfg.update(over)
    return cfg


def _spec(**kw: object) -> object:
    from dcsim.config.migration import MigrationSpec

    return MigrationSpec(**kw)  # type: ignore[arg-type]


def test_live_migration_by_hand_and_capacity_held_on_both_hosts() -> None:
    # 1000 MB at 1 Gbit/s with nothing dirtied: round 0 takes 8 s, then an empty stop-and-copy
    sc = dcsim.api._scenario(_two_host_cfg(), None)
    sim = Simulation(sc, check_invariants=True)
    seen: dict[str, float] = {}

    def go() -> object:
        yield sim.env.timeout(60)
        st = sim.state
        before = st.used_ram.copy()
        proc = sim.migrate(0, 1, _spec(dirty_rate="0B/s", resume_time="0s"))
        assert proc is not None
        # both hosts hold the guest while it moves
        assert st.used_ram[1] == pytest.approx(before[1] + 1e9)
        assert st.used_ram[0] == pytest.approx(before[0])
        rec = yield proc
        seen["duration"] = rec.end_s - rec.start_s
        seen["bytes"] = rec.bytes_sent
        seen["host"] = float(st.host_of[0])
        seen["ram0"] = float(st.used_ram[0])

    sim.env.process(go())
    r = sim.run()
    assert seen["duration"] == pytest.approx(8.0, rel=1e-3)
    assert seen["bytes"] == pytest.approx(1e9)
    assert seen["host"] == 1.0
    assert seen["ram0"] == 0.0
    assert r.summary["migrations"] == 1
    assert sim.state.status[0] == GuestStatus.RUNNING


def test_two_migrations_share_the_source_nic() -> None:
    cfg = _two_host_cfg()
    cfg["guests"][0]["count"] = 2
    sc = dcsim.api._scenario(cfg, None)
    sim = Simulation(sc)
    durations: list[float] = []

    def go() -> object:
        yield sim.env.timeout(60)
        p1 = sim.migrate(0, 1, _spec(dirty_rate="0B/s"))
        p2 = sim.migrate(1, 1, _spec(dirty_rate="0B/s"))
        for p in (p1, p2):
            rec = yield p
            durations.append(rec.end_s - rec.start_s)

    sim.env.process(go())
    sim.run()
    assert durations == pytest.approx([16.0, 16.0], rel=1e-3)  # twice one alone


def test_live_migration_refused_on_a_profile_without_it() -> None:
    cfg = _two_host_cfg(consolidation={"policy": "thr-mmt-0.8"})
    cfg["virtualization_profiles"] = {"nolayer": {"kind": "container", "live_migration": False}}
    with pytest.raises(dcsim.ConfigError) as info:
        dcsim.api._scenario(cfg, None)
    assert any(i.path == "consolidation.migration.model" for i in info.value.issues)


def test_network_config_errors_carry_paths() -> None:
    cfg = _two_host_cfg(network={"topology": {"kind": "fat_tree", "k": 3}})
    with pytest.raises(dcsim.ConfigError) as info:
        dcsim.api._scenario(cfg, None)
    assert "network.topology.k" in {i.path for i in info.value.issues}
    cfg = _two_host_cfg(network={"topology": {"kind": "leaf_spine", "leaves": 1, "spines": 1,
                                              "hosts_per_leaf": 1}})
    with pytest.raises(dcsim.ConfigError) as info:
        dcsim.api._scenario(cfg, None)
    assert any(i.path.startswith("network.topology") for i in info.value.issues)


def test_background_traffic_and_switch_energy() -> None:
    cfg = _two_host_cfg(duration="1h", network={
        "topology": {"kind": "fat_tree", "k": 4, "link": "1Gbps"},
        "traffic": [{"src_host": 0, "dst_host": 1, "rate": "500Mbps"}],
    })
    r = dcsim.run(cfg)
    s = r.summary
    assert s["energy_network_kwh"] > 0
    net = r.tables["network"]
    assert net["max_link_utilization"].iloc[1:].max() == pytest.approx(0.5)
    base = dcsim.run(_two_host_cfg(duration="1h"))
    assert s["energy_it_kwh"] == pytest.approx(
        base.summary["energy_it_kwh"] + s["energy_network_kwh"])


def test_default_mode_consolidation_migrates_and_keeps_invariants() -> None:
    cfg = {
        "name": "cons", "seed": 3, "duration": "2h", "interval": "5m",
        "datacenters": [{"hosts": [{"model": "hp_ml110_g5", "count": 10, "virtualization": "lite",
                                    "cpu_overcommit": 4}]}],
        "virtualization_profiles": {"lite": {"base": "xen", "mem_overhead_per_guest": "32MiB",
                                             "host_reserved_mem": "256MiB"}},
        "guests": [{"type": "cloudsim_500", "count": 20, "boot": False,
                    "workload": {"kind": "uniform", "low": 0.05, "high": 0.3}}],
        "placement": {"name": "worst_fit"},
        "consolidation": {"policy": "thr-mmt-0.8"},
    }
    r = dcsim.run(cfg, check_invariants=True)
    s = r.summary
    assert s["migrations"] > 0
    assert s["host_shutdowns"] > 0
    assert s["mean_active_hosts"] < 10
    m = r.tables["migrations"]
    assert np.all(m["downtime_s"] > 0)
    again = dcsim.run(cfg)
    assert again.summary["migrations"] == s["migrations"]
    assert again.summary["energy_it_kwh"] == s["energy_it_kwh"]


def test_cross_datacenter_migration_copies_the_disk_over_the_wan() -> None:
    # two data centers, one host each, joined by a 1 Gbit/s WAN (20 ms); NICs at 10 Gbit/s:
    # the WAN is the bottleneck. Disk 1 GB is copied first, then 1000 MB of RAM (nothing dirty).
    cfg = _two_host_cfg()
    host = dict(cfg["datacenters"][0]["hosts"][0], count=1, bandwidth="10Gbps")
    cfg["datacenters"] = [{"name": "a", "hosts": [host]}, {"name": "b", "hosts": [dict(host)]}]
    cfg["guests"][0]["disk"] = "1GB"
    cfg["network"] = {"per_datacenter": [{"kind": "star"}, {"kind": "star"}],
                      "wan": {"bandwidth": "1Gbps", "latency": "20ms"}, "switch_energy": False}
    sc = dcsim.api._scenario(cfg, None)
    sim = Simulation(sc, check_invariants=True)
    out: dict[str, float] = {}

    def go() -> object:
        yield sim.env.timeout(60)
        rec = yield sim.migrate(0, 1, _spec(dirty_rate="0B/s", resume_time="0s"))
        out.update(duration=rec.end_s - rec.start_s, bytes=rec.bytes_sent,
                   host=float(sim.state.host_of[0]))

    sim.env.process(go())
    sim.run()
    assert out["host"] == 1.0
    assert out["bytes"] == pytest.approx(2e9)
    # 8 s of disk + 8 s of RAM at 1 Gbit/s, plus a few one-way path latencies (≈ 20 ms each)
    assert 16.0 < out["duration"] < 16.2


def test_guest_traffic_follows_a_migrating_guest() -> None:
    # guests 0 and 1 start on hosts 0 and 0 (first fit): co-located, no network traffic;
    # after guest 1 moves to host 1 their 300 Mbit/s flow crosses the network
    cfg = _two_host_cfg(duration="20m", network={
        "topology": {"kind": "star"}, "switch_energy": False,
        "traffic": [{"src_guest": 0, "dst_guest": 1, "rate": "300Mbps"}]})
    cfg["guests"][0]["count"] = 2
    sc = dcsim.api._scenario(cfg, None)
    sim = Simulation(sc, check_invariants=True)

    def go() -> object:
        yield sim.env.timeout(60)
        yield sim.migrate(1, 1, _spec(dirty_rate="0B/s"))

    sim.env.process(go())
    r = sim.run()
    net = r.tables["network"]
    # interval averages: over [0, 300 s) host 0's uplink carries the 1 GB migration, then the
    # 300 Mbit/s guest flow from the switch-over (the migration's end) on
    t_sw = float(r.tables["migrations"]["end_s"].iloc[0])
    assert net.loc[net["time_s"] == 0.0, "max_link_utilization"].iloc[0] == pytest.approx(
        (1e9 * 8 + 300e6 * (300 - t_sw)) / (1e9 * 300), rel=1e-9)
    assert net.loc[net["time_s"] == 600.0, "max_link_utilization"].iloc[0] == pytest.approx(0.3)


def test_migration_aborted_when_the_guest_leaves_mid_flight() -> None:
    # the guest's lifetime ends 4 s into an 8 s migration: the flow is cancelled, the
    # destination's reservation and CPU charge are given back, no record is written
    sc = dcsim.api._scenario(_two_host_cfg(), None)
    sim = Simulation(sc, check_invariants=True)
    st = sim.state

    def go() -> object:
        yield sim.env.timeout(60)
        sim.migrate(0, 1, _spec(dirty_rate="0B/s", resume_time="0s"))
        yield sim.env.timeout(4)
        sim.depart(0)
        yield sim.env.timeout(1)
        assert st.used_ram[1] == 0.0
        assert sim.extra_raw.sum() == 0.0
        assert sim.network.flows.n_live == 0

    sim.env.process(go())
    r = sim.run()
    assert r.summary["migrations"] == 0
    assert r.summary["migrations_aborted"] == 1
    assert r.summary["guests_departed"] == 1


def test_migration_aborted_when_the_destination_fails() -> None:
    sc = dcsim.api._scenario(_two_host_cfg(), None)
    sim = Simulation(sc, check_invariants=True)

    def go() -> object:
        yield sim.env.timeout(60)
        sim.migrate(0, 1, _spec(dirty_rate="0B/s"))
        yield sim.env.timeout(3)
        sim.fail_host(1)

    sim.env.process(go())
    r = sim.run()
    assert r.summary["migrations_aborted"] == 1
    assert sim.state.host_of[0] == 0
    assert sim.state.status[0] == GuestStatus.RUNNING
    assert sim.speed[0] == 1.0
