"""Lifecycle timers kept outside SimPy's heap give the results of plain per-guest timeouts.

``dcsim.engine.lifecycle`` keeps boot ends and departures in its own queue and gives only the
earliest one an entry in SimPy's queue, with the (time, priority, id) key a plain ``Timeout``
would have had. Its fallback (a SimPy without those internals) is one plain ``Timeout`` per
timer, armed in the same order. On a run full of ties — a constant 30 s boot, guests arriving at
270 s (boot ends at the 300 s tick, with other arrivals at 300 s), lifetimes ending on ticks and
on arrivals — plus random arrivals, random lifetimes, sleeping hosts with a wake latency and
consolidation (migrations), both must give the same numbers, tables and event count.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import dcsim
from dcsim.engine import lifecycle


def _config(tmp_path: Path) -> dict[str, Any]:
    # (arrival s, lifetime s): boot ends at 30 / 300 / 330 / 600 s; departures at 600 s (an
    # arrival and a tick), 900 s (a tick), 870 s
    rows = [(0, 600), (0, 900), (0, ""), (270, 600), (270, 330), (300, 600), (300, ""),
            (570, 330), (600, 300), (600, "")]
    trace = tmp_path / "arrivals.csv"
    trace.write_text("t,life\n" + "".join(f"{t},{life}\n" for t, life in rows))
    return {
        "name": "ties", "seed": 3, "duration": "1h", "interval": "5m",
        "datacenters": [{"hosts": [{"model": "hp_ml110_g5", "count": 6, "virtualization": "slow",
                                    "cpu_overcommit": 2}]}],
        "virtualization_profiles": {"slow": {"base": "xen",
                                             "boot_time": {"dist": "constant", "mean": 30}}},
        "guests": [
            {"type": "cloudsim_2500", "count": len(rows),
             "arrival": {"kind": "trace", "path": str(trace), "time_column": "t",
                         "lifetime_column": "life"},
             "workload": {"kind": "uniform", "low": 0.3, "high": 0.9}},
            {"type": "cloudsim_1000", "count": 40,
             "arrival": {"kind": "poisson", "rate": "60/h", "mean_lifetime": "20m"},
             "workload": {"kind": "uniform", "low": 0.05, "high": 0.6}},
        ],
        "placement": {"name": "first_fit"},
        "consolidation": {"policy": "thr-mmt-0.8"},
        "power_management": {"sleep_idle_hosts": True, "wake_latency": "60s"},
        "output": {"guest_records": True},
    }


def _run(cfg: dict[str, Any], direct: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(lifecycle, "_DIRECT", direct)
    return dcsim.run(cfg, check_invariants=True)


def test_own_timer_queue_equals_plain_timeouts(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _config(tmp_path)
    fast, plain = (_run(cfg, d, monkeypatch) for d in (True, False))
    g = fast.guests
    # the ties happen: boots ending on the 300 s tick, lives ending on ticks and arrivals
    assert (g["start_s"] == 300.0).sum() >= 2
    assert {600.0, 870.0, 900.0} <= set(g["end_s"].dropna())
    assert fast.summary["migrations"] > 0
    for key in fast.summary:
        if key != "wall_s":
            assert fast.summary[key] == plain.summary[key] or (
                fast.summary[key] != fast.summary[key] and plain.summary[key] != plain.summary[key]
            ), key
    pd.testing.assert_frame_equal(fast.timeseries, plain.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(fast.guests, plain.guests, check_exact=True)
    pd.testing.assert_frame_equal(fast.hosts, plain.hosts, check_exact=True)
    assert fast.tables.keys() == plain.tables.keys()
    for name in fast.tables:
        pd.testing.assert_frame_equal(fast.tables[name], plain.tables[name], check_exact=True)
