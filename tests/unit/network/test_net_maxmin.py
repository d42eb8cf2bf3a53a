"""Analytic max-min fair allocations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from dcsim.network.flows import maxmin_rates

INF = np.inf


def _inc(paths: list[list[int]], n_links: int) -> sp.csr_matrix:
    rows = [link for p in paths for link in p]
    cols = [f for f, p in enumerate(paths) for _ in p]
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_links, len(paths)))


@pytest.mark.parametrize("n", [1, 2, 5, 17])
def test_dumbbell_equal_shares(n: int) -> None:
    # Access links 0..n-1 (10 each), shared bottleneck n (capacity 6).
    paths = [[i, n] for i in range(n)]
    cap = np.r_[np.full(n, 10.0), 6.0]
    rates = maxmin_rates(_inc(paths, n + 1), cap, np.full(n, INF))
    assert rates == pytest.approx(np.full(n, min(6.0 / n, 10.0)))


@pytest.mark.parametrize("hops", [2, 3, 6])
def test_parking_lot_long_flow_gets_half(hops: int) -> None:
    # Links 0..hops-1 of capacity 1; the long flow crosses all, one short flow per link.
    paths = [list(range(hops))] + [[i] for i in range(hops)]
    rates = maxmin_rates(_inc(paths, hops), np.ones(hops), np.full(hops + 1, INF))
    assert rates == pytest.approx(np.full(hops + 1, 0.5))


def test_unequal_bottlenecks() -> None:
    # Link 0 (10): f0, f1; link 1 (4): f1, f2. Link 1 saturates first at 2; f0 takes the rest.
    rates = maxmin_rates(_inc([[0], [0, 1], [1]], 2), [10.0, 4.0], [INF, INF, INF])
    assert rates == pytest.approx([8.0, 2.0, 2.0])


def test_rate_caps_respected_and_redistributed() -> None:
    # Three flows on one link of 9: f0 capped at 1, the others split the remaining 8.
    rates = maxmin_rates(_inc([[0], [0], [0]], 1), [9.0], [1.0, INF, 5.0])
    assert rates == pytest.approx([1.0, 4.0, 4.0])
    # Every cap below the fair share: all flows at their caps.
    rates = maxmin_rates(_inc([[0], [0]], 1), [9.0], [1.0, 2.0])
    assert rates == pytest.approx([1.0, 2.0])


def test_flows_without_links_get_their_cap() -> None:
    rates = maxmin_rates(_inc([[], [0], []], 1), [3.0], [INF, INF, 7.0])
    assert rates[0] == INF
    assert rates[1:] == pytest.approx([3.0, 7.0])


def test_empty() -> None:
    assert maxmin_rates(sp.csr_matrix((2, 0)), [1.0, 1.0], np.zeros(0)).shape == (0,)


def test_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="shapes"):
        maxmin_rates(_inc([[0]], 1), [1.0, 2.0], [INF])
