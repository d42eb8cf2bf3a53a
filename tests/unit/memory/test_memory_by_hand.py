"""Memory overcommit, page sharing, ballooning and swapping: values worked out by hand.

One host, a custom type-1 profile without CPU overheads (so a guest's delivered MIPS is its
demand times its memory speed), guests that do not boot, constant working sets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import dcsim
from dcsim.config.migration import MigrationSpec
from dcsim.engine.simulation import Simulation
from dcsim.validate import scenario_of

GIB = 2**30


def _cfg(*, ram: float, ratio: float, guests: list[dict[str, Any]], sharing: float = 0.0,
         ballooning: bool = False, cost: float = 0.0, kappa: float = 0.0,
         reserved: float = 0.0, overhead: float = 0.0, cores: int = 4) -> dict[str, Any]:
    return {
        "seed": 1, "duration": "1h", "interval": "5min",
        "datacenters": [{"hosts": [{
            "count": 1, "cores": cores, "mips_per_core": 1000, "ram": f"{ram:.0f}B",
            "storage": "1TB", "power": {"kind": "linear", "idle": 100, "max": 200},
            "virtualization": "probe", "mem_overcommit": ratio, "cpu_overcommit": 4.0}]}],
        "virtualization_profiles": {"probe": {
            "kind": "type1", "live_migration": True, "host_reserved_mem": f"{reserved:.0f}B",
            "mem_overhead_per_guest": f"{overhead:.0f}B",
            "page_sharing": sharing > 0, "sharing_fraction": sharing,
            "ballooning": ballooning, "balloon_cost": cost, "swap_penalty": kappa}},
        "guests": [{"mips": 1000, "ram": f"{GIB}B", "boot": False,
                    "workload": {"kind": "constant", "utilization": 0.5}, **g}
                   for g in guests],
        "placement": {"name": "first_fit"},
        "power_management": {"sleep_idle_hosts": False},
    }


def _memory(cfg: dict[str, Any]) -> tuple[dict[str, Any], pd.DataFrame]:
    res = dcsim.run(cfg)
    return res.summary, res.tables["memory"]


def test_page_sharing_of_three_twins_and_a_stranger() -> None:
    # 3 guests of image "a" and 1 of image "b", 1 GiB each, all pages resident, sigma = 0.3.
    # Each "a" guest keeps 1 - 0.3 x (3 - 1)/3 = 0.8 of its pages: 3 x 0.2 GiB = 0.6 GiB saved;
    # the stranger shares nothing. Physical: 0.5 GiB reserved + 4 x 0.25 GiB overhead
    # + 3 x 0.8 GiB + 1 GiB = 4.9 GiB on an 8 GiB host (no pressure, nothing reclaimed).
    cfg = _cfg(ram=8 * GIB, ratio=1.0, sharing=0.3, reserved=0.5 * GIB, overhead=0.25 * GIB,
               guests=[{"count": 3, "os_image": "a", "memory": {"kind": "constant",
                                                                 "utilization": 0.5}},
                       {"count": 1, "os_image": "b"}])
    s, mem = _memory(cfg)
    row = mem.iloc[0]
    assert row["shared_bytes"] == pytest.approx(0.6 * GIB, rel=1e-12)
    assert row["physical_bytes"] == pytest.approx(4.9 * GIB, rel=1e-12)
    assert row["active_bytes"] == pytest.approx(2.5 * GIB, rel=1e-12)  # 3 x 0.5 + 1 x 1
    assert row["allocated_bytes"] == pytest.approx(4 * GIB, rel=1e-12)
    assert row["ballooned_bytes"] == 0
    assert row["swapped_bytes"] == 0
    assert s["mem_shared_gb_mean"] == pytest.approx(0.6 * GIB / 1e9, rel=1e-12)
    assert s["unmet_memory_mi"] == 0.0


def test_swapping_slows_the_working_set_that_is_swapped_out() -> None:
    # Host 3 GiB, ratio 2: two 1 GiB... here two 2 GiB guests (4 GiB allocated <= 2 x 3 GiB).
    # No sharing, no balloon: 1 GiB swapped, phi = 1/4 of every guest's pages; the working set
    # (0.25 x 2 GiB) is hit at the same rate: f = 1/4; kappa = 4 -> speed 1 / (1 + 4/4) = 1/2.
    # Demand 500 MIPS per guest: 250 lost per guest for 3600 s: 2 x 250 x 3600 = 1.8e6 MI.
    cfg = _cfg(ram=3 * GIB, ratio=2.0, kappa=4.0,
               guests=[{"count": 2, "ram": f"{2 * GIB}B",
                        "memory": {"kind": "constant", "utilization": 0.25}}])
    s, mem = _memory(cfg)
    assert s["unmet_memory_mi"] == pytest.approx(1.8e6, rel=1e-12)
    assert s["unmet_memory_fraction"] == pytest.approx(0.5, rel=1e-12)
    assert s["unmet_mi"] == pytest.approx(1.8e6, rel=1e-12)  # the only cause here
    assert s["mem_swapped_gb_mean"] == pytest.approx(GIB / 1e9, rel=1e-12)
    # waiting on swap-ins, a guest uses no CPU: 2 x 250 MIPS of 4000, 100 + 100 x 0.125 W
    assert s["energy_hosts_kwh"] == pytest.approx(112.5 / 1000, rel=1e-12)
    assert s["mem_physical_peak_fraction"] == pytest.approx(1.0, rel=1e-12)
    assert (mem["swapped_bytes"] == GIB).all()
    assert (mem["hosts_swapping"] == 1).all()


def test_ballooning_reclaims_idle_memory_one_update_late() -> None:
    # As above with ballooning (cost 3 %) and kappa = 10. At t = 0 the balloon knows no earlier
    # working set (the whole allocation counts as active): 1 GiB is swapped, f = 1/4, the guests
    # run 1 / 3.5 of the time. From t = 300 s it sizes on the working set of t = 0 (0.5 GiB):
    # idle 1.5 GiB per guest, 3 GiB in all, 1 GiB needed: theta = 1/3, 0.5 GiB ballooned per
    # guest, nothing swapped; the cost is in proportion to the idle memory taken: 3 % x 1/3.
    # Lost: 2 x 500 x (1 - 1/3.5) x 300 + 2 x 500 x 0.01 x 3300 = 214285.714... + 33000.
    cfg = _cfg(ram=3 * GIB, ratio=2.0, kappa=10.0, ballooning=True, cost=0.03,
               guests=[{"count": 2, "ram": f"{2 * GIB}B",
                        "memory": {"kind": "constant", "utilization": 0.25}}])
    s, mem = _memory(cfg)
    assert mem.iloc[0]["swapped_bytes"] == GIB
    assert mem.iloc[0]["ballooned_bytes"] == 0
    assert (mem.iloc[1:]["ballooned_bytes"] == GIB).all()
    assert (mem.iloc[1:]["swapped_bytes"] == 0).all()
    want = 2 * 500 * (1 - 1 / 3.5) * 300 + 2 * 500 * 0.01 * 3300
    assert s["unmet_memory_mi"] == pytest.approx(want, rel=1e-12)
    # time average of the balloons: 1 GiB for 3300 of 3600 s
    assert s["mem_ballooned_gb_mean"] == pytest.approx(GIB * 3300 / 3600 / 1e9, rel=1e-12)


@pytest.mark.parametrize("policy", ["first_fit", "best_fit", "pabfd"])
def test_overcommit_ratio_sets_how_many_guests_fit(policy: str) -> None:
    # Host 4.2 GiB, reserved 0.5 GiB, 0.25 GiB overhead per guest, 1 GiB guests.
    # ratio 1: 0.5 + n x 1.25 <= 4.2 -> n = 2. ratio 2: footprints charged twice against
    # 8.4 GiB: 1 + n x 1.5 <= 8.4 -> n = 4 (Σ alloc / 2 + footprints = 2 + 0.5 + 1 = 3.5 <= 4.2
    # GiB); charging the footprints once would admit a fifth (1 + 4 x 1.5 + 1.25 <= 8.4).
    for ratio, placed in ((1.0, 2), (2.0, 4)):
        cfg = _cfg(ram=4.2 * GIB, ratio=ratio, reserved=0.5 * GIB, overhead=0.25 * GIB,
                   guests=[{"count": 6}])
        cfg["placement"] = {"name": policy}
        g = dcsim.run(cfg).guests
        assert int((g["host"] >= 0).sum()) == placed, ratio


def test_a_migration_loses_sharing_until_it_lands_beside_a_twin() -> None:
    # Two hosts; guest 0 (image a) on host 0, guests 1 (a) and 2 (b) on host 1; sigma = 0.4.
    cfg = _cfg(ram=8 * GIB, ratio=1.5, sharing=0.4,
               guests=[{"count": 2, "os_image": "a"}, {"count": 1, "os_image": "b"}])
    cfg["datacenters"][0]["hosts"][0]["count"] = 2
    sim = Simulation(scenario_of(cfg, []), check_invariants=True)
    st, mem = sim.state, sim.memory
    st.place(0, 0)
    st.place(1, 1)
    st.place(2, 1)
    mem.refresh(np.arange(2, dtype=np.intp))
    assert mem.levels[3].tolist() == [0.0, 0.0]  # no twin on either host
    st.begin_migration(0, 1)  # in flight: its pages on host 1, unshared
    mem.refresh(np.asarray([1], dtype=np.intp))
    assert mem.levels[2, 1] == pytest.approx(3 * GIB, rel=1e-12)  # 1 + 1 + 1 GiB in flight
    st.finish_migration(0)
    mem.refresh(np.arange(2, dtype=np.intp))
    # twins 0 and 1 on host 1: each keeps 1 - 0.4 / 2 = 0.8: 0.4 GiB saved
    assert mem.levels[3, 1] == pytest.approx(0.4 * GIB, rel=1e-12)
    assert mem.levels[2].tolist() == pytest.approx([0.0, 2.6 * GIB], rel=1e-12)


def test_per_guest_and_per_host_memory_columns() -> None:
    # the swapping case: each guest's mean working set 0.5 GiB, each lost 250 x 3600 MI; the
    # host holds 3 GiB physical and 1 GiB swapped in every interval
    cfg = _cfg(ram=3 * GIB, ratio=2.0, kappa=4.0,
               guests=[{"count": 2, "ram": f"{2 * GIB}B",
                        "memory": {"kind": "constant", "utilization": 0.25}}])
    cfg["output"] = {"host_timeseries": True}
    res = dcsim.run(cfg)
    g = res.guests
    assert g["mean_active_mem_bytes"].tolist() == pytest.approx([0.5 * GIB] * 2, rel=1e-12)
    assert g["memory_lost_mi"].tolist() == pytest.approx([0.9e6] * 2, rel=1e-12)
    h = res.hosts
    assert len(h) == 12  # 12 intervals of one host
    assert h["mem_physical_bytes"].tolist() == pytest.approx([3 * GIB] * 12, rel=1e-12)
    assert h["mem_swapped_bytes"].tolist() == pytest.approx([GIB] * 12, rel=1e-12)


@pytest.mark.parametrize(("touched", "want"), [(True, 1.5 * GIB), (False, 2.0 * GIB)])
def test_migration_sends_the_resident_pages_where_the_layer_skips_the_rest(
        touched: bool, want: float) -> None:
    # a 2 GiB guest with 0.5 GiB ballooned: migrate_touched sends 1.5 GiB, else all 2 GiB
    cfg = _cfg(ram=3 * GIB, ratio=2.0, ballooning=True,
               guests=[{"count": 1, "ram": f"{2 * GIB}B"}])
    cfg["virtualization_profiles"]["probe"]["migrate_touched"] = touched
    sim = Simulation(scenario_of(cfg, []))
    sim.state.place(0, 0)
    sim.memory.refresh(np.asarray([0], dtype=np.intp))
    sim.memory.beta[0] = 0.5 * GIB
    assert sim.memory.to_send(0, 0) == want


@pytest.mark.parametrize("pressure", [False, True])
def test_memory_pressure_moves_a_guest_off_a_swapping_host(pressure: bool) -> None:
    # the swapping case on two hosts: first-fit puts both 2 GiB guests on host 0 (1 GiB short,
    # swapped). With memory_pressure the first consolidation step finds host 0 swapping, sheds
    # one guest (2 GiB of pages >= the 1 GiB swapped; MMT's tie goes to the first, guest 0) to
    # host 1, whose RAM holds its working set; from the next instant nothing swaps. Without,
    # no CPU detector sees anything and host 0 swaps all hour (1.8e6 MI lost).
    cfg = _cfg(ram=3 * GIB, ratio=2.0, kappa=4.0,
               guests=[{"count": 2, "ram": f"{2 * GIB}B",
                        "memory": {"kind": "constant", "utilization": 0.25}}])
    cfg["datacenters"][0]["hosts"][0]["count"] = 2
    cfg["consolidation"] = {"policy": "thr-mmt-0.8", "underload": False,
                            "memory_pressure": pressure}
    res = dcsim.run(cfg)
    mig, mem = res.tables["migrations"], res.tables["memory"]
    if not pressure:
        assert len(mig) == 0
        assert res.summary["unmet_memory_mi"] == pytest.approx(1.8e6, rel=1e-12)
        return
    assert mig[["guest", "source", "destination"]].values.tolist() == [[0, 0, 1]]
    assert (mem["swapped_bytes"].iloc[1:] == 0).all()
    # until the switch both run half the time: guest 1 loses 250 MIPS, guest 0 (migrating,
    # at 1 - slowdown, paused for the downtime) 500 x (1 - slowdown) x 1/2; nothing after
    end, down = float(mig["end_s"].iloc[0]), float(mig["downtime_s"].iloc[0])
    slow = MigrationSpec().slowdown
    want = 250 * end + 500 * (1 - slow) * 0.5 * (end - down)
    assert res.summary["unmet_memory_mi"] == pytest.approx(want, rel=1e-9)


def test_memory_pressure_needs_memory_accounting() -> None:
    cfg = _cfg(ram=8 * GIB, ratio=1.0, guests=[{"count": 2}])
    cfg["consolidation"] = {"policy": "thr-mmt-0.8", "memory_pressure": True}
    with pytest.raises(dcsim.ConfigError) as exc:
        dcsim.api._scenario(cfg, None)
    assert "consolidation.memory_pressure" in {i.path for i in exc.value.issues}


def test_memory_pressure_sheds_until_the_swapped_memory_is_gone() -> None:
    # four 1.5 GiB guests (working sets 0.375 GiB) on host 0 of 3 GiB at ratio 2: 3 GiB
    # swapped. Each guest sheds 1.5 GiB of pages: two must go (MMT: guests 0 and 1); linear
    # power makes every target's increase equal, so both go to the lowest id, host 1, whose
    # RAM holds their working sets (0.75 GiB)
    cfg = _cfg(ram=3 * GIB, ratio=2.0, kappa=4.0,
               guests=[{"count": 4, "ram": f"{1.5 * GIB:.0f}B",
                        "memory": {"kind": "constant", "utilization": 0.25}}])
    cfg["datacenters"][0]["hosts"][0]["count"] = 3
    cfg["consolidation"] = {"policy": "thr-mmt-0.8", "underload": False,
                            "memory_pressure": True}
    mig = dcsim.run(cfg).tables["migrations"]
    assert sorted(mig[["guest", "source", "destination"]].values.tolist()) == [
        [0, 0, 1], [1, 0, 1]]
    assert mig["start_s"].tolist() == [0.0, 0.0]  # both at the first step


@pytest.mark.parametrize(("ballooning", "small_gib", "moves"), [
    (False, 0.4, 0), (True, 0.4, 0), (False, 1.0, 0), (True, 1.0, 1)])
def test_memory_pressure_never_moves_a_guest_where_it_would_swap(
        ballooning: bool, small_gib: float, moves: int) -> None:
    # as the first pressure case, but the other host has 0.4 or 1 GiB of RAM at ratio 6 (the
    # 2 GiB allocation is admissible on both). It holds the guest without swapping only if its
    # working set (0.5 GiB) fits where the layer balloons, its resident 2 GiB where it does
    # not: a move only with ballooning on the 1 GiB host
    cfg = _cfg(ram=3 * GIB, ratio=2.0, kappa=4.0,
               guests=[{"count": 2, "ram": f"{2 * GIB}B",
                        "memory": {"kind": "constant", "utilization": 0.25}}])
    cfg["virtualization_profiles"]["probe"]["ballooning"] = ballooning
    small = dict(cfg["datacenters"][0]["hosts"][0], ram=f"{small_gib * GIB:.0f}B",
                 mem_overcommit=6.0)
    cfg["datacenters"][0]["hosts"].append(small)
    cfg["consolidation"] = {"policy": "thr-mmt-0.8", "underload": False,
                            "memory_pressure": True}
    assert len(dcsim.run(cfg).tables["migrations"]) == moves
