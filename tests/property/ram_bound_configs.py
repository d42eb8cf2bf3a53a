"""Random small, memory-tight data centers with consolidation: the configs the underload
property tests (RAM bound, receivers per shape) run both ways."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    hosts = [{"count": draw(st.integers(1, 5)), "cores": 4, "mips_per_core": 1000,
              "ram": f"{draw(st.sampled_from([6, 8, 12]))}GiB", "storage": "200GB",
              "cpu_overcommit": 2.0, "virtualization": draw(st.sampled_from(["plain", "kvm"])),
              "power": {"kind": "linear", "idle": draw(st.sampled_from([80, 90])), "max": 200}}
             for _ in range(draw(st.integers(1, 2)))]
    guests = [{"count": draw(st.integers(1, 8)), "mips": 1000,
               "ram": draw(st.sampled_from(["512MiB", "1GiB", "1500MiB", "2GiB", "3GiB"])),
               "disk": "1GB", "boot": False,
               "workload": {"kind": "uniform", "low": 0.0, "high": draw(st.sampled_from(
                   [0.2, 0.5, 0.9]))}}
              for _ in range(draw(st.integers(1, 4)))]
    return {
        "name": "ram-bound", "seed": draw(st.integers(0, 2**16)), "duration": "30m",
        "interval": "5m",
        "datacenters": [{"hosts": hosts}],
        "virtualization_profiles": {"plain": {"kind": "type1", "live_migration": True}},
        "guests": guests,
        "placement": {"name": draw(st.sampled_from(["first_fit", "worst_fit", "random"]))},
        "consolidation": {"policy": draw(st.sampled_from(["thr-mmt-0.8", "thr-mu-0.6",
                                                          "mad-mmt-2.5"]))},
    }
