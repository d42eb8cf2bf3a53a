"""Reused rate vectors (``FlowNetwork.memo_size``) and fillings of only the flows a change
can affect (``FlowNetwork.incremental``) change nothing, to the last bit.

A flow network keeps the max-min rates of its last few sets of sending flows and reuses them when
the same set (same flow ids, hence the same paths, caps and order) sends again, which a pre-copy
round ending and the next one starting cause about a third of the time. Two networks driven by
the same operations, one reusing and one always running the filling, must agree exactly after
every operation: rates, sending ends, records, bytes per link. The operations include what could
make a stored vector stale: link failures and repairs (routes and capacities change, flow ids
do not).
"""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from dcsim.network import flows
from dcsim.network.flows import FlowNetwork
from dcsim.network.routing import Router
from dcsim.network.topology import attach_hosts, fat_tree

GBIT = 1e9 / 8
N_HOSTS = 16


def _pair(memo: bool = True) -> tuple[FlowNetwork, FlowNetwork]:
    """``fast`` (incremental; reusing rates if ``memo``) and ``plain`` (every flow filled)."""
    topo = attach_hosts(fat_tree(4), N_HOSTS)
    fast = FlowNetwork(topo, Router(topo))
    if not memo:
        fast.memo_size = 0
    plain = FlowNetwork(topo, Router(topo))
    plain.memo_size = 0
    plain.incremental = False
    return fast, plain


def _same(fast: FlowNetwork, plain: FlowNetwork) -> None:
    fa, ra = fast.rates()
    fb, rb = plain.rates()
    assert np.array_equal(fa, fb)
    assert np.array_equal(ra, rb)
    assert np.array_equal(fast._t_sent, plain._t_sent)
    assert np.array_equal(fast._rem, plain._rem)
    assert np.array_equal(fast.link_bytes, plain.link_bytes)
    assert fast.records == plain.records
    assert fast.next_event() == plain.next_event()


def _drive(fast: FlowNetwork, plain: FlowNetwork, ops: list[tuple[int, int, int, float]],
           rack_local: int = 0) -> None:
    """Apply ``ops`` to both networks; each completed flow is followed by a new one between the
    same hosts (the next pre-copy round), which is what brings earlier flow sets back.
    ``rack_local`` k > 0: all but every k-th new flow go to the host next to their source (the
    same edge switch), so that flows form many small groups sharing links, and every fifth to
    its own source (a flow that crosses no link)."""
    t = 0.0
    rng = np.random.default_rng(0)
    topo = fast.topology
    for kind, a, b, x in ops:
        if kind == 0:  # start a flow (some capped)
            s, d = a % N_HOSTS, (a + 1 + b % (N_HOSTS - 1)) % N_HOSTS
            if rack_local and b % rack_local:
                d = s ^ 1
            if rack_local and b % 5 == 0:
                d = s  # on the same host: crosses no link, sends at its cap (or inf)
            cap = math.inf if b % 3 else 0.3e9
            for net in (fast, plain):
                net.add_flow(t, s, d, x * GBIT, rate_cap_bps=cap)
        elif kind == 1:  # stop a live flow
            for net in (fast, plain):  # deliver what is due now (a flow crossing no link)
                net.advance(t)
            live = sorted(fast._meta)
            if live:
                fid = live[a % len(live)]
                assert fast.remove_flow(t, fid) == plain.remove_flow(t, fid)
        elif kind == 2:  # run to the next event; completions start their next round
            nxt = fast.next_event()
            if nxt is not None:
                t = max(t, nxt[0])
                for net in (fast, plain):
                    net.advance(t)
                done_a, done_b = fast.pop_completed(), plain.pop_completed()
                assert done_a == done_b
                for rec in done_a:
                    if rec.nbytes > 0.02 * GBIT:
                        for net in (fast, plain):
                            net.add_flow(t, rec.src, rec.dst, rec.nbytes / 3)
        elif kind == 3:  # let time pass
            t += x
            for net in (fast, plain):
                net.advance(t)
        else:  # fail or repair links (routes and capacities change, flow ids stay)
            down = rng.random(topo.n_links) < (0.1 if a % 2 else 0.0)
            assert fast.set_links_down(t, down) == plain.set_links_down(t, down)
        _same(fast, plain)


op = st.tuples(st.sampled_from([0, 0, 1, 2, 2, 2, 2, 3, 4]), st.integers(0, 1000),
               st.integers(0, 1000), st.floats(0.0, 0.3))


@settings(max_examples=150, deadline=None)
@given(st.lists(op, min_size=1, max_size=60))
def test_reused_rates_equal_a_fresh_filling(ops: list[tuple[int, int, int, float]]) -> None:
    fast, plain = _pair()
    _drive(fast, plain, ops)
    assert plain.n_reused == 0


def test_precopy_like_churn_reuses_and_matches() -> None:
    # many flows between few hosts, every completion followed by a smaller next round: the
    # pattern of pre-copy migrations; the memo must actually be used here
    fast, plain = _pair()
    rng = np.random.default_rng(3)
    ops = [(0, int(rng.integers(0, 4)), int(rng.integers(0, 3)), float(rng.uniform(0.1, 0.5)))
           for _ in range(30)]
    ops += [(2, 0, 0, 0.0)] * 300
    _drive(fast, plain, ops)
    assert fast.n_reused > 10
    assert fast.n_recomputations == plain.n_recomputations
    assert plain.n_reused == 0


@settings(max_examples=150, deadline=None)
@given(st.lists(op, min_size=1, max_size=60), st.sampled_from([0, 3, 8]))
def test_partial_fillings_equal_filling_every_flow(ops: list[tuple[int, int, int, float]],
                                                  rack_local: int) -> None:
    fast, plain = _pair(memo=False)
    with mock.patch.object(flows, "_FULL_SHARE", 2.0):  # partial even when most flows connect
        _drive(fast, plain, ops, rack_local)
    event(f"partial fillings: {'some' if fast.n_partial else 'none'}")
    assert plain.n_partial == 0


def test_rack_local_churn_fills_part_of_the_flows_and_matches() -> None:
    # mostly rack-local flows: each start or stop touches a small group of flows, and only that
    # group is filled again; the rates, ends and bytes stay those of filling every flow
    fast, plain = _pair(memo=False)
    rng = np.random.default_rng(5)
    ops = [(0, int(rng.integers(0, 1000)), int(rng.integers(0, 1000)),
            float(rng.uniform(0.1, 0.5))) for _ in range(40)]
    ops += [(2, 0, 0, 0.0), (1, 7, 0, 0.0), (2, 0, 0, 0.0), (0, 3, 4, 0.2)] * 40
    _drive(fast, plain, ops, rack_local=50)
    assert fast.n_partial > 0.5 * fast.n_recomputations
    assert fast.n_recomputations == plain.n_recomputations
