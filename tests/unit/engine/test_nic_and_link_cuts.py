"""A host's NIC limits its traffic in every topology (and the migration-time estimate follows it);
link failures stall or abort flows, never crash a run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import dcsim
from dcsim.config.migration import MigrationSpec
from dcsim.engine.consolidation import Consolidation
from dcsim.engine.simulation import Simulation
from tests.conftest import tiny_config

GIB4 = 4 * 2**30  # bytes


def _cfg(nic: str, network: dict[str, Any] | None, **over: Any) -> dict[str, Any]:
    cfg = tiny_config(duration="10m", interval="5m")
    cfg["datacenters"][0]["hosts"][0].update(count=2, bandwidth=nic, cpu_overcommit=2.0,
                                             ram="16GiB")
    cfg["virtualization_profiles"] = {"nolayer": {"kind": "type1", "live_migration": True}}
    cfg["guests"][0].update(ram="4GiB")
    if network is not None:
        cfg["network"] = network
    cfg.update(over)
    return cfg


def _migrate_4gib(cfg: dict[str, Any]) -> float:
    sim = Simulation(dcsim.api._scenario(cfg, None), check_invariants=True)
    out: dict[str, float] = {}

    def go() -> Any:
        yield sim.env.timeout(60)
        rec = yield sim.migrate(0, 1, MigrationSpec(dirty_rate="0B/s", resume_time="0s"))
        out["d"] = rec.end_s - rec.start_s

    sim.env.process(go())
    sim.run()
    return out["d"]


FAT10 = {"topology": {"kind": "fat_tree", "k": 4, "link": "10Gbps"}}


@pytest.mark.parametrize(("nic", "network", "expected"), [
    # 4 GiB = 34,359,738,368 bit; nothing dirtied: round 0 then an empty stop-and-copy, each
    # also crossing the path's latency (hosts 0 and 1 share an edge switch: 2 links x 1 us).
    ("1Gbps", None, 34.359738368 + 2 * 2e-6),     # the NIC star: 1 Gbit/s
    ("1Gbps", FAT10, 34.359738368 + 2 * 2e-6),    # min(1G NIC, 10G link) = 1 Gbit/s
    ("25Gbps", FAT10, 3.4359738368 + 2 * 2e-6),   # min(25G NIC, 10G link) = 10 Gbit/s
])
def test_migration_runs_at_the_smaller_of_nic_and_link(nic: str, network: Any,
                                                       expected: float) -> None:
    assert _migrate_4gib(_cfg(nic, network)) == pytest.approx(expected, abs=1e-7)


def test_leaf_spine_and_star_honour_the_nic_too() -> None:
    ls = {"topology": {"kind": "leaf_spine", "leaves": 2, "spines": 1, "hosts_per_leaf": 2,
                       "link": "10Gbps"}}
    # same leaf, 2 links of 1 us: as above
    assert _migrate_4gib(_cfg("1Gbps", ls)) == pytest.approx(34.359738368 + 4e-6, abs=1e-7)
    star = {"topology": {"kind": "star"}}
    assert _migrate_4gib(_cfg("1Gbps", star)) == pytest.approx(34.359738368, abs=1e-4)


def _consolidation(cfg: dict[str, Any]) -> Consolidation:
    sim = Simulation(dcsim.api._scenario(cfg, None))
    ext = [e for e in sim.extensions if isinstance(e, Consolidation)]
    assert len(ext) == 1
    return ext[0]


@pytest.mark.parametrize(("nic", "network", "cap", "bps"), [
    ("1Gbps", None, None, 1e9),
    ("1Gbps", FAT10, None, 1e9),          # was 1e9 by luck of reading the NIC; link is 10G
    ("25Gbps", FAT10, None, 1e10),        # the link binds, not the 25G NIC
    ("25Gbps", FAT10, "100MB/s", 8e8),    # the migration's own cap binds
])
def test_migration_time_estimate_uses_what_the_migration_gets(nic: str, network: Any,
                                                              cap: str | None,
                                                              bps: float) -> None:
    mig: dict[str, Any] = {"dirty_rate": "0B/s"}
    if cap is not None:
        mig["bandwidth_cap"] = cap
    cons = _consolidation(_cfg(nic, network, consolidation={"policy": "lr-mmt-1.2",
                                                             "migration": mig}))
    np.testing.assert_allclose(cons.migration_bps(), [bps, bps], rtol=1e-12)
    # the detector sees the largest guest's RAM at that rate: 4 GiB x 8 / bps
    cons.sim.state.place(0, 0)
    load = cons._load(np.asarray([0, 1], dtype=np.intp), np.asarray([0.5, 0.0]))
    np.testing.assert_allclose(load.max_migration_s, [GIB4 * 8 / bps, 0.0], rtol=1e-12)


# ---------------------------------------------------------------- link failures and migrations
def _cut_host_15(sim: Simulation) -> None:
    topo = sim.topology
    down = np.zeros(topo.n_links, dtype=bool)
    node = topo.host_node_index[15]
    down[(topo.link_src == node) | (topo.link_dst == node)] = True  # its only link, both ways
    sim.network.set_links_down(down)


def test_migration_cut_off_mid_way_is_aborted_and_gives_back_its_reservation() -> None:
    cfg = _cfg("1Gbps", {"topology": {"kind": "fat_tree", "k": 4, "link": "1Gbps"}})
    cfg["datacenters"][0]["hosts"][0]["count"] = 16
    sim = Simulation(dcsim.api._scenario(cfg, None), check_invariants=True)
    st = sim.state
    seen: dict[str, Any] = {}

    def go() -> Any:
        yield sim.env.timeout(60)
        ram15 = float(st.used_ram[15])
        proc = sim.migrate(0, 15, MigrationSpec(dirty_rate="0B/s", resume_time="0s"))
        assert proc is not None
        assert st.used_ram[15] == pytest.approx(ram15 + GIB4)  # reserved on the destination
        yield sim.env.timeout(10)  # 10 s of the 34.4 s round 0 sent
        _cut_host_15(sim)
        yield sim.env.timeout(0)  # the migration process handles its NoPath now
        seen["alive"] = proc.is_alive
        seen["ram15_back"] = float(st.used_ram[15]) == ram15
        seen["host"] = int(st.host_of[0])
        # a migration never starts towards a host it cannot reach; elsewhere it still does
        seen["refused"] = sim.migrate(0, 15, MigrationSpec(dirty_rate="0B/s")) is None
        seen["other"] = sim.migrate(0, 1, MigrationSpec(dirty_rate="0B/s")) is not None

    sim.env.process(go())
    sim.run()
    # seen["host"] is read right after the cut: the guest is still on host 0
    assert seen == {"alive": False, "ram15_back": True, "host": 0, "refused": True,
                    "other": True}
    assert sim.migrations_aborted == 1
    aborted = [r for r in sim.network.flows.records if not r.completed]
    # round 0 at 1 Gbit/s for exactly 10 s: 1.25e9 bytes sent, then cancelled
    assert [r.nbytes for r in aborted] == [pytest.approx(1.25e9, rel=1e-9)]


@pytest.mark.parametrize("seed", [2, 3])
def test_consolidation_under_link_failures_runs_to_the_end(seed: int) -> None:
    # Before: "ValueError: no path from 'host0_0_0' to 'host0_1_0'" at 0.1 s of wall time
    # (a migration started across a cut). Now migrations avoid unreachable hosts and abort
    # when cut off mid-way, giving back the destination's reservation.
    cfg = {
        "name": "links", "seed": seed, "duration": "3h", "interval": "5m",
        "datacenters": [{"hosts": [{"model": "ibm_x3550_x5675", "count": 16, "ram": "64GiB",
                                    "virtualization": "kvm", "cpu_overcommit": 2.0}]}],
        "guests": [{"type": "small", "count": 60,
                    "workload": {"kind": "uniform", "low": 0.0, "high": 1.0}}],
        "placement": {"name": "pabfd"},
        "power_management": {"sleep_idle_hosts": True, "wake_latency": "60s"},
        "consolidation": {"policy": "thr-mmt-0.8"},
        "network": {"topology": {"kind": "fat_tree", "k": 4, "link": "10Gbps"}},
        "faults": {"links": {"ttf": {"kind": "exponential", "mean": "3h"},
                             "repair": {"kind": "exponential", "mean": "1h"}}},
    }
    sim = Simulation(dcsim.api._scenario(cfg, None), check_invariants=True)
    r = sim.run()
    assert r.summary["link_failures"] > 0
    assert r.summary["migrations"] > 0
    assert not (sim.state.mig_dst >= 0).any() or sim.mig_procs  # only live ones hold a room
