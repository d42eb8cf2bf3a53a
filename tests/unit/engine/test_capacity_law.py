"""The capacity law: each invariant ``ClusterState.check`` guards, and refusals caused only by
the virtualization layer's memory or disk footprint (``place``, ``begin_migration``,
``Simulation.migrate``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import dcsim
from dcsim.config.migration import MigrationSpec
from dcsim.engine.simulation import Simulation
from dcsim.errors import InvariantViolation
from dcsim.model.cluster import KIND_CODE, ClusterState
from tests.conftest import tiny_config

MIB = 2**20
GIB = 2**30


def _placed() -> ClusterState:
    """Two 1-core hosts (1000 MIPS, 4 GiB, 100 GB), guests 0 and 1 (1 GiB, 1 GB) on host 0."""
    cfg = tiny_config()
    cfg["datacenters"][0]["hosts"][0]["cpu_overcommit"] = 2.0
    cfg["guests"][0]["count"] = 3
    st = ClusterState.build(dcsim.api._scenario(cfg, None))
    st.place(0, 0)
    st.place(1, 0)
    st.check()  # consistent to start with
    return st


def _ram_over(st: ClusterState) -> None:
    st.ram_limit[0] = 1.5 * GIB  # 2 GiB held on a 1.5 GiB host (ratio 1)


def _storage_over(st: ClusterState) -> None:
    st.storage[0] = 1.5e9  # 2 GB held on 1.5 GB


def _cpu_over(st: ClusterState) -> None:
    st.overcommit[0] = 1.5  # 2 x 1000 MIPS reserved on 1000 x 1.5


def _pinned_over(st: ClusterState) -> None:
    st.pinned[0] = True  # two 1-vCPU guests pinned on a 1-core host


def _slots_over(st: ClusterState) -> None:
    st.max_slots[0] = 1.0  # two guests where the layer allows one


def _members_wrong(st: ClusterState) -> None:
    st.members[1].append(2)  # guest 2 listed on host 1 but not placed


def _counts_wrong(st: ClusterState) -> None:
    st.n_guests[1] += 1  # host 1 counts a guest it does not hold


def _ram_books_wrong(st: ClusterState) -> None:
    st.used_ram[1] += MIB  # 1 MiB charged to host 1 with nothing on it


def _storage_books_wrong(st: ClusterState) -> None:
    st.used_storage[0] -= 1e6  # 1 MB less than its guests' disks


def _cpu_books_wrong(st: ClusterState) -> None:
    st.reserved_mips[1] += 100.0  # 100 MIPS reserved on an empty host


def _kind_wrong(st: ClusterState) -> None:
    st.kind[0] = KIND_CODE["container"]  # a container on the hypervisor host 0


@pytest.mark.parametrize(("corrupt", "message"), [
    (_ram_over, "RAM over capacity on hosts \\[0\\]"),
    (_storage_over, "storage over capacity"),
    (_cpu_over, "CPU reservation above the overcommit ratio"),
    (_pinned_over, "more pinned vCPUs than cores"),
    (_slots_over, "more guests than the layer allows"),
    (_members_wrong, "member lists disagree"),
    (_counts_wrong, "guest counts disagree"),
    (_ram_books_wrong, "RAM bookkeeping disagrees"),
    (_storage_books_wrong, "storage bookkeeping disagrees"),
    (_cpu_books_wrong, "CPU bookkeeping disagrees"),
    (_kind_wrong, "a guest sits on \\(or moves to\\) a layer of another kind"),
])
def test_each_invariant_makes_check_raise(corrupt: Callable[[ClusterState], None],
                                          message: str) -> None:
    st = _placed()
    corrupt(st)
    with pytest.raises(InvariantViolation, match=message):
        st.check()


# --------------------------------------------------------------------------- footprint
def _footprint_cfg(**profile: object) -> dict:
    """Two 4 GiB / 100 GB hosts; guest 0 (3.5 GiB, 90 GB) and guest 1 (256 MiB, 1 GB)."""
    cfg = tiny_config()
    cfg["datacenters"][0]["hosts"][0].update(cpu_overcommit=2.0)
    cfg["virtualization_profiles"] = {"nolayer": {"kind": "type1", "live_migration": True,
                                                  **profile}}
    g = cfg["guests"][0]
    cfg["guests"] = [dict(g, ram="3.5GiB", disk="90GB"), dict(g, ram="256MiB", disk="1GB")]
    return cfg


# Guest 0 on host 0, guest 1 on host 1; then guest 0 is asked to go to host 1.
# RAM: host 1 has 4 GiB - (256 MiB + f) free; guest 0 needs 3.5 GiB + f.
#   f = 0: needs 3.5 GiB of 3.75 GiB free -> fits.  f = 256 MiB: needs 3.75 GiB of 3.5 -> no.
# Disk: host 1 has 100 - (1 + d) GB free; guest 0 needs 90 + d GB.
#   d = 0: 90 of 99 -> fits.  d = 5 GB: 95 of 94 -> no.
FOOTPRINTS = [
    pytest.param({"mem_overhead_per_guest": "256MiB"}, id="memory-per-guest"),
    pytest.param({"disk_overhead_per_guest": "5GB"}, id="disk-per-guest"),
]


@pytest.mark.parametrize("profile", FOOTPRINTS)
def test_place_and_begin_migration_refuse_a_host_full_only_of_footprint(
        profile: dict[str, str]) -> None:
    for prof, fits in (({}, True), (profile, False)):
        st = ClusterState.build(dcsim.api._scenario(_footprint_cfg(**prof), None))
        st.place(0, 0)
        st.place(1, 1)
        assert st.fits(0, 1) is fits
        assert bool(st.feasible(0)[1]) is fits
        if fits:
            st.begin_migration(0, 1)
            st.check()
            continue
        before = (st.used_ram.copy(), st.used_storage.copy(), st.n_guests.copy())
        with pytest.raises(InvariantViolation, match="guest 0 does not fit on host 1"):
            st.begin_migration(0, 1)
        sb = st.sandbox()
        sb.release(0)
        with pytest.raises(InvariantViolation, match="guest 0 does not fit on host 1"):
            sb.place(0, 1)
        for a, b in zip(before, (st.used_ram, st.used_storage, st.n_guests), strict=True):
            np.testing.assert_array_equal(a, b)  # nothing charged by the refusals
        st.check()


def test_host_reserved_memory_counts_too() -> None:
    # The layer keeps 512 MiB of each host: 3.5 GiB free; guest 0 (3.5 GiB) fits exactly on an
    # empty host, not on one that also holds guest 1 (256 MiB).
    st = ClusterState.build(dcsim.api._scenario(_footprint_cfg(host_reserved_mem="512MiB"),
                                                None))
    assert st.fits(0, 0)
    st.place(1, 1)
    assert not st.fits(0, 1)
    with pytest.raises(InvariantViolation, match="does not fit"):
        st.place(0, 1)


@pytest.mark.parametrize("profile", FOOTPRINTS)
def test_simulation_migrate_refuses_a_host_full_only_of_footprint(
        profile: dict[str, str]) -> None:
    spec = MigrationSpec(dirty_rate="0B/s")  # type: ignore[arg-type]
    for prof, moves in (({}, True), (profile, False)):
        cfg = _footprint_cfg(**prof)
        cfg["placement"] = {"name": "worst_fit"}  # guest 0 -> host 0, guest 1 -> host 1
        sim = Simulation(dcsim.api._scenario(cfg, None), check_invariants=True)
        assert sim.admit(np.arange(2, dtype=np.intp)).tolist() == [0, 1]
        proc = sim.migrate(0, 1, spec)
        assert (proc is not None) is moves
        assert sim.state.mig_dst[0] == (1 if moves else -1)
        sim.state.check()
