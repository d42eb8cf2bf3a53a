"""The scipy-free exponential draws of Poisson arrivals equal scipy.stats' own, number for number.

``dcsim.workload.arrivals._Exponential`` replaces ``scipy.stats.expon(scale=s).rvs(size=n,
random_state=rng)`` for inter-arrival gaps and exponential lifetimes (importing scipy.stats costs
about a second). Results must not change: same values bit for bit, and the stream left at the
same position (the next draw agrees too). ``StepwiseRandom`` with independent steps no longer
builds its unused ``scipy.stats.uniform``: its draws are compared with the AR(1)-free formula.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dcsim.rng import RandomStreams
from dcsim.workload.arrivals import BLOCK, _Exponential
from dcsim.workload.models import StepwiseRandom


@pytest.mark.parametrize("scale", [1.0, 450.0, 1.0 / 8 * 3600, 3 * 3600.0, 1e-3, 7.3e6])
@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_exponential_draws_equal_scipys(scale: float, seed: int) -> None:
    ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
    for size in (BLOCK, 1, 17):
        a = _Exponential(scale).rvs(size=size, random_state=ours)
        b = stats.expon(scale=scale).rvs(size=size, random_state=theirs)
        assert a.dtype == b.dtype == np.float64
        assert np.array_equal(a, b)  # bit for bit, not approximately
    assert ours.random() == theirs.random()  # the stream is at the same position


def test_stepwise_uniform_without_scipy_draws_rng_uniform() -> None:
    # independent steps: step k is streams.fresh(name, k).uniform(low, high, n), as documented
    model = StepwiseRandom(5, RandomStreams(3), "w", 300.0, 0.2, 0.7)
    assert model.dist is None  # nothing built for the AR(1) path it does not use
    want = RandomStreams(3).fresh("w", 2).uniform(0.2, 0.7, 5)
    assert np.array_equal(model.values(2 * 300.0 + 1.0), want)
