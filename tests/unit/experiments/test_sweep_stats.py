"""Statistics over replications, checked against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dcsim.experiments.stats import ci_halfwidth, describe, summarize


def test_ci_of_four_values_by_hand() -> None:
    # x = 1, 2, 3, 4: mean 2.5, s^2 = (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3,
    # t(0.975, 3) = 3.182446305284263, half-width = t * sqrt(5/3) / 2 = 2.0542876...
    n, mean, std, ci = describe([1.0, 2.0, 3.0, 4.0])
    assert n == 4
    assert mean == 2.5
    assert std == pytest.approx(math.sqrt(5 / 3), rel=1e-12)
    assert ci == pytest.approx(3.182446305284263 * math.sqrt(5 / 3) / 2, rel=1e-9)


def test_ci_of_two_values_by_hand() -> None:
    # x = 10, 12: s = sqrt(2), t(0.975, 1) = 12.706204736174698, half-width = t * s / sqrt(2) = t.
    assert ci_halfwidth([10.0, 12.0]) == pytest.approx(12.706204736174698, rel=1e-9)
    assert ci_halfwidth([10.0, 12.0], confidence=0.9) == pytest.approx(6.313751514675, rel=1e-9)


def test_undefined_cases() -> None:
    assert math.isnan(ci_halfwidth([3.0]))
    n, mean, std, ci = describe([3.0, float("nan")])
    assert (n, mean) == (1, 3.0)
    assert math.isnan(std)
    assert math.isnan(ci)
    assert describe([])[0] == 0


def test_summarize_groups_points_and_ignores_failed_runs() -> None:
    runs = pd.DataFrame({
        "point": [0, 0, 0, 1, 1],
        "point_id": ["p0", "p0", "p0", "p1", "p1"],
        "replication": [0, 1, 2, 0, 1],
        "seed": [1, 2, 3, 1, 2],
        "x": ["a", "a", "a", "b", "b"],
        "energy_kwh": [1.0, 2.0, 3.0, 10.0, float("nan")],
        "status": ["ok", "ok", "ok", "ok", "error"],
        "wall_s": [0.1] * 5,
    })
    s = summarize(runs, ["x"])
    assert list(s.columns) == ["point", "point_id", "x", "metric", "n", "mean", "std", "ci95",
                               "n_failed"]
    assert list(s["metric"]) == ["energy_kwh", "energy_kwh"]  # wall time is no metric
    p0, p1 = s.iloc[0], s.iloc[1]
    assert (p0["n"], p0["mean"], p0["std"]) == (3, 2.0, 1.0)
    assert p0["ci95"] == pytest.approx(4.302652729911275 / math.sqrt(3), rel=1e-9)
    assert (p1["x"], p1["n"], p1["mean"], p1["n_failed"]) == ("b", 1, 10.0, 1)
    assert math.isnan(p1["ci95"])


@pytest.mark.parametrize("confidence", [0.95, 0.9, 0.99, 0.5])
def test_interval_quantile_is_scipy_stats_t_ppf_bit_for_bit(confidence: float) -> None:
    # ci_halfwidth computes t.ppf(q, n - 1) as scipy.special.stdtrit(n - 1, q) (what t.ppf
    # evaluates, without importing scipy.stats); the half-width must be the same float
    from scipy.stats import t

    rng = np.random.default_rng(4)
    for n in (2, 3, 5, 10, 30, 31, 100, 1000):
        x = rng.normal(50.0, 7.0, n)
        want = float(t.ppf(0.5 + confidence / 2.0, n - 1)) * float(np.std(x, ddof=1)) / math.sqrt(n)
        assert ci_halfwidth(x, confidence) == want
