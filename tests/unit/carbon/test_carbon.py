"""Carbon accounting worked out by hand: operational emissions (constant and stepwise
intensity, PUE), the series' alignment to the clock (day boundary, time zones), embodied
emissions, carbon-aware placement, and bad series refused before the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import dcsim
from dcsim.cli import app


def one_host(**dc: Any) -> dict[str, Any]:
    """One 1,000-MIPS bare-metal host, linear 50-150 W, one guest at 50 % of 1,000 MIPS:
    utilisation 0.5, so 100 W for the whole run."""
    return {
        "name": "carbon-hand", "seed": 1, "duration": "2h", "interval": "10m",
        "datacenters": [{"pue": 1.5, "hosts": [{
            "count": 1, "cores": 1, "mips_per_core": 1000, "ram": "16GiB", "storage": "1TB",
            "power": {"kind": "linear", "idle": 50, "max": 150},
            "virtualization": "bare_metal"}], **dc}],
        "guests": [{"count": 1, "vcpus": 1, "mips": 1000, "ram": "1GiB", "disk": "1GB",
                    "boot": False, "workload": {"kind": "constant", "utilization": 0.5}}],
    }


def csv_series(tmp_path: Path, rows: list[tuple[str, float]], name: str = "grid.csv") -> str:
    path = tmp_path / name
    path.write_text("timestamp,g_per_kwh\n" + "".join(f"{t},{v}\n" for t, v in rows))
    return str(path)


def test_constant_intensity_by_hand() -> None:
    s = dcsim.run(one_host(carbon={"intensity": 500})).summary
    # 100 W x 7,200 s = 0.2 kWh of IT energy; x PUE 1.5 = 0.3 kWh; x 500 g/kWh = 150 g
    assert s["energy_it_kwh"] == pytest.approx(0.2, rel=1e-12)
    assert s["emissions_operational_kg"] == pytest.approx(0.150, rel=1e-12)
    assert s["carbon_intensity_mean_g_per_kwh"] == pytest.approx(500.0, rel=1e-12)
    assert np.isnan(s["emissions_embodied_kg"])
    assert s["emissions_kg"] == s["emissions_operational_kg"]


def test_stepwise_series_by_hand(tmp_path: Path) -> None:
    f = csv_series(tmp_path, [("2020-01-06 00:00", 400), ("2020-01-06 01:00", 100),
                              ("2020-01-06 02:00", 100)])
    cfg = one_host(carbon={"file": f})
    cfg.update(duration="1h", clock={"start": "2020-01-06 00:30"})
    r = dcsim.run(cfg)
    # half an hour at 400 g/kWh, half an hour at 100: 100 W x 1,800 s x 1.5 = 0.075 kWh each
    # -> 0.075 x 400 + 0.075 x 100 = 37.5 g
    assert r.summary["emissions_operational_kg"] == pytest.approx(0.0375, rel=1e-12)
    c = r.tables["carbon"]
    assert c["start_s"].tolist() == [0.0, 1800.0]
    assert c["intensity_g_per_kwh"].tolist() == [400.0, 100.0]
    assert c["facility_kwh"].to_numpy() == pytest.approx([0.075, 0.075], rel=1e-12)


def test_alignment_across_midnight_and_time_zones(tmp_path: Path) -> None:
    # the file's naive timestamps are Berlin time (UTC+1 in January)
    f = csv_series(tmp_path, [("2020-01-06 23:00", 300), ("2020-01-07 00:00", 50),
                              ("2020-01-07 01:00", 50)])
    cfg = one_host(carbon={"file": f, "timezone": "Europe/Berlin"})
    # t = 0 is 22:30 UTC = 23:30 in Berlin: 300 g/kWh until Berlin's midnight (t = 1,800 s)
    cfg.update(duration="1h", clock={"start": "2020-01-06 22:30", "timezone": "UTC"})
    s = dcsim.run(cfg).summary
    # 0.075 kWh x 300 + 0.075 kWh x 50 = 26.25 g
    assert s["emissions_operational_kg"] == pytest.approx(0.02625, rel=1e-12)
    # the same instant written as New York time (UTC-5): 17:30
    cfg["clock"] = {"start": "2020-01-06 17:30", "timezone": "America/New_York"}
    assert dcsim.run(cfg).summary["emissions_operational_kg"] == pytest.approx(0.02625,
                                                                                 rel=1e-12)
    # read as UTC instead, the series starts after t = 0: refused
    cfg["datacenters"][0]["carbon"] = {"file": f}
    with pytest.raises(dcsim.ConfigError, match="the series covers 2020-01-06 23:00"):
        dcsim.run(cfg)


def test_shipped_series_and_linear_interpolation() -> None:
    cfg = one_host(carbon={"series": "gb-2020-spring"})
    cfg.update(duration="1d", interval="30m", clock={"start": "2020-04-07 00:00"})
    step = dcsim.run(cfg)
    c = step.tables["carbon"]
    assert len(c) == 48  # a 30-minute series over a day
    assert c["facility_kwh"].sum() == pytest.approx(step.summary["energy_facility_kwh"],
                                                    rel=1e-12)
    cfg["datacenters"][0]["carbon"]["interpolation"] = "linear"
    lin = dcsim.run(cfg).summary["emissions_operational_kg"]
    # at 30-minute steps, the mean of the linear curve over each step is the mean of its two
    # end points: not the stepwise value
    assert lin != step.summary["emissions_operational_kg"]
    assert lin == pytest.approx(step.summary["emissions_operational_kg"], rel=0.05)


def test_embodied_by_hand() -> None:
    cfg = one_host()
    cfg["datacenters"][0]["hosts"][0].update(count=2, embodied_kgco2e=1000, lifetime="1000d")
    cfg["duration"] = "1d"
    s = dcsim.run(cfg).summary
    # 2 hosts x 1,000 kg x 1 d / 1,000 d = 2 kg
    assert s["emissions_embodied_kg"] == pytest.approx(2.0, rel=1e-12)
    assert np.isnan(s["emissions_operational_kg"])
    assert s["emissions_kg"] == pytest.approx(2.0, rel=1e-12)


def two_sites(placement: dict[str, Any], dc0: dict[str, Any], dc1: dict[str, Any],
              guests: dict[str, Any]) -> dict[str, Any]:
    host = {"count": 1, "cores": 16, "mips_per_core": 2000, "ram": "16GiB", "storage": "1TB",
            "power": {"kind": "linear", "idle": 50, "max": 150}, "virtualization": "kvm"}
    return {
        "name": "two-sites", "seed": 3, "duration": "2h", "interval": "10m",
        "datacenters": [{"name": "a", "hosts": [host], "carbon": dc0},
                        {"name": "b", "hosts": [host], "carbon": dc1}],
        "guests": [{"vcpus": 1, "mips": 1000, "ram": "6GiB", "disk": "10GB", "boot": False,
                    "workload": {"kind": "constant", "utilization": 0.3}, **guests}],
        "placement": placement,
        "power_management": {"sleep_idle_hosts": True},
    }


def test_carbon_aware_placement_picks_the_greener_site() -> None:
    # two guests (6 GiB each) fit on one 16 GiB host: both go to the greener site (b, host 1)
    # and host 0 sleeps; first_fit fills host 0 instead
    cfg = two_sites({"name": "carbon_aware", "params": {"then": "first_fit"}},
                    {"intensity": 400}, {"intensity": 100}, {"count": 2})
    r = dcsim.run(cfg)
    assert r.guests["host"].tolist() == [1, 1]
    unaware = dcsim.run({**cfg, "placement": {"name": "first_fit"}})
    assert unaware.guests["host"].tolist() == [0, 0]
    # the same energy, at a quarter of the intensity
    e, e_u = r.summary["energy_facility_kwh"], unaware.summary["energy_facility_kwh"]
    assert e == pytest.approx(e_u, rel=1e-12)
    assert r.summary["emissions_operational_kg"] == pytest.approx(0.1 * e, rel=1e-12)
    assert unaware.summary["emissions_operational_kg"] == pytest.approx(0.4 * e, rel=1e-12)
    # a third guest does not fit on host 1 any more: host 0
    r3 = dcsim.run(two_sites({"name": "carbon_aware", "params": {"then": "first_fit"}},
                             {"intensity": 400}, {"intensity": 100}, {"count": 3}))
    assert r3.guests["host"].tolist() == [1, 1, 0]


def test_carbon_aware_placement_follows_the_series(tmp_path: Path) -> None:
    # site a: 400 g/kWh, 50 from 01:00; site b: 100 throughout
    fa = csv_series(tmp_path, [("2020-01-06 00:00", 400), ("2020-01-06 01:00", 50),
                               ("2020-01-06 02:00", 50)], "a.csv")
    cfg = two_sites({"name": "carbon_aware", "params": {"then": "first_fit"}},
                    {"file": fa}, {"intensity": 100},
                    {"count": 6, "ram": "1GiB", "arrival": {
                        "kind": "poisson", "rate": "3/h", "mean_lifetime": "1000h"}})
    cfg["clock"] = {"start": "2020-01-06 00:00"}
    g = dcsim.run(cfg).guests
    before, after = g[g["arrival_s"] < 3600.0], g[g["arrival_s"] >= 3600.0]
    assert len(before) > 0
    assert len(after) > 0
    assert (before["host"] == 1).all()  # b is greener before 01:00
    assert (after["host"] == 0).all()  # a is greener after


@pytest.mark.parametrize(("rows", "where", "message"), [
    ([("2020-01-06 00:00", 100), ("2020-01-06 01:00", -5)], "grid.csv:3", "expected a finite"),
    ([("2020-01-06 00:00", 100), ("2020-01-06 00:00", 90)], "grid.csv:3", "increase strictly"),
    ([("2020-01-06 00:00", 100), ("not a time", 90)], "grid.csv:3", "expected ISO 8601"),
    ([("2020-01-06 00:00", 100), ("2020-01-06 01:00", "")], "grid.csv:3", "empty intensity cell"),
])
def test_bad_series_refused_before_the_run_with_file_and_line(
        tmp_path: Path, rows: list[tuple[str, Any]], where: str, message: str) -> None:
    f = csv_series(tmp_path, rows)
    cfg_path = tmp_path / "c.yaml"
    import yaml

    cfg = one_host(carbon={"file": f})
    cfg["clock"] = {"start": "2020-01-06 00:00"}
    cfg_path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", str(cfg_path), "--out", str(out), "-q"])
    assert res.exit_code == 2, res.output
    assert where in res.output
    assert message in res.output
    assert "Traceback" not in res.output
    assert not out.exists()  # nothing half-written


def test_every_data_center_needs_an_intensity() -> None:
    cfg = two_sites({"name": "first_fit"}, {"intensity": 100}, {"intensity": 100}, {"count": 1})
    del cfg["datacenters"][1]["carbon"]
    with pytest.raises(dcsim.ConfigError, match=r"every one needs one"):
        dcsim.run(cfg)


def test_the_shipped_example_runs_and_carbon_awareness_pays() -> None:
    root = Path(__file__).resolve().parents[3]
    example = str(root / "configs" / "examples" / "carbon.yaml")
    aware = dcsim.run(example).summary
    unaware = dcsim.run(example, overrides=["placement.name=pabfd", "placement.params={}"]).summary
    # the README's figures: 15.6 against 33.1 kg
    assert round(aware["emissions_operational_kg"], 1) == 15.6
    assert round(unaware["emissions_operational_kg"], 1) == 33.1


def test_embodied_defaults_from_the_catalog_and_overrides() -> None:
    cfg = {"name": "emb", "duration": "1d",
           "datacenters": [{"hosts": [{"model": "dell_r740_8280", "count": 8},
                                      {"model": "dell_r6515_7702p", "count": 2,
                                       "embodied_kgco2e": 1000, "lifetime": "1000d"}]}],
           "guests": [{"type": "small", "count": 4}]}
    s = dcsim.run(cfg).summary
    # catalog: 8 x 1,356 kg x 1 d / 1,461 d (Dell's PCF sheet, 4 years); the group's own
    # figures win over the R6515's catalog entry: 2 x 1,000 kg x 1 d / 1,000 d
    assert s["emissions_embodied_kg"] == pytest.approx(8 * 1356 / 1461 + 2 * 1000 / 1000,
                                                       rel=1e-12)
