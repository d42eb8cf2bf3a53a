"""Arrival processes: at start, Poisson with lifetime distributions, arrival files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import stats

from dcsim.config.workloads import ArrivalSpec, AtStart, PoissonArrivals, TraceArrivals
from dcsim.errors import ConfigError
from dcsim.rng import RandomStreams
from dcsim.workload.arrivals import build_arrivals

SPEC: TypeAdapter[Any] = TypeAdapter(ArrivalSpec)


def _rng(seed: int = 3) -> np.random.Generator:
    return RandomStreams(seed)["arrivals.web"]


def test_at_start() -> None:
    a, life = build_arrivals(AtStart(), 4, 100.0, _rng())
    assert a.tolist() == [0.0] * 4
    assert np.all(np.isinf(life))
    with pytest.raises(ConfigError, match="count"):
        build_arrivals(AtStart(), None, 100.0, _rng())


def test_poisson_count_gaps_and_reproducibility() -> None:
    spec = PoissonArrivals(rate="60/h", mean_lifetime="30m")
    a, life = build_arrivals(spec, None, 7 * 86400.0, _rng())
    assert np.all(np.diff(a) >= 0)
    assert a.max() < 7 * 86400.0
    expected = 7 * 24 * 60
    assert abs(a.size - expected) < 4 * np.sqrt(expected)
    assert stats.kstest(np.diff(a), stats.expon(scale=60.0).cdf).pvalue > 1e-3
    assert stats.kstest(life, stats.expon(scale=1800.0).cdf).pvalue > 1e-3
    b, life_b = build_arrivals(spec, None, 7 * 86400.0, _rng())
    assert np.array_equal(a, b)
    assert np.array_equal(life, life_b)
    # a shorter run or a cap only truncates: guest i keeps its arrival and lifetime
    c, life_c = build_arrivals(spec, 100, 86400.0, _rng())
    assert c.size == 100
    assert np.array_equal(c, a[:100])
    assert np.array_equal(life_c, life[:100])


@pytest.mark.parametrize(
    ("lifetime", "dist"),
    [
        ({"kind": "exponential", "mean": "1h"}, stats.expon(scale=3600.0)),
        ({"kind": "weibull", "shape": 1.5, "scale": "2h"}, stats.weibull_min(1.5, scale=7200.0)),
        ({"kind": "lognormal", "mean": "1h", "sd": "30m"},
         stats.lognorm(s=np.sqrt(np.log1p(0.25)), scale=3600.0 * np.exp(-np.log1p(0.25) / 2))),
    ],
    ids=["exponential", "weibull", "lognormal"],
)
def test_lifetime_distributions(lifetime: dict[str, Any], dist: Any) -> None:
    spec = SPEC.validate_python({"kind": "poisson", "rate": 1.0, "lifetime": lifetime})
    _, life = build_arrivals(spec, 5000, 1e9, _rng())
    assert life.size == 5000
    assert stats.kstest(life, dist.cdf).pvalue > 1e-3
    assert life.mean() == pytest.approx(dist.mean(), rel=0.05)


def test_constant_lifetime_and_staying_guests() -> None:
    spec = SPEC.validate_python({"kind": "poisson", "rate": "1/min",
                                 "lifetime": {"kind": "constant", "value": "10m"}})
    _, life = build_arrivals(spec, 10, 1e6, _rng())
    assert life.tolist() == [600.0] * 10
    _, stay = build_arrivals(PoissonArrivals(rate=1.0), 10, 1e6, _rng())
    assert np.all(np.isinf(stay))


def test_trace_arrivals(tmp_path: Path) -> None:
    (tmp_path / "arr.csv").write_text("arrival_s,lifetime_s\n50,10\n0,\n20,inf\n900,5\n")
    a, life = build_arrivals(TraceArrivals(path="arr.csv"), None, 600.0, _rng(),
                             base_dir=tmp_path)
    assert a.tolist() == [0.0, 20.0, 50.0]
    assert life.tolist() == [np.inf, np.inf, 10.0]
    a2, _ = build_arrivals(TraceArrivals(path=str(tmp_path / "arr.csv")), 2, 600.0, _rng())
    assert a2.tolist() == [0.0, 20.0]


def test_poisson_spec_rules() -> None:
    with pytest.raises(ValueError, match="either mean_lifetime or lifetime"):
        SPEC.validate_python({"kind": "poisson", "rate": 1, "mean_lifetime": 5,
                              "lifetime": {"kind": "constant", "value": 5}})
    old = SPEC.validate_python({"kind": "poisson", "rate": "10/h", "mean_lifetime": "1h"})
    assert old.rate == pytest.approx(10 / 3600)
    assert old.mean_lifetime == 3600.0
