"""Physical memory is never exceeded, whatever the overcommit ratio, the working sets, sharing,
ballooning, migrations and departures: the memory model swaps what does not fit.

``check_invariants`` makes the engine check, at every memory refresh (every scheduling instant
and every change of a host's guests), that each host's physical memory in use is at most its
RAM and that its footprints alone fit; ``ClusterState.check`` keeps allocations within ratio ×
(RAM − footprints). The test also checks the summary and the memory table.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import dcsim
from dcsim.engine.simulation import Simulation


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    hosts = [{
        "count": draw(st.integers(1, 4)), "cores": draw(st.integers(2, 8)),
        "mips_per_core": 2000, "ram": f"{draw(st.integers(2, 16))}GiB", "storage": "1TB",
        "power": {"kind": "linear", "idle": 50, "max": 150},
        "virtualization": draw(st.sampled_from(["kvm", "esxi", "xen", "hyperv", "probe"])),
        "cpu_overcommit": 4.0,
        "mem_overcommit": draw(st.sampled_from([1.0, 1.25, 1.5, 2.0, 3.0])),
    } for _ in range(draw(st.integers(1, 2)))]
    lo = draw(st.sampled_from([0.0, 0.1, 0.3, 0.6, 1.0]))
    guests = [{
        "count": draw(st.integers(1, 16)), "vcpus": 1, "mips": 1000,
        "ram": f"{draw(st.integers(256, 4096))}MiB",
        "os_image": draw(st.sampled_from(["a", "b"])),
        "memory": draw(st.sampled_from([
            {"kind": "uniform", "low": lo, "high": 1.0},
            {"kind": "constant", "utilization": lo},
            {"kind": "diurnal", "mean": 0.5, "amplitude": 0.4}])),
        "arrival": draw(st.sampled_from([
            {"kind": "at_start"},
            {"kind": "poisson", "rate": "30/h", "mean_lifetime": "30m"}])),
    } for _ in range(draw(st.integers(1, 3)))]
    cfg: dict = {
        "seed": draw(st.integers(0, 2**16)), "duration": "2h", "interval": "10m",
        "datacenters": [{"hosts": hosts}], "guests": guests,
        "placement": {"name": draw(st.sampled_from(["first_fit", "pabfd", "best_fit"]))},
        "virtualization_profiles": {"probe": {
            "base": "kvm", "page_sharing": draw(st.booleans()),
            "sharing_fraction": draw(st.sampled_from([0.0, 0.2, 0.366, 0.6, 0.9])),
            "ballooning": draw(st.booleans()), "migrate_touched": draw(st.booleans())}},
    }
    if draw(st.booleans()):
        cfg["consolidation"] = {"policy": "thr-mmt-0.6"}
    return cfg


def _loadable(cfg: dict) -> dcsim.ConfigError | object:
    try:
        return dcsim.api._scenario(cfg, None)
    except dcsim.ConfigError as exc:
        return exc


@settings(max_examples=40, deadline=None)
@given(scenarios())
def test_physical_memory_never_exceeds_ram(cfg: dict) -> None:
    sc = _loadable(cfg)
    if isinstance(sc, dcsim.ConfigError):  # e.g. a guest bigger than every host
        assert all("fits on no host" in i.message for i in sc.issues), sc.issues
        return
    sim = Simulation(sc, check_invariants=True)  # type: ignore[arg-type]
    r = sim.run()
    s = r.summary
    assert s["mem_physical_peak_fraction"] <= 1.0 + 1e-9
    st_ = sim.state
    assert np.all(st_.used_ram <= st_.ram * st_.mem_ratio * (1 + 1e-9))
    mem = r.tables["memory"]
    assert (mem["physical_bytes"] <= float(st_.ram.sum()) * (1 + 1e-9)).all()
    assert (mem["swapped_bytes"] >= 0).all()
    assert (mem["ballooned_bytes"] >= 0).all()
    # memory losses are a part of the unmet demand, never more
    assert 0.0 <= s["unmet_memory_mi"] <= s["unmet_mi"] * (1 + 1e-9) + 1e-6
