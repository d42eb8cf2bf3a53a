"""Skipping underload trials with the memory bound changes no result.

``dcsim.engine.consolidation._RamBound`` skips an underload trial only if it would fail on
memory. On random small, memory-tight data centers (two host sizes, layers with and without a
memory footprint, guests of a few RAM sizes at low CPU so that hosts are underload candidates,
hosts partly filled), a few intervals of consolidation give exactly the same migrations and
summary with the bound as with every trial run (``Consolidation.prune = False``).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import event, given, settings
from ram_bound_configs import configs

import dcsim
from dcsim.engine import consolidation
from dcsim.engine.simulation import Simulation


def _run(cfg: dict[str, Any], prune: bool) -> tuple[Any, ...]:
    try:
        sc = dcsim.api._scenario(cfg, None, allow_rejections=True)
    except dcsim.ConfigError:  # e.g. a guest larger than every host
        return ()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(consolidation.Consolidation, "prune", prune)
        sim = Simulation(sc, check_invariants=True)
        res = sim.run()
    cons = next(e for e in sim.extensions if type(e).__name__ == "Consolidation")
    summary = repr(sorted((k, v) for k, v in res.summary.items() if "wall" not in k
                          and not k.endswith("_per_s")))
    mig = res.tables.get("migrations")
    return summary, None if mig is None else mig.to_dict("list"), cons.pruned


@settings(max_examples=60, deadline=None)
@given(configs())
def test_the_bound_changes_no_result(cfg: dict[str, Any]) -> None:
    fast, plain = _run(cfg, True), _run(cfg, False)
    if not fast:
        return
    event(f"pruned trials: {'some' if fast[2] else 'none'}")
    assert fast[:2] == plain[:2]
    assert plain[2] == 0
