"""Underload trials over ``dcsim.engine.receivers.Receivers`` choose what the full scan chooses.

On the same random small, memory-tight data centers as ``test_underload_bound`` (the RAM bound
off, so that trials run), a few intervals of consolidation plan exactly the same moves, step by
step, and give the same migrations and summary with the receivers kept per guest shape (and
hopeless trials skipped, and those whose guests all fit on one receiver only but not together)
as with every trial scanning all hosts (``Consolidation.fast = False``).
"""

from __future__ import annotations

from typing import Any

from hypothesis import event, given, settings
from ram_bound_configs import configs, run_patched


def _run(cfg: dict[str, Any], fast: bool) -> tuple[Any, ...]:
    out = run_patched(cfg, prune=False, fast=fast)
    if not out:
        return ()
    summary, mig, cons, planned = out
    return (planned, summary, mig), cons.hopeless, cons.one_receiver


@settings(max_examples=60, deadline=None)
@given(configs())
def test_receivers_choose_what_the_full_scan_chooses(cfg: dict[str, Any]) -> None:
    fast, plain = _run(cfg, True), _run(cfg, False)
    if not fast:
        return
    event(f"hopeless trials skipped: {'some' if fast[1] else 'none'}")
    event(f"one-receiver trials skipped: {'some' if fast[2] else 'none'}")
    event(f"moves planned: {'some' if any(fast[0][0]) else 'none'}")
    assert fast[0] == plain[0]
    assert plain[1] == 0
    assert plain[2] == 0
