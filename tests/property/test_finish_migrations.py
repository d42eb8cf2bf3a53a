"""``ClusterState.finish_migrations`` (a group in one pass) leaves exactly the state that
``finish_migration`` of each guest in order leaves: every array bit for bit, member lists in
order (CloudSim mode's completions rely on it)."""

from __future__ import annotations

import copy

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.model.cluster import ClusterState
from tests.conftest import tiny_state

_ARRAYS = ("used_ram", "used_storage", "reserved_mips", "n_guests", "vcpus_placed", "host_of",
           "mig_dst", "charged_ram", "charged_disk", "dst_ram", "dst_disk")


def _state(n_hosts: int, n_guests: int, hold: bool) -> ClusterState:
    return tiny_state(n_hosts, n_guests, hold=hold, cores=8, ram="64GiB", cpu_overcommit=4.0)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_group_finish_equals_one_by_one(data: st.DataObject) -> None:
    n_h = data.draw(st.integers(2, 5))
    n_g = data.draw(st.integers(1, 12))
    s = _state(n_h, n_g, data.draw(st.booleans()))
    # odd sizes: sums whose rounding depends on their order
    s.gram[:] = data.draw(st.lists(st.floats(1e6, 3e9), min_size=n_g, max_size=n_g))
    s.gdisk[:] = data.draw(st.lists(st.floats(0.0, 5e9), min_size=n_g, max_size=n_g))
    s.mips[:] = data.draw(st.lists(st.floats(10.0, 999.9), min_size=n_g, max_size=n_g))
    s.vcpus[:] = data.draw(st.lists(st.integers(1, 2), min_size=n_g, max_size=n_g))
    for g in range(n_g):
        h = data.draw(st.integers(0, n_h - 1))
        if s.fits(g, h):
            s.place(g, h)
    moving = []
    for g in range(n_g):
        if s.host_of[g] >= 0 and data.draw(st.booleans()):
            d = data.draw(st.integers(0, n_h - 1))
            if d != s.host_of[g] and s.fits(g, d):
                s.begin_migration(g, d)
                moving.append(g)
    group = data.draw(st.permutations(moving))
    a, b = copy.deepcopy(s), copy.deepcopy(s)
    for g in group:
        a.finish_migration(g)
    src, dst = b.finish_migrations(np.asarray(group, dtype=np.intp))
    assert src.tolist() == [int(s.host_of[g]) for g in group]
    assert dst.tolist() == [int(s.mig_dst[g]) for g in group]
    for name in _ARRAYS:
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    assert [list(m) for m in a.members] == [list(m) for m in b.members]
    a.check()
    b.check()


def test_an_emptied_source_is_reset_exactly() -> None:
    # three guests of 1e9/3, 2e9/7 and 5e9/11 bytes on host 0, all leaving in one group:
    # ((x - a) - b) - c = 5.96e-08 bytes of float drift, which finish_migration resets to the
    # host's own charge (0 here) once the host is empty; the group pass must do the same
    s = _state(2, 3, hold=True)
    s.gram[:] = [1e9 / 3, 2e9 / 7, 5e9 / 11]
    for g in range(3):
        s.place(g, 0)
    for g in range(3):
        s.begin_migration(g, 1)
    drift = s.used_ram[0] - s.gram[0] - s.gram[1] - s.gram[2]
    assert drift != 0.0  # the reset is needed
    a, b = copy.deepcopy(s), copy.deepcopy(s)
    for g in range(3):
        a.finish_migration(g)
    b.finish_migrations(np.arange(3, dtype=np.intp))
    assert a.used_ram[0] == b.used_ram[0] == 0.0
    for name in _ARRAYS:
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
