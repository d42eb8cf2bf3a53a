"""The planner's compiled loops plan exactly what its Python loops plan.

``consolidation._plan`` with ``compiled_loop=True`` (step 4, underload consolidation, in one
compiled loop that returns to Python only for the detector's exact tests) against the Python loop
(``compiled_loop=False``) on random snapshots: the same moves in the same order and the same
counters. Random stale utilisations (the order sources are tried in), guests in migration, demands
on a coarse grid (ties), threshold / LR (linear screen, exact test near its boundary) / IQR (every
trial test exact, in Python) detectors, MMT / MU / RS selection.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from dcsim.policies.consolidation import PlanStats, _plan
from dcsim.policies.overload import make_detector
from dcsim.policies.selection import make_selector
from tests.property.test_pabfd_candidates import cases


@st.composite
def planner_cases(draw: st.DrawFn) -> tuple[Any, Any, str]:
    snap, det, _ = draw(cases())
    n_h = snap.host_total_mips.shape[0]
    n_v = snap.vm_requested_mips.shape[0]
    # stale utilisations: the recorded one, or any value in [0, 1.02] (0: off; >= 1: no source)
    util = np.array([draw(st.sampled_from([float(snap.host_util[h]), 0.0, 0.05, 0.2, 0.2, 0.5,
                                           0.79, 0.95, 1.0, 1.02])) for h in range(n_h)])
    snap.host_util = util
    if draw(st.booleans()):
        snap.vm_in_migration = np.array([draw(st.booleans()) and draw(st.booleans())
                                         for _ in range(n_v)], dtype=bool)
    sel = draw(st.sampled_from(["mmt", "mu", "rs"]))
    return snap, det, sel


def _run(snap: Any, det: tuple[str, float], sel: str, compiled: bool) -> tuple[Any, ...]:
    st_ = PlanStats()
    moves = _plan(snap, make_detector(*det), make_selector(sel), np.random.default_rng(5), st_,
                  compiled)
    return moves, (st_.overloaded_hosts, st_.selected, st_.placed_from_overloaded,
                   st_.underload_sources, st_.evacuated_hosts, st_.find_host_calls)


@settings(max_examples=400, deadline=None)
@given(planner_cases())
def test_compiled_underload_loop_plans_what_the_python_loop_plans(case: Any) -> None:
    snap, det, sel = case
    fast = _run(snap, det, sel, True)
    plain = _run(snap, det, sel, False)
    event(f"evacuated: {'some' if plain[1][4] else 'none'}")
    event(f"failed sources: {'some' if plain[1][3] > plain[1][4] else 'none'}")
    assert fast == plain


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0.0, -0.0, 100.0, 250.0, 930.0, 2500.0, float("nan"),
                                 float("inf")]), min_size=1, max_size=70), st.randoms())
def test_compiled_sort_by_demand_is_the_planner_sort(r: list[float], rnd: Any) -> None:
    # the merge sort against the planner's sort (numpy's stable argsort of -r: decreasing
    # demand, equal demands in input order, NaN last); guests in random order, duplicates of
    # each demand (stability), lengths that are not powers of two (merge widths)
    from dcsim.policies.consolidation import _sorted_by_demand
    from dcsim.policies.planner_kernel import sort_by_demand

    rq = np.asarray(r)
    vms = list(range(len(r)))
    rnd.shuffle(vms)
    buf = np.empty(len(vms), dtype=np.int64)
    sort_by_demand(np.array(vms, dtype=np.int64), len(vms), rq, buf,
                   np.empty(len(vms), dtype=np.int64))
    assert buf.tolist() == _sorted_by_demand(vms, rq)
