"""What a guest's ``mips`` means and where a layer's CPU overhead shows (README, catalog header).

``mips`` per vCPU is the vCPU's speed on bare metal, which is also what the layer schedules for it
in host CPU (never more than a core). A layer with efficiency ``eff`` turns ``r`` raw host MIPS
into ``r × eff`` of guest work, so:

* a CPU-bound guest (its entitlement binds) delivers ``mips × eff``: slower than on bare metal by
  ``1 / eff`` whatever the core speed (cores faster than the vCPU do not hide the overhead);
* a guest asking for less than ``eff`` of its entitlement gets all of it, and the overhead shows
  only as host CPU (energy): ``demand / eff`` raw MIPS.
"""

from __future__ import annotations

from typing import Any

import pytest

import dcsim
from tests.conftest import tiny_config


def _cfg(overhead: float, workload: dict[str, Any], cap: float | None = None) -> dict[str, Any]:
    # one 1-core host of 3067 MIPS (linear 100 -> 200 W), one 1-vCPU guest of 2500 MIPS
    cfg = tiny_config(duration="1h", interval="5m")
    cfg["datacenters"][0]["hosts"][0].update(count=1, mips_per_core=3067)
    cfg["virtualization_profiles"] = {"nolayer": {"kind": "type1", "cpu_overhead": overhead}}
    cfg["guests"][0].update(mips=2500, workload=workload)
    if cap is not None:
        cfg["guests"][0]["cpu_cap"] = cap
    return cfg


JOB = {"kind": "jobs", "count": 1, "length": 150_000, "spread": 0.0}  # 60 s at 2500 MIPS


@pytest.mark.parametrize(("overhead", "slowdown"), [
    (0.0, 1.0),     # bare-metal speed: 150,000 MI / 2500 MIPS = 60 s
    (0.2, 1.25),    # entitlement 2500 raw MIPS x 0.8 = 2000 MIPS: 75 s although the 3067 MIPS
                    # core could give the 3125 raw MIPS that 2500 useful MIPS would need
    (0.03, 1 / 0.97),
])
def test_cpu_bound_job_pays_the_overhead_whatever_the_core_speed(overhead: float,
                                                                 slowdown: float) -> None:
    s = dcsim.run(_cfg(overhead, JOB)).summary
    assert s["mean_job_slowdown"] == pytest.approx(slowdown, rel=1e-9)


def test_cpu_cap_is_a_share_of_the_entitlement_and_the_overhead_still_shows() -> None:
    # cpu_cap 0.5: at most 1250 raw MIPS; bare metal delivers 1250 (120 s), 20 % overhead 1000
    # (150 s)
    bare = dcsim.run(_cfg(0.0, JOB, cap=0.5)).summary
    layer = dcsim.run(_cfg(0.2, JOB, cap=0.5)).summary
    assert bare["mean_job_slowdown"] == pytest.approx(2.0, rel=1e-9)
    assert layer["mean_job_slowdown"] == pytest.approx(2.5, rel=1e-9)


def test_guest_below_its_entitlement_minus_overhead_gets_all_and_the_host_pays() -> None:
    # utilisation 0.5: 1250 useful MIPS wanted; 1250 / 0.8 = 1562.5 raw <= 2500: all delivered.
    half = {"kind": "constant", "utilization": 0.5}
    s = dcsim.run(_cfg(0.2, half)).summary
    assert s["unmet_mi"] == pytest.approx(0.0, abs=1e-6)
    assert s["delivered_mi"] == pytest.approx(1250 * 3600, rel=1e-9)
    assert s["overhead_mi"] == pytest.approx(312.5 * 3600, rel=1e-9)
    # power 100 + 100 x 1562.5 / 3067 W for one hour
    assert s["energy_hosts_kwh"] == pytest.approx((100 + 100 * 1562.5 / 3067) / 1000, rel=1e-9)


def test_cpu_bound_guest_unmet_share_is_the_overhead() -> None:
    # utilisation 1: 2500 wanted, 2500 raw x 0.8 = 2000 delivered: 20 % of demand unmet
    s = dcsim.run(_cfg(0.2, {"kind": "constant", "utilization": 1.0})).summary
    assert s["unmet_mi"] / s["demand_mi"] == pytest.approx(0.2, rel=1e-9)


# ---------------------------------------------------------------- the formerly dead fields
def _probe(profile: dict[str, Any], guest: dict[str, Any]) -> dict[str, Any]:
    cfg = _cfg(0.0, {"kind": "constant", "utilization": 0.6})
    cfg["virtualization_profiles"]["nolayer"].update(profile)
    cfg["guests"][0].update(guest)
    return cfg


def test_memory_bound_share_pays_mem_bw_overhead() -> None:
    # eff = 1 - 0.5 x 0.1 = 0.95: a CPU-bound 60 s job takes 60 / 0.95 s
    cfg = _probe({"mem_bw_overhead": 0.1}, {"mem_bound_fraction": 0.5, "workload": JOB})
    s = dcsim.run(cfg).summary
    assert s["mean_job_slowdown"] == pytest.approx(1 / 0.95, rel=1e-9)


@pytest.mark.parametrize(("profile", "guest"), [
    # half its bare-metal time in synchronous I/O, twice as slow: rate 1 / (0.5 + 0.5 x 2)
    ({"io_latency_mult": 2.0, "io_rand_factor": 0.1},
     {"io_fraction": 0.5, "io_pattern": "latency"}),
    # half its time waiting on 50 us round trips, each 50 us longer: rate 1 / (0.5 + 0.5 x 2)
    ({"net_latency_add": 50e-6, "net_bulk_factor": 0.1},
     {"net_fraction": 0.5, "net_pattern": "request", "net_rtt": 50e-6}),
])
def test_latency_bound_io_and_requests_pay_the_latency_fields(profile: dict[str, Any],
                                                              guest: dict[str, Any]) -> None:
    # 1500 MIPS wanted (0.6 x 2500), at most 2/3 of it reachable: 1/3 unmet, CPU to spare
    s = dcsim.run(_probe(profile, guest)).summary
    assert s["unmet_mi"] / s["demand_mi"] == pytest.approx(1 / 3, rel=1e-9)
