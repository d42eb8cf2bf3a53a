"""The default-mode placement's candidate order and power lookup give the plain forms' answers.

* ``consolidation._best_first`` hands out positions in the order of a full stable
  ``np.argsort`` (least value first, ties by position, NaN last), only in other chunks: the
  ties of the least value first (found in O(n)), the rest from the full sort if asked for.
* ``power.power_rows(tables, rows, u)`` is ``power_w(tables[rows], u)`` bit for bit, without
  copying the rows' tables.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dcsim.engine.consolidation import _CHUNK, _best_first
from dcsim.model.power import N_POINTS, power_rows, power_w

#: few distinct values, so that ties (also of the least value, and of -0.0 with 0.0) are common
_VALUES = st.sampled_from([-3.5, -3.5 + 2**-50, -0.0, 0.0, 0.25, 0.25 + 2**-52, 1.0, 7.0,
                           float("inf"), float("nan")])


def _chunks(delta: np.ndarray) -> list[np.ndarray]:
    return list(_best_first(delta))


def test_ties_of_the_least_come_first_then_the_full_order_by_hand() -> None:
    delta = np.asarray([3.0, 1.0, 2.0, 1.0, 0.5 + 0.5])
    got = _chunks(delta)
    assert [c.tolist() for c in got] == [[1, 3, 4], [2, 0]]


def test_a_long_run_of_ties_is_cut_into_chunks_in_position_order() -> None:
    delta = np.zeros(2 * _CHUNK + 3)
    delta[5] = -1.0
    got = _chunks(delta)
    assert [c.tolist() for c in got] == [
        [5], [p for p in range(2 * _CHUNK + 3) if p != 5][:_CHUNK],
        [p for p in range(2 * _CHUNK + 3) if p != 5][_CHUNK:2 * _CHUNK],
        [p for p in range(2 * _CHUNK + 3) if p != 5][2 * _CHUNK:]]


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(np.float64, st.integers(0, 3 * _CHUNK + 5), elements=_VALUES))
def test_chunks_follow_the_full_stable_order(delta: np.ndarray) -> None:
    got = _chunks(delta)
    flat = np.concatenate(got) if got else np.zeros(0, dtype=np.intp)
    assert flat.tolist() == np.argsort(delta, kind="stable").tolist()
    assert all(0 < c.shape[0] <= _CHUNK for c in got)


def _plain(tables: np.ndarray, util: np.ndarray) -> np.ndarray:
    """The interpolation written out on gathered rows (the form power_rows must equal)."""
    u = np.clip(util, 0.0, 1.0) * 10
    lo = np.minimum(np.floor(u).astype(np.intp), 9)
    rows = np.arange(tables.shape[0])
    out: np.ndarray = tables[rows, lo] + (tables[rows, lo + 1] - tables[rows, lo]) * (u - lo)
    return out


def test_power_rows_by_hand() -> None:
    tables = np.asarray([np.linspace(100.0, 200.0, N_POINTS),
                         [86.0, 89.4, 92.6, 96.0, 99.5, 102.0, 106.0, 108.0, 112.0, 114.0, 117.0]])
    got = power_rows(tables, np.asarray([1, 0, 1, 1, 0]), np.asarray([0.35, 0.25, 1.0, 2.0, -1.0]))
    assert got.tolist() == [97.75, 125.0, 117.0, 117.0, 100.0]  # 96 + (99.5 - 96) · 0.5
    assert power_w(tables, np.asarray([0.5, 0.05])).tolist() == [150.0, 87.7]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_power_rows_is_power_w_of_the_gathered_rows(data: st.DataObject) -> None:
    n_hosts = data.draw(st.integers(1, 6))
    watts = st.floats(0.0, 500.0, allow_nan=False)
    tables = np.sort(data.draw(hnp.arrays(np.float64, (n_hosts, N_POINTS), elements=watts)),
                     axis=1)
    n = data.draw(st.integers(0, 12))
    rows = data.draw(hnp.arrays(np.intp, n, elements=st.integers(0, n_hosts - 1)))
    # utilisations on and between the table's points, and outside [0, 1] (clipped)
    util = data.draw(hnp.arrays(np.float64, n, elements=st.one_of(
        st.floats(-0.5, 1.5, allow_nan=False), st.sampled_from([0.0, 0.1, 0.3, 0.9, 1.0]))))
    got = power_rows(tables, rows, util)
    want = _plain(tables[rows], util)
    assert got.dtype == np.float64
    assert got.view(np.int64).tolist() == want.view(np.int64).tolist()
