"""The vectorized max-min kernel agrees with a naive water-filling reference."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dcsim.kernels.share import maxmin_share


def naive(demand: np.ndarray, group: np.ndarray, cap: np.ndarray, w: np.ndarray) -> np.ndarray:
    out = np.zeros_like(demand)
    for g in range(cap.shape[0]):
        idx = list(np.flatnonzero(group == g))
        left = cap[g]
        while idx:
            level = left / sum(w[i] for i in idx)
            done = [i for i in idx if demand[i] <= w[i] * level]
            if not done:
                for i in idx:
                    out[i] = w[i] * level
                break
            for i in done:
                out[i] = demand[i]
                left -= demand[i]
                idx.remove(i)
    return out


@given(
    st.integers(1, 5).flatmap(lambda n_g: st.tuples(
        st.just(n_g),
        hnp.arrays(np.float64, st.integers(0, 30), elements=st.floats(0, 100)),
        st.data(),
    ))
)
def test_matches_naive(args: tuple) -> None:
    n_g, demand, data = args
    n = demand.shape[0]
    group = np.asarray(data.draw(st.lists(st.integers(0, n_g - 1), min_size=n, max_size=n)),
                       dtype=np.intp)
    cap = np.asarray(data.draw(st.lists(st.floats(0, 200), min_size=n_g, max_size=n_g)))
    w = np.asarray(data.draw(st.lists(st.floats(0.5, 4), min_size=n, max_size=n)))
    got = maxmin_share(demand, group, cap, w)
    want = naive(demand, group, cap, w)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-7)
    assert np.all(got <= demand + 1e-9)
    assert np.all(np.bincount(group, weights=got, minlength=n_g) <= cap + 1e-7)


def test_four_guests_two_cores_hand_worked() -> None:
    got = maxmin_share(np.full(4, 1000.0), np.zeros(4, dtype=np.intp), np.array([2000.0]))
    np.testing.assert_allclose(got, [500.0] * 4)
