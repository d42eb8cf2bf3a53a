"""FlowNetwork: rates, exact byte accounting, latency, records."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dcsim.network.flows import FlowNetwork, FlowRecord
from dcsim.network.routing import Router
from dcsim.network.topology import attach_hosts, fat_tree, leaf_spine

GBIT = 1e9 / 8  # bytes in one gigabit


def _rack(latency_s: float = 1e-3, hosts: int = 3) -> FlowNetwork:
    """Hosts on one leaf, 1 Gbps links: a path host -> leaf -> host has latency 2 * latency_s."""
    topo = attach_hosts(leaf_spine(1, 1, hosts, host_link_bps=1e9, latency_s=latency_s), hosts)
    return FlowNetwork(topo, Router(topo))


def test_completion_with_a_flow_joining_then_leaving() -> None:
    net = _rack()
    a = net.add_flow(0.0, 0, 2, 1 * GBIT, tag="a")
    assert net.rate_bps(a) == pytest.approx(1e9)
    # Alone: last byte at 1.0 s, delivered 2 ms later.
    assert net.next_completion() == pytest.approx((1.002, a))
    # At 0.25 s (0.25 Gbit sent) b joins on the same downlink: both get 0.5 Gbps.
    b = net.add_flow(0.25, 1, 2, math.inf, tag="b")
    assert net.rate_bps(a) == pytest.approx(0.5e9)
    assert net.remaining_bytes(a) == pytest.approx(0.75 * GBIT)
    # At 0.75 s (another 0.25 Gbit) b leaves; 0.5 Gbit left at 1 Gbps -> last byte at 1.25 s.
    rec_b = net.remove_flow(0.75, b)
    assert rec_b == FlowRecord(b, "b", 1, 2, 0.5 * 0.5 * GBIT, 0.25, 0.75, completed=False)
    assert net.next_event() == pytest.approx((1.25, a))
    net.advance(1.25)
    assert net.pop_completed() == []  # sent, not yet delivered
    assert net.next_event() == pytest.approx((1.252, a))
    net.advance(1.252)
    (rec_a,) = net.pop_completed()
    assert rec_a.fid == a
    assert rec_a.completed
    assert rec_a.nbytes == GBIT
    assert rec_a.start_s == 0.0
    assert rec_a.end_s == pytest.approx(1.252)
    assert net.records == [rec_b, rec_a]
    assert net.next_event() is None
    assert net.n_live == 0


def test_one_advance_processes_every_intermediate_change() -> None:
    net = _rack(latency_s=0.0)
    net.add_flow(0.0, 0, 2, 1 * GBIT)
    net.add_flow(0.0, 1, 2, 2 * GBIT)
    # Both at 0.5 Gbps: the first ends at 2 s; the second then has 1 Gbit left at 1 Gbps -> 3 s.
    net.advance(10.0)
    ends = [(r.fid, r.end_s) for r in net.pop_completed()]
    assert ends == [(0, pytest.approx(2.0)), (1, pytest.approx(3.0))]
    # Bytes on the shared downlink (leaf -> host 2): 3 Gbit.
    down = net.topology.link_id("leaf0", "host0_2")
    assert net.link_bytes[down] == pytest.approx(3 * GBIT)


def test_simultaneous_starts_cost_one_recomputation() -> None:
    net = _rack()
    for _ in range(50):
        net.add_flow(0.0, 0, 1, GBIT)
    assert net.n_recomputations == 0
    assert net.next_event() is not None
    assert net.n_recomputations == 1
    fids, rates = net.rates()
    assert fids.tolist() == list(range(50))
    assert rates == pytest.approx(np.full(50, 1e9 / 50))


def test_link_utilization_and_caps() -> None:
    net = _rack()
    net.add_flow(0.0, 0, 2, math.inf, rate_cap_bps=0.3e9)
    net.add_flow(0.0, 1, 2, math.inf)
    util = net.link_utilization()
    topo = net.topology
    assert util[topo.link_id("leaf0", "host0_2")] == pytest.approx(1.0)
    assert util[topo.link_id("host0_0", "leaf0")] == pytest.approx(0.3)
    assert util[topo.link_id("host0_1", "leaf0")] == pytest.approx(0.7)
    assert util[topo.link_id("leaf0", "host0_0")] == 0.0
    assert net.next_event() is None  # persistent flows never end


def test_zero_bytes_and_local_flows() -> None:
    net = _rack(latency_s=0.5)
    z = net.add_flow(1.0, 0, 1, 0.0)
    local = net.add_flow(1.0, 2, 2, 10 * GBIT)
    capped_local = net.add_flow(1.0, 2, 2, GBIT, rate_cap_bps=0.5e9)
    # Both z (0 bytes) and local finish sending at once; only local has no latency to cross.
    assert net.next_event() == (1.0, z)
    net.advance(1.0)
    assert [r.fid for r in net.pop_completed()] == [local]
    assert net.next_event() == (2.0, z)  # one path latency (2 hops x 0.5 s)
    net.advance(3.0)
    recs = net.pop_completed()
    assert [(r.fid, r.end_s) for r in recs] == [(z, 2.0), (capped_local, 3.0)]


def test_remove_in_flight_and_errors() -> None:
    net = _rack(latency_s=1.0)
    f = net.add_flow(0.0, 0, 1, GBIT)
    net.advance(1.5)  # sent at 1 s, delivered at 3 s
    assert net.rate_bps(f) == 0.0
    assert net.remaining_bytes(f) == 0.0
    rec = net.remove_flow(2.0, f)
    assert not rec.completed
    assert rec.nbytes == GBIT
    net.advance(5.0)
    assert net.pop_completed() == []
    with pytest.raises(KeyError):
        net.remove_flow(5.0, f)
    with pytest.raises(ValueError, match="backwards"):
        net.advance(4.0)
    with pytest.raises(ValueError, match="nbytes"):
        net.add_flow(5.0, 0, 1, -1.0)


def test_add_and_remove_at_the_same_instant() -> None:
    net = _rack()
    f = net.add_flow(0.0, 0, 1, GBIT)
    g = net.add_flow(0.0, 0, 1, GBIT)
    net.remove_flow(0.0, f)
    assert net.rate_bps(g) == pytest.approx(1e9)
    assert net.records[0].nbytes == 0.0


@pytest.mark.parametrize(("ecmp", "rate"), [(True, 1e9), (False, 0.25e9)])
def test_fat_tree_ecmp_flows_do_not_collide_needlessly(ecmp: bool, rate: float) -> None:
    topo = attach_hosts(fat_tree(4), 16)
    net = FlowNetwork(topo, Router(topo, ecmp=ecmp))
    # Four flows from distinct hosts of pod 0 to distinct hosts of pod 3 (keys picked to
    # spread): the fabric is non-blocking, so with ECMP every flow gets its full 1 Gbit/s NIC.
    # Without ECMP all four take the same single shortest path through one core switch and
    # share its 1 Gbit/s links: 0.25 Gbit/s each.
    for i, key in enumerate([0, 1, 2, 3]):
        net.add_flow(0.0, i, 12 + i, math.inf, key=key)
    _, rates = net.rates()
    np.testing.assert_allclose(rates, rate, rtol=1e-12)
    assert np.all(net.link_utilization() <= 1 + 1e-9)


def test_random_workload_conserves_bytes_and_capacity() -> None:
    rng = np.random.default_rng(7)
    topo = attach_hosts(fat_tree(4), 16)
    net = FlowNetwork(topo, Router(topo))
    sizes: dict[int, float] = {}
    t = 0.0
    for _ in range(60):
        t += float(rng.exponential(0.05))
        s, d = (int(x) for x in rng.choice(16, size=2, replace=False))
        fid = net.add_flow(t, s, d, float(rng.uniform(0.01, 0.2)) * GBIT)
        sizes[fid] = net._meta[fid].nbytes
        assert np.all(net.link_utilization() <= 1 + 1e-9)
    while (nxt := net.next_event()) is not None:
        net.advance(nxt[0])
        assert np.all(net.link_utilization() <= 1 + 1e-9)
    recs = net.pop_completed()
    assert sorted(r.fid for r in recs) == sorted(sizes)
    for r in recs:
        assert r.completed
        assert r.nbytes == sizes[r.fid]
        # No flow beats its path's line rate (1 Gbps) plus latency.
        assert r.end_s >= r.start_s + r.nbytes * 8 / 1e9 * (1 - 1e-9)
    # Every byte crossed each link of its path once: total link bytes = sum of size x hops.
    hops = {r.fid: len(net.router.path_links(r.src, r.dst, r.fid)) for r in recs}
    expected = sum(sizes[f] * hops[f] for f in sizes)
    assert net.link_bytes.sum() == pytest.approx(expected, rel=1e-9)
