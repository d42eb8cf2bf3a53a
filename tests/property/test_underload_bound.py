"""Skipping underload trials with the memory bound changes no result.

``dcsim.engine.consolidation._RamBound`` skips an underload trial only if it would fail on
memory. On random small, memory-tight data centers (two host sizes, layers with and without a
memory footprint, guests of a few RAM sizes at low CPU so that hosts are underload candidates,
hosts partly filled), a few intervals of consolidation give exactly the same migrations and
summary with the bound as with every trial run (``Consolidation.prune = False``).
"""

from __future__ import annotations

from typing import Any

from hypothesis import event, given, settings
from ram_bound_configs import configs, run_patched


def _run(cfg: dict[str, Any], prune: bool) -> tuple[Any, ...]:
    out = run_patched(cfg, prune=prune)
    if not out:
        return ()
    summary, mig, cons, _ = out
    return summary, mig, cons.pruned


@settings(max_examples=60, deadline=None)
@given(configs())
def test_the_bound_changes_no_result(cfg: dict[str, Any]) -> None:
    fast, plain = _run(cfg, True), _run(cfg, False)
    if not fast:
        return
    event(f"pruned trials: {'some' if fast[2] else 'none'}")
    assert fast[:2] == plain[:2]
    assert plain[2] == 0
