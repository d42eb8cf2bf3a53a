"""Energy and CPU sharing worked out by hand on two-host scenarios."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

import dcsim
from tests.conftest import tiny_config


def test_linear_power_two_hosts_by_hand() -> None:
    # host 0: u = 500/1000 = 0.5 -> 100 + 100*0.5 = 150 W; host 1 idle: 100 W; for 3600 s
    r = dcsim.run(tiny_config())
    assert r.summary["energy_it_kwh"] == pytest.approx((150 + 100) * 3600 / 3.6e6, rel=1e-12)
    assert r.summary["energy_facility_kwh"] == pytest.approx(0.25 * 1.5, rel=1e-12)
    assert r.summary["mean_active_hosts"] == pytest.approx(2.0)
    assert r.summary["unmet_mi"] == pytest.approx(0.0, abs=1e-6)
    assert r.summary["demand_mi"] == pytest.approx(500 * 3600)
    assert r.summary["mean_cpu_utilization"] == pytest.approx(500 / 2000)
    assert len(r.timeseries) == 12


def test_sleeping_host_draws_sleep_power() -> None:
    cfg = tiny_config(power_management={"sleep_idle_hosts": True})
    cfg["datacenters"][0]["hosts"][0]["sleep_power"] = "10W"
    r = dcsim.run(cfg)
    assert r.summary["energy_it_kwh"] == pytest.approx((150 + 10) * 3600 / 3.6e6, rel=1e-12)
    assert r.summary["mean_active_hosts"] == pytest.approx(1.0)


def test_specpower_table_interpolation_by_hand() -> None:
    # ML110 G4 (2 x 1860 MIPS): guest wants 0.5 x 1860 = 930 MIPS -> u = 0.25
    # P(0.25) = 92.6 + (96 - 92.6) * 0.5 = 94.3 W; the idle G5 draws 93.7 W.
    cfg = tiny_config()
    cfg["datacenters"][0]["hosts"] = [
        {"model": "hp_ml110_g4", "virtualization": "nolayer"},
        {"model": "hp_ml110_g5", "virtualization": "nolayer"},
    ]
    cfg["guests"][0]["mips"] = 1860
    r = dcsim.run(cfg)
    assert r.summary["energy_it_kwh"] == pytest.approx((94.3 + 93.7) * 3600 / 3.6e6, rel=1e-12)


def test_contention_shares_cpu_and_counts_unmet_demand() -> None:
    # two guests each wanting a full 1000-MIPS core on one 1000-MIPS core (overcommit 2):
    # each gets 500 MIPS; unmet = 2 x 500 MIPS x 3600 s
    cfg = tiny_config()
    cfg["datacenters"][0]["hosts"][0].update(count=1, cpu_overcommit=2.0)
    cfg["guests"][0].update(count=2, workload={"kind": "constant", "utilization": 1.0})
    r = dcsim.run(cfg)
    assert r.summary["unmet_mi"] == pytest.approx(2 * 500 * 3600)
    assert r.summary["unmet_fraction"] == pytest.approx(0.5)
    assert r.summary["energy_it_kwh"] == pytest.approx(200 * 3600 / 3.6e6)


def test_cpu_overhead_costs_capacity() -> None:
    # a layer losing 20 % of CPU: 500 useful MIPS cost 625 raw MIPS -> u = 0.625 -> 162.5 W
    cfg = tiny_config(virtualization_profiles={"nolayer": {"kind": "type1",
                                                           "cpu_overhead": 0.2}})
    r = dcsim.run(cfg)
    assert r.summary["energy_it_kwh"] == pytest.approx((162.5 + 100) * 3600 / 3.6e6)
    assert r.summary["overhead_mi"] == pytest.approx(125 * 3600)
    assert r.summary["unmet_mi"] == pytest.approx(0.0, abs=1e-6)


def test_guest_that_fits_nowhere_at_arrival_is_rejected_not_squeezed() -> None:
    cfg = tiny_config()
    cfg["datacenters"][0]["hosts"][0].update(count=1, cpu_overcommit=3.0)
    cfg["guests"][0].update(count=3, ram="2GiB")  # 4 GiB host: two fit, the third does not
    r = dcsim.run(cfg, check_invariants=True)
    assert r.summary["guests_rejected"] == 1
    assert r.summary["guests_placed"] == 2


def test_lifecycle_boot_and_departure_by_hand(tmp_path: Path) -> None:
    # one guest arrives at 0, boots for 600 s (constant boot time), lives 1800 s in total:
    # it runs 1200 s at 500 MIPS -> 600,000 MI of work; its host is otherwise idle.
    cfg = copy.deepcopy(tiny_config())
    cfg["virtualization_profiles"] = {"nolayer": {"kind": "type1", "boot_time": {
        "dist": "constant", "mean": "600s"}}}
    (tmp_path / "arrivals.csv").write_text("arrival_s,lifetime_s\n0,1800\n")
    cfg["guests"][0].update(boot=True, arrival={"kind": "trace",
                                                "path": str(tmp_path / "arrivals.csv")})
    r = dcsim.run(cfg)
    # offered load is its whole life (1800 s); the 600 s boot is unserved boot demand
    assert r.summary["demand_mi"] == pytest.approx(500 * 1800)
    assert r.summary["delivered_mi"] == pytest.approx(500 * 1200)
    assert r.summary["unserved_boot_mi"] == pytest.approx(500 * 600)
    assert r.summary["guests_departed"] == 1
    g = r.guests.iloc[0]
    assert (g.start_s, g.end_s) == (600.0, 1800.0)
