"""Underload trials over ``dcsim.engine.receivers.Receivers`` choose what the full scan chooses.

On the same random small, memory-tight data centers as ``test_underload_bound`` (the RAM bound
off, so that trials run), a few intervals of consolidation plan exactly the same moves, step by
step, and give the same migrations and summary with the receivers kept per guest shape (and
hopeless trials skipped, and those whose guests all fit on one receiver only but not together)
as with every trial scanning all hosts (``Consolidation.fast = False``).
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st
from ram_bound_configs import configs, run_patched

from dcsim.engine import receivers as receivers_mod
from dcsim.engine.receivers import Receivers
from tests.conftest import tiny_state


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


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_hopeless_hosts_finds_the_sources_a_guest_of_which_fits_no_receiver(
        data: st.DataObject) -> None:
    # Receivers.hopeless_hosts (all sources at once, before the step's trials) on random tiny
    # states: guests of a few sizes placed where they fit, random receivers and sources. Never a
    # host with room for every guest (soundness: the loop skips what it marks); with a mask for
    # every shape, exactly the hosts a full scan finds and Receivers.hopeless says host by host.
    # Past MAX_SHAPES a shape has no mask and is not judged (the trial's own scan decides).
    n_h, n_g = data.draw(st.integers(2, 6)), data.draw(st.integers(1, 14))
    sb = tiny_state(n_h, n_g, hold=True, cores=8, ram="4GiB", cpu_overcommit=8.0)
    gib = 2.0**30
    sb.gram[:n_g] = np.array(data.draw(st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.5]),
                                                min_size=n_g, max_size=n_g))) * gib
    for g in range(n_g):
        h = data.draw(st.integers(0, n_h - 1))
        if sb.fits(g, h):
            sb.place(g, h)
    base = np.array(data.draw(st.lists(st.booleans(), min_size=n_h, max_size=n_h)))
    sources = np.flatnonzero(np.array(data.draw(st.lists(st.booleans(), min_size=n_h,
                                                        max_size=n_h))))
    truth = [h in sources.tolist() and any(
        not any(base[r] and r != h and sb.fits(g, r) for r in range(n_h))
        for g in sb.members[h]) for h in range(n_h)]
    few = data.draw(st.booleans())
    with mock.patch.object(receivers_mod, "MAX_SHAPES", 1 if few else 32):
        fast = Receivers(sb, base).hopeless_hosts(sources).tolist()
        one = Receivers(sb, base)
        by_host = [h in sources.tolist() and one.hopeless(h, list(sb.members[h]))
                   for h in range(n_h)]
    event(f"hopeless sources: {'some' if any(truth) else 'none'}")
    assert all(t for f, t in zip(fast, truth, strict=True) if f)
    if not few:
        assert fast == truth
        assert by_host == truth
