"""Footprint: rack units of the hosts that had to be on, peak and time average (by hand)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

import dcsim
from tests.conftest import tiny_config


def test_rack_units_of_awake_hosts_by_hand(tmp_path: Path) -> None:
    # host 0 (2U) runs guest 0 all hour; guest 1 (3 GiB: no room left on host 0's 4 GiB) arrives
    # at 610 s for 250 s and wakes host 1 (1U), which sleeps again at 860 s, between two
    # scheduling instants (600 s, 900 s): a tick-sampled peak would miss it.
    # mean = (2 U x 3600 s + 1 U x 250 s) / 3600 s; peak = 3 U; at most 2 hosts on.
    cfg = copy.deepcopy(tiny_config(power_management={"sleep_idle_hosts": True}))
    host = cfg["datacenters"][0]["hosts"][0]
    cfg["datacenters"][0]["hosts"] = [{**host, "count": 1, "rack_units": 2},
                                      {**host, "count": 1, "rack_units": 1}]
    (tmp_path / "a.csv").write_text("arrival_s,lifetime_s\n0,\n610,250\n")
    cfg["guests"][0].update(count=2, ram="3GiB",
                            arrival={"kind": "trace", "path": str(tmp_path / "a.csv")})
    r = dcsim.run(cfg, check_invariants=True)
    s = r.summary
    assert s["guests_rejected"] == 0
    assert s["mean_active_rack_units"] == pytest.approx((2 * 3600 + 1 * 250) / 3600, rel=1e-12)
    assert s["peak_active_rack_units"] == 3.0
    assert s["max_active_hosts"] == 2
    assert int(r.timeseries["active_hosts"].max()) == 1  # the ticks never saw host 1 on
    assert s["mean_active_hosts"] == pytest.approx((3600 + 250) / 3600, rel=1e-12)


def test_catalog_rack_units_reach_the_summary() -> None:
    # two IBM x3550 (1U each, catalog), never sleeping: 2 U all the time
    cfg = copy.deepcopy(tiny_config())
    cfg["datacenters"][0]["hosts"] = [{"model": "ibm_x3550_x5675", "count": 2,
                                       "virtualization": "nolayer"}]
    s = dcsim.run(cfg).summary
    assert s["mean_active_rack_units"] == pytest.approx(2.0, rel=1e-12)
    assert s["peak_active_rack_units"] == 2.0
