"""Stochastic models: reproducible, independent of evaluation instants, right distributions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import stats

from dcsim.config.workloads import WorkloadSpec
from dcsim.rng import RandomStreams
from dcsim.workload.models import Diurnal, OnOff, RandomStep, UtilizationModel, build_workload

SPEC: TypeAdapter[Any] = TypeAdapter(WorkloadSpec)
KINDS = [
    {"kind": "uniform", "low": 0.1, "high": 0.7},
    {"kind": "uniform", "low": 0.1, "high": 0.7, "autocorrelation": 0.6},
    {"kind": "normal", "mean": 0.5, "sd": 0.1},
    {"kind": "normal", "mean": 0.5, "sd": 0.1, "autocorrelation": 0.9},
    {"kind": "beta", "a": 2, "b": 5},
    {"kind": "beta", "a": 2, "b": 5, "autocorrelation": 0.5},
    {"kind": "lognormal", "mean": 0.2, "sd": 0.05},
    {"kind": "lognormal", "mean": 0.2, "sd": 0.05, "autocorrelation": 0.5},
    {"kind": "diurnal", "peak_time": "14h", "noise_sd": 0.05, "phase_jitter": "1h"},
    {"kind": "onoff", "mean_on": "10m", "mean_off": "30m"},
]


def _model(raw: dict[str, Any], n: int = 200, seed: int = 1) -> UtilizationModel:
    return build_workload(SPEC.validate_python(raw), n, RandomStreams(seed), "workload.g", 300.0)


@pytest.mark.parametrize("raw", KINDS, ids=lambda r: f"{r['kind']}-{r.get('autocorrelation', 0)}")
def test_reproducible_and_independent_of_instants(raw: dict[str, Any]) -> None:
    dense, sparse, other = _model(raw), _model(raw), _model(raw, seed=2)
    seen = {t: dense.values(t).copy() for t in np.arange(0.0, 20_000.0, 37.0)}
    for t in (0.0, 4995.0, 5000.0, 13_000.0, 19_980.0):
        if t not in seen:
            seen[t] = dense.values(t).copy()
    for t in (4995.0, 13_000.0, 19_980.0):  # sparse skips many steps at once
        got = sparse.values(t)
        assert got.shape == (200,)
        assert got.dtype == np.float64
        assert np.array_equal(got, seen[t])
        assert np.all((got >= 0) & (got <= 1))
    assert not np.array_equal(other.values(13_000.0), seen[13_000.0])
    # asking for an earlier time replays the same steps
    assert np.array_equal(sparse.values(5000.0), seen[5000.0])


def _pooled(model: UtilizationModel, steps: int, period: float = 300.0) -> np.ndarray:
    return np.concatenate([model.values(k * period) for k in range(steps)])


@pytest.mark.parametrize("phi", [0.0, 0.7])
@pytest.mark.parametrize(
    ("raw", "dist"),
    [
        ({"kind": "uniform", "low": 0.2, "high": 0.6}, stats.uniform(0.2, 0.4)),
        ({"kind": "normal", "mean": 0.5, "sd": 0.1}, stats.norm(0.5, 0.1)),
        ({"kind": "beta", "a": 2.0, "b": 5.0}, stats.beta(2.0, 5.0)),
    ],
    ids=["uniform", "normal", "beta"],
)
def test_marginal_distribution(raw: dict[str, Any], dist: Any, phi: float) -> None:
    """KS test on one step across 5,000 guests (independent), and moments pooled over steps."""
    m = _model({**raw, "autocorrelation": phi}, n=5000)
    one = m.values(3 * 300.0)
    assert stats.kstest(one, dist.cdf).pvalue > 1e-3
    pooled = _pooled(m, 20)
    assert pooled.mean() == pytest.approx(dist.mean(), abs=0.01)
    assert pooled.var() == pytest.approx(dist.var(), rel=0.08)


def test_lognormal_has_configured_mean_and_sd() -> None:
    m = _model({"kind": "lognormal", "mean": 0.2, "sd": 0.05}, n=20_000)
    v = m.values(0.0)
    assert v.mean() == pytest.approx(0.2, rel=0.01)
    assert v.std() == pytest.approx(0.05, rel=0.03)
    s2 = np.log1p((0.05 / 0.2) ** 2)
    ref = stats.lognorm(s=np.sqrt(s2), scale=0.2 * np.exp(-s2 / 2))
    assert stats.kstest(v, ref.cdf).pvalue > 1e-3


def test_normal_is_clipped_to_unit_interval() -> None:
    v = _model({"kind": "normal", "mean": 0.9, "sd": 0.3}, n=10_000).values(0.0)
    assert v.min() >= 0.0
    assert v.max() == 1.0
    clipped = stats.norm(0.9, 0.3)
    assert np.mean(v == 1.0) == pytest.approx(clipped.sf(1.0), abs=0.02)


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_ar1_lag_one_correlation(phi: float) -> None:
    m = _model({"kind": "normal", "mean": 0.5, "sd": 0.05, "autocorrelation": phi}, n=2000)
    assert isinstance(m, RandomStep)
    x = np.stack([m.values(k * 300.0) for k in range(60)])  # (steps, guests)
    a, b = x[:-1].ravel() - 0.5, x[1:].ravel() - 0.5
    assert float(np.mean(a * b) / np.sqrt(np.mean(a * a) * np.mean(b * b))) == pytest.approx(
        phi, abs=0.03)


def test_period_holds_values_between_steps() -> None:
    m = _model({"kind": "beta", "a": 2, "b": 2, "period": "10m"})
    assert np.array_equal(m.values(0.0), m.values(599.0))
    assert not np.array_equal(m.values(599.0), m.values(600.0))


def test_diurnal_shape() -> None:
    m = _model({"kind": "diurnal", "mean": 0.4, "amplitude": 0.3, "peak_time": "14h"}, n=3)
    assert isinstance(m, Diurnal)
    day = np.array([m.values(h * 3600.0)[0] for h in range(24)])
    assert int(np.argmax(day)) == 14
    assert int(np.argmin(day)) == 2
    assert day.max() == pytest.approx(0.7)
    assert day.mean() == pytest.approx(0.4)
    weekly = _model({"kind": "diurnal", "mean": 0.4, "amplitude": 0.0, "weekly_amplitude": 0.2,
                     "weekly_peak": "3d"})
    week = np.array([weekly.values(d * 86400.0)[0] for d in range(7)])
    assert int(np.argmax(week)) == 3


def test_diurnal_noise_and_jitter_statistics() -> None:
    m = _model({"kind": "diurnal", "mean": 0.5, "amplitude": 0.0, "noise_sd": 0.05}, n=20_000)
    v = m.values(0.0)
    assert v.mean() == pytest.approx(0.5, abs=0.002)
    assert v.std() == pytest.approx(0.05, rel=0.03)
    jit = _model({"kind": "diurnal", "mean": 0.5, "amplitude": 0.4, "peak_time": "12h",
                  "phase_jitter": "1h"}, n=4000)
    hours = np.arange(0, 86400, 300.0)
    peaks = hours[np.argmax(np.stack([jit.values(t) for t in hours]), axis=0)]
    assert peaks.mean() == pytest.approx(43200.0, abs=300.0)
    assert peaks.std() == pytest.approx(3600.0, rel=0.1)


def test_onoff_time_fractions_and_sojourns() -> None:
    m = _model({"kind": "onoff", "on_level": 0.8, "off_level": 0.1, "mean_on": "20m",
                "mean_off": "60m", "period": "1m"}, n=2000)
    assert isinstance(m, OnOff)
    states = np.stack([m.state(k * 60.0) for k in range(600)])
    assert states.mean() == pytest.approx(0.25, abs=0.01)
    assert set(np.unique(m.values(0.0))) <= {0.8, 0.1}
    # mean on-sojourn in steps: 1 / P(leave on) = 1 / (1 - exp(-1/20))
    runs = np.diff(states.astype(np.int8), axis=0)
    ends, starts = np.sum(runs == -1), np.sum(runs == 1)
    mean_on_steps = states[1:].sum() / max(ends, 1)
    assert mean_on_steps == pytest.approx(1 / (1 - np.exp(-1 / 20)), rel=0.08)
    assert starts == pytest.approx(ends, rel=0.05)
