"""``pabfd_mem``: PABFD with sharing affinity, exact choices worked out by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import dcsim
from dcsim.model import memfit
from dcsim.model.cluster import ClusterState
from dcsim.policies.placement import PLACEMENT

GIB = 2**30


def _cfg(n_hosts: int, ram: str, profile: str, ratio: float,
         guests: list[tuple[int, str, str]]) -> dict[str, Any]:
    """Identical awake hosts with linear power (100-200 W, 4 x 1000 MIPS); guests (count, ram,
    os_image) of 1 vCPU x 1000 MIPS."""
    return {
        "seed": 1, "duration": "1h", "interval": "5min",
        "datacenters": [{"hosts": [{
            "count": n_hosts, "cores": 4, "mips_per_core": 1000, "ram": ram, "storage": "1TB",
            "power": {"kind": "linear", "idle": 100, "max": 200}, "virtualization": profile,
            "mem_overcommit": ratio}]}],
        "guests": [{"count": n, "mips": 1000, "ram": r, "os_image": img}
                   for n, r, img in guests],
    }


def _state(sharing: bool) -> ClusterState:
    # three identical awake hosts, linear power (every host's increase for a guest is equal);
    # guest 0 (image b) and guest 1 (image a) already placed on hosts 0 and 1; guest 2 (image
    # a) to place
    cfg = _cfg(3, "8GiB", "probe", 1.5, [(1, "1GiB", "b"), (2, "1GiB", "a")])
    cfg["virtualization_profiles"] = {"probe": {"base": "kvm", "page_sharing": sharing,
                                                "sharing_fraction": 0.4}}
    st = ClusterState.build(dcsim.api._scenario(cfg, None))
    st.place(0, 0)
    st.place(1, 1)
    return st


def _choice(policy: str, st: ClusterState, **params: Any) -> int:
    cls = PLACEMENT.get(policy)
    pol = cls(cls.Params(**params), np.random.default_rng(0))
    batch = np.asarray([2], dtype=np.intp)
    return int(pol.place(st.sandbox(batch), batch)[0])


def test_a_guest_goes_beside_its_twin() -> None:
    # equal power increases everywhere: plain PABFD takes the lowest id (host 0); with sharing,
    # host 1 saves sigma x (1 x (1 + 1) / 2 - 0) GiB = 0.4 GiB, worth 0.4 / 8 x 100 W = 5 W
    assert _choice("pabfd", _state(True)) == 0
    assert _choice("pabfd_mem", _state(True)) == 1


@pytest.mark.parametrize(("sharing", "weight"), [(False, 1.0), (True, 0.0)])
def test_without_sharing_or_weight_it_is_plain_pabfd(sharing: bool, weight: float) -> None:
    assert _choice("pabfd_mem", _state(sharing), memory_weight=weight) == 0


def test_power_still_wins_over_a_small_saving() -> None:
    # host 1 made 25 W dearer per guest than the others (idle 100 W, max 300 W): the 5 W the
    # twin saves does not cover it, so the guest goes to host 0 (power increase 25 W vs 50 W)
    st = _state(True)
    st.power_table[1] = np.linspace(100.0, 300.0, st.power_table.shape[1])
    assert _choice("pabfd_mem", st) == 0
    # ... unless memory is worth more: 4 x 5 W = 20 W still short of 25 W; 6 x 5 W = 30 W wins
    assert _choice("pabfd_mem", st, memory_weight=4.0) == 0
    assert _choice("pabfd_mem", st, memory_weight=6.0) == 1


@pytest.mark.parametrize(("policy", "want"), [("pabfd", 0), ("pabfd_mem", 1)])
def test_consolidation_targets_use_the_same_affinity(policy: str, want: int) -> None:
    # guest 2 (image a) leaves host 2: hosts 0 (image b) and 1 (its twin) rise alike in power;
    # with pabfd_mem as the run's placement the consolidation's target is the twin's host
    from dcsim.engine.simulation import Simulation

    cfg = _cfg(3, "8GiB", "kvm", 1.5, [(1, "1GiB", "b"), (2, "1GiB", "a")])
    cfg["placement"] = {"name": policy}
    cfg["consolidation"] = {"policy": "thr-mmt-0.8", "underload": False}
    sim = Simulation(dcsim.api._scenario(cfg, None))
    st = sim.state
    for g, h in ((0, 0), (1, 1), (2, 2)):
        st.place(g, h)
    cons = next(e for e in sim.extensions if type(e).__name__ == "Consolidation")
    sb = st.sandbox()
    work = np.zeros(st.n_hosts)
    assert cons._pabfd(sb, 2, np.ones(st.n_hosts, dtype=bool), work) == want


@pytest.mark.parametrize(("policy", "published", "want"), [
    ("pabfd", True, 0), ("pabfd_mem", True, 1), ("pabfd_mem", False, 0)])
def test_a_host_whose_working_sets_would_overflow_is_avoided(
        policy: str, published: bool, want: int) -> None:
    # two 4 GiB KVM hosts (512 MB reserved, 288 MB per guest), ratio 2. Host 0 holds guest 0
    # (2 GiB, all of it active). Guest 1 (2 GiB, 1.5 GiB active) would need 2 + 1.5 + 0.48 +
    # 2 x 0.27 = 4.51 GiB of working sets and footprints on host 0 (> 4: it would swap) and
    # 1.5 + 0.48 + 0.27 GiB on host 1. Equal power increases: plain PABFD takes host 0.
    cfg = _cfg(2, "4GiB", "kvm", 2.0, [(1, "2GiB", "x"), (1, "2GiB", "y")])
    st = ClusterState.build(dcsim.api._scenario(cfg, None))
    st.place(0, 0)
    if published:  # what dcsim.engine.memory publishes (KVM balloons; nothing shared yet)
        st.mem_active = np.asarray([2.0 * GIB, 1.5 * GIB])
        st.mem_shared = np.zeros(2)
        st.mem_balloons = np.ones(2, dtype=bool)
    cls = PLACEMENT.get(policy)
    pol = cls(cls.Params(), np.random.default_rng(0))
    batch = np.asarray([1], dtype=np.intp)
    assert int(pol.place(st.sandbox(batch), batch)[0]) == want


@pytest.mark.parametrize(("balloons", "want"), [(True, 0), (False, 1)])
def test_without_balloons_resident_pages_must_fit(balloons: bool, want: int) -> None:
    # the same two 4 GiB KVM hosts (0.477 GiB reserved, 0.268 GiB per guest), ratio 2; guest 0
    # (2 GiB, 0.5 GiB active) on host 0; guest 1 (2 GiB, 0.5 GiB active) to place.
    # Balloons: host 0 needs 0.477 + 0.268 + 0.5 (floor) + 0.5 + 0.268 (guest 1) = 2.01 GiB
    # <= 4: room everywhere, the power tie goes to host 0.
    # No balloons: nothing can squeeze the idle pages out, so guest 0 keeps its 2 GiB resident:
    # 0.477 + 0.268 + 2 + (2 + 0.268) = 5.01 GiB > 4 on host 0 (it would swap) against
    # 0.477 + 2.268 = 2.75 GiB on host 1: host 1.
    cfg = _cfg(2, "4GiB", "kvm", 2.0, [(1, "2GiB", "x"), (1, "2GiB", "y")])
    st = ClusterState.build(dcsim.api._scenario(cfg, None))
    st.place(0, 0)
    st.mem_active = np.asarray([0.5 * GIB, 0.5 * GIB])
    st.mem_shared = np.zeros(2)
    st.mem_balloons = np.full(2, balloons)
    cls = PLACEMENT.get("pabfd_mem")
    pol = cls(cls.Params(), np.random.default_rng(0))
    batch = np.asarray([1], dtype=np.intp)
    assert int(pol.place(st.sandbox(batch), batch)[0]) == want


def test_the_floor_counts_shared_pages_once_and_guests_migrating_in() -> None:
    # no balloons: guest 0 (2 GiB, a third of its pages shared) resident on host 0 holds
    # (1 - 1/3) x 2 = 1.333 GiB; guest 1 (2 GiB) migrating from host 0 to host 1 holds its
    # 2 GiB on host 1 as well as its resident pages on host 0 (nothing shared: 2 GiB).
    # host 0: 0.477 + 2 x 0.268 + 1.333 + 2 = 4.347 GiB; host 1: 0.477 + 0.268 + 2 = 2.745 GiB
    cfg = _cfg(2, "4GiB", "kvm", 2.0, [(1, "2GiB", "x"), (1, "2GiB", "y")])
    st = ClusterState.build(dcsim.api._scenario(cfg, None))
    st.place(0, 0)
    st.place(1, 0)
    st.begin_migration(1, 1)
    st.mem_active = np.asarray([0.5 * GIB, 0.5 * GIB])
    st.mem_shared = np.asarray([1.0 / 3.0, 0.0])
    st.mem_balloons = np.zeros(2, dtype=bool)
    res, per = 512e6, 288e6  # bytes (KVM profile)
    want = [res + 2 * per + (2.0 / 3.0) * 2 * GIB + 2 * GIB, res + per + 2 * GIB]
    np.testing.assert_allclose(memfit.floor(st), want, rtol=1e-9)


@pytest.mark.parametrize(("sharing", "want"), [(True, 0), (False, 1)])
def test_without_balloons_a_placed_guest_counts_what_it_shares(sharing: bool, want: int) -> None:
    # two 4 GiB hosts (4,294,967,296 B) of a KVM-based layer without balloons, σ = 0.4, ratio 2,
    # memory_weight 0 (only the swap filter differs from PABFD). Guest 0 (1.5 GiB =
    # 1,610,612,736 B, image x) alone on host 0; guest 1 (1.5 GiB, image x) to place.
    # Host 0's floor: 512e6 + 288e6 + 1,610,612,736 = 2,410,612,736 B. Guest 1 adds its RAM less
    # the sharing gain σ (1 × (S + R) / 2 − 0) = 0.4 × 1.5 GiB = 644,245,094.4 B, + 288e6:
    # 4,043,212,377.6 <= 4 GiB, room on both hosts: the power tie goes to host 0. Without
    # sharing it adds its whole 1.5 GiB: 4,308,838,544 > 4 GiB, it would swap: host 1.
    cfg = _cfg(2, "4GiB", "probe", 2.0, [(2, "1.5GiB", "x")])
    cfg["virtualization_profiles"] = {"probe": {"base": "kvm", "ballooning": False,
                                                "page_sharing": sharing,
                                                "sharing_fraction": 0.4}}
    st = ClusterState.build(dcsim.api._scenario(cfg, None))
    st.place(0, 0)
    st.mem_active = np.full(2, 0.5 * GIB)
    st.mem_shared = np.zeros(2)  # one guest of image x placed: nothing shared yet
    st.mem_balloons = np.zeros(2, dtype=bool)
    cls = PLACEMENT.get("pabfd_mem")
    pol = cls(cls.Params(memory_weight=0.0), np.random.default_rng(0))
    batch = np.asarray([1], dtype=np.intp)
    assert int(pol.place(st.sandbox(batch), batch)[0]) == want


@pytest.mark.parametrize(("pressure", "want"), [(False, 1), (True, -1)])
def test_a_migration_target_holds_the_whole_guest_while_it_flies(pressure: bool,
                                                                 want: int) -> None:
    # the hosts of the test above; guest 0 (image x) on host 1, guest 1 (image x) leaves
    # host 0. Landed beside its twin it would share 0.4 × 1.5 GiB, but while it migrates in it
    # shares nothing: host 1 would need 2,410,612,736 + 1,610,612,736 + 288e6 = 4,309,225,472 B
    # > 4 GiB. With memory_pressure no target takes it (-1); without, host 1 does.
    from dcsim.engine.simulation import Simulation

    cfg = _cfg(2, "4GiB", "probe", 2.0, [(2, "1.5GiB", "x")])
    cfg["virtualization_profiles"] = {"probe": {"base": "kvm", "ballooning": False,
                                                "sharing_fraction": 0.4}}
    cfg["consolidation"] = {"policy": "thr-mmt-0.8", "underload": False,
                            "memory_pressure": pressure}
    sim = Simulation(dcsim.api._scenario(cfg, None))
    st = sim.state
    st.place(0, 1)
    st.place(1, 0)
    cons = next(e for e in sim.extensions if type(e).__name__ == "Consolidation")
    cons._ws = memfit.floor(st) if pressure else None
    sb = st.sandbox()
    assert cons._pabfd(sb, 1, np.ones(st.n_hosts, dtype=bool), np.zeros(st.n_hosts)) == want
