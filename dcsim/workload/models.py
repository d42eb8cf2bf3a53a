"""Utilisation models, each evaluated for a whole group of guests in one numpy call.

Protocol: a model covers ``n`` guests and answers ``values(t_s) -> (n,) float64`` in [0, 1], the
fraction of each guest's requested CPU it wants at time ``t_s``. Calls come in non-decreasing
time order (the engine never goes back), which lets stochastic models draw lazily, one step at a
time, from their own named stream; a value depends only on (seed, stream name, step), never on how
often or at which instants the engine asks.

Imports: numpy, dcsim.config.workloads, dcsim.rng.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from dcsim.config.workloads import ConstantWorkload, UniformWorkload, WorkloadSpec
from dcsim.rng import RandomStreams

F64 = NDArray[np.float64]


class UtilizationModel(Protocol):
    """CPU utilisation of ``n`` guests as a function of time."""

    n: int

    def values(self, t_s: float) -> F64:
        """(n,) utilisation fractions in [0, 1] at ``t_s`` seconds."""
        ...


class Constant:
    """Every guest at the same fixed utilisation."""

    def __init__(self, n: int, utilization: float) -> None:
        self.n = n
        self._v = np.full(n, utilization, dtype=np.float64)

    def values(self, t_s: float) -> F64:
        return self._v


class StepwiseRandom:
    """Piecewise-constant random utilisation: a fresh vector every ``period_s`` seconds.

    Step ``k`` (covering [k·period, (k+1)·period)) is drawn from a generator keyed by
    (stream name, k), so values do not depend on which instants were evaluated before.
    """

    def __init__(self, n: int, streams: RandomStreams, name: str, period_s: float,
                 low: float, high: float) -> None:
        self.n = n
        self._streams = streams
        self._name = name
        self._period = period_s
        self._low = low
        self._high = high
        self._step = -1
        self._v = np.zeros(n)

    def values(self, t_s: float) -> F64:
        step = int(t_s // self._period)
        if step != self._step:
            rng = self._streams.fresh(self._name, step)
            self._v = rng.uniform(self._low, self._high, self.n)
            self._step = step
        return self._v


def build_workload(spec: WorkloadSpec, n: int, streams: RandomStreams, name: str,
                   interval_s: float) -> UtilizationModel:
    """The model for ``n`` guests described by ``spec``; ``name`` names its random stream."""
    if isinstance(spec, ConstantWorkload):
        return Constant(n, spec.utilization)
    if isinstance(spec, UniformWorkload):
        return StepwiseRandom(n, streams, name, spec.period or interval_s, spec.low, spec.high)
    raise TypeError(f"no model for workload kind {spec.kind!r}")
