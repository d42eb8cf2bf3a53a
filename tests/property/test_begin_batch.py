"""``begin_batch.begin_migrations`` (a planner step's starts in one pass) leaves exactly the state
that the one-by-one form leaves (``abort_migration`` of a guest already migrating, then
``fits`` and ``begin_migration``, move by move): every array bit for bit, the same moves
started, the same aborted hosts (CloudSim mode's ``start_migrations`` relies on it), with its
move-by-move pass compiled (numba, the default) and in Python."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.model.begin_batch import begin_migrations
from dcsim.model.cluster import ClusterState, GuestStatus
from tests.conftest import tiny_state

_ARRAYS = ("used_ram", "used_storage", "reserved_mips", "n_guests", "vcpus_placed", "host_of",
           "mig_dst", "charged_ram", "charged_disk", "dst_ram", "dst_disk", "awake")


def _state(n_hosts: int, n_guests: int) -> ClusterState:
    return tiny_state(n_hosts, n_guests, hold=True, cores=4, ram="8GiB", cpu_overcommit=1.5)


def _one_by_one(s: ClusterState, moves: list[tuple[int, int]]
                ) -> tuple[list[int], list[int], list[int]]:
    started, srcs, aborted = [], [], []
    for i, (g, dst) in enumerate(moves):
        if s.mig_dst.item(g) >= 0:
            aborted += [s.host_of.item(g), s.mig_dst.item(g)]
            s.abort_migration(g)
        src = s.host_of.item(g)
        if s.status[g] != GuestStatus.RUNNING or src < 0 or src == dst or not s.fits(g, dst):
            continue
        s.begin_migration(g, dst)
        started.append(i)
        srcs.append(src)
    return started, srcs, aborted


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_batch_starts_equal_one_by_one(data: st.DataObject) -> None:
    """Both passes of the batch (compiled and Python) against one by one, byte for byte."""
    n_h = data.draw(st.integers(2, 4))
    n_g = data.draw(st.integers(2, 10))
    s = _state(n_h, n_g)
    # odd sizes: sums whose rounding depends on their order; tight hosts: refusals
    s.gram[:] = data.draw(st.lists(st.floats(1e9, 4e9), min_size=n_g, max_size=n_g))
    s.gdisk[:] = data.draw(st.lists(st.floats(0.0, 5e9), min_size=n_g, max_size=n_g))
    s.mips[:] = data.draw(st.lists(st.floats(10.0, 999.9), min_size=n_g, max_size=n_g))
    s.vcpus[:] = data.draw(st.lists(st.integers(1, 2), min_size=n_g, max_size=n_g))
    s.max_slots[:] = data.draw(st.lists(st.integers(1, 4), min_size=n_h, max_size=n_h))
    # CPU overcommit down to a fifth: the MIPS reservation decides too
    s.overcommit[:] = data.draw(st.lists(st.floats(0.2, 1.5), min_size=n_h, max_size=n_h))
    # CloudSim mode places with reservations, then holds none (slots and cores decide; no
    # space-shared host there: check() counts pinned vCPUs that fits does not test then)
    hold = data.draw(st.booleans())
    if hold:
        s.pinned[:] = data.draw(st.lists(st.booleans(), min_size=n_h, max_size=n_h))
    s.usable[:] = data.draw(st.lists(st.booleans(), min_size=n_h, max_size=n_h))
    s.usable[0] = True
    for g in range(n_g):
        h = data.draw(st.integers(0, n_h - 1))
        if s.fits(g, h):
            s.place(g, h)
    s.status[:] = np.where(s.host_of >= 0, int(GuestStatus.RUNNING), int(GuestStatus.PENDING))
    if not hold:  # as after CloudSim mode's admission (reservation: demand)
        for g in np.flatnonzero(s.host_of >= 0).tolist():
            s.unhold(g)
        s.hold = False
    for g in range(n_g):
        if s.host_of[g] >= 0 and data.draw(st.booleans()):
            if data.draw(st.booleans()):
                s.status[g] = GuestStatus.BOOTING  # placed but not running: not moved
            else:
                d = data.draw(st.integers(0, n_h - 1))
                if d != s.host_of[g] and s.fits(g, d):
                    s.begin_migration(g, d)  # migrating already: a new move aborts it
    moves = data.draw(st.lists(st.tuples(st.integers(0, n_g - 1), st.integers(0, n_h - 1)),
                               max_size=3 * n_g))
    a, b, c = copy.deepcopy(s), copy.deepcopy(s), copy.deepcopy(s)
    want = _one_by_one(a, moves)
    gl, dl = [g for g, _ in moves], [d for _, d in moves]
    assert begin_migrations(b, gl, dl) == want
    assert begin_migrations(c, gl, dl, compiled=False) == want
    for name in _ARRAYS:
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
        assert getattr(a, name).tobytes() == getattr(c, name).tobytes(), name
    a.check()
    b.check()
    c.check()


@pytest.mark.parametrize("compiled", [True, False])
def test_an_aborted_reservation_that_empties_its_host_is_reset_exactly(compiled: bool) -> None:
    # three guests of 1e9/3, 2e9/7 and 5e9/11 bytes on host 0 reserve host 1 (migrating), then
    # the planner moves each again to host 2: host 1 gives the three reservations back,
    # ((x + a + b + c) - a) - b) - c leaves float drift, reset to the host's own charge (0)
    # once its count reaches 0, as abort_migration does
    s = _state(3, 3)
    s.gram[:] = [1e9 / 3, 2e9 / 7, 5e9 / 11]
    for g in range(3):
        s.place(g, 0)
        s.begin_migration(g, 1)
    s.status[:] = int(GuestStatus.RUNNING)
    drift = ((s.used_ram[1] - s.gram[0]) - s.gram[1]) - s.gram[2]
    assert drift != 0.0  # the reset is needed
    a, b = copy.deepcopy(s), copy.deepcopy(s)
    moves = [(0, 2), (1, 2), (2, 2)]
    assert begin_migrations(b, [0, 1, 2], [2, 2, 2], compiled=compiled) == _one_by_one(a, moves)
    assert b.used_ram[1] == 0.0
    assert b.n_guests[1] == 0.0
    for name in _ARRAYS:
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize(("hold", "gram", "slots", "overcommit"),
                         [(True, 2.5e9, 4, 1.5), (True, 1e9, 3, 1.5), (True, 1e9, 4, 0.75),
                          (False, 1e9, 1, 1.5)])
def test_moves_to_one_host_see_each_other(hold: bool, gram: float, slots: int,
                                          overcommit: float, compiled: bool) -> None:
    # host 1 has room for one more guest: holding, 2 x 2.5 GB of its 8 GiB (8.59 GB) used, or
    # 2 of its 3 slots, or 2 x 1000 of its 4000 x 0.75 = 3000 MIPS; not holding, an empty host
    # with one slot. Of two moves there in one step only the first starts: the second sees the
    # first's reservation
    s = _state(2, 5)
    s.gram[:] = gram
    s.max_slots[:] = [4, slots]
    s.overcommit[1] = overcommit
    for g in range(3):
        s.place(g, 0)
    if hold:
        s.place(3, 1)
        s.place(4, 1)
    else:
        for g in range(3):
            s.unhold(g)
        s.hold = False
    s.status[:] = int(GuestStatus.RUNNING)
    a, b = copy.deepcopy(s), copy.deepcopy(s)
    want = _one_by_one(a, [(0, 1), (1, 1)])
    assert want == ([0], [0], [])
    assert begin_migrations(b, [0, 1], [1, 1], compiled=compiled) == want
    for name in _ARRAYS:
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
