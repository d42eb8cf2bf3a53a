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


def run_patched(cfg: dict[str, Any], **flags: bool) -> tuple[Any, ...]:
    """Run ``cfg`` with ``Consolidation`` class flags set (``prune``, ``fast``); returns
    ``()`` for a config dcsim refuses, else (summary repr without wall times, migrations table
    as lists, the Consolidation extension, the moves planned per step)."""
    import pytest

    import dcsim
    from dcsim.engine import consolidation
    from dcsim.engine.simulation import Simulation

    try:
        sc = dcsim.api._scenario(cfg, None, allow_rejections=True)
    except dcsim.ConfigError:  # e.g. a guest larger than every host
        return ()
    planned: list[list[tuple[int, int]]] = []
    with pytest.MonkeyPatch.context() as mp:
        for name, value in flags.items():
            mp.setattr(consolidation.Consolidation, name, value)
        start = consolidation.Consolidation.start_moves

        def record(self: Any, moves: list[tuple[int, int]]) -> None:
            planned.append(list(moves))
            start(self, moves)

        mp.setattr(consolidation.Consolidation, "start_moves", record)
        sim = Simulation(sc, check_invariants=True)
        res = sim.run()
    cons = next(e for e in sim.extensions if type(e).__name__ == "Consolidation")
    summary = repr(sorted((k, v) for k, v in res.summary.items() if "wall" not in k
                          and not k.endswith("_per_s")))
    mig = res.tables.get("migrations")
    return summary, None if mig is None else mig.to_dict("list"), cons, planned
