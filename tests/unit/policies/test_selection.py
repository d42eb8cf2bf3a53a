"""Guest selection policies on small hosts."""

from __future__ import annotations

import numpy as np
import pytest

from dcsim.policies.selection import (
    SELECTION,
    GuestView,
    MaximumCorrelation,
    MinimumMigrationTime,
    MinimumUtilization,
    RandomSelection,
    RegressionImpossible,
    make_selector,
    r_squared_all,
)


def _view(ram: list[float], mips: list[float], req: list[float],
          hist: np.ndarray | None = None) -> GuestView:
    n = len(ram)
    h = np.zeros((n, 30)) if hist is None else hist
    return GuestView(np.array(ram), np.array(mips), np.array(req), h,
                     np.full(n, h.shape[1], dtype=np.int64))


RNG = np.random.default_rng(0)


def test_registry() -> None:
    assert SELECTION.names() == ["mc", "mmt", "mu", "rs"]
    assert isinstance(make_selector("mmt"), MinimumMigrationTime)


def test_mmt_least_ram_first_wins_ties() -> None:
    v = _view([1740, 613, 870, 613], [1000, 500, 2500, 500], [10, 10, 10, 10])
    assert MinimumMigrationTime().select(v, RNG) == 1
    assert MinimumMigrationTime().select(_view([], [], []), RNG) is None


def test_mu_least_utilisation() -> None:
    # utilisation = requested / mips: 0.5, 0.4, 0.4, 0.9 -> first of the two 0.4
    v = _view([613, 613, 870, 870], [1000, 500, 2500, 2000], [500, 200, 1000, 1800])
    assert MinimumUtilization().select(v, RNG) == 1


def test_rs_seeded_and_in_range() -> None:
    v = _view([613] * 5, [500] * 5, [100] * 5)
    a = [RandomSelection().select(v, np.random.default_rng(42)) for _ in range(3)]
    assert a[0] == a[1] == a[2]
    g = np.random.default_rng(1)
    draws = [RandomSelection().select(v, g) for _ in range(500)]
    assert set(draws) == {0, 1, 2, 3, 4}


def _r2_reference(data: np.ndarray) -> np.ndarray:
    out = []
    for i in range(data.shape[0]):
        x = np.column_stack([np.ones(data.shape[1])] + [data[j] for j in range(data.shape[0])
                                                        if j != i])
        beta, *_ = np.linalg.lstsq(x, data[i], rcond=None)
        res = data[i] - x @ beta
        out.append(1 - (res @ res) / ((data[i] - data[i].mean()) ** 2).sum())
    return np.array(out)


def test_r_squared_matches_least_squares() -> None:
    data = np.random.default_rng(5).uniform(0, 1, (4, 12))
    np.testing.assert_allclose(r_squared_all(data), _r2_reference(data), atol=1e-12)


def test_mc_picks_max_r2() -> None:
    rng = np.random.default_rng(9)
    base = rng.uniform(0, 1, (3, 30))
    hist = np.vstack([base, 0.5 * base[0] + 0.3 * base[1] + 0.01 * rng.uniform(0, 1, 30)])
    v = _view([613.0] * 4, [500.0] * 4, [100.0] * 4, hist)
    expected = int(np.argmax(_r2_reference(hist)))
    assert MaximumCorrelation().select(v, RNG) == expected


def test_mc_falls_back_to_mmt() -> None:
    one = _view([870.0], [2500.0], [100.0], np.ones((1, 30)) * 0.3)
    assert MaximumCorrelation().select(one, RNG) == 0
    # 3 guests but only 2 samples (m < n): regression impossible -> MMT (least RAM = index 2)
    h = np.random.default_rng(2).uniform(0, 1, (3, 2))
    v = _view([870.0, 1740.0, 613.0], [2500.0, 1000.0, 500.0], [1.0, 1.0, 1.0], h)
    assert MaximumCorrelation().select(v, RNG) == 2
    with pytest.raises(RegressionImpossible):
        r_squared_all(h)
    # identical histories: singular design -> MMT
    same = np.tile(np.linspace(0.1, 0.5, 10), (3, 1))
    with pytest.raises(RegressionImpossible):
        r_squared_all(same)
