"""The underload loop's exact skip of trials whose guests all fit on one receiver only
(``Consolidation._one_receiver_fails``, ``Receivers.only``), worked out by hand.

Three hosts of 4 GiB (1 GiB guests; each guest also costs the host's per-guest footprint):
host 0 is the source with guests 0 and 1; host 1 is the only receiver, already holding guests
2 and 3 (and, in the crowded case, guest 4). The check replays the trial's reservations on
host 1 and must undo them exactly; it never judges guests that fit on different hosts.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from dcsim.engine.consolidation import _HOST_FIELDS, Consolidation
from dcsim.engine.receivers import Receivers
from tests.conftest import tiny_state


class _Only:
    """A receivers stand-in: each guest's single receiver (or -1)."""

    def __init__(self, where: dict[int, int]) -> None:
        self.where = where

    def only(self, g: int, src: int) -> int:
        return self.where[g]


def _setup(crowded: bool) -> tuple[object, object, np.ndarray]:
    sb = tiny_state(3, 5, hold=True, cores=8, ram="4GiB", cpu_overcommit=8.0)
    for g, h in ((0, 0), (1, 0), (2, 1), (3, 1)):
        sb.place(g, h)
    if crowded:
        sb.place(4, 1)
    me = SimpleNamespace(sim=SimpleNamespace(raw_want=np.array([600.0, 400.0, 0.0, 0.0, 0.0])),
                         hadd=np.zeros((3, 4)))
    return sb, me, np.array([1000.0, 0.0, 0.0])


def _snap(sb: object) -> tuple[list[list[float]], list[list[float]]]:
    hosts = [list(np.asarray(getattr(sb, f), dtype=float)) for f in _HOST_FIELDS]
    guests = [list(np.asarray(getattr(sb, f), dtype=float))
              for f in ("mig_dst", "dst_ram", "dst_disk")]
    return hosts, guests


def test_one_receiver_room_for_one_guest_only_fails_and_leaves_no_trace() -> None:
    sb, me, work = _setup(crowded=True)  # host 1 holds three guests: room for one more
    free = float(sb.ram_limit[1] - sb.used_ram[1])
    need = float(sb.gram[0] + sb.mem_charge[1])
    assert need <= free < 2 * need  # (the case: one guest fits, the second does not)
    before = _snap(sb)
    assert Consolidation._one_receiver_fails(me, sb, 0, [0, 1], work, _Only({0: 1, 1: 1}))
    assert _snap(sb) == before


def test_one_receiver_room_for_both_does_not_fail() -> None:
    sb, me, work = _setup(crowded=False)
    before = _snap(sb)
    assert not Consolidation._one_receiver_fails(me, sb, 0, [0, 1], work, _Only({0: 1, 1: 1}))
    assert _snap(sb) == before


def test_guests_with_different_single_receivers_are_not_judged() -> None:
    # guest 0 only fits host 1 and guest 1 only host 2: the trial may well succeed, even though
    # host 1 could not take both
    sb, me, work = _setup(crowded=True)
    need = float(sb.gram[0] + sb.mem_charge[2])
    sb.ram_limit[2] = sb.used_ram[2] + 1.5 * need  # host 2, too, has room for one guest only
    before = _snap(sb)
    assert not Consolidation._one_receiver_fails(me, sb, 0, [0, 1], work, _Only({0: 1, 1: 2}))
    assert not Consolidation._one_receiver_fails(me, sb, 0, [0, 1], work, _Only({0: 2, 1: 1}))
    assert not Consolidation._one_receiver_fails(me, sb, 0, [0, 1], work, _Only({0: 1, 1: -1}))
    assert _snap(sb) == before


def test_only_names_the_single_receiver() -> None:
    sb, _, _ = _setup(crowded=True)
    base = np.array([False, True, True])
    sb.ram_limit[2] = sb.used_ram[2] + 1.0  # host 2: awake but full
    rec = Receivers(sb, base)
    assert rec.only(0, 0) == 1  # host 1 only (host 2 has no room)
    assert rec.only(0, 1) == -1  # from host 1 itself: no other receiver
    sb.ram_limit[2] = 4.0 * 2**30  # host 2 emptier: two receivers (a new step's masks)
    assert Receivers(sb, base).only(0, 0) == -1


def test_memory_bound_slots_follow_a_successful_trial() -> None:
    # _RamBound keeps its slot counts across a successful trial by updating only the trial's
    # hosts (its destination loses free memory, its source stops being a receiver): the same
    # arrays and totals as counting afresh
    from dcsim.engine.consolidation import _RamBound

    sb, _, _ = _setup(crowded=False)
    sources = np.zeros(3, dtype=bool)
    awake = np.ones(3, dtype=bool)

    def receivers() -> np.ndarray:
        return awake & ~sources

    bound = _RamBound(sb)
    assert bound.may_fit(0, float(sb.gram[0]), 2, receivers)  # fills the cache for 1 GiB guests
    sb.begin_migration(0, 1)
    sb.begin_migration(1, 1)
    sources[0] = True
    bound.committed([0, 1, 1], receivers)
    fresh = _RamBound(sb)
    fresh.may_fit(2, float(sb.gram[2]), 1, receivers)
    (m, (k, total)), = bound.slots.items()
    k2, total2 = fresh.slots[m]
    np.testing.assert_array_equal(k, k2)
    assert total == total2
    assert k[0] == 0.0  # the evacuated source takes nothing any more
