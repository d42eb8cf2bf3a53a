"""Failure processes: configured distributions are reproduced; racks fail together."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

import dcsim
from tests.conftest import tiny_config


def _many_hosts(n: int, days: int, faults: dict[str, Any], **over: Any) -> dict[str, Any]:
    cfg = tiny_config(duration=f"{days}d", interval="1d", **over)
    cfg["datacenters"][0]["hosts"][0]["count"] = n
    cfg["faults"] = faults
    return cfg


def _exposure(r: Any, n_hosts: int, duration: float) -> float:
    """Host-seconds up (at risk of failing)."""
    f = r.tables["failures"]
    down = (np.minimum(f["repair_s"], duration) - f["fail_s"]).sum()
    return float(n_hosts * duration - down)


def test_exponential_failures_reproduce_the_mtbf() -> None:
    n, days, mtbf = 500, 200, 20 * 86400.0
    cfg = _many_hosts(n, days, {"hosts": {"ttf": {"kind": "exponential", "mean": "20d"},
                                          "repair": {"kind": "exponential", "mean": "6h"}}})
    r = dcsim.run(cfg)
    k = r.summary["host_failures"]
    expo = _exposure(r, n, days * 86400.0)
    # failures counted on the up-time clock form a Poisson process of rate 1/MTBF
    p = stats.poisson(expo / mtbf)
    p_two_sided = 2 * min(p.cdf(k), p.sf(k - 1))
    assert p_two_sided > 1e-3, (k, expo / mtbf)
    assert expo / k == pytest.approx(mtbf, rel=0.05)  # 3.5 standard errors
    # repair times too: exponential with mean 6 h (KS test on completed repairs)
    f = r.tables["failures"]
    rep = (f["repair_s"] - f["fail_s"]).to_numpy()
    assert stats.kstest(rep, stats.expon(scale=6 * 3600.0).cdf).pvalue > 1e-3


def test_weibull_first_failures_follow_the_distribution() -> None:
    n = 2000
    cfg = _many_hosts(n, 400, {"hosts": {"ttf": {"kind": "weibull", "shape": 0.7,
                                                  "scale": "30d"},
                                          "repair": {"kind": "constant", "value": "1000d"}}})
    r = dcsim.run(cfg)
    f = r.tables["failures"]
    first = f.groupby("unit")["fail_s"].min()
    # nearly every host fails within 400 d (P(T > 400 d) = exp(-(400/30)^0.7) ≈ 0.3 %);
    # compare the failure times observed with the distribution censored at the horizon
    dist = stats.weibull_min(0.7, scale=30 * 86400.0)
    horizon = 400 * 86400.0
    assert len(first) == pytest.approx(n * dist.cdf(horizon), abs=5 * np.sqrt(n * 0.003) + 3)
    trunc_cdf = lambda x: dist.cdf(x) / dist.cdf(horizon)  # noqa: E731
    assert stats.kstest(first.to_numpy(), trunc_cdf).pvalue > 1e-3


def test_each_process_has_its_own_stream() -> None:
    base = {"hosts": {"ttf": {"kind": "exponential", "mean": "5d"},
                      "repair": {"kind": "constant", "value": "1h"}}}
    a = dcsim.run(_many_hosts(50, 30, base))
    with_racks = {**base, "racks": {"size": 10, "ttf": {"kind": "exponential", "mean": "10d"},
                                    "repair": {"kind": "constant", "value": "2h"}}}
    b = dcsim.run(_many_hosts(50, 30, with_racks))
    fa = a.tables["failures"]
    fb = b.tables["failures"]
    # adding rack failures leaves the host failure draws unchanged (first failure per host)
    first_a = fa[fa["kind"] == "host"].groupby("unit")["fail_s"].min()
    first_b = fb[fb["kind"] == "host"].groupby("unit")["fail_s"].min()
    assert first_a.equals(first_b)
    assert (fb["kind"] == "rack").any()


def test_rack_power_failure_takes_all_its_hosts_down() -> None:
    cfg = tiny_config(duration="2h")
    cfg["datacenters"][0]["hosts"][0]["count"] = 6
    cfg["guests"][0]["count"] = 6
    cfg["faults"] = {"racks": {"size": 3, "ttf": {"kind": "constant", "value": "30m"},
                               "repair": {"kind": "constant", "value": "1h"}},
                     "recovery": {"restart": "cold"}}
    r = dcsim.run(cfg)
    f = r.tables["failures"]
    assert f["hosts"].tolist() == [3, 3]
    assert r.summary["rack_failures"] == 2
    ts = r.tables["faults_timeseries"]
    assert ts.loc[ts["time_s"] == 3600, "hosts_down"].item() == 6
    # all 6 hosts down from 30 min to 90 min: nowhere to restart, so guests wait for repair
    assert r.summary["guest_failures"] == 6
    rec = r.tables["recoveries"]
    assert (rec["restart_s"] == 5400).all()
    # power: 0 W while failed
    assert r.summary["energy_it_kwh"] < (6 * 100 * 7200) / 3.6e6


def test_rack_switch_failure_cuts_hosts_off_but_they_stay_powered() -> None:
    cfg = tiny_config(duration="2h")
    cfg["datacenters"][0]["hosts"][0]["count"] = 4
    cfg["guests"][0]["count"] = 1
    cfg["faults"] = {"racks": {"size": 2, "cause": "switch",
                               "ttf": {"kind": "constant", "value": "30m"},
                               "repair": {"kind": "constant", "value": "1h"}},
                     "recovery": {"restart": "cold", "detection": "0s"}}
    r = dcsim.run(cfg)
    # both racks are cut off from 30 to 90 min: the guest waits for the repair and restarts
    # on host 0; all hosts stay awake and idle meanwhile (sleeping is off)
    e = (4 * 100 * 7200 + 50 * (7200 - 3600)) / 3.6e6
    assert r.summary["energy_it_kwh"] == pytest.approx(e, rel=1e-9)
    assert r.tables["recoveries"]["restart_s"].tolist() == [5400]
    assert r.tables["recoveries"]["host"].tolist() == [0]


def test_containers_restart_from_their_image(tmp_path: Any) -> None:
    (tmp_path / "f.csv").write_text("host,fail_s,repair_s\n0,3600,\n")
    cfg = tiny_config(duration="2h")
    cfg["virtualization_profiles"] = {"ctr": {"kind": "container",
                                              "boot_time": {"dist": "constant", "mean": 2}}}
    cfg["datacenters"][0]["hosts"][0]["virtualization"] = "ctr"
    cfg["guests"][0]["boot"] = True
    cfg["faults"] = {"hosts": {"trace": str(tmp_path / "f.csv")},
                     "recovery": {"detection": "10s"},
                     "snapshots": {"interval": "10m", "batches": 1}}
    r = dcsim.run(cfg)
    rec = r.tables["recoveries"]
    assert rec["mode"].tolist() == ["image"]
    assert rec["recovery_s"].item() == pytest.approx(12)  # detection + start time
    assert r.summary["snapshots_taken"] == 0  # containers are never snapshotted
    assert r.summary["lost_work_mi"] == pytest.approx(500 * (3600 - 2))


def test_racks_come_from_the_network_topology() -> None:
    cfg = tiny_config(duration="2h")
    cfg["datacenters"][0]["hosts"][0]["count"] = 6
    cfg["network"] = {"topology": {"kind": "leaf_spine", "leaves": 3, "spines": 1,
                                   "hosts_per_leaf": 2}}
    cfg["faults"] = {"racks": {"cause": "switch", "ttf": {"kind": "constant", "value": "1h"},
                               "repair": {"kind": "constant", "value": "10m"}}}
    r = dcsim.run(cfg)
    f = r.tables["failures"]
    assert f["hosts"].tolist() == [2, 2, 2]
    assert f["cause"].tolist() == ["switch"] * 3


def test_power_repaired_while_cut_off_stays_unusable(tmp_path: Any) -> None:
    # host 0 fails (power) from 30 to 60 min; a switch failure cuts both hosts off from 45 to
    # 105 min. The guest restarts on host 1 at 30 min, goes down again at 45 min, and may come
    # back only at 105 min, when the last cause of both hosts is repaired: host 0 is powered
    # again at 60 min (idle, sleeping is off) but still cut off
    (tmp_path / "f.csv").write_text("host,fail_s,repair_s\n0,1800,1800\n")
    cfg = tiny_config(duration="2h")
    cfg["faults"] = {"hosts": {"trace": str(tmp_path / "f.csv")},
                     "racks": {"size": 2, "cause": "switch",
                               "ttf": {"kind": "constant", "value": "45m"},
                               "repair": {"kind": "constant", "value": "1h"}},
                     "recovery": {"restart": "cold", "detection": "0s"}}
    r = dcsim.run(cfg)
    rec = r.tables["recoveries"]
    assert rec["restart_s"].tolist() == [1800, 6300]
    assert rec["host"].tolist() == [1, 0]
    ts = r.timeseries.set_index("time_s")
    cols = ["active_hosts", "sleeping_hosts", "failed_hosts"]
    assert ts.loc[2400, cols].tolist() == [1, 0, 1]
    assert ts.loc[3000, cols].tolist() == [1, 0, 1]
    assert ts.loc[4200, cols].tolist() == [2, 0, 0]
    fts = r.tables["faults_timeseries"].set_index("time_s")
    assert fts.loc[4200, ["hosts_down", "guests_down"]].tolist() == [2, 1]
    # host 0: 150 W, 0 W while failed, 100 W idle, 150 W with the guest from 105 min;
    # host 1: 100 W idle, 150 W with the guest from 30 to 45 min, then idle
    e = (150 * 1800 + 100 * 2700 + 150 * 900) + (100 * 1800 + 150 * 900 + 100 * 4500)
    assert r.summary["energy_it_kwh"] == pytest.approx(e / 3.6e6, rel=1e-9)
    assert r.summary["downtime_s"] == pytest.approx(6300 - 2700)
