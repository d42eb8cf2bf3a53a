"""Offered load is the denominator: demand of waiting guests counts as unserved, by cause.

Hand-worked on the two-host ``tiny_config`` (1-core 1000-MIPS hosts, one guest asking for a
constant 500 MIPS), and a monotonicity check: a slower wake can never look better.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dcsim
from dcsim.api import _scenario
from dcsim.engine.simulation import Simulation
from tests.conftest import tiny_config


def _arrivals(tmp_path: Path, rows: str) -> dict[str, Any]:
    path = tmp_path / "arrivals.csv"
    path.write_text("arrival_s,lifetime_s\n" + rows)
    return {"kind": "trace", "path": str(path)}


def _sleeping(tmp_path: Path, wake: str, rows: str = "600,\n") -> dict[str, Any]:
    cfg = copy.deepcopy(tiny_config(power_management={"sleep_idle_hosts": True,
                                                      "wake_latency": wake}))
    cfg["guests"][0]["arrival"] = _arrivals(tmp_path, rows)
    return cfg


def test_waiting_for_a_wake_is_unserved_demand_times_latency(tmp_path: Path) -> None:
    # the guest arrives at 600 s on a sleeping host that takes 900 s to wake, then runs to 3600 s
    # offered = 500 MIPS x (3600 - 600) s = 1.5e6 MI; waiting for the wake = 500 x 900 = 450,000
    r = dcsim.run(_sleeping(tmp_path, "900s"))
    s = r.summary
    assert s["demand_mi"] == pytest.approx(500 * 3000, rel=1e-12)
    assert s["unserved_wake_mi"] == pytest.approx(500 * 900, rel=1e-12)
    assert s["delivered_mi"] == pytest.approx(500 * (3000 - 900), rel=1e-12)
    assert s["unserved_mi"] == pytest.approx(500 * 900, rel=1e-12)
    assert s["unserved_fraction"] == pytest.approx(900 / 3000, rel=1e-12)
    assert s["unmet_mi"] == pytest.approx(0.0, abs=1e-6)
    assert s["unserved_boot_mi"] == 0.0
    g = r.guests.iloc[0]
    assert g.demand_mi == pytest.approx(500 * 3000, rel=1e-12)


def test_wake_and_boot_are_split(tmp_path: Path) -> None:
    # wake 300 s, then a constant 600 s boot: 500 x 300 wake, 500 x 600 boot
    cfg = _sleeping(tmp_path, "300s")
    cfg["virtualization_profiles"] = {"nolayer": {"kind": "type1", "boot_time": {
        "dist": "constant", "mean": "600s"}}}
    cfg["guests"][0]["boot"] = True
    s = dcsim.run(cfg).summary
    assert s["unserved_wake_mi"] == pytest.approx(500 * 300, rel=1e-12)
    assert s["unserved_boot_mi"] == pytest.approx(500 * 600, rel=1e-12)
    assert s["demand_mi"] == pytest.approx(500 * 3000, rel=1e-12)
    assert s["unserved_mi"] == pytest.approx(500 * 900, rel=1e-12)


def test_second_guest_on_a_waking_host_waits_for_the_rest_of_the_wake(tmp_path: Path) -> None:
    # guest 0 wakes the host at 600 s (ready at 1500 s); guest 1 arrives at 900 s on the same
    # (waking) host: it waits 600 s more, not 0. Unserved wake = 500 x 900 + 500 x 600.
    cfg = _sleeping(tmp_path, "900s", rows="600,\n900,\n")
    cfg["guests"][0]["count"] = 2
    cfg["datacenters"][0]["hosts"][0]["cpu_overcommit"] = 2.0  # both fit on host 0
    s = dcsim.run(cfg).summary
    assert s["unserved_wake_mi"] == pytest.approx(500 * 900 + 500 * 600, rel=1e-12)


def test_rejected_guests_demand_is_unserved_for_their_would_be_lifetime(tmp_path: Path) -> None:
    # one 4 GiB host takes two 2 GiB guests; the third (arriving at 600 s, living 1200 s) is
    # rejected: 500 MIPS x 1200 s unserved. The others run 3600 s each.
    cfg = copy.deepcopy(tiny_config())
    cfg["datacenters"][0]["hosts"][0].update(count=1, cpu_overcommit=3.0)
    cfg["guests"][0].update(count=3, ram="2GiB",
                            arrival=_arrivals(tmp_path, "0,\n0,\n600,1200\n"))
    s = dcsim.run(cfg, check_invariants=True).summary
    assert s["guests_rejected"] == 1
    assert s["unserved_rejected_mi"] == pytest.approx(500 * 1200, rel=1e-12)
    assert s["demand_mi"] == pytest.approx(2 * 500 * 3600 + 500 * 1200, rel=1e-12)
    # the host's 1000 MIPS serve both placed guests fully
    assert s["unserved_fraction"] == pytest.approx(500 * 1200 / s["demand_mi"], rel=1e-12)


def test_rejected_job_guest_counts_all_its_job_work() -> None:
    # a job guest (one job of 2e6 MI) that fits nowhere: its whole job is unserved
    cfg = copy.deepcopy(tiny_config())
    cfg["datacenters"][0]["hosts"][0]["count"] = 1
    cfg["guests"] = [
        {"count": 1, "mips": 1000, "ram": "3GiB", "disk": "1GB", "boot": False,
         "workload": {"kind": "constant", "utilization": 0.5}},
        {"count": 1, "mips": 1000, "ram": "3GiB", "disk": "1GB", "boot": False,
         "workload": {"kind": "jobs", "count": 1, "length": 2e6}},
    ]
    s = dcsim.run(cfg).summary
    assert s["guests_rejected"] == 1
    assert s["unserved_rejected_mi"] == pytest.approx(2e6, rel=1e-12)


def test_pause_counts_as_downtime_not_as_contention() -> None:
    # the guest is stopped from 600 s to 900 s: 500 MIPS x 300 s of downtime, no contention
    sim = Simulation(_scenario(tiny_config(), None))

    def stop() -> Any:
        yield sim.env.timeout(600)
        sim.set_paused(0, True)
        yield sim.env.timeout(300)
        sim.set_paused(0, False)

    sim.env.process(stop())
    s = sim.run().summary
    assert s["unserved_downtime_mi"] == pytest.approx(500 * 300, rel=1e-12)
    assert s["unmet_mi"] == pytest.approx(0.0, abs=1e-6)
    assert s["demand_mi"] == pytest.approx(500 * 3600, rel=1e-12)
    assert s["delivered_mi"] == pytest.approx(500 * 3300, rel=1e-12)


def _stream_config(wake: str) -> dict[str, Any]:
    """Short-lived guests arriving all day on 6 sleeping hosts (sleep/wake happens often)."""
    return {
        "name": "wake-stream", "seed": 3, "duration": "12h", "interval": "5m",
        "datacenters": [{"hosts": [{"count": 6, "cores": 2, "mips_per_core": 1000,
                                    "ram": "8GiB", "storage": "100GB",
                                    "power": {"kind": "linear", "idle": 100, "max": 200},
                                    "virtualization": "nolayer"}]}],
        "virtualization_profiles": {"nolayer": {"kind": "type1"}},
        "guests": [{"count": 200, "mips": 1000, "ram": "2GiB", "disk": "1GB", "boot": False,
                    "workload": {"kind": "uniform", "low": 0.2, "high": 0.9},
                    "arrival": {"kind": "poisson", "rate": "30/h", "mean_lifetime": "40m"}}],
        "placement": {"name": "best_fit"},
        "power_management": {"sleep_idle_hosts": True, "wake_latency": wake},
    }


def test_slower_wake_never_lowers_the_sla_metrics() -> None:
    runs = [dcsim.run(_stream_config(w)).summary for w in ("0s", "10m", "30m")]
    demand = [s["demand_mi"] for s in runs]
    assert demand[0] > 0
    assert demand[1] == pytest.approx(demand[0], rel=1e-12)  # offered load does not move
    assert demand[2] == pytest.approx(demand[0], rel=1e-12)
    for key in ("unserved_mi", "unserved_fraction", "unserved_wake_mi"):
        vals = [s[key] for s in runs]
        assert vals[0] < vals[1] < vals[2], (key, vals)
    # a slower wake delivers less: energy may fall, but never with the SLA looking better
    assert np.diff([s["delivered_mi"] for s in runs]).max() < 0


def test_rejected_guest_unserved_equals_what_it_would_have_been_served() -> None:
    # the same varying (uniform, redrawn every interval) guest: placed alone on a roomy host it
    # gets all it asks; rejected (a 3 GiB filler takes the 4 GiB host) that same demand, sampled
    # from its workload without a host, is unserved.
    def cfg(host_ram: str) -> dict[str, Any]:
        c = copy.deepcopy(tiny_config())
        c["datacenters"][0]["hosts"][0].update(count=1, cores=2, ram=host_ram)
        c["guests"] = [
            {"count": 1, "mips": 1000, "ram": "3GiB", "disk": "1GB", "boot": False,
             "workload": {"kind": "constant", "utilization": 0.0}},
            {"count": 1, "mips": 1000, "ram": "3GiB", "disk": "1GB", "boot": False,
             "workload": {"kind": "uniform", "low": 0.1, "high": 0.9}},
        ]
        return c

    placed = dcsim.run(cfg("8GiB"))
    rejected = dcsim.run(cfg("4GiB")).summary
    served = float(placed.guests.set_index("guest").loc[1, "delivered_mi"])
    assert placed.summary["unserved_mi"] == pytest.approx(0.0, abs=1e-6)
    assert rejected["guests_rejected"] == 1
    assert rejected["unserved_rejected_mi"] == pytest.approx(served, rel=1e-12)
    assert served != pytest.approx(0.5 * 1000 * 3600, rel=1e-3)  # it really varied


@pytest.mark.parametrize(("wake", "slatah"), [("0s", 1.0), ("900s", 1.0)])
def test_waking_time_is_not_slatah_active_time(tmp_path: Path, wake: str, slatah: float) -> None:
    # one guest asking for a full 1000-MIPS core arrives at 600 s on a sleeping 1-core host:
    # from the moment the host is ready it runs at 100 % until 3600 s, so SLATAH is 1 whatever
    # the wake latency. Counting the 900 s of waking as active time would give 2100 / 3000 = 0.7:
    # a slower wake would look better.
    cfg = _sleeping(tmp_path, wake)
    cfg["guests"][0]["workload"] = {"kind": "constant", "utilization": 1.0}
    s = dcsim.run(cfg).summary
    assert s["slatah"] == pytest.approx(slatah, rel=1e-12)
    assert s["mean_active_hosts"] == pytest.approx(3000 / 3600, rel=1e-12)


def test_a_rejected_guest_waits_while_many_placed_guests_settle_at_once() -> None:
    # twelve 1 GiB guests fill the 12 GiB host, the thirteenth is rejected at the start: 500
    # MIPS x 3600 s unserved. With more than eight guests on the host and none booting or
    # paused, each step settles the placed ones in one stroke (``offered.settle``'s fast path);
    # that must not move the rejected guest's clock, or its waiting demand would be lost.
    cfg = copy.deepcopy(tiny_config())
    cfg["datacenters"][0]["hosts"][0].update(count=1, ram="12GiB", cpu_overcommit=20.0)
    cfg["guests"][0].update(count=13, ram="1GiB")
    s = dcsim.run(cfg, check_invariants=True).summary
    assert s["guests_rejected"] == 1
    assert s["unserved_rejected_mi"] == pytest.approx(500 * 3600, rel=1e-12)
    assert s["demand_mi"] == pytest.approx(13 * 500 * 3600, rel=1e-12)
