"""Capacity is law: whatever the policy, profile and guest sizes, no host is ever overfilled."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import dcsim
from dcsim.config.catalog import virtualization_profiles
from dcsim.engine.simulation import Simulation
from dcsim.policies.placement import PLACEMENT

PROFILES = sorted(virtualization_profiles())


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    n_groups = draw(st.integers(1, 3))
    hosts = [{
        "count": draw(st.integers(1, 4)),
        "cores": draw(st.integers(1, 16)),
        "mips_per_core": draw(st.sampled_from([1000, 2000, 3000])),
        "ram": f"{draw(st.integers(2, 64))}GiB",
        "storage": f"{draw(st.integers(20, 500))}GB",
        "power": {"kind": "linear", "idle": 50, "max": 150},
        "virtualization": draw(st.sampled_from(PROFILES)),
        "cpu_overcommit": draw(st.sampled_from([1.0, 1.5, 4.0])),
    } for _ in range(n_groups)]
    guests = [{
        "count": draw(st.integers(1, 30)),
        "vcpus": draw(st.integers(1, 4)),
        "mips": draw(st.sampled_from([500, 1000])),
        "ram": f"{draw(st.integers(64, 8192))}MiB",
        "disk": f"{draw(st.integers(0, 50))}GB",
        "workload": {"kind": "uniform", "low": 0.0, "high": 1.0},
        "arrival": draw(st.sampled_from([
            {"kind": "at_start"},
            {"kind": "poisson", "rate": "30/h", "mean_lifetime": "20m"},
        ])),
    } for _ in range(draw(st.integers(1, 3)))]
    return {
        "name": "prop", "seed": draw(st.integers(0, 2**16)), "duration": "2h",
        "interval": "10m", "datacenters": [{"hosts": hosts}],
        "guests": guests,
        "placement": {"name": draw(st.sampled_from(PLACEMENT.names()))},
    }


def _loadable(cfg: dict) -> dcsim.ConfigError | object:
    try:
        return dcsim.api._scenario(cfg, None)
    except dcsim.ConfigError as exc:  # e.g. a guest bigger than every host
        return exc


@given(scenarios())
def test_ram_storage_cpu_never_exceeded(cfg: dict) -> None:
    sc = _loadable(cfg)
    if isinstance(sc, dcsim.ConfigError):
        assert any("fits on no host" in i.message or "reserves" in i.message for i in sc.issues)
        return
    sim = Simulation(sc, check_invariants=True)  # type: ignore[arg-type]
    r = sim.run()  # checks every invariant after each placement, departure and interval
    st_ = sim.state
    assert np.all(st_.used_ram <= st_.ram * (1 + 1e-9))
    assert np.all(st_.used_storage <= st_.storage * (1 + 1e-9))
    assert np.all(st_.reserved_mips <= st_.cap_mips * st_.overcommit * (1 + 1e-9))
    s = r.summary
    assert s["guests_arrived"] == s["guests_placed"] + s["guests_rejected"]
    assert s["unmet_mi"] >= -1e-6 * max(1.0, s["demand_mi"])
    assert r.timeseries["cpu_utilization"].between(0, 1 + 1e-9).all()
