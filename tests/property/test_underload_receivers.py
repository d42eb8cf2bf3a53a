"""Underload trials over ``dcsim.engine.receivers.Receivers`` choose what the full scan chooses.

On the same random small, memory-tight data centers as ``test_underload_bound`` (the RAM bound
off, so that trials run), a few intervals of consolidation plan exactly the same moves, step by
step, and give the same migrations and summary with the receivers kept per guest shape (and
hopeless trials skipped) as with every trial scanning all hosts (``Consolidation.fast = False``).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import event, given, settings
from ram_bound_configs import configs

import dcsim
from dcsim.engine import consolidation
from dcsim.engine.simulation import Simulation


def _run(cfg: dict[str, Any], fast: bool) -> tuple[Any, ...]:
    try:
        sc = dcsim.api._scenario(cfg, None, allow_rejections=True)
    except dcsim.ConfigError:  # e.g. a guest larger than every host
        return ()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(consolidation.Consolidation, "prune", False)
        mp.setattr(consolidation.Consolidation, "fast", fast)
        planned: list[list[tuple[int, int]]] = []
        start = consolidation.Consolidation._start

        def record(self: Any, moves: list[tuple[int, int]]) -> None:
            planned.append(list(moves))
            start(self, moves)

        mp.setattr(consolidation.Consolidation, "_start", record)
        sim = Simulation(sc, check_invariants=True)
        res = sim.run()
    cons = next(e for e in sim.extensions if type(e).__name__ == "Consolidation")
    summary = repr(sorted((k, v) for k, v in res.summary.items() if "wall" not in k
                          and not k.endswith("_per_s")))
    mig = res.tables.get("migrations")
    return (planned, summary, None if mig is None else mig.to_dict("list")), cons.hopeless


@settings(max_examples=60, deadline=None)
@given(configs())
def test_receivers_choose_what_the_full_scan_chooses(cfg: dict[str, Any]) -> None:
    fast, plain = _run(cfg, True), _run(cfg, False)
    if not fast:
        return
    event(f"hopeless trials skipped: {'some' if fast[1] else 'none'}")
    event(f"moves planned: {'some' if any(fast[0][0]) else 'none'}")
    assert fast[0] == plain[0]
    assert plain[1] == 0
