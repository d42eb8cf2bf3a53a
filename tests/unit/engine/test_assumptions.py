"""Each CloudSim assumption switch (``assumptions:``) on its own, worked out by hand.

Every test runs the same small scenario with the switch at dcsim's default and at CloudSim's
value, and checks both results against the arithmetic written next to them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import dcsim
from dcsim.config.assumptions import ASSUMPTION_PRESETS, Assumptions
from dcsim.errors import ConfigError
from tests.conftest import tiny_config

KWH = 3.6e6
GIB = 2**30


def _run(cfg: dict[str, Any], **switches: Any) -> dcsim.Result:
    if switches:
        cfg = {**cfg, "assumptions": switches}
    return dcsim.run(cfg, check_invariants=True)


def _live() -> dict[str, Any]:
    """tiny_config on a type-1 layer that can migrate live (no overheads)."""
    return tiny_config(virtualization_profiles={"nolayer": {"kind": "type1",
                                                            "live_migration": True}})


def _consolidating(overcommit: float = 2.0) -> dict[str, Any]:
    """Two 1000-MIPS hosts; guest A (512 MiB, 85 %) and B (1 GiB, 10 %) both on host 0."""
    cfg = _live()
    cfg["datacenters"][0]["hosts"][0].update(cpu_overcommit=overcommit, bandwidth="1Gbit/s")
    cfg["guests"] = [
        {"count": 1, "mips": 1000, "ram": "512MiB", "disk": "1GB", "boot": False,
         "workload": {"kind": "constant", "utilization": 0.85}},
        {"count": 1, "mips": 1000, "ram": "1GiB", "disk": "1GB", "boot": False,
         "workload": {"kind": "constant", "utilization": 0.10}},
    ]
    cfg["consolidation"] = {"policy": "thr-mmt-0.8"}
    return cfg


def _trace_dir(tmp_path: Path, series: dict[str, list[int]]) -> str:
    d = tmp_path / "trace"
    d.mkdir()
    for name, values in series.items():
        (d / name).write_text("".join(f"{v}\n" for v in values))
    return str(d)


def test_preset_sets_every_switch_and_overrides_win() -> None:
    a = Assumptions.model_validate("cloudsim-3.0.3")
    assert set(a.cloudsim_fields) == set(ASSUMPTION_PRESETS["cloudsim-3.0.3"])
    b = Assumptions.model_validate({"preset": "cloudsim-3.0.3", "energy": "integral"})
    assert "energy" not in b.cloudsim_fields
    assert len(b.cloudsim_fields) == len(a.cloudsim_fields) - 1
    assert Assumptions().is_default


def test_unknown_switch_or_preset_is_refused_with_its_path() -> None:
    for bad in ({"energy": "trapezoid"}, {"preset": "cloudsim-9"}, {"sleep": True}):
        with pytest.raises(ConfigError) as exc:
            dcsim.run({**tiny_config(), "assumptions": bad})
        assert "assumptions" in str(exc.value)


def test_energy_rule() -> None:
    # integral: host 0 at u = 0.5 -> 150 W, host 1 idle -> 100 W, 3600 s: 0.25 kWh.
    assert _run(tiny_config()).summary["energy_it_kwh"] == pytest.approx(0.25, rel=1e-12)
    # cloudsim: updates at 0, 300, ..., 3300; 11 trapezoids of (150 + 150) / 2 W x 300 s on
    # host 0; host 1's previous utilisation is 0 -> nothing; nothing after 3300 s.
    r = _run(tiny_config(), energy="cloudsim")
    assert r.summary["energy_it_kwh"] == pytest.approx(11 * 150 * 300 / KWH, rel=1e-12)


def test_footprint() -> None:
    # A layer losing 20 % of CPU: 500 useful MIPS cost 625 raw -> 162.5 W (+ 100 W idle host).
    cfg = tiny_config(virtualization_profiles={"nolayer": {"kind": "type1",
                                                           "cpu_overhead": 0.2}})
    assert _run(cfg).summary["energy_it_kwh"] == pytest.approx(262.5 * 3600 / KWH)
    # none: 500 MIPS -> 150 W.
    assert _run(cfg, footprint="none").summary["energy_it_kwh"] == pytest.approx(
        250 * 3600 / KWH)


def test_cpu_sharing() -> None:
    # One 1000-MIPS core (overcommit 2); A wants 950, B 310 MIPS: 1260 > 1000.
    cfg = tiny_config()
    cfg["datacenters"][0]["hosts"][0].update(count=1, cpu_overcommit=2.0)
    cfg["guests"] = [
        {"count": 1, "mips": 1000, "ram": "1GiB", "disk": "1GB", "boot": False,
         "workload": {"kind": "constant", "utilization": u}} for u in (0.95, 0.31)]
    # max-min: B gets its 310, A the other 690 -> A misses 260 MIPS for 3600 s.
    g = _run(cfg).guests
    g["unmet_mi"] = g["demand_mi"] - g["delivered_mi"]
    assert g["unmet_mi"].iloc[0] == pytest.approx(260 * 3600)
    # proportional: scale 1000 / 1260, floored: A floor(753.97) = 753, B floor(246.03) = 246
    # -> A misses 197 MIPS, B 64.
    g = _run(cfg, cpu_sharing="proportional").guests
    g["unmet_mi"] = g["demand_mi"] - g["delivered_mi"]
    assert g["unmet_mi"].iloc[0] == pytest.approx(197 * 3600)
    assert g["unmet_mi"].iloc[1] == pytest.approx(64 * 3600)


def test_sla_definitions() -> None:
    cfg = tiny_config()
    cfg["datacenters"][0]["hosts"][0].update(cpu_overcommit=2.0)
    cfg["guests"] = [
        {"count": 1, "mips": 1000, "ram": "1GiB", "disk": "1GB", "boot": False,
         "workload": {"kind": "constant", "utilization": u}} for u in (0.95, 0.30)]
    # dcsim: host 0 at 100 % CPU all 3600 s, host 1 awake and idle: 3600 / 7200 = 0.5.
    assert _run(cfg).summary["slatah"] == pytest.approx(0.5)
    # cloudsim: host 0 allocates 1000 < 1250 requested in every entry; host 1 has no
    # allocation, so it is not active -> 1.0.
    assert _run(cfg, sla="cloudsim").summary["slatah"] == pytest.approx(1.0)


def test_zero_demand_and_update_offset(tmp_path: Path) -> None:
    # One guest replaying samples 0 %, 50 %, 50 %, ... (300 s apart) on host 0.
    path = _trace_dir(tmp_path, {"vm": [0] + [50] * 12})
    cfg = tiny_config()
    cfg["guests"][0]["workload"] = {"kind": "trace", "name": "planetlab", "path": path}
    # keep: 0 MIPS for 300 s, then 500 MIPS for 3300 s -> 1,650,000 MI demanded.
    assert _run(cfg).summary["demand_mi"] == pytest.approx(1_650_000)
    # drop: at the update at t = 0 its demand is exactly 0 -> gone for good, nothing served; its
    # would-be demand stays offered and is unserved, cause dropped: the trace recovers to 500
    # MIPS at 300 s, so 0 x 300 + 500 x 3300 = 1,650,000 MI, all of demand_mi, none delivered.
    r = _run(cfg, zero_demand="drop")
    assert r.summary["unserved_dropped_mi"] == pytest.approx(1_650_000, rel=1e-12)
    assert r.summary["demand_mi"] == pytest.approx(1_650_000, rel=1e-12)
    assert r.summary["unserved_mi"] == pytest.approx(1_650_000, rel=1e-12)
    assert r.summary["delivered_mi"] == 0.0
    assert r.summary["guests_dropped"] == 1  # dropped, not departed: its lifetime is the run
    assert r.summary["guests_departed"] == 0
    assert r.guests["status"].tolist() == ["dropped"]
    # drop with updates at 0.1 s + 300 k: u(0.1) = 0.5 x 0.1 / 300 > 0, so it is kept:
    # 1000/6000 MIPS over [0.1, 300.1) = 50 MI, then 500 MIPS over [300.1, 3600) = 1,649,950.
    r = _run(cfg, zero_demand="drop", update_offset=0.1)
    assert r.summary["demand_mi"] == pytest.approx(1_650_000, rel=1e-9)
    assert r.summary["guests_departed"] == 0
    assert r.summary["guests_dropped"] == 0
    assert r.summary["unserved_dropped_mi"] == 0.0
    assert r.timeseries["time_s"].tolist()[:2] == [0.1, 300.1]


def test_dropped_guest_demand_ends_at_its_planned_departure(tmp_path: Path) -> None:
    # The same 0 %, 50 %, ... guest, arriving at 0 with a lifetime of 1800 s: dropped at t = 0,
    # its would-be demand runs to its planned departure at 1800 s, not to the end of the run:
    # 0 x 300 + 500 MIPS x (1800 - 300) s = 750,000 MI unserved, all of demand_mi.
    path = _trace_dir(tmp_path, {"vm": [0] + [50] * 12})
    arrivals = tmp_path / "arrivals.csv"
    arrivals.write_text("arrival_s,lifetime_s\n0,1800\n")
    cfg = tiny_config()
    cfg["guests"][0].update(workload={"kind": "trace", "name": "planetlab", "path": path},
                            arrival={"kind": "trace", "path": str(arrivals)})
    r = _run(cfg, zero_demand="drop")
    assert r.summary["unserved_dropped_mi"] == pytest.approx(750_000, rel=1e-12)
    assert r.summary["demand_mi"] == pytest.approx(750_000, rel=1e-12)
    assert r.summary["unserved_fraction"] == pytest.approx(1.0, rel=1e-12)


def test_npa_energy_rule() -> None:
    # tiny_config: 2 hosts (linear 100 -> 200 W, never asleep), one guest at 50 % on host 0.
    # Updates at 0.1 s + 300 k, the first counted one at 300.1 s, the last at 3300.1 s.
    cs = {"update_offset": 0.1, "first_decision": "first_interval"}
    # cloudsim-npa: both hosts at maximum power from 0 to 3300.1 s: 2 x 200 W x 3300.1 s.
    r = _run(tiny_config(), energy="cloudsim-npa", **cs)
    assert r.summary["energy_it_kwh"] == pytest.approx(2 * 200 * 3300.1 / KWH, rel=1e-12)
    # alone (updates at 0, 300 ... 3300 s): 2 x 200 W x 3300 s
    r = _run(tiny_config(), energy="cloudsim-npa")
    assert r.summary["energy_it_kwh"] == pytest.approx(2 * 200 * 3300 / KWH, rel=1e-12)
    # cloudsim: from 300.1 s only, host 0 at 150 W, host 1 (utilisation 0) counts as off:
    # 150 W x 3000 s.
    r = _run(tiny_config(), energy="cloudsim", **cs)
    assert r.summary["energy_it_kwh"] == pytest.approx(150 * 3000 / KWH, rel=1e-12)


def test_departed_and_dropped_are_counted_apart(tmp_path: Path) -> None:
    # Guest 0 replays 0 %, 50 %, ... with no lifetime: dropped at t = 0 (demand exactly 0).
    # Guest 1 runs at a constant 50 % with a lifetime of 1800 s: it departs at 1800 s, the end
    # of its lifetime, and its demand there is 500 MIPS (never 0): departed 1, dropped 1.
    path = _trace_dir(tmp_path, {"vm": [0] + [50] * 12})
    arrivals = tmp_path / "arrivals.csv"
    arrivals.write_text("arrival_s,lifetime_s\n0,1800\n")
    cfg = tiny_config()
    base = cfg["guests"][0]
    cfg["guests"] = [
        {**base, "workload": {"kind": "trace", "name": "planetlab", "path": path}},
        {**base, "workload": {"kind": "constant", "utilization": 0.5},
         "arrival": {"kind": "trace", "path": str(arrivals)}},
    ]
    r = _run(cfg, zero_demand="drop")
    assert (r.summary["guests_departed"], r.summary["guests_dropped"]) == (1, 1)
    assert r.guests["status"].tolist() == ["dropped", "departed"]
    # the switch off: guest 0 stays all run, guest 1 still departs at the end of its lifetime
    r = _run(cfg)
    assert (r.summary["guests_departed"], r.summary["guests_dropped"]) == (1, 0)
    assert r.guests["status"].tolist() == ["running", "departed"]


def test_compat_counts_dropped_vms(tmp_path: Path) -> None:
    # compat (CloudSim 3.0.3), NPA, one G4 + one G5 host, two 1000-MIPS VMs. Updates at
    # 300 k + 0.1 s, the trace interpolated there: u(300.1) = d1 + (d2 - d1) x 0.1 / 300.
    # VM "a" (10, 0, 0, 10 ...): d1 = d2 = 0 -> u(300.1) = 0, dropped at 300.1 for good.
    # VM "b" (10, 10, ...): never 0, stays. No CloudSim cloudlet ends within the day.
    path = _trace_dir(tmp_path, {"a": [10, 0, 0] + [10] * 9, "b": [10] * 12})
    cfg = {
        "compat": "cloudsim", "seed": 0, "duration": "1h", "interval": "5m",
        "datacenters": [{"pue": 1.0, "hosts": [
            {"model": "hp_ml110_g4", "count": 1, "ram": "4096MB"},
            {"model": "hp_ml110_g5", "count": 1, "ram": "4096MB"}]}],
        "guests": [{"type": "cloudsim_1000", "count": 1, "workload": {
            "kind": "trace", "name": "planetlab", "path": path,
            "selection": {"first": 1, "skip": k}}} for k in range(2)],
        "consolidation": {"policy": "npa"},
    }
    r = dcsim.run(cfg)
    assert (r.summary["guests_departed"], r.summary["guests_dropped"]) == (0, 1)
    assert r.guests["status"].tolist() == ["dropped", "running"]


def test_reservation() -> None:
    # Two 4 GiB hosts, two 3 GiB guests at 10 % each: first fit puts one on each host.
    cfg = _live()
    cfg["guests"][0].update(count=2, ram="3GiB", workload={"kind": "constant",
                                                            "utilization": 0.1})
    cfg["consolidation"] = {"policy": "thr-mmt-0.8"}
    # configured: 3 + 3 GiB > 4 GiB, the underloaded host can never be evacuated.
    assert _run(cfg).summary["migrations"] == 0
    # demand: after admission a guest holds no RAM; host 0 is evacuated at t = 0 (one move).
    assert _run(cfg, reservation="demand").summary["migrations"] == 1


def test_migration_model() -> None:
    # A (512 MiB) leaves overloaded host 0 (85 % + 10 % > 80 %)... under the cloudsim planner,
    # which lets a guest go to an empty host whatever its load (see test_planner).
    cfg = _consolidating()
    base = {"planner": "cloudsim"}
    # configured: pre-copy of 512 MiB over the 1 Gbit/s link with nothing dirtied: one round
    # of 2^29 x 8 / 1e9 = 4.294967296 s, an empty stop-and-copy and 9 ms to resume.
    r = _run(cfg, **base)
    assert r.summary["mean_migration_s"] == pytest.approx(4.294967296 + 0.009, rel=1e-6)
    # cloudsim: RAM / (bandwidth / 2) = 2^29 x 8 / 5e8 = 8.589934592 s.
    r = _run(cfg, **base, migration="cloudsim")
    assert r.summary["mean_migration_s"] == pytest.approx(8.589934592, rel=1e-12)


def test_planner() -> None:
    # THR 0.8: host 0 is overloaded (0.95); MMT picks A (least RAM); without A host 0 is at 0.1.
    # dcsim: A (850 MIPS) fits on no host under 0.8 -> never moves.
    assert _run(_consolidating()).summary["migrations"] == 0
    # cloudsim: an empty target skips the overload test (U = 0) -> A moves to host 1 at t = 0;
    # afterwards host 1 (0.85) is overloaded but host 0 would reach 0.95, and host 0's B cannot
    # go to the overloaded host 1: one migration in all.
    assert _run(_consolidating(), planner="cloudsim").summary["migrations"] == 1


def test_first_decision() -> None:
    cfg = _consolidating()
    r = _run(cfg, planner="cloudsim")
    assert r.tables["migrations"]["start_s"].min() == pytest.approx(0.0)
    r = _run(cfg, planner="cloudsim", first_decision="first_interval")
    assert r.tables["migrations"]["start_s"].min() == pytest.approx(300.0)


def test_initial_placement() -> None:
    # first fit: both 30 % guests on host 0; CloudSim's t = 0 placement sees every host at its
    # stale idle power, so the second guest goes to the other empty host.
    cfg = _live()
    cfg["datacenters"][0]["hosts"][0].update(cpu_overcommit=2.0)
    cfg["guests"][0].update(count=2, workload={"kind": "constant", "utilization": 0.3})
    cfg["consolidation"] = {"policy": "thr-mmt-0.8", "underload": False}
    assert _run(cfg).guests["host"].tolist() == [0, 0]
    assert _run(cfg, initial_placement="cloudsim").guests["host"].tolist() == [0, 1]


def test_datacenter_updates(tmp_path: Path) -> None:
    # A replays 85 %, 55 %, 55 %, ...; B 10 % throughout; A moves at t = 0 (cloudsim planner
    # and migration model), arriving after d = 2^29 x 8 / 5e8 = 8.589934592 s.
    path = _trace_dir(tmp_path, {"a": [85] + [55] * 12, "b": [10] * 13})
    cfg = _consolidating()
    for k, g in enumerate(cfg["guests"]):
        g["workload"] = {"kind": "trace", "name": "planetlab", "path": path,
                         "selection": {"first": 1, "skip": k}}
    base = {"planner": "cloudsim", "migration": "cloudsim"}
    local = _run(cfg, **base).summary["demand_mi"]
    # datacenter: at t = d every workload is re-sampled: A's u(d) = 0.85 - 0.3 d / 300, so over
    # [d, 300) A asks for d MIPS less than the 850 held under local updates: d (300 - d) MI less.
    d = 2**29 * 8 / 5e8
    dc = _run(cfg, **base, updates="datacenter").summary["demand_mi"]
    assert local - dc == pytest.approx(d * (300 - d), rel=1e-9)


def _slow_fast(*, fast: bool = True) -> dict[str, Any]:
    """Host 0: 2 cores x 1000 MIPS (then host 1: 1 core x 2000 MIPS), linear 100 -> 200 W;
    one 1-vCPU 1500-MIPS guest at 80 % (its 1500 MIPS reservation fits both hosts)."""
    cfg = tiny_config()
    slow = {**cfg["datacenters"][0]["hosts"][0], "count": 1, "cores": 2}
    cfg["datacenters"][0]["hosts"] = [slow] + (
        [{**slow, "cores": 1, "mips_per_core": 2000}] if fast else [])
    cfg["guests"][0].update(mips=1500, workload={"kind": "constant", "utilization": 0.8})
    return cfg


def test_slow_cores() -> None:
    # Demand 0.8 x 1500 = 1200 MIPS for 3600 s = 4,320,000 MI.
    # refuse: first fit skips the 1000-MIPS core, host 1 serves all of it; host 0 idle at 100 W,
    # host 1 at 1200/2000 = 60 % -> 160 W: 260 W x 1 h = 0.26 kWh.
    r = _run(_slow_fast())
    assert r.guests["host"].tolist() == [1]
    assert r.summary["unmet_mi"] == pytest.approx(0.0, abs=1e-6)
    assert r.summary["energy_it_kwh"] == pytest.approx(0.26)
    # cap: first fit takes host 0; its vCPU gets one core, 1000 MIPS: unmet 200 x 3600 =
    # 720,000 MI = 1/6 of demand; host 0 at 1000/2000 = 50 % (150 W) + host 1 idle (100 W)
    # = 0.25 kWh. dcsim's SLATAH (time at 100 % CPU) does not see the cap: 0.
    r = _run(_slow_fast(), slow_cores="cap")
    assert r.guests["host"].tolist() == [0]
    assert r.summary["demand_mi"] == pytest.approx(4_320_000)
    assert r.summary["unmet_mi"] == pytest.approx(720_000)
    assert r.summary["unmet_fraction"] == pytest.approx(1 / 6)
    assert r.summary["energy_it_kwh"] == pytest.approx(0.25)
    assert r.summary["slatah"] == 0.0
    # CloudSim's SLATAH: host 0 allocates 1000 < 1200 requested in every entry, host 1 holds
    # nothing (not active) -> 1.0; refused, host 1 allocates all it is asked -> 0.
    assert _run(_slow_fast(), slow_cores="cap", sla="cloudsim").summary["slatah"] == 1.0
    assert _run(_slow_fast(), sla="cloudsim").summary["slatah"] == 0.0
    # only slow cores: refused before the run (capacity law), accepted and capped under cap
    with pytest.raises(ConfigError, match="1500 MIPS per vCPU > 1000 per core"):
        _run(_slow_fast(fast=False))
    assert _run(_slow_fast(fast=False), slow_cores="cap").summary["unmet_mi"] == (
        pytest.approx(720_000))
    # CloudSim's NPA placement at t = 0 (worst fit: the host with the most free cores, host 0
    # with 2) checks no MIPS: capped there under cap; under refuse the capacity law turns that
    # choice down and the guest is rejected (not a crash)
    cfg = {**_slow_fast(), "placement": {"name": "worst_fit"}}
    assert _run(cfg, initial_placement="cloudsim", slow_cores="cap").guests["host"].tolist() == [0]
    assert _run(cfg, initial_placement="cloudsim").summary["guests_rejected"] == 1


def test_slow_cores_migration_under_the_cloudsim_planner() -> None:
    # Preset cloudsim-3.0.3, THR 0.8. Host 0: 1 core x 2000 MIPS, host 1: 1 core x 1000 MIPS,
    # linear 100 -> 200 W, 1 Gbit/s. X: 1500 MIPS at 20 % (300 MIPS), Y: 500 MIPS at 40 % (200).
    # t = 0 (CloudSim's PABFD with the full MIPS): X fits only host 0's core; Y: host 0 already
    # allocates X's 1500, so P(2000/2000) - P_idle = 200 - 100 = 100 W there against
    # P(500/1000) - 100 = 50 W on host 1 (power before is the stale idle power) -> host 1.
    # First decision at 300.1 s: nothing over 0.8; underload source = least utilised host:
    # host 0 (300/2000 = 0.15 < 200/1000 = 0.20); X to host 1: core 1000 >= 300 requested,
    # free 1000 - 200 = 800 >= 300, (200 + 300)/1000 = 0.5 <= 0.8 -> move (X, host 1).
    # cap: it migrates (512 MiB / 62.5 MB/s = 8.59 s); host 0 is then off (never a target):
    # 1 migration, X ends on host 1. refuse: the engine refuses a 1500-MIPS vCPU on a
    # 1000-MIPS core, so the move proposed at every step never starts: 0 migrations.
    cfg = _live()
    fast = {**cfg["datacenters"][0]["hosts"][0], "count": 1, "mips_per_core": 2000,
            "bandwidth": "1Gbit/s"}
    cfg["datacenters"][0]["hosts"] = [fast, {**fast, "mips_per_core": 1000}]
    cfg["guests"] = [
        {"count": 1, "mips": m, "ram": "512MiB", "disk": "1GB", "boot": False,
         "workload": {"kind": "constant", "utilization": u}} for m, u in ((1500, 0.2),
                                                                         (500, 0.4))]
    cfg["consolidation"] = {"policy": "thr-mmt-0.8"}
    r = _run(cfg, preset="cloudsim-3.0.3")
    assert r.summary["migrations"] == 1
    assert r.guests["host"].tolist() == [1, 1]
    r = _run(cfg, preset="cloudsim-3.0.3", slow_cores="refuse")
    assert r.summary["migrations"] == 0
    assert r.guests["host"].tolist() == [0, 1]
