"""Overload detectors on hand-worked histories (CloudSim 3.0.3 conventions)."""

from __future__ import annotations

import numpy as np
import pytest

from dcsim.policies.overload import (
    OVERLOAD,
    HostLoad,
    InterQuartileRange,
    LocalRegression,
    LocalRegressionRobust,
    MedianAbsoluteDeviation,
    StaticThreshold,
    iqr_one,
    iqr_rows,
    legacy_median,
    mad_one,
    make_detector,
    robust_regression,
    simple_regression,
)


def _load(util: float, hist: list[float], mig_s: float = 27.84) -> HostLoad:
    h = np.zeros((1, 30))
    h[0, : len(hist)] = hist
    return HostLoad(np.array([util]), h, np.array([len(hist)]), np.array([mig_s]), 300.0)


def _both(det: object, util: float, hist: list[float], mig_s: float = 27.84) -> bool:
    vec = bool(det.overloaded(_load(util, hist, mig_s))[0])  # type: ignore[attr-defined]
    one = bool(det.overloaded_one(util, hist, mig_s, 300.0))  # type: ignore[attr-defined]
    assert vec == one
    return vec


def test_registry_names() -> None:
    assert OVERLOAD.names() == ["iqr", "lr", "lrr", "mad", "thr"]
    assert isinstance(make_detector("thr", 0.8), StaticThreshold)
    assert make_detector("lr", 1.2).safety == 1.2
    assert make_detector("iqr").safety == 1.5


def test_thr_is_strict() -> None:
    d = make_detector("thr", 0.8)
    assert not _both(d, 0.8, [])
    assert _both(d, 0.8000001, [])
    assert not _both(d, 0.5, [0.99] * 30)  # history is ignored


# 12 values; sorted: .05 .1 .15 .2 .25 .3 .4 .5 .6 .7 .8 .9
H12 = [0.5, 0.1, 0.3, 0.7, 0.2, 0.9, 0.4, 0.6, 0.8, 0.05, 0.15, 0.25]


def test_iqr_hand_worked() -> None:
    # n = 12: q1 = round(3.25) - 1 = 2 -> 0.15; q3 = round(9.75) - 1 = 9 -> 0.7; IQR = 0.55.
    assert iqr_one(H12) == pytest.approx(0.55)
    d = InterQuartileRange.from_parameter(1.5)  # threshold 1 - 1.5 * 0.55 = 0.175
    assert _both(d, 0.18, H12)
    assert not _both(d, 0.17, H12)


def test_iqr_rounds_half_up() -> None:
    # n = 17: 0.25 * 18 = 4.5 -> Java rounds to 5 (index 4); banker's rounding would give 4.
    h = [float(i) / 100 for i in range(17)]  # sorted already: 0.00 .. 0.16
    assert iqr_one(h) == pytest.approx(0.13 - 0.04)  # q3 = round(13.5) - 1 = 13
    assert iqr_rows(np.array([h]), np.array([17]))[0] == pytest.approx(0.09)


def test_iqr_fallback_below_12_values() -> None:
    d = InterQuartileRange.from_parameter(1.5)
    assert _both(d, 0.71, H12[:11])  # 0.7 static fallback
    assert not _both(d, 0.69, H12[:11])


def test_mad_hand_worked() -> None:
    # median of H12 (even n) = (0.3 + 0.4) / 2 = 0.35; |h - 0.35| sorted:
    # .05 .05 .1 .15 .15 .2 .25 .25 .3 .35 .45 .55 -> MAD = (0.2 + 0.25) / 2 = 0.225
    assert legacy_median(H12) == pytest.approx(0.35)
    assert mad_one(H12) == pytest.approx(0.225)
    d = MedianAbsoluteDeviation.from_parameter(2.5)  # threshold 1 - 2.5 * 0.225 = 0.4375
    assert _both(d, 0.44, H12)
    assert not _both(d, 0.43, H12)


def test_mad_odd_count_and_fallback() -> None:
    h = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.0 + 0.05, 0.55, 0.45]
    # n = 13: median = 7th smallest = 0.5; |h - 0.5| sorted: 0 .05 .05 .1 .1 .2 .2 ... -> 0.2
    assert legacy_median(h) == pytest.approx(0.5)
    assert mad_one(h) == pytest.approx(0.2)
    d = MedianAbsoluteDeviation.from_parameter(2.5)
    assert _both(d, 0.71, h[:11])


def test_lr_hand_worked() -> None:
    # Oldest first y = 0.05 + 0.05 x (x = 1..10): newest-first history below. OLS: b0 = b1 = 0.05.
    hist = [0.05 + 0.05 * x for x in range(10, 0, -1)]
    b0, b1 = simple_regression(hist[::-1])
    assert (b0, b1) == (pytest.approx(0.05), pytest.approx(0.05))
    lr = LocalRegression.from_parameter(1.2)
    # m = ceil(27.84 / 300) = 1 -> prediction at x = 11: 0.6; x 1.2 = 0.72 < 1.
    assert lr.predict(hist, 27.84) == pytest.approx(0.72)
    assert not _both(lr, 0.95, hist)  # the current utilisation is not used
    steep = [0.1 * x for x in range(10, 0, -1)]  # y = 0.1 x: 1.1 * 1.2 = 1.32 >= 1
    assert _both(lr, 0.1, steep)
    # A longer migration pushes the horizon: m = ceil(301 / 300) = 2 -> x = 12.
    assert lr.predict(hist, 301.0) == pytest.approx(1.2 * 0.65)


def test_lr_boundary_is_inclusive() -> None:
    lr = LocalRegression.from_parameter(1.0)
    flat = [1.0] * 10  # prediction exactly 1.0
    assert _both(lr, 0.0, flat)
    assert not _both(lr, 0.0, [0.5] * 10)


def test_lr_fallback_below_10_values() -> None:
    lr = LocalRegression.from_parameter(1.2)
    assert _both(lr, 0.71, [0.1] * 9)
    assert not _both(lr, 0.69, [0.99] * 9)


def test_lr_only_last_10_values_count() -> None:
    lr = LocalRegression.from_parameter(1.2)
    base = [0.1 * x for x in range(10, 0, -1)]
    assert _both(lr, 0.0, base + [0.0001] * 20) == _both(lr, 0.0, base)


def _trending(rng: np.random.Generator, n: int, lens: np.ndarray) -> np.ndarray:
    """(n, 30) newest-first histories: a level, a trend and noise, spanning LR's boundary."""
    level = rng.uniform(0.3, 0.95, (n, 1))
    trend = rng.uniform(-0.03, 0.03, (n, 1))  # per interval, newest first
    h = np.clip(level - trend * np.arange(30.0)[None, :] + rng.normal(0, 0.05, (n, 30)), 0, 1)
    return h * (np.arange(30)[None, :] < lens[:, None])


def test_lrr_equals_lr_on_random_histories() -> None:
    rng = np.random.default_rng(3)
    lr = LocalRegression.from_parameter(1.2)
    lrr = LocalRegressionRobust.from_parameter(1.2)
    h = _trending(rng, 300, np.full(300, 30))
    load = HostLoad(np.full(300, 0.5), h, np.full(300, 30), np.full(300, 27.84), 300.0)
    over = lr.overloaded(load)
    assert 0.1 < over.mean() < 0.9  # both decisions occur
    np.testing.assert_array_equal(over, lrr.overloaded(load))
    for row in h[:50]:
        y = row[:10][::-1].tolist()
        assert robust_regression(y) == simple_regression(y)


def test_lrr_zero_mad_rows_keep_lr_decisions_and_its_screen() -> None:
    """The only rows where LRR's re-weighting acts: at least half the residuals of the fit
    exactly 0 (median absolute residual 0). The refit then keeps the points on the line, so the
    line and the decisions stay LR's, and LR's linear screen (what the compiled PABFD search
    evaluates for LRR's trial placements) decides them too. Dyadic lines plus a pattern that
    leaves the fit unchanged (sums of deviations and of x times deviations both 0) at 4 of the
    10 points: exact arithmetic, 6 residuals exactly 0."""
    lr = LocalRegression.from_parameter(1.2)
    lrr = LocalRegressionRobust.from_parameter(1.2)
    pattern = np.array([1.0, -1.0, 0, 0, 0, 0, 0, 0, -1.0, 1.0])  # at x = 1..10, oldest first
    x = np.arange(1.0, 11.0)
    rows = []
    for base in (0.25, 0.5, 0.625, 0.75, 0.8125):
        for slope in (-0.03125, 0.0, 0.015625, 0.03125):
            for c in (0.0625, 0.125, 0.25):
                y = base + slope * x + c * pattern
                b0, b1 = simple_regression(y.tolist())
                if np.count_nonzero(y - (b0 + b1 * x) == 0.0) >= 6:  # median |residual| 0
                    rows.append(y[::-1])  # newest first
    h = np.array(rows)
    n = h.shape[0]
    assert n >= 30  # most of the 60 (a few fits round off the line)
    mig = np.full(n, 27.84)
    exact = np.array([lrr.overloaded_one(0.5, r.tolist(), 27.84, 300.0) for r in h])
    assert 0 < exact.sum() < n  # both decisions occur
    lr_exact = [lr.overloaded_one(0.5, r.tolist(), 27.84, 300.0) for r in h]
    assert exact.tolist() == lr_exact
    load = HostLoad(np.full(n, 0.5), h, np.full(n, 10), mig, 300.0)
    np.testing.assert_array_equal(lrr.overloaded(load), exact)
    over, unsure = lrr.screen_features(lrr.features(h), np.full(n, 0.5),
                                       np.full(n, 10, dtype=np.int64), mig, 300.0)
    assert not unsure.any()
    np.testing.assert_array_equal(over, exact)


def test_simple_regression_matches_least_squares() -> None:
    rng = np.random.default_rng(1)
    y = rng.uniform(0, 1, 10).tolist()
    b0, b1 = simple_regression(y)
    slope, intercept = np.polyfit(np.arange(1.0, 11.0), y, 1)
    assert b0 == pytest.approx(intercept, abs=1e-12)
    assert b1 == pytest.approx(slope, abs=1e-12)


@pytest.mark.parametrize(("name", "param"), [("thr", 0.8), ("iqr", 1.5), ("mad", 2.5), ("lr", 1.2),
                                        ("lrr", 1.2)])
def test_vectorized_equals_scalar(name: str, param: float) -> None:
    rng = np.random.default_rng(7)
    det = make_detector(name, param)
    n = 400
    lens = rng.integers(0, 31, n)
    h = _trending(rng, n, lens)
    # rows at LR's boundary (flat at 1 / 1.2: the exact re-check) and exact lines (LRR's
    # zero-residual path)
    h[:5, :] = 1.0 / 1.2
    h[5:10, :] = 0.5 + 0.02 * np.arange(30.0)[::-1][None, :] / 30
    lens[:10] = 30
    util = rng.uniform(0.2, 1.2, n)
    mig = rng.choice([9.808, 13.92, 27.84, 400.0], n)
    vec = det.overloaded(HostLoad(util, h, lens.astype(np.int64), mig, 300.0))
    one = [det.overloaded_one(float(util[i]), h[i, : lens[i]].tolist(), float(mig[i]), 300.0)
           for i in range(n)]
    np.testing.assert_array_equal(vec, np.array(one))
    if name == "thr":
        assert 0.1 < vec.mean() < 0.9  # both decisions occur
        return
    full = lens >= (10 if name in ("lr", "lrr") else 12)
    assert 0.1 < vec[full].mean() < 0.9  # both decisions occur on full histories
    assert 0.1 < vec[~full].mean() < 0.9  # and on the 0.7 fallback


def test_lr_features_screen_agrees() -> None:
    rng = np.random.default_rng(11)
    lr = LocalRegression.from_parameter(1.2)
    n = 500
    h = rng.uniform(0.0, 0.9, (n, 30))
    lens = np.full(n, 30, dtype=np.int64)
    lens[:20] = 5
    util = rng.uniform(0, 1, n)
    mig = np.full(n, 27.84)
    over, unsure = lr.screen_features(lr.features(h), util, lens, mig, 300.0)
    exact = lr.overloaded(HostLoad(util, h, lens, mig, 300.0))
    np.testing.assert_array_equal(over[~unsure], exact[~unsure])


def test_lr_kernel_screen_matches_screen_features_row_by_row() -> None:
    # PABFD's compiled search (dcsim.policies.pabfd_kernel.pick) screens trial hosts one at a time
    # with LR's linear_screen constants; it must decide every row exactly as the vectorized
    # screen: overloaded -> no host (-1), unsure -> handed back (-(h + 2)), else the host.
    # Rows: short histories (fallback 0.7 rule), migration times that change the horizon, and
    # predictions pushed to within the guard of 1.0. Each row is a one-candidate search on a
    # synthetic state where the kernel's inputs are the row's values exactly: T = 1 and r = 0
    # (util = reqsum), bandwidth 1 and guest RAM 0 (migration time = the host's RAM), guest
    # features 0, zero power tables (every increase 0).
    from dcsim.policies.pabfd import LINEAR
    from dcsim.policies.pabfd_kernel import pick

    rng = np.random.default_rng(7)
    lr = LocalRegression()
    n = 400
    h = rng.uniform(0.0, 0.9, (n, 30))
    lens = np.full(n, 30, dtype=np.int64)
    lens[:40] = rng.integers(0, 10, 40)
    util = rng.uniform(0, 1, n)
    mig = rng.uniform(0.0, 900.0, n)
    util[0], lens[0] = 0.7, 5  # the fallback's edge: 0.7 is not overloaded
    f = lr.features(h)
    horizon = 10 + np.ceil(mig / 300.0)
    # scale rows 40..99 so that their prediction is 1.0 (up to rounding): unsure rows
    p = lr.safety * (f[:, 0] + (horizon - 5.5) * f[:, 1])
    f[40:100] /= p[40:100, None]
    over, unsure = lr.screen_features(f, util, lens, mig, 300.0)
    assert unsure[40:100].any()
    assert over.any()
    assert not over.all()
    none = np.zeros(0, dtype=np.intp)
    ones, zeros = np.ones(n), np.zeros(n)
    c = np.array([0.0, 1.0, 300.0, *lr.linear_screen()])
    for i in range(n):
        got = pick(np.array([i], dtype=np.intp), none, none, 0.0, False, LINEAR, ones, ones,
                   ones, ones, np.zeros(n, dtype=np.intp), np.zeros(11), zeros, util, lens, mig,
                   np.zeros(n, dtype=np.intp), np.ascontiguousarray(f), np.zeros((1, 1, 2)), 0,
                   0, 0.0, c)
        assert got == (-(i + 2) if unsure[i] else -1 if over[i] else i), i
