"""The vectorized max-min kernel agrees with a naive water-filling reference."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dcsim.kernels.share import maxmin_share, maxmin_share_one


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


_DEMAND = st.one_of(st.floats(0, 1000), st.sampled_from([0.0, 100.0, 250.0, 1000.0]))
_WEIGHT = st.one_of(st.floats(0.1, 8), st.sampled_from([1.0, 2.0, 3.0, 256.0]))


@given(st.lists(st.tuples(_DEMAND, _WEIGHT), min_size=1, max_size=40), st.floats(0, 1),
       st.booleans())
def test_one_group_scalar_kernel_is_the_vector_kernel_bit_for_bit(
        guests: list[tuple[float, float]], frac: float, unit: bool) -> None:
    # any oversubscribed host: capacity a fraction of the demand (ties in demand/weight from
    # the sampled values, whole and fractional weights: both ways of summing the weights)
    demand = [d for d, _ in guests]
    weight = [1.0 if unit else w for _, w in guests]
    total = 0.0
    for d in demand:
        total += d  # np.bincount's sum: left to right from 0.0
    cap = total * frac
    if not total > cap:
        return
    want = maxmin_share(np.asarray(demand), np.zeros(len(demand), dtype=np.intp),
                        np.asarray([cap]), np.asarray(weight))
    got = np.asarray(maxmin_share_one(demand, cap, weight))
    assert got.tobytes() == want.tobytes()


def test_one_group_scalar_kernel_hand_worked() -> None:
    # 1000 MIPS among demands 100, 600, 600 (weights 1): 100 is served, the other two share
    # 900 -> 450 each; with weights 1, 1, 2 the level is 900 / 3 = 300 -> 300 and 600
    assert maxmin_share_one([100.0, 600.0, 600.0], 1000.0, [1.0, 1.0, 1.0]) == [100.0, 450.0,
                                                                                450.0]
    assert maxmin_share_one([100.0, 600.0, 600.0], 1000.0, [1.0, 1.0, 2.0]) == [100.0, 300.0,
                                                                                600.0]


def test_one_group_scalar_kernel_sums_fractional_weights_as_numpy() -> None:
    # 12 guests wanting 1000 MIPS each on 3000 MIPS: all get w x 3000 / 23.5 (< 1000). With
    # these weights a left-to-right sum (23.499999999999996) differs from numpy's pairwise
    # one (23.5), and so would every share
    w = [0.5, 3.0, 2.8, 2.6, 1.5, 0.8, 2.5, 2.9, 0.9, 1.7, 1.4, 2.9]
    assert sum(sorted(w)) != float(np.add.reduceat(np.sort(w), [0])[0])
    want = maxmin_share(np.full(12, 1000.0), np.zeros(12, dtype=np.intp), np.array([3000.0]),
                        np.asarray(w))
    got = maxmin_share_one([1000.0] * 12, 3000.0, w)
    assert np.asarray(got).tobytes() == want.tobytes()
    np.testing.assert_allclose(got, [3000.0 / 23.5 * x for x in w], rtol=1e-15)
