"""The CloudSim planner's snapshot carries the member lists chained as the engine keeps them.

``dcsim.engine.consolidation`` hands ``plan_migrations`` the engine's cached list order and the
lists' lengths (``host_vms_flat``, ``host_vms_count``), which the planner's working state uses
instead of chaining the lists itself: at every step of a CloudSim-mode run (migrations moving
guests between lists every interval) they must be the lists chained and their lengths, and the
plan the same as from the lists alone.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import pytest

import dcsim
import dcsim.engine.consolidation as ec
from tests.unit.engine.test_compat_mode import _slice


def test_snapshot_lists_are_the_member_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = ec.plan_migrations
    seen: list[int] = []

    def checked(snap: Any, *args: Any) -> Any:
        flat = list(chain.from_iterable(snap.host_vms))
        assert snap.host_vms_flat.tolist() == flat
        assert snap.host_vms_count.tolist() == [len(x) for x in snap.host_vms]
        rng = args[2]
        state = rng.bit_generator.state
        moves = plan(snap, *args)
        rng.bit_generator.state = state  # the same plan without the engine's lists
        snap.host_vms_flat = snap.host_vms_count = None
        assert plan(snap, *args) == moves
        seen.append(len(flat))
        return moves

    monkeypatch.setattr(ec, "plan_migrations", checked)
    s = dcsim.run(_slice("lr-mmt-1.2")).summary
    assert len(seen) > 200
    assert s["migrations"] > 0
