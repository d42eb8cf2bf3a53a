"""Property tests of the max-min fair kernel against its definition and a naive reference."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from dcsim.network.flows import maxmin_rates

RTOL = 1e-9


def reference_maxmin(inc: NDArray[np.bool_], capacity: NDArray[np.float64],
                     caps: NDArray[np.float64]) -> NDArray[np.float64]:
    """Textbook progressive filling, one bottleneck at a time, scalar loops."""
    n_links, n_flows = inc.shape
    rates = np.zeros(n_flows)
    frozen = [False] * n_flows
    for f in range(n_flows):
        if not inc[:, f].any():
            rates[f] = caps[f]
            frozen[f] = True
    while not all(frozen):
        best = np.inf
        for link in range(n_links):
            active = [f for f in range(n_flows) if inc[link, f] and not frozen[f]]
            if active:
                used = sum(rates[f] for f in range(n_flows) if inc[link, f] and frozen[f])
                best = min(best, (capacity[link] - used) / len(active))
        for f in range(n_flows):
            if not frozen[f]:
                best = min(best, caps[f])
        for f in range(n_flows):
            if not frozen[f]:
                rates[f] = best
        for f in range(n_flows):
            if frozen[f]:
                continue
            on_full = any(
                inc[link, f] and rates[inc[link]].sum() >= capacity[link] * (1 - 1e-12)
                for link in range(n_links)
            )
            if on_full or caps[f] <= best * (1 + 1e-12):
                frozen[f] = True
    return rates


@st.composite
def problems(draw: st.DrawFn) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64]]:
    n_links = draw(st.integers(1, 7))
    n_flows = draw(st.integers(1, 12))
    inc = np.zeros((n_links, n_flows), dtype=bool)
    for f in range(n_flows):
        links = draw(st.sets(st.integers(0, n_links - 1), max_size=n_links))
        inc[sorted(links), f] = True
    capacity = np.array(draw(st.lists(st.sampled_from([1.0, 2.0, 3.0, 7.5, 10.0, 100.0]),
                                      min_size=n_links, max_size=n_links)))
    caps = np.array(draw(st.lists(st.sampled_from([np.inf, np.inf, 0.5, 1.0, 4.0, 33.0]),
                                  min_size=n_flows, max_size=n_flows)))
    return inc, capacity, caps


@given(problems())
def test_feasible_and_maxmin_optimal(problem: tuple[NDArray[np.bool_], NDArray[np.float64],
                                                    NDArray[np.float64]]) -> None:
    inc, capacity, caps = problem
    rates = maxmin_rates(sp.csr_matrix(inc.astype(float)), capacity, caps)
    crosses = inc.any(axis=0)
    # No link above capacity; no flow above its cap.
    load = inc.astype(float) @ np.where(crosses, rates, 0.0)
    assert np.all(load <= capacity * (1 + RTOL))
    assert np.all(rates <= caps * (1 + RTOL))
    assert np.all(rates[~crosses] == caps[~crosses])
    # Optimality: each flow is at its cap, or crosses a saturated link on which no flow has a
    # higher rate (its bottleneck).
    saturated = load >= capacity * (1 - RTOL)
    for f in np.flatnonzero(crosses):
        if rates[f] >= caps[f] * (1 - RTOL):
            continue
        ok = any(
            saturated[link] and np.all(rates[inc[link]] <= rates[f] * (1 + RTOL))
            for link in np.flatnonzero(inc[:, f])
        )
        assert ok, f"flow {f} at {rates[f]} has no bottleneck"


@given(problems())
def test_matches_naive_reference(problem: tuple[NDArray[np.bool_], NDArray[np.float64],
                                                NDArray[np.float64]]) -> None:
    inc, capacity, caps = problem
    rates = maxmin_rates(sp.csr_matrix(inc.astype(float)), capacity, caps)
    expected = reference_maxmin(inc, capacity, caps)
    finite = np.isfinite(expected)
    assert np.array_equal(np.isfinite(rates), finite)
    np.testing.assert_allclose(rates[finite], expected[finite], rtol=RTOL, atol=0)
