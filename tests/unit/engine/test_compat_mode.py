"""``compat: cloudsim`` runs the one engine: the rewrite, and the numbers of the retired engine.

Until commit e20ea4d a second engine (``dcsim.engine.cloudsim``) ran ``compat: cloudsim``; it
reproduced CloudSim 3.0.3's calibration rows to the printed digits, and the default engine with
the ``cloudsim-3.0.3`` preset matched it on all 100 PlanetLab day x policy pairs
(``experiments/planetlab_consolidation/comparison.md``). It was retired; ``compat: cloudsim`` is
now a rewrite of the config (``dcsim.config.compat``). The ``RETIRED`` figures below were printed by
the retired engine at e20ea4d for a slice of the experiment (day 20110303: 15 VMs of each
CloudSim type, 20 + 20 HP ML110 G4/G5 hosts, 24 h); the one engine must give them again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import dcsim
from dcsim.cli import app
from dcsim.config.assumptions import ASSUMPTION_PRESETS
from dcsim.validate import parse_config
from tests.conftest import REPO

G5 = [93.7, 97.0, 101.0, 105.0, 110.0, 116.0, 121.0, 125.0, 129.0, 133.0, 135.0]

# energy kWh, migrations, SLATAH, PDM, host shutdowns, mean time before shutdown (s)
RETIRED: dict[str, tuple[float, int, float, float, int, float]] = {
    "npa": (120.54014000000002, 0, 0.023139745916515426, 0.0, 11, 14536.463636363636),
    "dvfs": (47.846154847697605, 0, 0.0, 0.0, 19, 805.3631578947369),
    "thr-mmt-0.8": (14.702291934344837, 2173, 0.04154733458010461, 0.0010925789380975054, 513,
                    900.5071033138391),
    "lr-rs-1.2": (11.639431352961703, 928, 0.03382192332374983, 0.0005867208083982136, 229,
                  1342.7726812227063),
}


def _slice(policy: str) -> dict[str, Any]:
    cfg: dict[str, Any] = yaml.safe_load(
        (REPO / "configs" / "planetlab-cloudsim.yaml").read_text())
    for h in cfg["datacenters"][0]["hosts"]:
        h["count"] = 20
    for k, g in enumerate(cfg["guests"]):
        g["count"] = 15
        g["workload"]["selection"] = {"first": 15, "skip": 263 * k}
    cfg["consolidation"]["policy"] = policy
    return cfg


@pytest.mark.parametrize("policy", sorted(RETIRED))
def test_one_engine_gives_the_retired_engines_numbers(policy: str) -> None:
    # NPA places 2,500-MIPS VMs on 1,860-MIPS G4 cores (slow_cores: cap: SLA violations) and
    # charges every host its maximum power; LR-RS draws from the stream cloudsim.selection.
    s = dcsim.run(_slice(policy)).summary
    energy, migrations, slatah, pdm, shutdowns, before = RETIRED[policy]
    assert s["migrations"] == migrations
    assert s["host_shutdowns"] == shutdowns
    assert s["energy_it_kwh"] == pytest.approx(energy, rel=1e-12)
    assert s["slatah"] == pytest.approx(slatah, rel=1e-12, abs=1e-15)
    assert s["pdm"] == pytest.approx(pdm, rel=1e-12, abs=1e-15)
    assert s["time_before_shutdown_mean_s"] == pytest.approx(before, rel=1e-12)


def test_rewrite_lays_out_hosts_and_sets_the_preset() -> None:
    cfg = _slice("thr-mmt-0.8")
    for h in cfg["datacenters"][0]["hosts"]:
        h["count"] = 2
    cfg["assumptions"] = {"energy": "integral"}  # a switch written next to compat wins
    sc = parse_config(cfg)
    eff = sc.config
    assert eff.compat == "none"
    assert sc.written is not None
    assert sc.written.compat == "cloudsim"
    # host i from group i mod 2: G4, G5, G4, G5 (CloudSim's i % 2), one host per group
    assert [h.model for h in eff.datacenters[0].hosts] == ["hp_ml110_g4", "hp_ml110_g5"] * 2
    assert [h.count for h in eff.datacenters[0].hosts] == [1] * 4
    assert all(not g.boot for g in eff.guests)
    want = {**ASSUMPTION_PRESETS["cloudsim-3.0.3"], "energy": "integral"}
    assert {k: getattr(eff.assumptions, k) for k in want} == want
    assert eff.consolidation is not None
    assert eff.consolidation.policy == "thr-mmt-0.8"
    # the results record the config as written, so rerunning it applies the same rewrite
    assert sc.config_json()["compat"] == "cloudsim"
    assert len(sc.config_json()["datacenters"][0]["hosts"]) == 2


@pytest.mark.parametrize(("policy", "placement", "sleep", "energy"), [
    ("npa", "worst_fit", False, "cloudsim-npa"), ("dvfs", "first_fit", True, "cloudsim")])
def test_rewrite_of_the_baselines(policy: str, placement: str, sleep: bool, energy: str) -> None:
    eff = parse_config(_slice(policy)).config
    assert eff.consolidation is None
    assert eff.placement.name == placement
    assert eff.power_management.sleep_idle_hosts is sleep
    assert eff.assumptions.energy == energy


def test_the_rewritten_config_runs_the_same_as_plain_config() -> None:
    cfg = _slice("lr-rs-1.2")
    cfg["duration"] = "6h"
    sc = parse_config(cfg)
    plain = sc.config.model_dump(mode="json")
    assert plain["compat"] == "none"
    a, b = dcsim.run(cfg).summary, dcsim.run(plain).summary
    same = [k for k in a if k != "wall_s" and a[k] == a[k]]  # NaN keys aside
    assert {k: a[k] for k in same} == {k: b[k] for k in same}
    assert a["migrations"] > 0


def _trace(tmp_path: Path, series: list[list[int]]) -> str:
    d = tmp_path / "trace"
    d.mkdir()
    for k, values in enumerate(series):
        (d / f"vm{k}").write_text("".join(f"{v}\n" for v in values))
    return str(d)


def _tiny(tmp_path: Path, series: list[list[int]], policy: str = "dvfs") -> dict[str, Any]:
    return {
        "compat": "cloudsim", "duration": "24h", "interval": "5m",
        "datacenters": [{"pue": 1.0, "hosts": [
            {"model": "hp_ml110_g4", "count": 1, "ram": "4096MB"},
            {"model": "hp_ml110_g5", "count": 1, "ram": "4096MB"}]}],
        "guests": [{"type": "cloudsim_2500", "count": len(series), "workload": {
            "kind": "trace", "name": "planetlab", "path": _trace(tmp_path, series)}}],
        "consolidation": {"policy": policy},
    }


def _p5(u: float) -> float:
    """CloudSim's interpolation of the ML110 G5 SPECpower table at utilisation ``u``."""
    i = int(u * 10)
    return G5[i] + (G5[i + 1] - G5[i]) / 10 * (u - i / 10) * 100


def test_single_vm_energy_and_instants(tmp_path: Path) -> None:
    # One 2500-MIPS VM at 40 % (1000 MIPS): DVFS puts it on host 1 (G5, 2 x 2660 MIPS; a G4
    # core of 1860 MIPS is too small). CloudSim's energy counts nothing on [0, 300.1] (no
    # previous update), then P(u) of the G5 from 300.1 until the last update at 86100.1.
    s = dcsim.run(_tiny(tmp_path, [[40] * 288])).summary
    u = 1000.0 / 5320.0
    assert s["energy_it_kwh"] == pytest.approx(_p5(u) * (86100.1 - 300.1) / 3.6e6, rel=1e-12)
    assert s["host_shutdowns"] == 1  # host 0 is never active: "switched off" at 300.1
    assert s["time_before_shutdown_mean_s"] == pytest.approx(300.1)
    assert (s["slatah"], s["migrations"]) == (0.0, 0)


def test_vm_dropped_after_two_zero_samples(tmp_path: Path) -> None:
    # Samples 100 and 101 are 0, so u(30000.1) = 0 exactly: the VM is dropped for good there.
    # Energy: P(u) from 300.1 to 29400.1, then CloudSim's trapezoids over the two updates to
    # 30000.1, where the G5 ends at its idle 93.7 W (u(29700.1) interpolated between 40 and 0).
    trace = [40] * 288
    trace[100:102] = [0, 0]
    s = dcsim.run(_tiny(tmp_path, [trace])).summary
    p = _p5(1000.0 / 5320.0)
    u_t99 = 0.4 + (0.0 - 0.4) / 300.0 * (29700.1 - 99 * 300.0)
    p99 = _p5(u_t99 * 2500.0 / 5320.0)
    energy = (p * (29400.1 - 300.1) + (p + (p99 - p) / 2) * 300.0
              + (p99 + (93.7 - p99) / 2) * 300.0)
    assert s["energy_it_kwh"] == pytest.approx(energy / 3.6e6, rel=1e-6)
    assert (s["guests_dropped"], s["guests_departed"]) == (1, 0)
    assert s["host_shutdowns"] == 2


def test_unknown_policy_is_refused_at_its_path(tmp_path: Path) -> None:
    with pytest.raises(dcsim.ConfigError) as info:
        parse_config(_tiny(tmp_path, [[40] * 288], policy="nope-mmt-1"))
    assert "consolidation.policy" in {i.path for i in info.value.issues}


@pytest.mark.parametrize("section", ["network", "faults"])
def test_sections_cloudsim_has_not_are_refused(tmp_path: Path, section: str) -> None:
    cfg = _tiny(tmp_path, [[40] * 288])
    cfg[section] = ({"topology": {"kind": "star"}} if section == "network"
                    else {"hosts": {"ttf": {"kind": "constant", "value": "20m"},
                                    "repair": {"kind": "constant", "value": "10m"}}})
    with pytest.raises(dcsim.ConfigError) as info:
        parse_config(cfg)
    assert section in {i.path for i in info.value.issues}


def test_a_config_error_raised_inside_a_simpy_process_keeps_its_issues() -> None:
    # SimPy re-raises a failed process's exception as type(e)(*e.args): the issues must survive
    # (before, the rendered message was split into one "issue" per character)
    import pickle

    import simpy

    from dcsim.errors import Issue

    def proc(env: simpy.Environment) -> Any:
        yield env.timeout(1)
        raise dcsim.ConfigError([Issue("guests", "fit on no host")], source="x.yaml")

    env = simpy.Environment()
    env.process(proc(env))
    with pytest.raises(dcsim.ConfigError) as info:
        env.run()
    assert [(i.path, i.message) for i in info.value.issues] == [("guests", "fit on no host")]
    assert info.value.source == "x.yaml"
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == "invalid input in x.yaml (1 problem):\n  - guests: fit on no host"


def test_results_folder_config_reruns_to_the_same_numbers(tmp_path: Path) -> None:
    # config.yaml of a compat run holds the switches it ran with (the preset, NPA's energy
    # rule): rerunning it must not fall back to dcsim's defaults written out as explicit values
    trace = [40, 0, 0] + [20] * 69  # the VM is dropped at 300.1 s: a CloudSim-only outcome
    cfg = _tiny(tmp_path, [trace, [60] * 72], policy="npa")
    cfg["duration"] = "6h"
    src = tmp_path / "cs.yaml"
    src.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    runner = CliRunner()
    first, again = tmp_path / "first", tmp_path / "again"
    assert runner.invoke(app, ["run", str(src), "--out", str(first), "-q"]).exit_code == 0
    rerun = runner.invoke(app, ["run", str(first / "config.yaml"), "--out", str(again), "-q"])
    assert rerun.exit_code == 0, rerun.output
    a = json.loads((first / "summary.json").read_text())
    b = json.loads((again / "summary.json").read_text())
    a.pop("wall_s")
    b.pop("wall_s")
    assert a == b
    assert a["guests_dropped"] == 1  # zero_demand: drop held on the rerun too
    written = yaml.safe_load((first / "config.yaml").read_text())
    assert written["compat"] == "cloudsim"
    assert written["assumptions"]["energy"] == "cloudsim-npa"
    man_a = json.loads((first / "manifest.json").read_text())
    man_b = json.loads((again / "manifest.json").read_text())
    assert man_a["scenario_id"] == man_b["scenario_id"]
